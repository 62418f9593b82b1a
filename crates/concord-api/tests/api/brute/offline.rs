//! The evaluator on its own, over the corpus files (no server): sanity
//! checks of facts visible in the R4 `Patient/example`, and an ignored test
//! that prints every conformance query's expected count (for choosing
//! queries: `cargo test -p concord-api --test api brute_expected_counts -- --ignored --nocapture`).

use std::path::Path;

use serde_json::Value;

use super::{Corpus, Request};

/// Rewrites `urn:uuid:X` references to `Type/X` (Synthea resources carry
/// the uuid as their id), as a transaction would.
fn rewrite_urns(v: &mut Value, types: &std::collections::HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "reference" {
                    if let Some(u) = x.as_str().and_then(|s| s.strip_prefix("urn:uuid:")) {
                        if let Some(t) = types.get(u) {
                            *x = Value::String(format!("{t}/{u}"));
                        }
                    }
                } else {
                    rewrite_urns(x, types);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_urns(x, types)),
        _ => {}
    }
}

/// The examples of `types` and the `n` smallest Synthea Bundles, read from disk.
pub fn corpus_from_files(
    examples: &Path,
    synthea: Option<&Path>,
    types: &std::collections::BTreeSet<String>,
    n: usize,
) -> Corpus {
    let mut resources = Vec::new();
    for e in std::fs::read_dir(examples).expect("examples").flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some((t, _)) = name.split_once('-') else {
            continue;
        };
        if !types.contains(t) {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&std::fs::read(e.path()).unwrap_or_default())
        else {
            continue;
        };
        if v["resourceType"] == t {
            resources.push(v);
        }
    }
    if let Some(dir) = synthea {
        let mut bundles: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(dir)
            .expect("synthea")
            .flatten()
            .map(|e| (e.metadata().map_or(0, |m| m.len()), e.path()))
            .filter(|(_, p)| p.extension().is_some_and(|x| x == "json"))
            .collect();
        bundles.sort();
        for (_, p) in bundles.into_iter().take(n) {
            let b: Value =
                serde_json::from_slice(&std::fs::read(p).expect("bundle")).expect("json");
            let entries = b["entry"].as_array().cloned().unwrap_or_default();
            let types = entries
                .iter()
                .filter_map(|e| {
                    let r = &e["resource"];
                    Some((
                        r["id"].as_str()?.to_string(),
                        r["resourceType"].as_str()?.to_string(),
                    ))
                })
                .collect();
            for mut e in entries {
                let mut r = e["resource"].take();
                rewrite_urns(&mut r, &types);
                resources.push(r);
            }
        }
    }
    Corpus::new("http://localhost:1", resources)
}

fn ids(corpus: &Corpus, q: &str) -> Vec<String> {
    corpus
        .evaluate(&Request::parse(q))
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .matches
        .into_iter()
        .collect()
}

#[test]
fn brute_evaluator_sanity() {
    let Some(examples) = concord_testkit::r4_examples_dir() else {
        return;
    };
    let types = ["Patient", "Observation", "Organization", "Encounter"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let c = corpus_from_files(&examples, None, &types, 0);
    let has = |q: &str| ids(&c, q).contains(&"Patient/example".to_string());
    for q in [
        "Patient?name=peter",
        "Patient?name=PETER",
        "Patient?family=chalm",
        "Patient?name:exact=Chalmers",
        "Patient?name:contains=alme",
        "Patient?given=jim",
        "Patient?address-city=pleasant",
        "Patient?gender=male",
        "Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|12345",
        "Patient?identifier=12345",
        "Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345",
        "Patient?birthdate=1974-12-25",
        "Patient?birthdate=1974",
        "Patient?birthdate=1974-12",
        "Patient?birthdate=ge1974-12-25",
        "Patient?birthdate=lt1975",
        "Patient?birthdate=sa1974-12-24",
        "Patient?organization=Organization/1",
        "Patient?organization=1",
        "Patient?active=true",
        "Patient?_id=example",
        "Patient?gender:not=female",
        "Patient?name=zzz,peter",
        "Patient?phone=(03) 5555 6473",
        "Patient?deceased=false",
    ] {
        assert!(has(q), "{q} should find Patient/example");
    }
    for q in [
        "Patient?name=eter",
        "Patient?name:exact=chalmers",
        "Patient?birthdate=gt1974-12-25",
        "Patient?birthdate=eb1974-12-25",
        "Patient?gender=female",
        "Patient?gender:not=male",
        "Patient?identifier=|12345",
        "Patient?organization=2",
        "Patient?name=peter&name=zzz",
        "Patient?birthdate:missing=true",
    ] {
        assert!(!has(q), "{q} should not find Patient/example");
    }
    let obs = ids(&c, "Observation?subject:Patient.name=peter");
    assert!(obs.contains(&"Observation/example".to_string()), "{obs:?}");
    let pats = ids(&c, "Patient?_has:Observation:subject:code=29463-7");
    assert!(pats.contains(&"Patient/example".to_string()), "{pats:?}");
    for q in [
        "Observation?value-quantity=185",
        "Observation?value-quantity=185||[lb_av]",
        "Observation?value-quantity=gt184.9|http://unitsofmeasure.org|[lb_av]",
        "Observation?code-value-quantity=http://loinc.org|29463-7$185",
        "Observation?code:text=body weight",
    ] {
        assert!(
            ids(&c, q).contains(&"Observation/example".to_string()),
            "{q}"
        );
    }
}

#[test]
#[ignore]
fn brute_expected_counts() {
    let (Some(examples), Some(synthea)) = (
        concord_testkit::r4_examples_dir(),
        concord_testkit::shared_corpus("synthea"),
    ) else {
        return;
    };
    let types = crate::search_conformance::example_types();
    let c = corpus_from_files(&examples, Some(&synthea), &types, 20);
    let mut patients: Vec<String> = c.by_type["Patient"]
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|i| i.len() == 36))
        .map(|p| p["id"].as_str().unwrap_or("").to_string())
        .collect();
    patients.sort();
    let mut non_empty = 0;
    let qs = crate::search_conformance::queries();
    for (_, q) in &qs {
        let line = crate::search_conformance::substitute(q, &c.base, &patients);
        match c.evaluate(&Request::parse(&line)) {
            Ok(e) => {
                if !e.matches.is_empty() {
                    non_empty += 1;
                }
                println!("{:>5} {:>4} {line}", e.matches.len(), e.includes.len());
            }
            Err(e) => println!("ERROR {line}: {e}"),
        }
    }
    println!(
        "{non_empty}/{} non-empty over {} resources",
        qs.len(),
        c.len()
    );
}

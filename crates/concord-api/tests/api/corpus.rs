//! Corpus tests: every example of the R4 package round-trips through PUT/GET,
//! and 100 Synthea transaction Bundles load with the right counts. When a
//! corpus is missing these print a loud SKIPPED line and return.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use crate::common::*;

const R4_EXAMPLES: usize = 5306;
const IN_FLIGHT: usize = 8;

/// The official examples that break R4 itself, each with the rule it breaks,
/// kept beside the validator's own examples test.
fn known_invalid_examples() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../concord-validation/tests/known-invalid-examples.txt"
    );
    std::fs::read_to_string(path)
        .expect("known-invalid-examples.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The first place where two JSON values differ, as a path.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k} missing after the round trip")),
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k} added by the server"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!(
            "{path}: {} became {}",
            short(&a.to_string()),
            short(&b.to_string())
        )),
    }
}

fn diagnostics(r: &Resp) -> String {
    let d = r.json["issue"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .map(|i| {
                    format!(
                        "{} {}",
                        i["expression"].get(0).and_then(Value::as_str).unwrap_or(""),
                        i["diagnostics"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_else(|| r.text.clone());
    d.chars().take(200).collect()
}

async fn round_trip(app: &TestApp, file: PathBuf) -> Result<(), (String, String)> {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    round_trip_file(app, &file, &name)
        .await
        .map_err(|e| (name, e))
}

async fn round_trip_file(app: &TestApp, file: &PathBuf, name: &str) -> Result<(), String> {
    let name = name.to_string();
    let text = tokio::fs::read(&file)
        .await
        .map_err(|e| format!("{name}: unreadable: {e}"))?;
    let original: Value =
        serde_json::from_slice(&text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    let rt = original["resourceType"].as_str().unwrap_or("?").to_string();
    let Some(id) = original["id"].as_str().map(str::to_string) else {
        return Err(format!("{name}: {rt} has no id"));
    };
    let path = format!("{rt}/{id}");
    let r = send(
        req(app, Method::PUT, &path)
            .header("content-type", FHIR_JSON)
            .body(text),
    )
    .await;
    if !matches!(r.status, 200 | 201) {
        return Err(format!(
            "{path} ({name}): PUT {}: {}",
            r.status,
            diagnostics(&r)
        ));
    }
    let back = get(app, &path).await;
    if back.status != 200 {
        return Err(format!(
            "{path} ({name}): GET {}: {}",
            back.status,
            diagnostics(&back)
        ));
    }
    let want = without_server_meta(original);
    let got = without_server_meta(back.json);
    if want != got {
        let d = first_difference(&want, &got, &rt).unwrap_or_else(|| "order only".into());
        return Err(format!("{path} ({name}): differs: {d}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r4_examples_round_trip() {
    let Some(dir) = concord_testkit::r4_examples_dir() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && name != "package.json" && !name.starts_with('.')
        })
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        R4_EXAMPLES,
        "hl7.fhir.r4.examples@4.0.1 is incomplete"
    );
    // One official example (Bundle-resources.json) is 35 MB: above the
    // production default of 32 MiB, so this run allows larger bodies.
    let app = TestApp::spawn_with(concord_api::ApiConfig {
        max_body_bytes: 64 * 1024 * 1024,
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let results: Vec<Result<(), (String, String)>> = stream::iter(files)
        .map(|f| round_trip(&app, f))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut failures: Vec<(String, String)> = results.into_iter().filter_map(Result::err).collect();
    failures.sort();
    let ok = R4_EXAMPLES - failures.len();
    println!(
        "R4 examples: {ok}/{R4_EXAMPLES} round-tripped ({:.1}s)",
        started.elapsed().as_secs_f64()
    );
    let known = known_invalid_examples();
    for (file, why) in &failures {
        let tag = if known.contains(file) {
            "invalid R4 (listed)"
        } else {
            "UNEXPECTED"
        };
        println!("  FAILED [{tag}] {why}");
    }
    let unexpected: Vec<&String> = failures
        .iter()
        .map(|(file, _)| file)
        .filter(|file| !known.contains(*file))
        .collect();
    assert!(
        unexpected.is_empty(),
        "examples failed that are not known to be invalid R4: {unexpected:?}"
    );
    assert_alive(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthea_transactions_load() {
    let Some(dir) = concord_testkit::shared_corpus("synthea") else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the synthea folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        100,
        "expected 100 Synthea Bundles in {}",
        dir.display()
    );
    let app = TestApp::spawn().await;
    let started = Instant::now();
    let results: Vec<(BTreeMap<String, u64>, Result<(), String>)> = stream::iter(files)
        .map(|file| {
            let app = &app;
            async move {
                let name = file.file_name().unwrap().to_string_lossy().to_string();
                let text = tokio::fs::read(&file).await.expect("read bundle");
                let bundle: Value = serde_json::from_slice(&text).expect("bundle JSON");
                let mut expected = BTreeMap::new();
                let entries = bundle["entry"].as_array().expect("entries");
                for e in entries {
                    let rt = e["resource"]["resourceType"].as_str().unwrap().to_string();
                    *expected.entry(rt).or_insert(0) += 1;
                }
                assert_eq!(bundle["type"], "transaction", "{name}");
                let r = send(
                    req(app, Method::POST, "")
                        .header("content-type", FHIR_JSON)
                        .body(text),
                )
                .await;
                let result = if r.status != 200 {
                    Err(format!("{name}: {} {}", r.status, diagnostics(&r)))
                } else {
                    let got = r.json["entry"].as_array().map_or(0, Vec::len);
                    let created = r.json["entry"].as_array().map_or(0, |e| {
                        e.iter()
                            .filter(|e| e["response"]["status"] == "201 Created")
                            .count()
                    });
                    if r.json["type"] != "transaction-response"
                        || got != entries.len()
                        || created != got
                    {
                        Err(format!(
                            "{name}: {created}/{got} of {} entries created",
                            entries.len()
                        ))
                    } else {
                        Ok(())
                    }
                };
                (expected, result)
            }
        })
        .buffer_unordered(2)
        .collect()
        .await;
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for (counts, result) in results {
        match result {
            Ok(()) => {
                for (t, n) in counts {
                    *expected.entry(t).or_insert(0) += n;
                }
            }
            Err(e) => failures.push(e),
        }
    }
    let loaded = 100 - failures.len();
    let stored: BTreeMap<String, u64> = app
        .engine
        .store()
        .count_by_type(&app.context())
        .await
        .expect("count_by_type")
        .into_iter()
        // The audit trail of the test's own requests is not in the Bundles.
        .filter(|(t, _)| t != "AuditEvent")
        .collect();
    let total_expected: u64 = expected.values().sum();
    let total_stored: u64 = stored.values().sum();
    println!(
        "Synthea: {loaded}/100 transaction Bundles loaded, {total_stored} resources stored \
         ({total_expected} in the loaded Bundles) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for (t, n) in &stored {
        println!(
            "  {t:<24} {n:>6} (Bundles: {})",
            expected.get(t).copied().unwrap_or(0)
        );
    }
    for f in &failures {
        println!("  FAILED {f}");
    }
    assert_eq!(
        stored, expected,
        "stored counts per type equal the Bundles' counts"
    );
    assert!(failures.is_empty(), "{} Bundles failed", failures.len());
    assert_alive(&app).await;
}

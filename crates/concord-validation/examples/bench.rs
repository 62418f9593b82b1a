//! Throughput check: validates every official R4 example several times, and
//! every entry resource of the first 20 Synthea bundles (as ingest stores
//! them, one resource at a time).
//! `cargo run --release -p concord-validation --example bench [synthea|examples]`

use concord_validation::invariants::{FhirPathInvariants, NoInvariants};
use std::path::Path;
use std::time::Instant;

fn official() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/npm/node_modules/hl7.fhir.r4.examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "SKIPPED: {} missing, run scripts/fetch-r4-package.sh",
            dir.display()
        );
        return;
    };
    let mut texts = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n != "package.json") {
            if let Ok(t) = std::fs::read(&p) {
                texts.push(t);
            }
        }
    }
    let bytes: usize = texts.iter().map(Vec::len).sum();
    let t = Instant::now();
    let values: Vec<serde_json::Value> = texts
        .iter()
        .filter_map(|t| serde_json::from_slice(t).ok())
        .collect();
    let parse = t.elapsed();
    // Typical clinical writes are small: measure parse + validate for those too.
    let small: Vec<&Vec<u8>> = texts.iter().filter(|t| t.len() < 10_000).collect();
    let t = Instant::now();
    for _ in 0..3 {
        for text in &small {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(text) {
                let _ = concord_validation::validate_resource(&v);
            }
        }
    }
    let per = t.elapsed() / 3;
    println!(
        "R4 examples: {} resources under 10 kB: parse+validate {:?} ({:.0}/s, {:.1} µs each)",
        small.len(),
        per,
        small.len() as f64 / per.as_secs_f64(),
        per.as_secs_f64() * 1e6 / small.len() as f64
    );
    let rounds = 3;
    let t = Instant::now();
    let mut issues = 0;
    for _ in 0..rounds {
        for v in &values {
            issues += concord_validation::validate_resource(v).len();
        }
    }
    let validate = t.elapsed() / rounds;
    let n = values.len() as f64;
    println!(
        "R4 examples: {} resources ({} MB): parse {:?} ({:.0}/s), validate {:?} ({:.0}/s, {:.1} µs each), {} issues/round",
        values.len(),
        bytes / 1_000_000,
        parse,
        n / parse.as_secs_f64(),
        validate,
        n / validate.as_secs_f64(),
        validate.as_secs_f64() * 1e6 / n,
        issues / rounds as usize
    );
    let small: Vec<serde_json::Value> = values
        .into_iter()
        .zip(&texts)
        .filter(|(_, t)| t.len() < 10_000)
        .map(|(v, _)| v)
        .collect();
    report_costs("R4 examples under 10 kB", &small);
}

fn synthea() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/synthea");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("SKIPPED: {} missing", dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut resources = Vec::new();
    for p in files.iter().take(20) {
        let Ok(text) = std::fs::read(p) else { continue };
        let Ok(serde_json::Value::Object(mut bundle)) = serde_json::from_slice(&text) else {
            continue;
        };
        if let Some(serde_json::Value::Array(es)) = bundle.remove("entry") {
            for mut e in es {
                if let Some(r) = e.get_mut("resource") {
                    resources.push(r.take());
                }
            }
        }
    }
    let rounds = 3;
    let mut issues = 0;
    let t = Instant::now();
    for _ in 0..rounds {
        for r in &resources {
            issues += concord_validation::validate_resource(r).len();
        }
    }
    let per = t.elapsed() / rounds;
    let n = resources.len() as f64;
    println!(
        "Synthea (first 20 bundles): {} entry resources: validate {:?} ({:.0}/s, {:.1} µs each), {} issues/round",
        resources.len(),
        per,
        n / per.as_secs_f64(),
        per.as_secs_f64() * 1e6 / n,
        issues / rounds as usize
    );
    // Structure only, for comparison, and the cost of each invariant.
    let t = Instant::now();
    for r in &resources {
        let _ = concord_validation::validate_resource_with(r, &NoInvariants);
    }
    println!(
        "Synthea structure only: {:.1} µs each",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    report_costs("Synthea", &resources);
}

fn report_costs(what: &str, resources: &[serde_json::Value]) {
    let checker = FhirPathInvariants::recording();
    let mut warnings = std::collections::BTreeMap::new();
    for r in resources {
        for i in concord_validation::validate_resource_with(r, &checker) {
            let key = i.diagnostics.split(':').next().unwrap_or("").to_string();
            *warnings
                .entry((format!("{:?}", i.severity), key))
                .or_insert(0) += 1;
        }
    }
    let mut stats: Vec<_> = checker.stats().into_iter().collect();
    stats.sort_by_key(|s| std::cmp::Reverse(s.1.time));
    let n = resources.len() as f64;
    let total: f64 = stats.iter().map(|(_, s)| s.time.as_secs_f64()).sum();
    println!(
        "{what}: invariant evaluation {:.1} µs per resource (timed); most expensive:",
        total * 1e6 / n
    );
    for (k, s) in stats.iter().take(12) {
        println!(
            "  {k:<10} {:>8} evaluations, {:>6} violated, {:.2} µs per resource, {:.2} µs each",
            s.evaluations,
            s.violations,
            s.time.as_secs_f64() * 1e6 / n,
            s.time.as_secs_f64() * 1e6 / s.evaluations.max(1) as f64
        );
    }
    println!("{what}: issues by (severity, key): {warnings:?}");
    println!(
        "{what}: evaluation errors: {:?}",
        checker.evaluation_errors()
    );
}

fn main() {
    let t0 = Instant::now();
    let _ = concord_fhir::definitions::definitions();
    let _ = concord_fhir::definitions::code_in_value_set("", None, "");
    println!("definitions loaded in {:?}", t0.elapsed());
    let t0 = Instant::now();
    let _ = concord_validation::validate_resource(&serde_json::json!({"resourceType": "Basic"}));
    println!("first validation (lazy init) {:?}", t0.elapsed());
    // `bench synthea` or `bench examples` runs one part only.
    let only = std::env::args().nth(1).unwrap_or_default();
    if only != "examples" {
        synthea();
    }
    if only != "synthea" {
        official();
    }
}

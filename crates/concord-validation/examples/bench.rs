//! Throughput check: validates every official R4 example several times.
//! `cargo run --release -p concord-validation --example bench`

use std::path::Path;
use std::time::Instant;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/npm/node_modules/hl7.fhir.r4.examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "SKIPPED: {} missing, run scripts/fetch-r4-package.sh",
            dir.display()
        );
        return;
    };
    let t0 = Instant::now();
    let _ = concord_fhir::definitions::definitions();
    let _ = concord_fhir::definitions::code_in_value_set("", None, "");
    println!("definitions loaded in {:?}", t0.elapsed());
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
        "{} resources under 10 kB: parse+validate {:?} ({:.0}/s)",
        small.len(),
        per,
        small.len() as f64 / per.as_secs_f64()
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
        "{} resources ({} MB): parse {:?} ({:.0}/s), validate {:?} ({:.0}/s), {} issues/round",
        values.len(),
        bytes / 1_000_000,
        parse,
        n / parse.as_secs_f64(),
        validate,
        n / validate.as_secs_f64(),
        issues / rounds as usize
    );
}

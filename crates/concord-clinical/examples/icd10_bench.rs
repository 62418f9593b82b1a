//! ICD-10-CM load and search timings:
//! `cargo run --release -p concord-clinical --example icd10_bench`.
use std::time::Instant;

fn main() {
    let t = Instant::now();
    let n = concord_clinical::icd10::len();
    println!(
        "load+index: {n} codes in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    for q in [
        "E11",
        "S72.0",
        "diabetes",
        "hyperten",
        "fracture femur right",
        "diab typ 2 without compl",
    ] {
        let rounds = 200;
        let mut times: Vec<f64> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                let hits = concord_clinical::icd10::search(q, 20);
                std::hint::black_box(hits);
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "search {q:?}: p50 {:.0} µs, p95 {:.0} µs",
            times[rounds / 2],
            times[rounds * 95 / 100]
        );
    }
}

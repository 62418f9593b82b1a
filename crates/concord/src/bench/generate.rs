//! `concord bench generate`: how fast the population generator makes
//! patients (generated and serialized to JSON in memory, no disk).

use std::time::Instant;

use crate::cli::BenchGenerateArgs;
use crate::generate::{generate_chunk, generator, threads};

pub fn run(args: BenchGenerateArgs) -> Result<(), String> {
    let g = generator(1, Some("2026-01-01".into()))?;
    let threads = args.threads.unwrap_or_else(threads).max(1);
    let mut figures = Vec::new();
    for t in if threads > 1 {
        vec![1, threads]
    } else {
        vec![1]
    } {
        let started = Instant::now();
        let (mut resources, mut bytes) = (0usize, 0usize);
        let mut next = 0;
        while next < args.patients {
            let end = (next + 64).min(args.patients);
            let sizes = generate_chunk(&g, next..end, t, |bundle| {
                let n = bundle["entry"].as_array().map_or(0, Vec::len);
                (n, serde_json::to_vec(&bundle).map_or(0, |b| b.len()))
            });
            for (n, b) in sizes {
                resources += n;
                bytes += b;
            }
            next = end;
        }
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        figures.push(format!(
            "generate ({t} thread{}): {} patients, {resources} resources, {:.1} MB JSON in {secs:.2}s: {:.0} patients/s, {:.0} resources/s",
            if t == 1 { "" } else { "s" },
            args.patients,
            bytes as f64 / 1e6,
            args.patients as f64 / secs,
            resources as f64 / secs
        ));
    }
    for line in figures {
        println!("{line}");
    }
    Ok(())
}

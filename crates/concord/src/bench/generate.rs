//! `concord bench generate`: how fast the population generator makes
//! patients, in memory (no disk): building the FHIR resources alone, and
//! building plus serializing them to JSON (what `concord generate` does).

use std::time::Instant;

use crate::cli::BenchGenerateArgs;
use crate::generate::{generate_chunk, generator, threads};

pub fn run(args: BenchGenerateArgs) -> Result<(), String> {
    let g = generator(1, Some("2026-01-01".into()))?;
    let threads = args.threads.unwrap_or_else(threads).max(1);
    let counts: Vec<usize> = if threads > 1 {
        vec![1, threads]
    } else {
        vec![1]
    };
    let mut figures = Vec::new();
    for serialize in [false, true] {
        for &t in &counts {
            let started = Instant::now();
            let (mut resources, mut bytes) = (0usize, 0usize);
            let mut next = 0;
            while next < args.patients {
                let end = (next + 64).min(args.patients);
                let sizes = generate_chunk(&g, next..end, t, |bundle| {
                    let n = bundle["entry"].as_array().map_or(0, Vec::len);
                    let b = if serialize {
                        serde_json::to_vec(&bundle).map_or(0, |b| b.len())
                    } else {
                        0
                    };
                    (n, b)
                });
                for (n, b) in sizes {
                    resources += n;
                    bytes += b;
                }
                next = end;
            }
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            figures.push(format!(
                "{} ({t} thread{}): {} patients, {resources} resources{} in {secs:.2}s: {:.0} patients/s, {:.0} resources/s",
                if serialize { "generate + JSON" } else { "generate" },
                if t == 1 { "" } else { "s" },
                args.patients,
                if serialize { format!(", {:.1} MB JSON", bytes as f64 / 1e6) } else { String::new() },
                args.patients as f64 / secs,
                resources as f64 / secs
            ));
        }
    }
    for line in figures {
        println!("{line}");
    }
    Ok(())
}

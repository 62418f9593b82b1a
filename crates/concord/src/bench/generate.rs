//! `concord bench generate`: how fast the population generator makes
//! patients, on one thread and on every core:
//! - "generate": each patient's resources as JSON text, in memory;
//! - "bundles": the same plus each patient's transaction Bundle text, in
//!   memory;
//! - "generate --format ndjson" and "--format bundles": what
//!   `concord generate` does, written to files in a temporary folder
//!   (the target: ≥ 1,000 patients/s).

use std::time::Instant;

use crate::cli::{BenchGenerateArgs, GenerateFormat};
use crate::generate::{bundle_len, generator, in_order, threads, write_population};

pub fn run(args: BenchGenerateArgs) -> Result<(), String> {
    let g = generator(1, Some("2026-01-01".into()))?;
    let threads = args.threads.unwrap_or_else(threads).max(1);
    let counts: Vec<usize> = if threads > 1 {
        vec![1, threads]
    } else {
        vec![1]
    };
    let tmp = tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let mut figures = Vec::new();
    for &t in &counts {
        for what in ["generate", "bundles", "ndjson", "bundle files"] {
            let started = Instant::now();
            let (mut resources, mut bytes) = (0usize, 0usize);
            match what {
                "generate" | "bundles" => {
                    let bundles = what == "bundles";
                    in_order(
                        0..args.patients,
                        t,
                        |i| {
                            let record = g.patient_record(i);
                            let size = if bundles {
                                bundle_len(&record)
                            } else {
                                record.text_len()
                            };
                            (record.len(), size)
                        },
                        |_, (n, b)| {
                            resources += n;
                            bytes += b;
                            Ok(())
                        },
                    )?;
                }
                _ => {
                    let format = if what == "ndjson" {
                        GenerateFormat::Ndjson
                    } else {
                        GenerateFormat::Bundles
                    };
                    let out = tmp.path().join(format!("{what}-{t}").replace(' ', "-"));
                    let written = write_population(&g, args.patients, format, &out, t)?;
                    resources = written.resources;
                    bytes = written.bytes;
                    std::fs::remove_dir_all(&out)
                        .map_err(|e| format!("cannot remove {}: {e}", out.display()))?;
                }
            }
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            let label = match what {
                "generate" => "generate (JSON text, in memory)",
                "bundles" => "generate + Bundle text (in memory)",
                "ndjson" => "concord generate --format ndjson (files)",
                _ => "concord generate --format bundles (files)",
            };
            figures.push(format!(
                "{label} ({t} thread{}): {} patients, {resources} resources, {:.1} MB in {secs:.2}s: {:.0} patients/s, {:.0} resources/s",
                if t == 1 { "" } else { "s" },
                args.patients,
                bytes as f64 / 1e6,
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

//! `concord generate`: a synthetic population (see `concord-synth`) written
//! as transaction Bundles (directory.json, then patient-NNNNNN.json) or as
//! NDJSON (one file per resource type). Patients are generated on every
//! core; files are written in patient order, so the output depends only on
//! the seed and the reference date.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use concord_synth::{Config, Generator};
use serde_json::Value;

use crate::cli::{GenerateArgs, GenerateFormat};

/// "Today" (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    concord_synth::today_utc(secs)
}

pub fn generator(seed: u64, reference_date: Option<String>) -> Result<Generator, String> {
    Generator::new(&Config {
        seed,
        reference_date: reference_date.unwrap_or_else(today),
    })
}

/// Patients `range`, generated on `threads` threads and each turned into a
/// `T` there (e.g. serialized) before the next, in index order.
pub fn generate_chunk<T: Send>(
    g: &Generator,
    range: std::ops::Range<u64>,
    threads: usize,
    each: impl Fn(Value) -> T + Sync,
) -> Vec<T> {
    let threads = threads.max(1);
    let indices: Vec<u64> = range.collect();
    let per = indices.len().div_ceil(threads).max(1);
    let each = &each;
    std::thread::scope(|s| {
        let handles: Vec<_> = indices
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|i| each(g.patient_bundle(*i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn run(args: GenerateArgs) -> Result<(), String> {
    let g = generator(args.seed, args.reference_date.clone())?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let started = std::time::Instant::now();
    let directory = g.directory_bundle();
    let mut ndjson: BTreeMap<String, std::io::BufWriter<std::fs::File>> = BTreeMap::new();
    let mut resources = 0usize;
    let mut emit = |bundle: &Value, name: &str| -> Result<(), String> {
        let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        resources += entries.len();
        match args.format {
            GenerateFormat::Bundles => {
                let bytes = serde_json::to_vec(bundle).map_err(|e| e.to_string())?;
                write_file(&args.out.join(name), &bytes)
            }
            GenerateFormat::Ndjson => {
                for e in entries {
                    let kind = e["resource"]["resourceType"].as_str().unwrap_or("Unknown");
                    if !ndjson.contains_key(kind) {
                        let path = args.out.join(format!("{kind}.ndjson"));
                        let file = std::fs::File::create(&path)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                        ndjson.insert(kind.to_string(), std::io::BufWriter::new(file));
                    }
                    if let Some(w) = ndjson.get_mut(kind) {
                        serde_json::to_writer(&mut *w, &e["resource"])
                            .map_err(|e| e.to_string())?;
                        w.write_all(b"\n").map_err(|e| e.to_string())?;
                    }
                }
                Ok(())
            }
        }
    };
    emit(&directory, "directory.json")?;
    let threads = threads();
    let mut next = 0u64;
    while next < args.patients {
        let end = (next + 64).min(args.patients);
        for (offset, bundle) in generate_chunk(&g, next..end, threads, |b| b)
            .iter()
            .enumerate()
        {
            emit(bundle, &format!("patient-{:06}.json", next + offset as u64))?;
        }
        next = end;
    }
    for (kind, mut w) in ndjson {
        w.flush()
            .map_err(|e| format!("cannot write {kind}.ndjson: {e}"))?;
    }
    println!(
        "generated {} patients ({resources} resources, seed {}) into {} in {:.1}s",
        args.patients,
        args.seed,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

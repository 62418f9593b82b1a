//! `concord generate`: a synthetic population (see `concord-synth`) written
//! as transaction Bundles (directory.json, then patient-NNNNNN.json) or as
//! NDJSON (one file per resource type). Patients are generated as JSON text
//! on every core; one writer puts them on disk in patient order, so the
//! output depends only on the seed and the reference date.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

use concord_synth::{Config, Generator, PatientRecord};
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

pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Patients `range` made by `make` on `threads` worker threads (worker `k`
/// takes every `threads`-th patient from the `k`-th) and handed to
/// `consume` on this thread in index order, while the workers go on. Each
/// worker runs at most a few patients ahead (bounded channels). An error
/// from `consume` stops the workers and is returned.
pub fn in_order<T: Send>(
    range: std::ops::Range<u64>,
    threads: usize,
    make: impl Fn(u64) -> T + Sync,
    mut consume: impl FnMut(u64, T) -> Result<(), String>,
) -> Result<(), String> {
    let threads = threads.max(1) as u64;
    let make = &make;
    std::thread::scope(|s| {
        let mut receivers = Vec::new();
        for k in 0..threads {
            let (tx, rx) = mpsc::sync_channel::<T>(8);
            receivers.push(rx);
            let first = range.start + k;
            let end = range.end;
            s.spawn(move || {
                let mut i = first;
                while i < end {
                    if tx.send(make(i)).is_err() {
                        return; // the consumer stopped
                    }
                    i += threads;
                }
            });
        }
        for i in range.clone() {
            let from = &receivers[((i - range.start) % threads) as usize];
            // A worker only hangs up early if it panicked; the scope then
            // re-raises that panic.
            let Ok(item) = from.recv() else { break };
            if let Err(e) = consume(i, item) {
                drop(receivers);
                return Err(e);
            }
        }
        Ok(())
    })
}

/// What a generation run wrote.
#[derive(Default)]
pub struct Written {
    pub resources: usize,
    pub bytes: usize,
}

/// Where the population goes.
enum Sink<'a> {
    Bundles(&'a Path),
    Ndjson {
        dir: &'a Path,
        files: BTreeMap<String, std::io::BufWriter<std::fs::File>>,
    },
}

impl Sink<'_> {
    fn ndjson_file(
        dir: &Path,
        files: &mut BTreeMap<String, std::io::BufWriter<std::fs::File>>,
        kind: &str,
    ) -> Result<(), String> {
        if !files.contains_key(kind) {
            let path = dir.join(format!("{kind}.ndjson"));
            let file = std::fs::File::create(&path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            files.insert(
                kind.to_string(),
                std::io::BufWriter::with_capacity(1 << 16, file),
            );
        }
        Ok(())
    }

    fn write(
        files: &mut BTreeMap<String, std::io::BufWriter<std::fs::File>>,
        kind: &str,
        text: &[u8],
    ) -> Result<(), String> {
        if let Some(w) = files.get_mut(kind) {
            w.write_all(text)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| format!("cannot write {kind}.ndjson: {e}"))?;
        }
        Ok(())
    }

    /// The directory Bundle (resource types are the directory's own).
    fn directory(&mut self, bundle: &Value, written: &mut Written) -> Result<(), String> {
        let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        written.resources += entries.len();
        match self {
            Sink::Bundles(dir) => {
                let bytes = serde_json::to_vec(bundle).map_err(|e| e.to_string())?;
                written.bytes += bytes.len();
                write_file(&dir.join("directory.json"), &bytes)
            }
            Sink::Ndjson { dir, files } => {
                for e in entries {
                    let kind = e["resource"]["resourceType"].as_str().unwrap_or("Unknown");
                    let text = serde_json::to_vec(&e["resource"]).map_err(|e| e.to_string())?;
                    written.bytes += text.len() + 1;
                    Self::ndjson_file(dir, files, kind)?;
                    Self::write(files, kind, &text)?;
                }
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        if let Sink::Ndjson { files, .. } = self {
            for (kind, mut w) in files {
                w.flush()
                    .map_err(|e| format!("cannot write {kind}.ndjson: {e}"))?;
            }
        }
        Ok(())
    }
}

/// What a worker hands the writer: a patient's Bundle text, or the record
/// whose resources go to the NDJSON files.
enum Made {
    Bundle(Vec<u8>),
    Record(PatientRecord),
}

/// Writes the directory and patients `0..patients` to `out` in `format`,
/// generating on `threads` threads.
pub fn write_population(
    g: &Generator,
    patients: u64,
    format: GenerateFormat,
    out: &Path,
    threads: usize,
) -> Result<Written, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut sink = match format {
        GenerateFormat::Bundles => Sink::Bundles(out),
        GenerateFormat::Ndjson => Sink::Ndjson {
            dir: out,
            files: BTreeMap::new(),
        },
    };
    let mut written = Written::default();
    sink.directory(&g.directory_bundle(), &mut written)?;
    let bundles = matches!(format, GenerateFormat::Bundles);
    in_order(
        0..patients,
        threads,
        |i| {
            let record = g.patient_record(i);
            if bundles {
                let mut text = Vec::with_capacity(record.text_len() + 16 * 1024);
                record.write_bundle(&mut text);
                (record.len(), Made::Bundle(text))
            } else {
                (record.len(), Made::Record(record))
            }
        },
        |i, (resources, made)| {
            written.resources += resources;
            match (&mut sink, made) {
                (Sink::Bundles(dir), Made::Bundle(text)) => {
                    written.bytes += text.len();
                    write_file(&dir.join(format!("patient-{i:06}.json")), &text)
                }
                (Sink::Ndjson { dir, files }, Made::Record(record)) => {
                    for r in record.resources() {
                        written.bytes += r.json.len() + 1;
                        Sink::ndjson_file(dir, files, r.kind)?;
                        Sink::write(files, r.kind, r.json.as_bytes())?;
                    }
                    Ok(())
                }
                _ => Ok(()),
            }
        },
    )?;
    sink.finish()?;
    Ok(written)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn run(args: GenerateArgs) -> Result<(), String> {
    let g = generator(args.seed, args.reference_date.clone())?;
    let started = std::time::Instant::now();
    let written = write_population(&g, args.patients, args.format, &args.out, threads())?;
    println!(
        "generated {} patients ({} resources, seed {}) into {} in {:.1}s",
        args.patients,
        written.resources,
        args.seed,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

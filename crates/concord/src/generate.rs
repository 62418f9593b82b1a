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

/// What a worker hands the writer: a patient's NDJSON lines grouped by
/// resource type (in record order within each type), so the writer makes a
/// few large writes per patient.
fn ndjson_by_kind(record: &PatientRecord) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::with_capacity(16);
    for r in record.resources() {
        let slot = match out.iter().position(|(k, _)| *k == r.kind) {
            Some(slot) => slot,
            None => {
                out.push((r.kind, Vec::with_capacity(r.json.len() * 16)));
                out.len() - 1
            }
        };
        out[slot].1.extend_from_slice(r.json.as_bytes());
        out[slot].1.push(b'\n');
    }
    out
}

std::thread_local! {
    /// Each worker's Bundle buffer, reused from patient to patient.
    static BUNDLE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The length of `record`'s transaction Bundle text, made in this thread's
/// reused buffer (for `concord bench generate`).
pub fn bundle_len(record: &PatientRecord) -> usize {
    BUNDLE.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        record.write_bundle(&mut buf);
        buf.len()
    })
}

/// Writes patient `i`'s transaction Bundle to its own file (workers write
/// bundle files themselves: each file depends only on its patient).
fn write_bundle_file(dir: &Path, i: u64, record: &PatientRecord) -> Result<usize, String> {
    BUNDLE.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        record.write_bundle(&mut buf);
        write_file(&dir.join(format!("patient-{i:06}.json")), &buf)?;
        Ok(buf.len())
    })
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
    match &mut sink {
        Sink::Bundles(dir) => {
            let dir: &Path = dir;
            in_order(
                0..patients,
                threads,
                |i| {
                    let record = g.patient_record(i);
                    write_bundle_file(dir, i, &record).map(|bytes| (record.len(), bytes))
                },
                |_, made| {
                    let (resources, bytes) = made?;
                    written.resources += resources;
                    written.bytes += bytes;
                    Ok(())
                },
            )?;
        }
        Sink::Ndjson { dir, files } => {
            in_order(
                0..patients,
                threads,
                |i| {
                    let record = g.patient_record(i);
                    (record.len(), ndjson_by_kind(&record))
                },
                |_, (resources, lines)| {
                    written.resources += resources;
                    for (kind, text) in lines {
                        written.bytes += text.len();
                        Sink::ndjson_file(dir, files, kind)?;
                        if let Some(w) = files.get_mut(kind) {
                            w.write_all(&text)
                                .map_err(|e| format!("cannot write {kind}.ndjson: {e}"))?;
                        }
                    }
                    Ok(())
                },
            )?;
        }
    }
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

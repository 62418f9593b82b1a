//! Extracts index rows for every resource of the R4 example package and the
//! first 10 Synthea bundles: no evaluation errors, and row counts by kind.

use concord_search::extract::extract;
use concord_store::IndexRows;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn skip(dir: &Path) {
    let msg = format!(
        "SKIPPED: {} is missing; this corpus check did not run",
        dir.display()
    );
    println!("{msg}");
    eprintln!("{msg}");
}

#[derive(Default)]
struct Tally {
    resources: usize,
    counts: [usize; 9],
    errors: Vec<String>,
}

impl Tally {
    fn add(&mut self, origin: &str, resource: &Value) {
        let out = extract(resource);
        // The access check's compartments-only extraction agrees with the
        // full one on every corpus resource.
        let compartments = concord_search::compartment_rows(resource);
        if compartments != out.rows.compartments {
            self.errors.push(format!(
                "{origin}: compartment_rows {compartments:?} != extract {:?}",
                out.rows.compartments
            ));
        }
        self.resources += 1;
        let r: &IndexRows = &out.rows;
        let lens = [
            r.tokens.len(),
            r.strings.len(),
            r.dates.len(),
            r.references.len(),
            r.quantities.len(),
            r.numbers.len(),
            r.uris.len(),
            r.composites.len(),
            r.compartments.len(),
        ];
        for (c, n) in self.counts.iter_mut().zip(lens) {
            *c += n;
        }
        for e in out.errors {
            self.errors.push(format!(
                "{origin}: {} `{}`: {}",
                e.param, e.expression, e.message
            ));
        }
    }

    fn report(&self, name: &str, started: Instant) {
        let names = [
            "token",
            "string",
            "date",
            "reference",
            "quantity",
            "number",
            "uri",
            "composite",
            "compartment",
        ];
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name}: {} resources, {} rows in {secs:.2}s ({:.0} resources/s)",
            self.resources,
            self.counts.iter().sum::<usize>(),
            self.resources as f64 / secs.max(1e-9)
        );
        for (n, c) in names.iter().zip(self.counts) {
            println!("  {n:<12} {c}");
        }
        for e in self.errors.iter().take(20) {
            println!("  ERROR {e}");
        }
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn read(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

#[test]
fn r4_examples_extract_without_errors() {
    let dir = workspace_root().join(".cache/npm/node_modules/hl7.fhir.r4.examples");
    if !dir.is_dir() {
        return skip(&dir);
    }
    let started = Instant::now();
    let mut tally = Tally::default();
    for path in json_files(&dir) {
        let Some(v) = read(&path) else { continue };
        if v.get("resourceType").and_then(Value::as_str).is_none() {
            continue;
        }
        let origin = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        tally.add(&origin, &v);
    }
    tally.report("R4 examples", started);
    assert!(tally.resources > 2000, "{}", tally.resources);
    assert!(
        tally.errors.is_empty(),
        "{} extraction errors",
        tally.errors.len()
    );
}

#[test]
fn synthea_bundles_extract_without_errors() {
    let dir = workspace_root().join("../shared/corpora/synthea");
    if !dir.is_dir() {
        return skip(&dir);
    }
    let started = Instant::now();
    let mut tally = Tally::default();
    // CONCORD_CORPUS_BUNDLES=100 runs more of the corpus (default 10).
    let take = std::env::var("CONCORD_CORPUS_BUNDLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    for path in json_files(&dir).into_iter().take(take) {
        let Some(bundle) = read(&path) else { continue };
        let entries = bundle
            .get("entry")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for e in &entries {
            if let Some(r) = e.get("resource") {
                tally.add(&path.display().to_string(), r);
            }
        }
    }
    tally.report(&format!("Synthea ({take} bundles)"), started);
    assert!(tally.resources > 100);
    assert!(tally.counts[8] > 0, "no compartment rows");
    assert!(
        tally.errors.is_empty(),
        "{} extraction errors",
        tally.errors.len()
    );
}

//! Where the external corpora are, and a loud message when they are not.

use std::path::PathBuf;

fn workspace_root() -> PathBuf {
    // crates/concord-testkit → workspace root
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// `../shared/corpora/NAME` beside the workspace, or `None` with a loud
/// `SKIPPED` line on stderr and stdout.
pub fn shared_corpus(name: &str) -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/corpora").join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        let msg = format!(
            "SKIPPED: corpus folder {} is missing; this corpus check did not run",
            dir.display()
        );
        println!("{msg}");
        eprintln!("{msg}");
        None
    }
}

/// The npm package `hl7.fhir.r4.examples@4.0.1` fetched by
/// `scripts/fetch-r4-package.sh`, or `None` with a loud `SKIPPED` line.
pub fn r4_examples_dir() -> Option<PathBuf> {
    let dir = workspace_root().join(".cache/npm/node_modules/hl7.fhir.r4.examples");
    if dir.is_dir() {
        Some(dir)
    } else {
        let msg = format!(
            "SKIPPED: {} is missing; run scripts/fetch-r4-package.sh",
            dir.display()
        );
        println!("{msg}");
        eprintln!("{msg}");
        None
    }
}

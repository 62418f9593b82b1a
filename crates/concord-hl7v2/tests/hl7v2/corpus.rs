//! Every message of `../shared/corpora/hl7v2/messages` parses, its MSH-9,
//! MSH-10 and MSH-12 are read, its groups are built when the structure is
//! known, and encode(parse) reproduces the file byte for byte.

use std::path::PathBuf;

use concord_hl7v2::Message;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/hl7v2/messages")
}

#[test]
fn corpus_round_trip() {
    let dir = corpus_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("SKIPPED: HL7 v2 corpus not found at {}", dir.display());
        eprintln!("SKIPPED: HL7 v2 corpus not found at {}", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "hl7"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut grouped = 0;
    let mut boms = 0;
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(path).expect("read corpus file");
        let msg = match Message::parse(&bytes) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: parse error: {e}"));
                continue;
            }
        };
        if msg.has_bom() {
            boms += 1;
        }
        let (ty, ev, id, ver) = (
            msg.message_type(),
            msg.trigger_event(),
            msg.control_id(),
            msg.version(),
        );
        if ty.is_none() || ev.is_none() || id.is_none() || ver.is_none() {
            failures.push(format!(
                "{name}: MSH-9/10/12 missing: {ty:?} {ev:?} {id:?} {ver:?}"
            ));
            continue;
        }
        if msg.to_bytes() != bytes {
            failures.push(format!("{name}: encode(parse) differs from the input"));
            continue;
        }
        if let Some(structure) = msg.structure() {
            match msg.groups() {
                Some(g) => {
                    grouped += 1;
                    let mut all = g.all_segment_indexes();
                    all.sort_unstable();
                    if all != (0..msg.all_segments().len()).collect::<Vec<_>>() {
                        failures.push(format!("{name}: groups do not cover each segment once"));
                        continue;
                    }
                    let unexpected: Vec<&str> = g
                        .unexpected_segments()
                        .iter()
                        .filter_map(|&i| msg.all_segments().get(i).map(|s| s.name()))
                        .collect();
                    println!(
                        "{name}: {}^{} v{} → {structure}, unplaced segments: {unexpected:?}",
                        ty.unwrap_or_default(),
                        ev.unwrap_or_default(),
                        ver.unwrap_or_default()
                    );
                }
                None => failures.push(format!("{name}: known structure {structure} but no groups")),
            }
        }
    }
    let passed = files.len() - failures.len();
    println!(
        "HL7 v2 corpus: {passed}/{} parse, read MSH-9/10/12 and re-encode byte-identically ({boms} with a BOM, {grouped} grouped)",
        files.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} corpus failures", failures.len());
}

fn parse_file(name: &str) -> Option<Message> {
    let bytes = std::fs::read(corpus_dir().join(name)).ok()?;
    Message::parse(&bytes).ok()
}

#[test]
fn corpus_groups_and_values() {
    let Some(oru) = parse_file("LAB-ORU-2.hl7") else {
        println!("SKIPPED: HL7 v2 corpus not found");
        return;
    };
    let g = oru.groups().expect("ORU_R01 groups");
    let results = g.find_groups("ORDER_OBSERVATION");
    assert!(!results.is_empty());
    let observations = g.find_groups("OBSERVATION");
    assert_eq!(observations.len(), oru.segments("OBX").count());

    if let Some(vxu) = parse_file("VXU.hl7") {
        let g = vxu.groups().expect("VXU_V04 groups");
        let orders = g.find_groups("ORDER");
        assert!(!orders.is_empty());
        assert!(orders
            .iter()
            .all(|o| o.segment_indexes(&vxu, "RXA").count() == 1));
    }
    if let Some(adt) = parse_file("ADT-A01-01.hl7") {
        assert_eq!(adt.get("PID-3(2)-1").as_deref(), Some("123456789"));
        assert_eq!(adt.get("PID-3-4-2").as_deref(), Some("2.16.1"));
        assert_eq!(adt.get("MSH-9-3").as_deref(), Some("ADT_A01"));
        assert_eq!(adt.control_id().as_deref(), Some("MSG00001"));
        let g = adt.groups().expect("ADT_A01 groups");
        assert_eq!(
            g.find_groups("INSURANCE").len(),
            adt.segments("IN1").count()
        );
    }
    if let Some(siu) = parse_file("SIU-S12-01.hl7") {
        let g = siu.groups().expect("SIU_S12 groups");
        assert!(!g.find_groups("RESOURCES").is_empty());
    }
}

/// Cross-check against PyPI hl7apy: set `CONCORD_HL7APY_PYTHON` to a Python
/// with hl7apy installed (e.g. a venv's `bin/python`). Compares the raw
/// text of ~30 field components per message (MSH, PID, PV1, OBR, ORC, OBX,
/// RXA, SCH, TXA, NK1, IN1, DG1, AL1).
#[test]
fn corpus_agrees_with_hl7apy() {
    let Ok(python) = std::env::var("CONCORD_HL7APY_PYTHON") else {
        println!("SKIPPED: hl7apy cross-check (set CONCORD_HL7APY_PYTHON to a Python with hl7apy)");
        return;
    };
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!("SKIPPED: HL7 v2 corpus not found at {}", dir.display());
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hl7apy_fields.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("run hl7apy script");
    assert!(
        out.status.success(),
        "hl7apy script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    let (mut agree, mut total, mut skipped_files) = (0, 0, 0);
    let mut disagreements = Vec::new();
    let mut current: Option<(String, Message)> = None;
    for line in text.lines() {
        let mut cols = line.splitn(3, '\t');
        let (Some(file), Some(path), Some(expected)) = (cols.next(), cols.next(), cols.next())
        else {
            continue;
        };
        if path == "!" {
            skipped_files += 1;
            println!("hl7apy could not parse {file}: {expected}");
            continue;
        }
        if current.as_ref().map(|(f, _)| f.as_str()) != Some(file) {
            let msg = parse_file(file).expect("corpus message parses");
            current = Some((file.to_string(), msg));
        }
        let Some((_, msg)) = &current else { continue };
        let expected = expected
            .replace("\\t", "\t")
            .replace("\\r", "\r")
            .replace("\\n", "\n");
        let ours = msg.get_raw(path).unwrap_or("");
        total += 1;
        if ours == expected {
            agree += 1;
        } else {
            disagreements.push(format!("{file} {path}: ours {ours:?}, hl7apy {expected:?}"));
        }
    }
    println!("hl7apy cross-check: {agree}/{total} values agree ({skipped_files} files hl7apy cannot parse)");
    for d in &disagreements {
        println!("DIFF {d}");
    }
    assert!(disagreements.is_empty());
}

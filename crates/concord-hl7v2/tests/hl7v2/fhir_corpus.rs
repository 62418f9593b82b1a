//! Every corpus message of a mapped type becomes FHIR resources that pass
//! `concord_validation::validate_resource`; where
//! `expected-fhir-microsoft/` holds the Microsoft FHIR Converter's output
//! for the same message, the key facts (patient identifiers, names, birth
//! date, gender, encounter class, observation codes, values and units) are
//! compared and the agreement is printed per message.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use concord_hl7v2::fhir::{is_supported, map_message, patient_from_message, MapOptions};
use concord_hl7v2::Message;
use serde_json::Value;

fn corpus_root() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/hl7v2");
    if dir.join("messages").is_dir() {
        Some(dir)
    } else {
        let msg = format!(
            "SKIPPED: corpus folder {} is missing; the HL7 v2 → FHIR corpus check did not run",
            dir.display()
        );
        println!("{msg}");
        eprintln!("{msg}");
        None
    }
}

fn options() -> MapOptions {
    MapOptions {
        message_reference: "Binary/corpus-message".into(),
        recorded: "2026-01-01T00:00:00Z".into(),
        default_offset: None,
        ..MapOptions::default()
    }
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle
        .get("entry")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(|x| x.get("resource")).collect())
        .unwrap_or_default()
}

fn num(v: &Value) -> String {
    // 72 and 72.0 are the same value.
    let s = v.to_string();
    match s.parse::<f64>() {
        Ok(f) => format!("{f}"),
        Err(_) => s,
    }
}

/// The facts both converters should agree on.
/// Only the first Patient counts: the one PID describes (the Microsoft
/// converter also makes Patients of GT1 guarantors).
fn facts(bundle: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut seen_patient = false;
    for r in resources(bundle) {
        match r.get("resourceType").and_then(Value::as_str) {
            Some("Patient") if !seen_patient => {
                seen_patient = true;
                for i in r
                    .get("identifier")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(v) = i.get("value").and_then(Value::as_str) {
                        out.insert(format!("Patient.identifier {v}"));
                    }
                }
                for n in r
                    .get("name")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let family = n.get("family").and_then(Value::as_str).unwrap_or("");
                    let given: Vec<&str> = n
                        .get("given")
                        .and_then(Value::as_array)
                        .map(|g| g.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    out.insert(format!("Patient.name {family}, {}", given.join(" ")));
                }
                for k in ["birthDate", "gender"] {
                    if let Some(v) = r.get(k).and_then(Value::as_str) {
                        out.insert(format!("Patient.{k} {v}"));
                    }
                }
            }
            Some("Encounter") => {
                if let Some(c) = r.pointer("/class/code").and_then(Value::as_str) {
                    out.insert(format!("Encounter.class {c}"));
                }
            }
            Some("Observation") => {
                let code = r
                    .pointer("/code/coding/0/code")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                out.insert(format!("Observation.code {code}"));
                if let Some(q) = r.get("valueQuantity") {
                    let v = q.get("value").map(num).unwrap_or_default();
                    let u = q.get("unit").and_then(Value::as_str).unwrap_or("");
                    out.insert(format!("Observation {code} = {v} {u}"));
                }
                if let Some(s) = r.get("valueString").and_then(Value::as_str) {
                    out.insert(format!("Observation {code} = {s:?}"));
                }
                if let Some(c) = r
                    .pointer("/valueCodeableConcept/coding/0/code")
                    .and_then(Value::as_str)
                {
                    out.insert(format!("Observation {code} = code {c}"));
                }
            }
            _ => {}
        }
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn corpus_maps_to_valid_fhir_and_agrees_with_microsoft() {
    let Some(root) = corpus_root() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("messages"))
        .expect("read corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "hl7"))
        .collect();
    files.sort();
    let (mut mapped, mut valid, mut failures) = (0, 0, Vec::new());
    let (mut agree_total, mut facts_total, mut compared) = (0, 0, 0);
    for path in &files {
        let name = file_name(path);
        let bytes = std::fs::read(path).expect("read message");
        let Ok(msg) = Message::parse(&bytes) else {
            continue;
        };
        let ty = msg.message_type().unwrap_or_default().to_string();
        let ev = msg.trigger_event().unwrap_or_default().to_string();
        if !is_supported(&ty, &ev) {
            continue;
        }
        mapped += 1;
        let out = match map_message(&msg, &options()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name} ({ty}^{ev}): mapping error {e}"));
                continue;
            }
        };
        let mut problems = Vec::new();
        let rs = resources(&out.bundle);
        for r in &rs {
            let issues = concord_validation::validate_resource(r);
            if concord_fhir::outcome::has_failures(&issues) {
                let rt = r.get("resourceType").and_then(Value::as_str).unwrap_or("?");
                for i in issues.iter().filter(|i| i.severity.is_failure()) {
                    problems.push(format!("{rt}: {} at {:?}", i.diagnostics, i.expression));
                }
            }
        }
        if problems.is_empty() {
            valid += 1;
        } else {
            failures.push(format!(
                "{name}: {} invalid\n    {}",
                problems.len(),
                problems.join("\n    ")
            ));
        }
        let expected = root
            .join("expected-fhir-microsoft")
            .join(name.replace(".hl7", ".json"));
        let Ok(text) = std::fs::read_to_string(&expected) else {
            println!(
                "{name} ({ty}^{ev}): {} resources, valid={}, no Microsoft conversion",
                rs.len(),
                problems.is_empty()
            );
            continue;
        };
        let theirs: Value =
            serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("expected JSON");
        let mut ours = facts(&out.bundle);
        if !out.registers_patient {
            // Concord references the existing patient instead of writing
            // it; compare the Patient its PID mapping gives.
            if let Some((_, p)) = patient_from_message(&msg, &options()) {
                ours.extend(facts(&serde_json::json!({"entry": [{"resource": p}]})));
            }
        }
        // Compare the kinds of facts Concord maps for this message type
        // (e.g. not the OBX of an ADT, or the PV1 of a VXU).
        let kind = |f: &String| f.split([' ', '.']).next().unwrap_or("").to_string();
        let kinds: BTreeSet<String> = ours.iter().map(kind).collect();
        let all_theirs = facts(&theirs);
        let theirs: BTreeSet<String> = all_theirs
            .iter()
            .filter(|f| kinds.contains(&kind(f)))
            .cloned()
            .collect();
        let agree = theirs.intersection(&ours).count();
        compared += 1;
        agree_total += agree;
        facts_total += theirs.len();
        println!(
            "{name} ({ty}^{ev}): {} resources, valid={}, key facts agree {agree}/{}",
            rs.len(),
            problems.is_empty(),
            theirs.len()
        );
        for f in theirs.difference(&ours) {
            println!("    only Microsoft: {f}");
        }
        for f in ours.difference(&theirs) {
            println!("    only Concord:   {f}");
        }
    }
    println!(
        "HL7 v2 → FHIR corpus: {mapped} messages of mapped types, {valid}/{mapped} produce only valid resources; \
         key facts agree with Microsoft FHIR Converter on {agree_total}/{facts_total} ({compared} messages compared)"
    );
    assert!(mapped > 0, "no message of a mapped type in the corpus");
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    const HEADERS: &[&str] = &[
        "ADT^A01", "ADT^A08", "ADT^A40", "ORU^R01", "VXU^V04", "SIU^S12", "SIU^S15", "MDM^T02",
        "RDS^O13",
    ];
    const SEGMENTS: &[&str] = &[
        "PID", "PV1", "NK1", "AL1", "DG1", "IN1", "MRG", "ORC", "OBR", "OBX", "SPM", "RXA", "RXR",
        "SCH", "TQ1", "AIP", "AIL", "TXA", "RXD",
    ];

    fn field() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("^".to_string()),
                Just("&".to_string()),
                Just("~".to_string()),
                Just("\"\"".to_string()),
                "[0-9]{1,14}",
                "[+-][0-9]{4}",
                "[A-Za-z .<>=:/-]{0,8}",
                Just("NM".to_string()),
                Just("SN".to_string()),
                Just("CWE".to_string()),
                Just("ED".to_string()),
                Just("\u{1}\u{7f}é".to_string()),
            ],
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    fn message() -> impl Strategy<Value = String> {
        (
            0..HEADERS.len(),
            prop::collection::vec(
                (0..SEGMENTS.len(), prop::collection::vec(field(), 0..30)),
                0..12,
            ),
        )
            .prop_map(|(h, segs)| {
                let mut m = format!("MSH|^~\\&|A|F|||20240101||{}|C1|P|2.5.1\r", HEADERS[h]);
                m.push_str("PID|1||X1^^^AA&1.2.3&ISO^MR||N^G\r");
                for (s, fields) in segs {
                    m.push_str(SEGMENTS[s]);
                    for f in fields {
                        m.push('|');
                        m.push_str(&f);
                    }
                    m.push('\r');
                }
                m
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Mapping never panics, and whatever it produces passes validation.
        #[test]
        fn mapping_is_total_and_valid(text in message()) {
            let Ok(msg) = Message::parse(text.as_bytes()) else { return Ok(()) };
            if let Ok(out) = map_message(&msg, &options()) {
                for r in resources(&out.bundle) {
                    let issues = concord_validation::validate_resource(r);
                    let bad: Vec<String> = issues
                        .iter()
                        .filter(|i| i.severity.is_failure())
                        .map(|i| format!("{} at {:?}", i.diagnostics, i.expression))
                        .collect();
                    prop_assert!(bad.is_empty(), "{}: {:?}\n{}", r["resourceType"], bad, r);
                }
            }
        }
    }
}

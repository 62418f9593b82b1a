//! Outbound messages: built from FHIR resources, read back by Concord's own
//! parser and mapping, and strictly validated by PyPI `hl7apy` (v2.5.1)
//! when a Python with hl7apy is available (`CONCORD_HL7APY_PYTHON`, or the
//! git-ignored `.cache/hl7apy-venv`); otherwise the hl7apy part prints
//! SKIPPED.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use concord_hl7v2::fhir::{map_message, MapOptions};
use concord_hl7v2::outbound::{oml_o21, oml_o21_change, vxu_v04, Header};
use concord_hl7v2::Message;
use serde_json::{json, Value};

fn header(control: &str) -> Header {
    Header {
        sending_application: "CONCORD".into(),
        sending_facility: "HOSP".into(),
        receiving_application: "LAB".into(),
        receiving_facility: "LABFAC".into(),
        control_id: control.into(),
        timestamp: "20240101120000+0000".into(),
        processing_id: "P".into(),
    }
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "id": "p1",
        "identifier": [{"system": "urn:oid:1.2.3.4", "value": "M|1^x",
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}}],
        "name": [{"family": "O'Brien&Sons", "given": ["Ana", "Maria"]}],
        "birthDate": "1980-05-12", "gender": "female"})
}

fn service_request() -> Value {
    json!({"resourceType": "ServiceRequest", "id": "sr1", "status": "active", "intent": "order",
        "identifier": [{"system": "urn:concord:order", "value": "ORD-1"}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "24323-8", "display": "Comprehensive metabolic panel"}]},
        "subject": {"reference": "Patient/p1"}, "authoredOn": "2024-01-02T07:00:00+01:00", "priority": "stat"})
}

fn immunization() -> Value {
    json!({"resourceType": "Immunization", "id": "im1", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "08", "display": "Hep B, adolescent or pediatric"}]},
        "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": "2024-01-02T09:30:00Z",
        "primarySource": true, "lotNumber": "L123", "expirationDate": "2025-06-30",
        "doseQuantity": {"value": 0.5, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"},
        "route": {"coding": [{"system": "http://ncimeta.nci.nih.gov", "code": "C28161", "display": "Intramuscular"}]}})
}

fn hl7apy_python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CONCORD_HL7APY_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/hl7apy-venv/bin/python");
    venv.is_file().then_some(venv)
}

#[test]
fn outbound_messages_parse_map_back_and_pass_hl7apy() {
    let oml = oml_o21(&service_request(), &patient(), &header("OUT1")).expect("OML^O21");
    let vxu = vxu_v04(&immunization(), &patient(), &header("OUT2")).expect("VXU^V04");
    let xo = oml_o21_change(&service_request(), &patient(), &header("OUT3")).expect("XO");
    let mut revoked = service_request();
    revoked["status"] = json!("revoked");
    let ca = oml_o21(&revoked, &patient(), &header("OUT4")).expect("CA");

    // Our parser reads the escaped values back exactly.
    let m = Message::parse(oml.as_bytes()).expect("OML parses");
    assert_eq!(m.message_structure().as_deref(), Some("OML_O21"));
    assert_eq!(m.get("PID-3-1").as_deref(), Some("M|1^x"));
    assert_eq!(m.get("PID-5-1").as_deref(), Some("O'Brien&Sons"));
    assert_eq!(m.get("ORC-2-1").as_deref(), Some("ORD-1"));
    assert_eq!(m.get("OBR-4-1").as_deref(), Some("24323-8"));
    assert_eq!(m.get("OBR-4-3").as_deref(), Some("LN"));
    assert_eq!(m.get("TQ1-9").as_deref(), Some("S"));
    assert_eq!(m.get("ORC-1").as_deref(), Some("NW"));
    // A change and a cancellation: the same order, another order control.
    for (text, control) in [(&xo, "XO"), (&ca, "CA")] {
        let c = Message::parse(text.as_bytes()).expect("parses");
        assert_eq!(c.get("ORC-1").as_deref(), Some(control));
        for field in ["ORC-2-1", "OBR-2-1", "OBR-4-1", "TQ1-9", "PID-3-1"] {
            assert_eq!(c.get(field), m.get(field), "{control} {field}");
        }
    }

    // The VXU maps back to the same Immunization facts.
    let v = Message::parse(vxu.as_bytes()).expect("VXU parses");
    let opts = MapOptions {
        message_reference: "Binary/x".into(),
        recorded: "2026-01-01T00:00:00Z".into(),
        default_offset: None,
        ..MapOptions::default()
    };
    let out = map_message(&v, &opts).expect("VXU maps");
    let im = out.bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Immunization")
        .expect("Immunization")
        .clone();
    assert_eq!(
        im["vaccineCode"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/cvx"
    );
    assert_eq!(im["vaccineCode"]["coding"][0]["code"], "08");
    assert_eq!(im["occurrenceDateTime"], "2024-01-02T09:30:00Z");
    assert_eq!(im["lotNumber"], "L123");
    assert_eq!(im["doseQuantity"]["code"], "mL");
    assert_eq!(im["route"]["coding"][0]["code"], "C28161");
    assert_eq!(
        out.patient.as_ref().map(|k| k.value.as_str()),
        Some("M|1^x")
    );
    assert_eq!(
        out.patient.as_ref().map(|k| k.system.as_str()),
        Some("urn:oid:1.2.3.4")
    );

    let Some(python) = hl7apy_python() else {
        let msg =
            "SKIPPED: hl7apy strict validation of outbound messages (set CONCORD_HL7APY_PYTHON \
                   or create .cache/hl7apy-venv with `pip install hl7apy==1.3.5`)";
        println!("{msg}");
        eprintln!("{msg}");
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hl7apy_validate.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run hl7apy");
    let input = format!("{oml}\n----\n{vxu}\n----\n{xo}\n----\n{ca}\n");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("hl7apy output");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("hl7apy strict (v2.5.1):\n{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        ["OK OML_O21", "OK VXU_V04", "OK OML_O21", "OK OML_O21"],
        "hl7apy rejected a message"
    );
}

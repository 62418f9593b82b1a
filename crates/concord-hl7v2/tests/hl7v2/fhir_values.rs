//! OBX value types, units, ranges, flags and statuses of the ORU mapping,
//! and the patient rules of the other message types.

use concord_hl7v2::fhir::{map_message, MapOptions};
use concord_hl7v2::{ErrorCode, Message};
use serde_json::Value;

fn opts() -> MapOptions {
    MapOptions {
        message_reference: "Binary/m".into(),
        recorded: "2026-01-01T00:00:00Z".into(),
        default_offset: Some("+01:00".into()),
        ..MapOptions::default()
    }
}

fn observations(text: &str) -> Vec<Value> {
    let msg = Message::parse(text.as_bytes()).expect("parse");
    let out = map_message(&msg, &opts()).expect("map");
    assert!(!out.registers_patient);
    out.bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .filter(|r| r["resourceType"] == "Observation")
        .collect()
}

const HEAD: &str = "MSH|^~\\&|LAB|F|||20240101||ORU^R01|C1|P|2.5.1\rPID|1||7^^^H&1.2.3&ISO^MR\rOBR|1||F9^LAB|1-1^Panel^LN|||202401020700\r";

#[test]
fn value_types_units_ranges_flags_and_statuses() {
    let text = format!(
        "{HEAD}\
         OBX|1|NM|1-1^A^LN||7.20|mmol/l^^ISO+|3.5-5.1|HH|||P\r\
         OBX|2|SN|2-2^B^LN||<^5|U/L||L|||F\r\
         OBX|3|SN|3-3^C^LN||^1^:^128||||||C\r\
         OBX|4|SN|4-4^D^LN||^2^-^4|mg/dl|||||X\r\
         OBX|5|CWE|5-5^E^LN||260373001^Detected^SCT|||POS|||F\r\
         OBX|6|TX|6-6^F^LN||line one~line two||||||F\r\
         OBX|7|DT|7-7^G^LN||20240105||||||D\r\
         OBX|8|TS|8-8^H^LN||202401051230||||||F\r\
         OBX|9|NM|9-9^I^LN||not a number|kg||N|||F\r"
    );
    let o = observations(&text);
    assert_eq!(o.len(), 9);
    assert_eq!(o[0]["status"], "preliminary");
    assert_eq!(o[0]["valueQuantity"]["value"].to_string(), "7.20");
    assert_eq!(o[0]["valueQuantity"]["system"], "http://unitsofmeasure.org");
    assert_eq!(o[0]["valueQuantity"]["code"], "mmol/L");
    assert_eq!(o[0]["referenceRange"][0]["low"]["value"].to_string(), "3.5");
    assert_eq!(o[0]["referenceRange"][0]["high"]["code"], "mmol/L");
    assert_eq!(o[0]["interpretation"][0]["coding"][0]["code"], "HH");
    assert_eq!(
        o[0]["interpretation"][0]["coding"][0]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
    );
    // OBX-14 absent: OBR-7, zone from the default offset.
    assert_eq!(o[0]["effectiveDateTime"], "2024-01-02T07:00:00+01:00");
    assert_eq!(o[1]["valueQuantity"]["comparator"], "<");
    assert_eq!(o[1]["valueQuantity"]["code"], "U/L");
    assert_eq!(o[2]["status"], "corrected");
    assert_eq!(
        o[2]["valueRatio"]["denominator"]["value"].to_string(),
        "128"
    );
    assert_eq!(o[3]["status"], "cancelled");
    assert_eq!(o[3]["valueRange"]["high"]["code"], "mg/dL");
    assert_eq!(
        o[4]["valueCodeableConcept"]["coding"][0]["system"],
        "http://snomed.info/sct"
    );
    assert_eq!(o[4]["interpretation"][0]["coding"][0]["code"], "POS");
    assert_eq!(o[5]["valueString"], "line one\nline two");
    assert_eq!(o[6]["valueDateTime"], "2024-01-05");
    assert_eq!(o[6]["status"], "entered-in-error");
    assert_eq!(o[7]["valueDateTime"], "2024-01-05T12:30:00+01:00");
    assert_eq!(o[8]["valueString"], "not a number");
    for r in &o {
        let issues = concord_validation::validate_resource(r);
        assert!(
            !concord_fhir::outcome::has_failures(&issues),
            "{r}: {issues:?}"
        );
    }
}

#[test]
fn observation_ids_follow_the_order_and_code_not_the_message() {
    let a = observations(&format!(
        "{HEAD}OBX|1|NM|1-1^A^LN||1|||||F\rOBX|2|NM|2-2^B^LN||2|||||F\r"
    ));
    // A correction re-sent in another order of OBX, with a new control id.
    let b = observations(
        &format!("{HEAD}OBX|1|NM|2-2^B^LN||3|||||C\rOBX|2|NM|1-1^A^LN||4|||||C\r")
            .replace("|C1|", "|C2|"),
    );
    assert_eq!(a[0]["id"], b[1]["id"]);
    assert_eq!(a[1]["id"], b[0]["id"]);
    assert_ne!(a[0]["id"], a[1]["id"]);
}

/// The resources of `text` mapped with `report_ids`, by type.
fn mapped_with(text: &str, report_ids: &[(&str, &str)]) -> Vec<Value> {
    let msg = Message::parse(text.as_bytes()).expect("parse");
    let mut o = opts();
    o.report_ids = report_ids
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    o.provenance_id = Some("m1".into());
    let out = map_message(&msg, &o).expect("map");
    out.bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn ids_of(resources: &[Value], resource_type: &str) -> Vec<String> {
    resources
        .iter()
        .filter(|r| r["resourceType"] == resource_type)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_chosen_report_id_leads_the_ids_of_its_results_and_specimens() {
    let text = format!(
        "{HEAD}OBX|1|NM|1-1^A^LN||1|||||F\rOBX|2|NM|2-2^B^LN||2|||||F\rSPM|1|S1^S1||BLD^Blood^HL70487\r"
    );
    let msg = Message::parse(text.as_bytes()).unwrap();
    let orders = concord_hl7v2::fhir::report_orders(&msg);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].key, "urn:concord:hl7v2:aa:LAB|F9");
    assert_eq!(orders[0].query, "identifier=urn:concord:hl7v2:aa:LAB|F9");
    let key = orders[0].key.as_str();

    let report = "0190f1a2-0000-7000-8000-000000000001";
    let r = mapped_with(&text, &[(key, report)]);
    assert_eq!(ids_of(&r, "DiagnosticReport"), [report]);
    assert_eq!(ids_of(&r, "Provenance"), ["m1"]);
    let obs = ids_of(&r, "Observation");
    let spm = ids_of(&r, "Specimen");
    assert_eq!(obs.len(), 2);
    assert_eq!(spm.len(), 1);
    for id in obs.iter().chain(&spm) {
        assert!(id.starts_with(&format!("{report}.")), "{id}");
        assert_eq!(id.len(), 53);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    }
    assert_ne!(obs[0], obs[1]);
    // A correction, OBX in another order, lands on the same ids.
    let corrected = text
        .replace("OBX|1|NM|1-1^A^LN||1|||||F", "OBX|1|NM|2-2^B^LN||3|||||C")
        .replace("OBX|2|NM|2-2^B^LN||2|||||F", "OBX|2|NM|1-1^A^LN||4|||||C")
        .replace("|C1|", "|C2|");
    let c = mapped_with(&corrected, &[(key, report)]);
    let again = ids_of(&c, "Observation");
    assert_eq!((&again[0], &again[1]), (&obs[1], &obs[0]));
    assert_eq!(ids_of(&c, "Specimen"), spm);

    // Without a chosen id, or with the hashed one (a report stored before
    // chosen ids existed), every id is the hash it always was.
    let plain = mapped_with(&text, &[]);
    let hashed = ids_of(&plain, "DiagnosticReport");
    assert_eq!(hashed, [orders[0].hashed_id.clone()]);
    let legacy = mapped_with(&text, &[(key, &orders[0].hashed_id)]);
    for t in ["DiagnosticReport", "Observation", "Specimen"] {
        assert_eq!(ids_of(&legacy, t), ids_of(&plain, t), "{t}");
    }
    assert!(ids_of(&plain, "Observation")
        .iter()
        .all(|id| id.len() == 36));
    // A report stored under a long id of its own: ids stay valid and stable.
    let long = "r".repeat(64);
    let l = mapped_with(&text, &[(key, &long)]);
    assert_eq!(ids_of(&l, "DiagnosticReport"), std::slice::from_ref(&long));
    let long_obs = ids_of(&l, "Observation");
    assert!(long_obs.iter().all(|id| id.len() <= 64), "{long_obs:?}");
    assert_eq!(
        ids_of(&mapped_with(&text, &[(key, &long)]), "Observation"),
        long_obs
    );
    assert_ne!(long_obs[0], long_obs[1]);
    // Other messages have no report orders.
    let adt = Message::parse(
        b"MSH|^~\\&|A|B|||20240101||ADT^A01|C1|P|2.5.1\rPID|1||7^^^H&1.2.3&ISO^MR\r",
    )
    .unwrap();
    assert!(concord_hl7v2::fhir::report_orders(&adt).is_empty());
}

/// An order with both numbers names its placer number, so that a report
/// stored from a message that had only the placer number is found; a
/// report hashed from that placer number (stored before chosen ids
/// existed) keeps the ids of its results.
#[test]
fn an_order_with_a_filler_number_also_names_its_placer_number() {
    let body = "OBX|1|NM|1-1^A^LN||1|||||F\rOBX|2|NM|2-2^B^LN||2|||||F\r";
    let both = format!("{HEAD}{body}").replace("OBR|1||F9^LAB|", "OBR|1|P4^ORD|F9^LAB|");
    let placer_only = both.replace("OBR|1|P4^ORD|F9^LAB|", "OBR|1|P4^ORD||");
    let filler_only = format!("{HEAD}{body}");
    let orders =
        |text: &str| concord_hl7v2::fhir::report_orders(&Message::parse(text.as_bytes()).unwrap());

    let with_both = orders(&both);
    assert_eq!(with_both[0].key, "urn:concord:hl7v2:aa:LAB|F9");
    let placer = with_both[0].placer.as_ref().expect("placer number named");
    assert_eq!(placer.key, "urn:concord:hl7v2:aa:ORD|P4");
    assert_eq!(placer.query, "identifier=urn:concord:hl7v2:aa:ORD|P4");
    let alone = orders(&placer_only);
    assert_eq!(
        alone[0].key, placer.key,
        "a placer-only message is keyed by it"
    );
    assert_eq!(alone[0].placer, None);
    assert_eq!(orders(&filler_only)[0].placer, None);

    // The placer-only message's report, hashed (no chosen id), then the
    // final result with both numbers landing on it.
    let before = mapped_with(&placer_only, &[]);
    assert_eq!(
        ids_of(&before, "DiagnosticReport"),
        [alone[0].hashed_id.clone()]
    );
    let after = mapped_with(&both, &[(&with_both[0].key, &alone[0].hashed_id)]);
    assert_eq!(
        ids_of(&after, "DiagnosticReport"),
        ids_of(&before, "DiagnosticReport")
    );
    assert_eq!(
        ids_of(&after, "Observation"),
        ids_of(&before, "Observation")
    );
    let report = after
        .iter()
        .find(|r| r["resourceType"] == "DiagnosticReport")
        .unwrap();
    let types: Vec<&str> = report["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["PLAC", concord_hl7v2::fhir::FILLER_TYPE]);
}

#[test]
fn results_reference_the_patient_conditionally_and_need_an_identifier() {
    let o = observations(&format!("{HEAD}OBX|1|NM|1-1^A^LN||1|||||F\r"));
    assert_eq!(
        o[0]["subject"]["reference"],
        "Patient?identifier=urn:oid:1.2.3|7"
    );
    let no_id = "MSH|^~\\&|LAB|F|||20240101||ORU^R01|C1|P|2.5.1\rPID|1\rOBR|1||F9^LAB|1-1^P^LN\r";
    let err = map_message(&Message::parse(no_id.as_bytes()).unwrap(), &opts()).unwrap_err();
    assert_eq!(
        (err.segment.as_str(), err.field, err.code),
        ("PID", Some(3), ErrorCode::RequiredFieldMissing)
    );
    let unknown = "MSH|^~\\&|LAB|F|||20240101||ORU^R30|C1|P|2.5.1\rPID|1||7\r";
    let err = map_message(&Message::parse(unknown.as_bytes()).unwrap(), &opts()).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedEventCode);
}

/// Found by the mapping property test: a table code with inner runs of
/// spaces (PV1-4 `<  -`) must still become a valid FHIR `code`.
#[test]
fn table_codes_with_repeated_spaces_stay_valid_codes() {
    let text = "MSH|^~\\&|A|F|||20240101||ADT^A01|C1|P|2.5.1\rPID|1||X1^^^AA&1.2.3&ISO^MR||N^G\rPV1||||<  -||||||a   b\r";
    let msg = Message::parse(text.as_bytes()).expect("parse");
    let out = map_message(&msg, &opts()).expect("map");
    let encounter = out.bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Encounter")
        .expect("an Encounter")
        .clone();
    assert_eq!(encounter["type"][0]["coding"][0]["code"], "< -");
    assert_eq!(encounter["serviceType"]["coding"][0]["code"], "a b");
    let failures: Vec<_> = concord_validation::validate_resource(&encounter)
        .into_iter()
        .filter(|i| i.severity.is_failure())
        .map(|i| i.diagnostics)
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}

/// Found by the mapping property test: an SCH-9 duration beyond FHIR's
/// positiveInt range is left out rather than making an invalid Appointment.
#[test]
fn appointment_durations_stay_in_the_positive_int_range() {
    for (raw, want) in [("30", Some(30)), ("2150000000", None), ("0", None)] {
        let text = format!(
            "MSH|^~\\&|A|F|||20240101||SIU^S12|C1|P|2.5.1\rPID|1||X1^^^AA&1.2.3&ISO^MR||N^G\rSCH||0|||||||{raw}|\r"
        );
        let msg = Message::parse(text.as_bytes()).expect("parse");
        let out = map_message(&msg, &opts()).expect("map");
        let appointment = out.bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r["resourceType"] == "Appointment")
            .expect("an Appointment")
            .clone();
        assert_eq!(appointment["minutesDuration"].as_i64(), want, "{raw}");
        let failures: Vec<_> = concord_validation::validate_resource(&appointment)
            .into_iter()
            .filter(|i| i.severity.is_failure())
            .map(|i| i.diagnostics)
            .collect();
        assert!(failures.is_empty(), "{raw}: {failures:?}");
    }
}

/// DB1-3 is one of the patient's identifiers when DB1-2 says the disabled
/// person is the patient (`PT`), not when it is the guarantor or insured.
#[test]
fn a_disability_identifier_of_the_patient_joins_its_identifiers() {
    let text = "MSH|^~\\&|A|F|||20240101||ADT^A04|C1|P|2.5.1\rEVN|A04\rPID|1||X1^^^AA&1.2.3&ISO^MR||N^G\rPV1|1|O\r\
                DB1|1|PT|DB-7^^^DIS&1.2.9&ISO^DI|Y\rDB1|2|GT|DB-8^^^DIS&1.2.9&ISO^DI|Y\r";
    let msg = Message::parse(text.as_bytes()).expect("parse");
    let out = map_message(&msg, &opts()).expect("map");
    let patient = out.bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Patient")
        .expect("Patient")
        .clone();
    let values: Vec<(&str, &str)> = patient["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["system"].as_str().unwrap(), i["value"].as_str().unwrap()))
        .collect();
    assert_eq!(values, [("urn:oid:1.2.3", "X1"), ("urn:oid:1.2.9", "DB-7")]);
    // The key the patient is matched on stays the MR identifier.
    assert_eq!(out.patient.map(|k| k.value).as_deref(), Some("X1"));
}

use std::collections::{BTreeMap, BTreeSet};

use concord_fhir::outcome::has_failures;
use serde_json::Value;

use crate::{generator, resources, REFERENCE_DATE};

#[test]
fn everything_generated_passes_validation_for_several_seeds() {
    for seed in [1u64, 42, 20_261_126] {
        let g = generator(seed);
        let mut bundles = vec![g.directory_bundle()];
        bundles.extend((0..25).map(|i| g.patient_bundle(i)));
        let mut checked = 0;
        for bundle in &bundles {
            // The Bundle as a whole (references, bdl-* rules) and each resource.
            let issues = concord_validation::validate_resource(bundle);
            assert!(
                !has_failures(&issues),
                "seed {seed}: bundle invalid: {:?}",
                errors(&issues)
            );
            for r in resources(bundle) {
                let issues = concord_validation::validate_resource(r);
                assert!(
                    !has_failures(&issues),
                    "seed {seed}: {} {} invalid: {:?}",
                    r["resourceType"],
                    r["id"],
                    errors(&issues)
                );
                checked += 1;
            }
        }
        assert!(checked > 1000, "seed {seed}: only {checked} resources");
    }
}

fn errors(issues: &[concord_fhir::Issue]) -> Vec<&concord_fhir::Issue> {
    issues
        .iter()
        .filter(|i| has_failures(std::slice::from_ref(*i)))
        .collect()
}

#[test]
fn the_same_seed_gives_identical_bytes_and_different_seeds_differ() {
    let a = generator(7);
    let b = generator(7);
    let c = generator(8);
    assert_eq!(
        serde_json::to_vec(&a.directory_bundle()).unwrap(),
        serde_json::to_vec(&b.directory_bundle()).unwrap()
    );
    for i in [0u64, 3, 99] {
        let x = serde_json::to_vec(&a.patient_bundle(i)).unwrap();
        assert_eq!(
            x,
            serde_json::to_vec(&b.patient_bundle(i)).unwrap(),
            "patient {i}"
        );
        let mut other = c.patient_bundle(i);
        // Ignore the ids (they name the seed): the content itself differs.
        strip_ids(&mut other);
        let mut mine = a.patient_bundle(i);
        strip_ids(&mut mine);
        assert_ne!(mine, other, "patient {i} is the same for seeds 7 and 8");
    }
    assert_ne!(a.patient_bundle(1), a.patient_bundle(2));
}

fn strip_ids(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("id");
            map.remove("reference");
            map.remove("url");
            map.values_mut().for_each(strip_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

#[test]
fn the_population_has_what_the_demo_needs() {
    let g = generator(42);
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut flags: BTreeSet<String> = BTreeSet::new();
    let mut future_booked = 0;
    let mut multi_org_patients = 0;
    let mut with_care_team = 0;
    for i in 0..60 {
        let bundle = g.patient_bundle(i);
        let mut orgs = BTreeSet::new();
        for r in resources(&bundle) {
            let t = r["resourceType"].as_str().unwrap().to_string();
            *types.entry(t.clone()).or_default() += 1;
            match t.as_str() {
                "Observation" => {
                    if let Some(code) = r["interpretation"][0]["coding"][0]["code"].as_str() {
                        flags.insert(code.to_string());
                    }
                }
                "Appointment" => {
                    let start = r["start"].as_str().unwrap();
                    assert_eq!(r["status"], "booked");
                    if &start[..10] > REFERENCE_DATE {
                        future_booked += 1;
                    }
                }
                "Encounter" => {
                    orgs.insert(
                        r["serviceProvider"]["reference"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    );
                    assert!(&r["period"]["start"].as_str().unwrap()[..10] < REFERENCE_DATE);
                }
                "CareTeam" => with_care_team += 1,
                "Patient" => {
                    assert!(r["generalPractitioner"][0]["reference"]
                        .as_str()
                        .unwrap()
                        .starts_with("Practitioner/"));
                    let ext: Vec<&str> = r["extension"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["url"].as_str().unwrap())
                        .collect();
                    for needed in [
                        "us-core-race",
                        "us-core-ethnicity",
                        "us-core-birthsex",
                        "us-core-genderIdentity",
                        "individual-pronouns",
                    ] {
                        assert!(ext.iter().any(|u| u.ends_with(needed)), "{needed} missing");
                    }
                }
                "Condition" => {
                    let systems: Vec<&str> = r["code"]["coding"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["system"].as_str().unwrap())
                        .collect();
                    assert_eq!(
                        systems,
                        [
                            "http://hl7.org/fhir/sid/icd-10-cm",
                            "http://snomed.info/sct"
                        ]
                    );
                }
                _ => {}
            }
        }
        if orgs.len() > 1 {
            multi_org_patients += 1;
        }
    }
    for needed in [
        "Patient",
        "Encounter",
        "Observation",
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "Immunization",
        "Procedure",
        "DocumentReference",
        "Coverage",
        "Appointment",
        "CareTeam",
    ] {
        assert!(
            types.get(needed).copied().unwrap_or(0) > 0,
            "no {needed}: {types:?}"
        );
    }
    for flag in ["N", "H", "L", "HH"] {
        assert!(flags.contains(flag), "no {flag} result: {flags:?}");
    }
    assert!(
        flags.contains("LL") || flags.contains("HH"),
        "no critical results"
    );
    assert!(future_booked >= 30, "{future_booked} upcoming appointments");
    assert!(
        multi_org_patients >= 10,
        "{multi_org_patients} patients seen at more than one organization"
    );
    assert_eq!(with_care_team, 60);
}

#[test]
fn flags_follow_the_reference_ranges() {
    // A value inside, just outside and beyond the critical limit of potassium.
    let g = generator(3);
    let mut seen = BTreeMap::new();
    for i in 0..40 {
        for r in resources(&g.patient_bundle(i)) {
            if r["code"]["coding"][0]["code"] == "6298-4" {
                let v: f64 = r["valueQuantity"]["value"].as_f64().unwrap();
                let flag = r["interpretation"][0]["coding"][0]["code"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let expected = if v < 2.8 {
                    "LL"
                } else if v > 6.2 {
                    "HH"
                } else if v < 3.7 {
                    "L"
                } else if v > 5.2 {
                    "H"
                } else {
                    "N"
                };
                assert_eq!(flag, expected, "potassium {v}");
                assert_eq!(r["referenceRange"][0]["low"]["value"].as_f64(), Some(3.7));
                *seen.entry(flag).or_insert(0) += 1;
            }
        }
    }
    assert!(seen.get("N").copied().unwrap_or(0) > 10, "{seen:?}");
}

/// The fast path's text (`patient_record`, what `concord generate` writes)
/// is the JSON serde_json prints for the same Bundle, resource by resource,
/// with each resource's type and id as the record says, and is the same
/// bytes for the same seed.
#[test]
fn record_text_is_the_bundle_serde_json_prints() {
    let a = generator(11);
    let b = generator(11);
    for i in 0..20u64 {
        let record = a.patient_record(i);
        let mut text = Vec::new();
        record.write_bundle(&mut text);
        let mut again = Vec::new();
        b.patient_record(i).write_bundle(&mut again);
        assert_eq!(text, again, "patient {i}: same seed, same bytes");
        let bundle: Value = serde_json::from_slice(&text).expect("valid JSON");
        assert_eq!(serde_json::to_vec(&bundle).unwrap(), text, "patient {i}");
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), record.len());
        for (r, e) in record.resources().zip(entries) {
            let parsed: Value = serde_json::from_str(r.json).expect("one resource");
            assert!(!r.json.contains('\n'), "NDJSON needs one line");
            assert_eq!(parsed, e["resource"]);
            assert_eq!(parsed["resourceType"], r.kind);
            assert_eq!(parsed["id"], r.id);
            assert_eq!(e["request"]["url"], format!("{}/{}", r.kind, r.id));
        }
    }
}

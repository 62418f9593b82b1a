use super::*;
use concord_store::{CompartmentIndex, DateIndex, ReferenceIndex, TokenIndex};
use serde_json::json;

fn tokens(rows: &IndexRows, param: &str) -> Vec<(Option<String>, String)> {
    rows.tokens
        .iter()
        .filter(|t| t.param == param)
        .map(|t| (t.system.clone(), t.code.clone()))
        .collect()
}

fn strings(rows: &IndexRows, param: &str) -> Vec<String> {
    rows.strings
        .iter()
        .filter(|s| s.param == param)
        .map(|s| s.value.clone())
        .collect()
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "id": "p1",
        "meta": {"tag": [{"system": "urn:t", "code": "x"}], "profile": ["http://p/1"]},
        "identifier": [{"system": "urn:mrn", "value": "123",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}},
            {"value": "456"}],
        "active": true,
        "name": [{"family": "Núñez", "given": ["José  María"], "prefix": ["Dr."]}],
        "telecom": [{"system": "phone", "value": "555-1234"}],
        "gender": "male",
        "birthDate": "1970-02",
        "address": [{"line": ["1 Main St"], "city": "Springfield", "postalCode": "12345"}],
        "generalPractitioner": [{"reference": "Practitioner/dr1"}],
        "managingOrganization": {"reference": "http://other.org/fhir/Organization/o1"},
        "link": [{"other": {"reference": "Patient/p2"}, "type": "seealso"}]
    })
}

#[test]
fn patient_rows() {
    let out = extract(&patient());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let rows = out.rows;
    assert_eq!(
        tokens(&rows, "identifier"),
        vec![(Some("urn:mrn".into()), "123".into()), (None, "456".into())]
    );
    assert_eq!(
        tokens(&rows, "identifier:of-type"),
        vec![(
            Some("http://terminology.hl7.org/CodeSystem/v2-0203".into()),
            "MR|123".into()
        )]
    );
    assert_eq!(tokens(&rows, "active"), vec![(None, "true".into())]);
    assert_eq!(tokens(&rows, "gender"), vec![(None, "male".into())]);
    assert_eq!(tokens(&rows, "phone"), vec![(None, "555-1234".into())]);
    assert_eq!(
        tokens(&rows, "_tag"),
        vec![(Some("urn:t".into()), "x".into())]
    );
    assert_eq!(strings(&rows, "family"), vec!["nunez"]);
    assert_eq!(strings(&rows, "name"), vec!["nunez", "jose maria", "dr."]);
    assert!(strings(&rows, "address").contains(&"springfield".to_string()));
    assert_eq!(strings(&rows, "address-postalcode"), vec!["12345"]);
    let exact: Vec<&str> = rows
        .strings
        .iter()
        .filter(|s| s.param == "family")
        .map(|s| s.exact.as_str())
        .collect();
    assert_eq!(exact, vec!["Núñez"]);
    let birth: Vec<&DateIndex> = rows
        .dates
        .iter()
        .filter(|d| d.param == "birthdate")
        .collect();
    assert_eq!(birth.len(), 1);
    assert_eq!(birth[0].low, 31 * 86_400_000);
    assert_eq!(birth[0].high, 59 * 86_400_000 - 1);
    assert!(rows.references.contains(&ReferenceIndex {
        param: "general-practitioner".into(),
        target_type: Some("Practitioner".into()),
        target_id: Some("dr1".into()),
        url: None,
    }));
    assert!(rows.references.contains(&ReferenceIndex {
        param: "organization".into(),
        target_type: Some("Organization".into()),
        target_id: Some("o1".into()),
        url: Some("http://other.org/fhir/Organization/o1".into()),
    }));
    assert!(rows
        .uris
        .iter()
        .any(|u| u.param == "_profile" && u.value == "http://p/1"));
    assert_eq!(
        rows.compartments,
        vec![
            CompartmentIndex {
                compartment_type: "Patient".into(),
                compartment_id: "p2".into()
            },
            CompartmentIndex {
                compartment_type: "Practitioner".into(),
                compartment_id: "dr1".into()
            },
            CompartmentIndex {
                compartment_type: "Patient".into(),
                compartment_id: "p1".into()
            },
        ]
    );
}

fn observation() -> Value {
    json!({"resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0", "display": "Glucose"}],
                 "text": "Blood glucose"},
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/e1"},
        "performer": [{"reference": "Practitioner/dr1"}, {"reference": "#c1"},
                      {"identifier": {"system": "urn:npi", "value": "99"}}],
        "effectivePeriod": {"start": "2020-01-01T10:00:00Z"},
        "valueQuantity": {"value": 5000, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                       "valueQuantity": {"value": 120, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]
    })
}

#[test]
fn observation_rows() {
    let out = extract(&observation());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let rows = out.rows;
    assert_eq!(
        tokens(&rows, "code"),
        vec![(Some("http://loinc.org".into()), "2339-0".into())]
    );
    assert_eq!(
        strings(&rows, "code:text"),
        vec!["glucose", "blood glucose"]
    );
    let patient: Vec<&ReferenceIndex> = rows
        .references
        .iter()
        .filter(|r| r.param == "patient")
        .collect();
    assert_eq!(patient.len(), 1);
    assert_eq!(patient[0].target_id.as_deref(), Some("p1"));
    // `patient` keeps only Patient targets; `subject` keeps all.
    assert!(rows.references.iter().any(|r| r.param == "subject"));
    assert!(!rows
        .references
        .iter()
        .any(|r| r.param == "performer" && r.target_id.as_deref() == Some("c1")));
    assert!(rows.tokens.contains(&TokenIndex {
        param: "performer:identifier".into(),
        system: Some("urn:npi".into()),
        code: "99".into(),
    }));
    let date: Vec<&DateIndex> = rows.dates.iter().filter(|d| d.param == "date").collect();
    assert_eq!(date.len(), 1);
    assert_eq!(date[0].high, DateIndex::MAX);
    assert_eq!(date[0].low, 1_577_872_800_000);
    let q: Vec<(f64, Option<&str>)> = rows
        .quantities
        .iter()
        .filter(|q| q.param.starts_with("value-quantity"))
        .map(|q| (q.value, q.code.as_deref()))
        .collect();
    assert_eq!(q.len(), 2);
    assert_eq!(q[0], (5000.0, Some("mg")));
    assert_eq!(q[1].1, Some("g"));
    assert!((q[1].0 - 5.0).abs() < 1e-9);
    assert_eq!(
        rows.quantities
            .iter()
            .filter(|q| q.param == "value-quantity:canonical")
            .count(),
        1
    );
    let composites: Vec<&str> = rows
        .composites
        .iter()
        .filter(|c| c.param == "component-code-value-quantity")
        .map(|c| c.value.as_str())
        .collect();
    assert!(
        composites.contains(&"http://loinc.org|8480-6$120|http://unitsofmeasure.org|mm[Hg]"),
        "{composites:?}"
    );
    // `code-value-quantity` is searched through its components (`code`,
    // `value-quantity`) and the `combo-…` parameters through their parts
    // (`combo-code` = `code` | `component-code`): no rows of their own.
    assert!(!rows
        .composites
        .iter()
        .any(|c| c.param == "code-value-quantity" || c.param.starts_with("combo-")));
    assert!(!rows.tokens.iter().any(|t| t.param.starts_with("combo-")));
    assert!(!rows
        .quantities
        .iter()
        .any(|q| q.param.starts_with("combo-")));
    // The quantity's value is stored beside the text for prefixes.
    assert!(rows
        .composites
        .iter()
        .filter(|c| c.param == "component-code-value-quantity")
        .all(|c| c.number == Some(120.0)));
    // The resource's own 5000 mg is also kept as 5 g under `:canonical`,
    // never under the plain parameter.
    let quantity = |param: &str, unit: &str| {
        rows.quantities
            .iter()
            .filter(|q| q.param == param && q.code.as_deref() == Some(unit))
            .map(|q| q.value)
            .collect::<Vec<f64>>()
    };
    assert_eq!(quantity("value-quantity", "mg"), [5000.0]);
    assert_eq!(quantity("value-quantity:canonical", "g"), [5.0]);
    assert!(quantity("value-quantity", "g").is_empty());
    let compartments: Vec<(&str, &str)> = rows
        .compartments
        .iter()
        .map(|c| (c.compartment_type.as_str(), c.compartment_id.as_str()))
        .collect();
    assert!(compartments.contains(&("Patient", "p1")));
    assert!(compartments.contains(&("Encounter", "e1")));
    assert!(compartments.contains(&("Practitioner", "dr1")));
}

#[test]
fn numbers_uris_and_self_compartments() {
    let rows = index_rows(&json!({"resourceType": "RiskAssessment", "id": "r",
        "prediction": [{"probabilityDecimal": 0.25}]}));
    assert_eq!(rows.numbers.len(), 1);
    assert_eq!(rows.numbers[0].param, "probability");
    assert_eq!(rows.numbers[0].value, 0.25);
    let enc = index_rows(&json!({"resourceType": "Encounter", "id": "e9"}));
    assert_eq!(
        enc.compartments,
        vec![CompartmentIndex {
            compartment_type: "Encounter".into(),
            compartment_id: "e9".into()
        }]
    );
    let vs = index_rows(&json!({"resourceType": "ValueSet", "url": "http://x/vs"}));
    assert!(vs
        .uris
        .iter()
        .any(|u| u.param == "url" && u.value == "http://x/vs"));
}

#[test]
fn timing_and_money() {
    let rows = index_rows(&json!({"resourceType": "MedicationRequest",
        "dosageInstruction": [{"timing": {"event": ["2021-05-01"]}}],
        "authoredOn": "2021-05-01T10:00:00+02:00"}));
    assert!(rows
        .dates
        .iter()
        .any(|d| d.param == "authoredon" && d.low == 1_619_856_000_000));
    let claim = index_rows(&json!({"resourceType": "ChargeItem",
        "priceOverride": {"value": 12.5, "currency": "USD"}}));
    assert!(claim.quantities.iter().any(|q| q.param == "price-override"
        && q.code.as_deref() == Some("USD")
        && q.value == 12.5));
}

#[test]
fn non_resources_give_no_rows() {
    assert!(index_rows(&json!({"a": 1})).is_empty());
    assert!(index_rows(&json!({"resourceType": "Nope"})).is_empty());
}

/// The access check's compartments-only extraction gives the compartments
/// the full extraction gives (subject, performer, encounter, self).
#[test]
fn compartment_rows_alone_match_the_full_extraction() {
    let resources = [
        patient(),
        json!({"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"text": "x"}, "subject": {"reference": "Patient/p1"},
            "performer": [{"reference": "Practitioner/d1"}, {"reference": "Patient/p9"},
                {"reference": "http://other.org/fhir/Patient/p7"}],
            "encounter": {"reference": "Encounter/e1"}}),
        json!({"resourceType": "Encounter", "id": "e1", "status": "finished",
            "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"},
            "participant": [{"individual": {"reference": "Practitioner/d1"}}]}),
        json!({"resourceType": "Practitioner", "id": "d1"}),
        json!({"resourceType": "Basic", "code": {"text": "x"}}),
    ];
    for r in &resources {
        let full = index_rows(r).compartments;
        assert_eq!(compartment_rows(r), full, "{r}");
    }
    let obs = compartment_rows(&resources[1]);
    for (t, id) in [
        ("Patient", "p1"),
        ("Patient", "p9"),
        ("Practitioner", "d1"),
        ("Encounter", "e1"),
    ] {
        assert!(
            obs.contains(&CompartmentIndex {
                compartment_type: t.into(),
                compartment_id: id.into()
            }),
            "{t}/{id} in {obs:?}"
        );
    }
}

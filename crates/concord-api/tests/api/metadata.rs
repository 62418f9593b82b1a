//! `GET /metadata`: the CapabilityStatement says what the server really does.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn capability_statement() {
    let app = TestApp::spawn().await;
    let r = get(&app, "metadata").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with(FHIR_JSON));
    let cs = &r.json;
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["kind"], "instance");
    assert_eq!(cs["status"], "active");
    assert!(cs["format"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "application/fhir+json" || f == "json"));
    assert!(
        !cs["format"].to_string().contains("xml"),
        "XML is not served"
    );
    let rest = &cs["rest"][0];
    assert_eq!(rest["mode"], "server");
    let resources = rest["resource"].as_array().unwrap();
    let types: BTreeSet<&str> = resources
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(resources.len(), 146);
    assert_eq!(types.len(), 146);
    let r4: BTreeSet<&str> = concord_fhir::RESOURCE_TYPES.iter().copied().collect();
    assert_eq!(types, r4);
    for t in [
        "Patient",
        "Observation",
        "Bundle",
        "Binary",
        "Parameters",
        "MedicinalProductUndesirableEffect",
    ] {
        assert!(types.contains(t), "{t}");
    }

    // The interactions offered are exactly those implemented.
    let codes = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    };
    let expected: BTreeSet<String> = [
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for res in resources {
        assert_eq!(codes(&res["interaction"]), expected, "{}", res["type"]);
        assert_eq!(res["updateCreate"], true);
        assert_eq!(res["conditionalCreate"], true);
        assert_eq!(res["conditionalUpdate"], true);
    }
    let system: BTreeSet<String> = codes(&rest["interaction"]);
    assert_eq!(
        system,
        ["transaction", "batch", "history-system", "search-system"]
            .into_iter()
            .map(String::from)
            .collect()
    );

    // Every search parameter of a type is listed, and each listed one works.
    let patient = resources
        .iter()
        .find(|r| r["type"] == "Patient")
        .expect("Patient");
    let names: BTreeSet<String> = patient["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    for p in [
        "_id",
        "_lastUpdated",
        "name",
        "birthdate",
        "identifier",
        "general-practitioner",
        "_tag",
    ] {
        assert!(names.contains(p), "Patient searchParam {p}");
    }
    assert!(
        names.contains("_text") && names.contains("_content"),
        "full text is offered"
    );
    for p in &names {
        let r = get(&app, &format!("Patient?{p}:missing=true")).await;
        assert_eq!(r.status, 200, "Patient?{p}:missing=true: {}", r.text);
    }
    assert_eq!(patient["operation"][0]["name"], "everything");
    assert!(patient["searchRevInclude"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "Observation:subject"));

    // And a claimed interaction works on an arbitrary type.
    let id = create(
        &app,
        &json!({"resourceType": "Basic", "code": {"text": "x"}}),
    )
    .await;
    assert_eq!(
        get(&app, &format!("Basic/{id}/_history/1")).await.status,
        200
    );
    assert_eq!(get(&app, "Basic/_history").await.json["total"], 1);
}

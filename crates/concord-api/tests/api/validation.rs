//! Rejections that need a real R4 validator (clear-cut violations only).
//! The stub validator of this branch checks resourceType alone, so these
//! tests fail until the `concord-validation` rewrite lands.

use serde_json::{json, Value};

use crate::common::*;

fn invalid_patients() -> Vec<(&'static str, Value)> {
    vec![
        (
            "code outside a required binding",
            json!({"resourceType": "Patient", "gender": "robot"}),
        ),
        (
            "unknown element",
            json!({"resourceType": "Patient", "favouriteColour": "blue"}),
        ),
        (
            "wrong JSON type",
            json!({"resourceType": "Patient", "active": "yes"}),
        ),
        (
            "bad date",
            json!({"resourceType": "Patient", "birthDate": "31/12/1999"}),
        ),
        (
            "object where an array belongs",
            json!({"resourceType": "Patient", "name": {"family": "x"}}),
        ),
    ]
}

#[tokio::test]
async fn invalid_resources_are_422() {
    let app = TestApp::spawn().await;
    let mut failures = Vec::new();
    for (what, body) in invalid_patients() {
        let r = post(&app, "Patient", &body).await;
        if r.status != 422 {
            failures.push(format!("POST {what}: {} {}", r.status, short(&r.text)));
        } else {
            r.outcome();
        }
        let mut with_id = body.clone();
        with_id["id"] = json!("v1");
        let r = put(&app, "Patient/v1", &with_id).await;
        if r.status != 422 {
            failures.push(format!("PUT {what}: {} {}", r.status, short(&r.text)));
        }
    }
    assert!(
        failures.is_empty(),
        "not rejected:\n{}",
        failures.join("\n")
    );
    assert_eq!(count_type(&app, "Patient").await, 0);
}

#[tokio::test]
async fn patch_making_the_resource_invalid_is_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = create(
        &app,
        &json!({"resourceType": "Patient", "gender": "female"}),
    )
    .await;
    let path = format!("Patient/{id}");
    let before = get(&app, &path).await;
    for ops in [
        json!([{"op": "replace", "path": "/gender", "value": "robot"}]),
        json!([{"op": "add", "path": "/favouriteColour", "value": "blue"}]),
        json!([{"op": "add", "path": "/birthDate", "value": "not-a-date"}]),
    ] {
        let r = send(
            req(&app, Method::PATCH, &path)
                .header("content-type", "application/json-patch+json")
                .body(ops.to_string()),
        )
        .await;
        r.expect_error(422);
        let after = get(&app, &path).await;
        assert_eq!(after.json, before.json, "a refused patch changes nothing");
        assert_eq!(after.header("etag"), Some("W/\"1\""));
    }
}

#[tokio::test]
async fn transaction_with_invalid_50th_entry_stores_nothing() {
    let app = TestApp::spawn().await;
    let mut entries: Vec<Value> = (0..49)
        .map(|i| {
            json!({"fullUrl": format!("urn:uuid:00000000-0000-0000-0000-{i:012}"),
                   "resource": patient(&format!("P{i}")),
                   "request": {"method": "POST", "url": "Patient"}})
        })
        .collect();
    entries.push(
        json!({"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000049",
        "resource": {"resourceType": "Patient", "gender": "robot"},
        "request": {"method": "POST", "url": "Patient"}}),
    );
    let r = post(
        &app,
        "",
        &json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}),
    )
    .await;
    r.expect_error(422);
    assert!(r.text.contains("entry[49]"), "{}", short(&r.text));
    assert_eq!(history_total(&app, "_history").await, 0);
    assert_eq!(count_type(&app, "Patient").await, 0);
}

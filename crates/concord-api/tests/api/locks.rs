//! Signed documents are locked in the engine: a `Composition` whose current
//! version is `final` or `amended` cannot be updated, patched or deleted
//! (single requests, batch and transaction entries alike) — except to mark
//! it `entered-in-error`; corrections are addenda.

use serde_json::{json, Value};

use crate::common::*;

fn note(status: &str, title: &str) -> Value {
    json!({
        "resourceType": "Composition",
        "status": status,
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
        "date": "2026-03-01T09:00:00Z",
        "author": [{"display": "Dr Test"}],
        "title": title,
    })
}

fn with_id(mut v: Value, id: &str) -> Value {
    v["id"] = json!(id);
    v
}

#[track_caller]
fn assert_business_rule(r: &Resp) {
    let why = r.expect_error(422);
    assert!(
        r.json["issue"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|i| i["code"] == "business-rule"),
        "{}",
        r.text
    );
    assert!(why.contains("signed"), "{why}");
}

#[tokio::test]
async fn signed_composition_is_locked_except_entered_in_error() {
    let app = TestApp::spawn().await;
    let id = create(&app, &note("preliminary", "Draft")).await;
    let path = format!("Composition/{id}");
    // A draft may be edited, and signed.
    let r = put(&app, &path, &with_id(note("preliminary", "Draft 2"), &id)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = put(&app, &path, &with_id(note("final", "Signed"), &id)).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Signed: update, patch and delete are refused, nothing changes.
    let r = put(&app, &path, &with_id(note("final", "Edited"), &id)).await;
    assert_business_rule(&r);
    let r = put(&app, &path, &with_id(note("preliminary", "Unsigned"), &id)).await;
    assert_business_rule(&r);
    let r = send(
        req(&app, Method::PATCH, &path)
            .header("content-type", "application/json-patch+json")
            .body(json!([{"op": "replace", "path": "/title", "value": "Patched"}]).to_string()),
    )
    .await;
    assert_business_rule(&r);
    let r = delete(&app, &path).await;
    assert_business_rule(&r);

    // Nor through a batch entry or a transaction (which stores nothing).
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": with_id(note("final", "Batch"), &id), "request": {"method": "PUT", "url": path}},
    ]});
    let r = post(&app, "", &batch).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let entry = &r.json["entry"][0]["response"];
    assert!(
        entry["status"].as_str().unwrap_or("").starts_with("422"),
        "{entry}"
    );
    assert_eq!(
        entry["outcome"]["issue"][0]["code"], "business-rule",
        "{entry}"
    );
    let other = create(&app, &patient("Locked")).await;
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": with_id(patient("Changed"), &other), "request": {"method": "PUT", "url": format!("Patient/{other}")}},
        {"request": {"method": "DELETE", "url": path}},
    ]});
    let r = post(&app, "", &tx).await;
    assert_business_rule(&r);
    let p = get(&app, &format!("Patient/{other}")).await;
    assert_eq!(
        p.json["meta"]["versionId"], "1",
        "the transaction stored nothing"
    );

    let stored = get(&app, &path).await;
    assert_eq!(
        (
            stored.json["title"].as_str(),
            stored.json["meta"]["versionId"].as_str()
        ),
        (Some("Signed"), Some("3"))
    );
    // Repeating the stored content unchanged is not a change.
    let r = put(&app, &path, &without_server_meta(stored.json.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An addendum is a new Composition that appends to the signed one.
    let mut addendum = note("final", "Addendum");
    addendum["relatesTo"] = json!([{"code": "appends", "targetReference": {"reference": path}}]);
    create(&app, &addendum).await;

    // Marking it entered-in-error is allowed; that version is not locked.
    let r = put(
        &app,
        &path,
        &with_id(note("entered-in-error", "Signed"), &id),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(get(&app, &path).await.json["status"], "entered-in-error");
}

#[tokio::test]
async fn amended_composition_is_locked_too() {
    let app = TestApp::spawn().await;
    let id = create(&app, &note("amended", "Amended")).await;
    let path = format!("Composition/{id}");
    let r = put(&app, &path, &with_id(note("amended", "Again"), &id)).await;
    assert_business_rule(&r);
}

//! Create, read, vread, update, delete and JSON Patch.

use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn create_assigns_id_and_sets_location_etag_last_modified() {
    let app = TestApp::spawn().await;
    let body = json!({"resourceType": "Patient", "id": "client-chosen",
        "meta": {"versionId": "41", "profile": ["http://example.org/p"]},
        "name": [{"family": "Doe"}]});
    let r = post(&app, "Patient", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_ne!(
        id, "client-chosen",
        "the body's id must be ignored on create"
    );
    assert!(concord_fhir::ids::is_valid_id(&id), "{id}");
    assert_eq!(
        r.header("location"),
        Some(format!("{}/Patient/{id}/_history/1", app.base).as_str())
    );
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    let last_modified = r.header("last-modified").expect("Last-Modified");
    let lm = httpdate::parse_http_date(last_modified).expect("an HTTP date");
    let lm_secs = lm.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let last_updated = r.json["meta"]["lastUpdated"].as_str().expect("lastUpdated");
    let lu = concord_store::timestamp::parse_instant(last_updated).expect("an instant");
    assert_eq!(
        lm_secs,
        lu / 1000,
        "Last-Modified agrees with meta.lastUpdated"
    );
    assert_eq!(r.json["meta"]["versionId"], "1", "the store sets versionId");
    assert_eq!(r.json["meta"]["profile"][0], "http://example.org/p");
    assert_eq!(r.json["name"][0]["family"], "Doe");
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with(FHIR_JSON));

    // Nothing was stored under the client's id.
    get(&app, "Patient/client-chosen").await.expect_error(404);

    let read = get(&app, &format!("Patient/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.header("etag"), Some("W/\"1\""));
    assert_eq!(read.header("last-modified"), Some(last_modified));
    assert_eq!(read.json, r.json, "read returns what create returned");

    // Two creates of the same body are two resources.
    let other = create(&app, &body).await;
    assert_ne!(other, id);
}

#[tokio::test]
async fn update_vread_and_create_on_update() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let r = put(
        &app,
        &format!("Patient/{id}"),
        &json!({"resourceType": "Patient", "id": id, "name": [{"family": "Roe"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(r.json["meta"]["versionId"], "2");
    assert_eq!(
        r.header("location"),
        Some(format!("{}/Patient/{id}/_history/2", app.base).as_str())
    );

    let v1 = get(&app, &format!("Patient/{id}/_history/1")).await;
    assert_eq!(v1.status, 200);
    assert_eq!(v1.header("etag"), Some("W/\"1\""));
    assert_eq!(v1.json["name"][0]["family"], "Doe");
    let v2 = get(&app, &format!("Patient/{id}/_history/2")).await;
    assert_eq!(v2.json["name"][0]["family"], "Roe");
    assert_eq!(get(&app, &format!("Patient/{id}")).await.json, v2.json);
    get(&app, &format!("Patient/{id}/_history/3"))
        .await
        .expect_error(404);
    get(&app, &format!("Patient/{id}/_history/x"))
        .await
        .expect_error(400);
    get(&app, "Patient/never-there").await.expect_error(404);

    // Update as create, with the client's id.
    let r = put(
        &app,
        "Patient/chosen-1",
        &json!({"resourceType": "Patient", "id": "chosen-1", "active": true}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(
        r.header("location"),
        Some(format!("{}/Patient/chosen-1/_history/1", app.base).as_str())
    );
    assert_eq!(get(&app, "Patient/chosen-1").await.json["active"], true);
}

#[tokio::test]
async fn update_needs_the_matching_id_in_the_body() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let path = format!("Patient/{id}");
    put(
        &app,
        &path,
        &json!({"resourceType": "Patient", "active": false}),
    )
    .await
    .expect_error(400);
    put(
        &app,
        &path,
        &json!({"resourceType": "Patient", "id": "someone-else", "active": false}),
    )
    .await
    .expect_error(400);
    // Neither touched the resource, and nothing was created under the other id.
    let r = get(&app, &path).await;
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert!(r.json.get("active").is_none());
    get(&app, "Patient/someone-else").await.expect_error(404);
}

#[tokio::test]
async fn logical_delete_keeps_history() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let path = format!("Patient/{id}");
    put(
        &app,
        &path,
        &json!({"resourceType": "Patient", "id": id, "name": [{"family": "Roe"}]}),
    )
    .await;
    let r = delete(&app, &path).await;
    assert!(matches!(r.status, 200 | 204), "{}", r.text);
    if r.status == 200 {
        r.outcome();
    }
    get(&app, &path).await.expect_error(410);
    // Earlier versions stay readable; the delete itself is gone.
    let v1 = get(&app, &format!("{path}/_history/1")).await;
    assert_eq!(v1.status, 200);
    assert_eq!(v1.json["name"][0]["family"], "Doe");
    get(&app, &format!("{path}/_history/3"))
        .await
        .expect_error(410);
    let h = get(&app, &format!("{path}/_history")).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json["type"], "history");
    assert_eq!(h.json["total"], 3);
    let entries = h.json["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["request"]["method"], "DELETE");
    assert!(entries[0].get("resource").is_none());
    assert_eq!(entries[0]["response"]["etag"], "W/\"3\"");
    assert_eq!(entries[1]["resource"]["meta"]["versionId"], "2");
    assert_eq!(entries[2]["resource"]["meta"]["versionId"], "1");
    // Type history and the store both agree it is no longer live.
    assert_eq!(count_type(&app, "Patient").await, 0);

    // Deleting again, or deleting what never existed, succeeds quietly.
    for p in [path.clone(), "Patient/never-existed".to_string()] {
        let r = delete(&app, &p).await;
        assert!(matches!(r.status, 200 | 204), "{p}: {}", r.text);
        if r.status == 200 {
            r.outcome();
        } else {
            assert!(r.text.is_empty());
        }
    }
    get(&app, "Patient/never-existed").await.expect_error(404);

    // An update brings a deleted resource back (as a create).
    let r = put(
        &app,
        &path,
        &json!({"resourceType": "Patient", "id": id, "active": true}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"4\""));
    assert_eq!(get(&app, &path).await.status, 200);
}

fn patch_req(app: &TestApp, path: &str, ops: &Value) -> reqwest::RequestBuilder {
    req(app, Method::PATCH, path)
        .header("content-type", "application/json-patch+json")
        .body(ops.to_string())
}

#[tokio::test]
async fn json_patch() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let path = format!("Patient/{id}");
    let ops = json!([
        {"op": "replace", "path": "/name/0/family", "value": "Patched"},
        {"op": "add", "path": "/birthDate", "value": "1970-01-01"}
    ]);
    let r = send(patch_req(&app, &path, &ops)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(r.json["name"][0]["family"], "Patched");
    assert_eq!(r.json["birthDate"], "1970-01-01");
    assert_eq!(r.json["meta"]["versionId"], "2");
    assert_eq!(get(&app, &path).await.json, r.json);

    // Stale If-Match → 412; the right one → 200.
    send(patch_req(&app, &path, &ops).header("if-match", "W/\"1\""))
        .await
        .expect_error(412);
    let r = send(
        patch_req(
            &app,
            &path,
            &json!([{"op": "add", "path": "/active", "value": true}]),
        )
        .header("if-match", "W/\"2\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"3\""));

    // A patch needs the JSON Patch media type.
    send(
        req(&app, Method::PATCH, &path)
            .header("content-type", FHIR_JSON)
            .body(ops.to_string()),
    )
    .await
    .expect_error(415);
    // Not a patch document; an op that cannot apply; changing the id.
    send(patch_req(&app, &path, &json!({"op": "replace"})))
        .await
        .expect_error(400);
    let r = send(patch_req(
        &app,
        &path,
        &json!([{"op": "remove", "path": "/no/such/element"}]),
    ))
    .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.text);
    r.outcome();
    send(patch_req(
        &app,
        &path,
        &json!([{"op": "replace", "path": "/id", "value": "other"}]),
    ))
    .await
    .expect_error(400);
    // Nothing of that changed the resource.
    assert_eq!(get(&app, &path).await.header("etag"), Some("W/\"3\""));

    send(patch_req(&app, "Patient/missing", &ops))
        .await
        .expect_error(404);
    delete(&app, &path).await;
    send(patch_req(&app, &path, &ops)).await.expect_error(410);
}

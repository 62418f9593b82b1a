//! Versioning headers and `Prefer`.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn if_match_on_update_and_delete() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let path = format!("Patient/{id}");
    let body = json!({"resourceType": "Patient", "id": id, "active": true});
    let upd = |tag: &str| send(with_body(&app, Method::PUT, &path, &body).header("if-match", tag));
    upd("W/\"2\"").await.expect_error(412);
    let r = upd("W/\"1\"").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    upd("W/\"1\"").await.expect_error(412);
    upd("not a tag").await.expect_error(400);
    // Stale If-Match on delete → 412 and the resource stays.
    send(req(&app, Method::DELETE, &path).header("if-match", "W/\"1\""))
        .await
        .expect_error(412);
    assert_eq!(get(&app, &path).await.status, 200);
    let r = send(req(&app, Method::DELETE, &path).header("if-match", "W/\"2\"")).await;
    assert!(matches!(r.status, 200 | 204), "{}", r.text);
    get(&app, &path).await.expect_error(410);
}

#[tokio::test]
async fn conditional_reads() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let path = format!("Patient/{id}");
    let r = send(req(&app, Method::GET, &path).header("if-none-match", "W/\"1\"")).await;
    assert_eq!(r.status, 304);
    assert!(r.text.is_empty());
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    let r = send(req(&app, Method::GET, &path).header("if-none-match", "W/\"7\"")).await;
    assert_eq!(r.status, 200);

    let last_modified = get(&app, &path)
        .await
        .header("last-modified")
        .unwrap()
        .to_string();
    let r = send(req(&app, Method::GET, &path).header("if-modified-since", &last_modified)).await;
    assert_eq!(r.status, 304);
    assert!(r.text.is_empty());
    let r = send(
        req(&app, Method::GET, &path).header("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["id"], id.as_str());

    // After an update the old tag no longer matches.
    put(
        &app,
        &path,
        &json!({"resourceType": "Patient", "id": id, "active": true}),
    )
    .await;
    let r = send(req(&app, Method::GET, &path).header("if-none-match", "W/\"1\"")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
}

#[tokio::test]
async fn prefer_return() {
    let app = TestApp::spawn().await;
    let minimal = send(
        with_body(&app, Method::POST, "Patient", &patient("Min"))
            .header("prefer", "return=minimal"),
    )
    .await;
    assert_eq!(minimal.status, 201);
    assert!(minimal.text.is_empty(), "{}", minimal.text);
    let location = minimal.header("location").expect("Location").to_string();
    assert_eq!(minimal.header("etag"), Some("W/\"1\""));
    let stored = send(app.client.get(&location)).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json["name"][0]["family"], "Min");
    let id = stored.json["id"].as_str().unwrap().to_string();

    let r = send(
        with_body(
            &app,
            Method::PUT,
            &format!("Patient/{id}"),
            &json!({"resourceType": "Patient", "id": id, "active": true}),
        )
        .header("prefer", "return=minimal"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text.is_empty());
    assert_eq!(r.header("etag"), Some("W/\"2\""));

    let r = send(
        with_body(&app, Method::POST, "Patient", &patient("OO"))
            .header("prefer", "return=OperationOutcome"),
    )
    .await;
    assert_eq!(r.status, 201);
    r.outcome();
    assert!(r.header("location").is_some());

    let r = send(
        with_body(&app, Method::POST, "Patient", &patient("Rep"))
            .header("prefer", "return=representation"),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"][0]["family"], "Rep");
}

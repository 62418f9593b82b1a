//! Hostile and malformed input: the right status, an OperationOutcome, and the
//! server (and its data) unharmed afterwards.

use serde_json::json;

use crate::common::*;

/// A stored patient to check after each attack.
async fn witness(app: &TestApp) -> (String, Resp) {
    let id = create(app, &patient("Witness")).await;
    let r = get(app, &format!("Patient/{id}")).await;
    (id, r)
}

async fn still_fine(app: &TestApp, witness: &(String, Resp)) {
    assert_alive(app).await;
    let r = get(app, &format!("Patient/{}", witness.0)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, witness.1.json, "stored data intact");
}

fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    req(app, method, path)
        .header("content-type", FHIR_JSON)
        .body(body)
}

#[tokio::test]
async fn malformed_bodies() {
    let app = TestApp::spawn().await;
    let w = witness(&app).await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated JSON", br#"{"resourceType": "Patient","#.to_vec()),
        ("not JSON", b"hello".to_vec()),
        ("empty", Vec::new()),
        (
            "trailing garbage",
            br#"{"resourceType": "Patient"} x"#.to_vec(),
        ),
        (
            "invalid UTF-8",
            b"{\"resourceType\": \"Patient\", \"x\": \"\xff\xfe\"}".to_vec(),
        ),
        ("array", br#"[{"resourceType": "Patient"}]"#.to_vec()),
        ("number", b"42".to_vec()),
        ("string", br#""Patient""#.to_vec()),
        ("null", b"null".to_vec()),
        (
            "no resourceType",
            br#"{"name": [{"family": "x"}]}"#.to_vec(),
        ),
        (
            "resourceType mismatch",
            br#"{"resourceType": "Observation", "status": "final"}"#.to_vec(),
        ),
    ];
    for (what, body) in &cases {
        for (method, path) in [
            (Method::POST, "Patient".to_string()),
            (Method::PUT, format!("Patient/{}", w.0)),
        ] {
            let r = send(raw(&app, method.clone(), &path, body.clone())).await;
            assert_eq!(
                r.status,
                400,
                "{what} ({method} {path}): {}",
                short(&r.text)
            );
            r.outcome();
        }
        // And as a Bundle.
        let r = send(raw(&app, Method::POST, "", body.clone())).await;
        assert_eq!(r.status, 400, "{what} (POST /): {}", short(&r.text));
        r.outcome();
    }
    still_fine(&app, &w).await;
    assert_eq!(count_type(&app, "Patient").await, 1);
}

#[tokio::test]
async fn deep_nesting_is_refused() {
    let app = TestApp::spawn().await;
    let w = witness(&app).await;
    let depth = 10_000;
    let body = format!(
        r#"{{"resourceType": "Patient", "extension": {}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    send(raw(&app, Method::POST, "Patient", body.clone()))
        .await
        .expect_error(400);
    let obj = format!(
        r#"{{"resourceType": "Patient", "x": {}1{}}}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    );
    send(raw(&app, Method::POST, "Patient", obj))
        .await
        .expect_error(400);
    send(raw(&app, Method::POST, "", body))
        .await
        .expect_error(400);
    still_fine(&app, &w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let w = witness(&app).await;
    let big = format!(
        r#"{{"resourceType": "Patient", "id": "{}", "name": [{{"family": "{}"}}]}}"#,
        w.0,
        "x".repeat(50 * 1024 * 1024)
    );
    // Several rounds: the client is still sending when the server has decided,
    // and must get the 413 rather than a broken pipe.
    for _ in 0..4 {
        for (method, path) in [
            (Method::POST, "Patient".to_string()),
            (Method::PUT, format!("Patient/{}", w.0)),
            (Method::POST, String::new()),
        ] {
            let r = send(raw(&app, method.clone(), &path, big.clone())).await;
            r.expect_error(413);
        }
    }
    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(1 << 20)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let stream = futures::stream::iter(chunks);
    let r = send(raw(
        &app,
        Method::POST,
        "Patient",
        reqwest::Body::wrap_stream(stream),
    ))
    .await;
    r.expect_error(413);
    still_fine(&app, &w).await;
}

#[tokio::test]
async fn huge_string_is_stored_or_rejected_cleanly() {
    let app = TestApp::spawn().await;
    let w = witness(&app).await;
    let family = "y".repeat(5 * 1024 * 1024);
    let r = post(
        &app,
        "Patient",
        &json!({"resourceType": "Patient", "name": [{"family": family}]}),
    )
    .await;
    match r.status {
        201 => {
            let id = r.json["id"].as_str().unwrap();
            let back = get(&app, &format!("Patient/{id}")).await;
            assert_eq!(back.status, 200);
            assert_eq!(
                back.json["name"][0]["family"].as_str().map(str::len),
                Some(family.len())
            );
        }
        400 | 413 | 422 => {
            r.outcome();
            assert_eq!(count_type(&app, "Patient").await, 1);
        }
        other => panic!("a 5 MB string gave {other}: {}", short(&r.text)),
    }
    still_fine(&app, &w).await;
}

#[tokio::test]
async fn bad_urls() {
    let app = TestApp::spawn().await;
    let w = witness(&app).await;
    let long = "a".repeat(65);
    let body = json!({"resourceType": "Patient", "id": "bad_id!"});
    for id in ["bad_id!", long.as_str(), "a%20b", "%E2%82%AC"] {
        let path = format!("Patient/{id}");
        get(&app, &path).await.expect_error(400);
        put(&app, &path, &body).await.expect_error(400);
        delete(&app, &path).await.expect_error(400);
        get(&app, &format!("{path}/_history/1"))
            .await
            .expect_error(400);
    }
    // 64 characters is the longest id.
    let max = "b".repeat(64);
    let r = put(
        &app,
        &format!("Patient/{max}"),
        &json!({"resourceType": "Patient", "id": max}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Unknown resource types.
    get(&app, "Foo/1").await.expect_error(404);
    get(&app, "patient/1").await.expect_error(404);
    post(&app, "Foo", &json!({"resourceType": "Foo"}))
        .await
        .expect_error(404);
    put(&app, "Foo/1", &json!({"resourceType": "Foo", "id": "1"}))
        .await
        .expect_error(404);
    delete(&app, "Foo/1").await.expect_error(404);
    get(&app, "Foo/1/_history/1").await.expect_error(404);

    // Unknown routes.
    for path in [
        "Patient/1/_history/1/extra",
        "a/b/c/d/e",
        "Patient/1/$everything/x/y",
    ] {
        get(&app, path).await.expect_error(404);
    }
    // Methods the server does not have at a URL.
    for (method, path) in [
        (Method::DELETE, "metadata"),
        (Method::POST, "metadata"),
        (Method::PUT, ""),
        (Method::DELETE, ""),
        (Method::POST, "Patient/1"),
        (Method::PATCH, "Patient"),
        (Method::DELETE, "_history"),
        (Method::POST, "Patient/1/_history/1"),
    ] {
        let r = send(req(&app, method.clone(), path)).await;
        assert_eq!(r.status, 405, "{method} /{path}: {}", short(&r.text));
        r.outcome();
    }
    still_fine(&app, &w).await;
    assert_eq!(count_type(&app, "Patient").await, 2);
}

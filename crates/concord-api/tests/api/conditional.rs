//! Conditional create (If-None-Exist), conditional update and conditional delete.

use serde_json::{json, Value};

use crate::common::*;

const SYS: &str = "http://acme.example/mrn";

fn with_mrn(value: &str, family: &str) -> Value {
    json!({"resourceType": "Patient",
           "identifier": [{"system": SYS, "value": value}],
           "name": [{"family": family}]})
}

fn criteria(value: &str) -> String {
    format!("identifier={SYS}|{value}")
}

#[tokio::test]
async fn if_none_exist() {
    let app = TestApp::spawn().await;
    let body = with_mrn("100", "Doe");
    let cond =
        || with_body(&app, Method::POST, "Patient", &body).header("if-none-exist", criteria("100"));
    // 0 matches → created.
    let r = send(cond()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_string();
    // 1 match → 200 with the existing resource, nothing new written.
    let r = send(cond()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["id"], id.as_str());
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(count_type(&app, "Patient").await, 1);
    assert_eq!(history_total(&app, "Patient/_history").await, 1);
    // A second resource with the same identifier → 2 matches → 412.
    create(&app, &with_mrn("100", "Twin")).await;
    send(cond()).await.expect_error(412);
    assert_eq!(count_type(&app, "Patient").await, 2);
    // _id criteria, and criteria the server cannot evaluate are refused (not ignored).
    let r = send(
        with_body(&app, Method::POST, "Patient", &body)
            .header("if-none-exist", format!("_id={id}")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["id"], id.as_str());
    let r = send(
        with_body(&app, Method::POST, "Patient", &body).header("if-none-exist", "nosuchparam=1"),
    )
    .await;
    assert!(r.status >= 400 && r.status < 500, "{}", r.text);
    r.outcome();
    assert_eq!(count_type(&app, "Patient").await, 2);
}

#[tokio::test]
async fn conditional_update() {
    let app = TestApp::spawn().await;
    let put_cond = |value: &str, body: &Value| {
        send(
            with_body(&app, Method::PUT, "Patient", body)
                .query(&[("identifier", format!("{SYS}|{value}"))]),
        )
    };
    // No match, no id → created with a new id.
    let r = put_cond("200", &with_mrn("200", "Doe")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    // One match → updated in place.
    let r = put_cond("200", &with_mrn("200", "Roe")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["id"], id.as_str());
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(
        get(&app, &format!("Patient/{id}")).await.json["name"][0]["family"],
        "Roe"
    );
    // One match, but the body names another id → 400.
    let mut other = with_mrn("200", "X");
    other["id"] = json!("not-the-match");
    put_cond("200", &other).await.expect_error(400);
    // Two matches → 412, nothing changes.
    create(&app, &with_mrn("200", "Twin")).await;
    put_cond("200", &with_mrn("200", "Nope"))
        .await
        .expect_error(412);
    assert_eq!(
        get(&app, &format!("Patient/{id}")).await.header("etag"),
        Some("W/\"2\"")
    );
    // Without criteria there is nothing to match.
    send(with_body(&app, Method::PUT, "Patient", &with_mrn("1", "x")))
        .await
        .expect_error(400);
    assert_eq!(count_type(&app, "Patient").await, 2);
}

#[tokio::test]
async fn conditional_delete() {
    let app = TestApp::spawn().await;
    let one = create(&app, &with_mrn("300", "One")).await;
    let del = |value: &str| {
        send(
            req(&app, Method::DELETE, "Patient").query(&[("identifier", format!("{SYS}|{value}"))]),
        )
    };
    let r = del("300").await;
    assert!(matches!(r.status, 200 | 204), "{}", r.text);
    get(&app, &format!("Patient/{one}")).await.expect_error(410);
    // No match: nothing to do, still a success.
    let r = del("300").await;
    assert!(matches!(r.status, 200 | 204), "{}", r.text);
    // Several matches → 412 (single deletes only), both survive.
    let a = create(&app, &with_mrn("301", "A")).await;
    let b = create(&app, &with_mrn("301", "B")).await;
    del("301").await.expect_error(412);
    assert_eq!(get(&app, &format!("Patient/{a}")).await.status, 200);
    assert_eq!(get(&app, &format!("Patient/{b}")).await.status, 200);
    send(req(&app, Method::DELETE, "Patient"))
        .await
        .expect_error(400);
    assert_eq!(count_type(&app, "Patient").await, 2);
}

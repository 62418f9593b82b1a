//! Content negotiation: JSON only; XML is refused with 406, bodies of the
//! wrong media type with 415.

use crate::common::*;

#[tokio::test]
async fn xml_is_not_acceptable_json_is() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Doe")).await;
    let path = format!("Patient/{id}");
    for q in ["xml", "application/fhir+xml", "text/xml", "application/xml"] {
        let r = send(req(&app, Method::GET, &path).query(&[("_format", q)])).await;
        r.expect_error(406);
    }
    get(&app, "metadata?_format=xml").await.expect_error(406);
    for accept in [
        "application/fhir+xml",
        "application/xml",
        "application/fhir+json;q=0",
    ] {
        send(req(&app, Method::GET, &path).header("accept", accept))
            .await
            .expect_error(406);
    }
    // _format wins over Accept.
    let r = send(
        req(&app, Method::GET, &path)
            .query(&[("_format", "json")])
            .header("accept", "application/fhir+xml"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for q in ["json", "application/fhir+json", "application/json"] {
        let r = send(req(&app, Method::GET, &path).query(&[("_format", q)])).await;
        assert_eq!(r.status, 200, "_format={q}: {}", r.text);
        assert_eq!(r.json["id"], id.as_str());
    }
    for accept in [
        "application/fhir+json",
        "application/json",
        "*/*",
        "application/fhir+xml;q=0.9, application/fhir+json",
    ] {
        let r = send(req(&app, Method::GET, &path).header("accept", accept)).await;
        assert_eq!(r.status, 200, "Accept: {accept}");
        assert!(r.header("content-type").unwrap().starts_with(FHIR_JSON));
    }
    // A refused write stores nothing.
    let r =
        send(with_body(&app, Method::POST, "Patient", &patient("X")).query(&[("_format", "xml")]))
            .await;
    r.expect_error(406);
    assert_eq!(count_type(&app, "Patient").await, 1);
}

#[tokio::test]
async fn wrong_request_content_type_is_415() {
    let app = TestApp::spawn().await;
    let body = patient("Doe").to_string();
    for ct in [
        "text/plain",
        "application/xml",
        "application/fhir+xml",
        "application/x-www-form-urlencoded",
    ] {
        let r = send(
            req(&app, Method::POST, "Patient")
                .header("content-type", ct)
                .body(body.clone()),
        )
        .await;
        r.expect_error(415);
        let r = send(
            req(&app, Method::PUT, "Patient/ct-test")
                .header("content-type", ct)
                .body(body.clone()),
        )
        .await;
        r.expect_error(415);
        let r = send(
            req(&app, Method::POST, "")
                .header("content-type", ct)
                .body(body.clone()),
        )
        .await;
        r.expect_error(415);
    }
    // The JSON forms are accepted, with parameters.
    for ct in [
        "application/fhir+json",
        "application/json",
        "application/fhir+json; charset=utf-8; fhirVersion=4.0",
    ] {
        let r = send(
            req(&app, Method::POST, "Patient")
                .header("content-type", ct)
                .body(body.clone()),
        )
        .await;
        assert_eq!(r.status, 201, "{ct}: {}", r.text);
    }
    assert_eq!(count_type(&app, "Patient").await, 3);
}

//! With `--auth`: sign-ins (failed and successful), token issue and reads
//! each leave an AuditEvent naming the caller; the access log resolves the
//! caller's display name from the account.

use serde_json::Value;

use super::common::*;

async fn audit_events(w: &World) -> Vec<Value> {
    let token = w.operator("system/AuditEvent.rs").await;
    let r = get(w, "/AuditEvent?_count=1000", &token).await;
    assert_eq!(r.status(), 200);
    json(r).await["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn subtype(e: &Value) -> &str {
    e["subtype"][0]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_tokens_and_reads_are_audited_with_the_caller() {
    let w = World::new().await;
    w.patient_user("erin", "p9").await;
    w.seed(serde_json::json!({"resourceType": "Patient", "id": "p9"}))
        .await;
    w.public_client("portal", "patient/*.rs openid fhirUser")
        .await;
    // A failed sign-in.
    let (_, challenge) = pkce();
    let html = w
        .http
        .get(authorize_url(
            &w,
            &Flow::new("portal", "patient/*.rs", "-"),
            &challenge,
            "s",
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let request = hidden(&html, "request").unwrap();
    let failed = w
        .post_form(
            "/auth/login",
            &[
                ("request", &request),
                ("username", "erin"),
                ("password", "wrong password!!"),
            ],
            None,
        )
        .await;
    assert_eq!(failed.status(), 401);
    // A successful one, the token, and a read.
    let flow = Flow::new("portal", "patient/*.rs", "erin");
    let done = authorize(&w, &flow).await;
    let token = exchange(&w, "portal", &done.code, &done.verifier).await;
    assert_eq!(token.status(), 200);
    let access = json(token).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(&w, "/Patient/p9", &access).await.status(), 200);

    let events = audit_events(&w).await;
    let logins: Vec<&Value> = events.iter().filter(|e| subtype(e) == "110122").collect();
    assert!(
        logins
            .iter()
            .any(|e| e["outcome"] == "4" && e["agent"][0]["altId"] == "username:erin"),
        "a failed login of erin: {logins:?}"
    );
    assert!(
        logins
            .iter()
            .any(|e| e["outcome"] == "0" && e["agent"][0]["altId"] == "username:erin"),
        "a successful login of erin: {logins:?}"
    );
    let tokens: Vec<&Value> = events.iter().filter(|e| subtype(e) == "token").collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["outcome"], "0");
    assert_eq!(tokens[0]["agent"][0]["altId"], "client:portal");
    let reads: Vec<&Value> = events
        .iter()
        .filter(|e| {
            subtype(e) == "read"
                && e["agent"][0]["altId"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("user:")
        })
        .collect();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(
        reads[0]["agent"][0]["role"][0]["coding"][0]["code"],
        "patient"
    );
    assert_eq!(reads[0]["entity"][0]["what"]["reference"], "Patient/p9");

    // The access log names the account's display name.
    let officer = w.operator("system/Patient.rs system/AuditEvent.rs").await;
    let log = get(&w, "/Patient/p9/$access-log?_format=html", &officer).await;
    assert_eq!(log.status(), 200);
    let html = log.text().await.unwrap();
    assert!(
        html.contains("Patient erin (patient) viewed your personal details"),
        "{html}"
    );
}

//! The guard end to end: role × scopes on read and create, granular scopes
//! on reads, searches and history, and per-entry decisions in batches.

use concord_auth::{AccountKind, NewUser, Role};
use serde_json::json;

use super::common::*;

async fn staff_token(w: &World, username: &str, role: Role, scope: &str) -> String {
    let secret = w.staff(username, role).await;
    let client = format!("app-{username}");
    w.public_client(&client, scope).await;
    let mut flow = Flow::new(&client, scope, username);
    flow.totp_secret = Some(secret);
    let done = authorize(w, &flow).await;
    let t = json(exchange(w, &client, &done.code, &done.verifier).await).await;
    t["access_token"].as_str().unwrap().to_string()
}

async fn create(w: &World, token: &str, resource: serde_json::Value) -> u16 {
    let rtype = resource["resourceType"].as_str().unwrap().to_string();
    w.http
        .post(format!("{}/{rtype}", w.base()))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(resource.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_limit_what_user_scopes_reach() {
    let w = World::new().await;
    // doc is p1's general practitioner: p1's care team.
    w.seed(json!({"resourceType": "Patient", "id": "p1",
        "generalPractitioner": [{"reference": "Practitioner/doc"}]}))
        .await;
    w.seed(
        json!({"resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"text": "bp"}, "subject": {"reference": "Patient/p1"}}),
    )
    .await;
    let doc = staff_token(&w, "doc", Role::Physician, "user/*.cruds").await;
    let desk = staff_token(&w, "desk", Role::FrontDesk, "user/*.cruds").await;
    assert_eq!(get(&w, "/Observation/o1", &doc).await.status(), 200);
    // A read the role does not permit is answered 404 (existence is not revealed).
    assert_eq!(get(&w, "/Observation/o1", &desk).await.status(), 404);
    assert_eq!(get(&w, "/Patient/p1", &desk).await.status(), 200);
    let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "hr"},
        "subject": {"reference": "Patient/p1"}});
    assert_eq!(create(&w, &doc, obs.clone()).await, 201);
    assert_eq!(create(&w, &desk, obs).await, 403);
    let appt = json!({"resourceType": "Appointment", "status": "booked",
        "start": "2026-01-05T10:00:00Z", "end": "2026-01-05T10:30:00Z",
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}]});
    assert_eq!(create(&w, &desk, appt).await, 201);
    // Searches follow s: the front desk may search Appointments, not Observations.
    assert_eq!(get(&w, "/Appointment", &desk).await.status(), 200);
    assert_eq!(get(&w, "/Observation", &desk).await.status(), 403);
    assert_eq!(
        get(&w, "/Observation?subject=Patient/p1", &doc)
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&w, "/Patient/p1/Observation", &desk).await.status(),
        403
    );
    // History of the instance follows read; deletes need d.
    assert_eq!(
        get(&w, "/Observation/o1/_history", &doc).await.status(),
        200
    );
    let del = w
        .http
        .delete(format!("{}/Patient/p1", w.base()))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granular_scopes_filter_by_category() {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p1"})).await;
    for (id, cat) in [("lab", "laboratory"), ("vs", "vital-signs")] {
        w.seed(json!({"resourceType": "Observation", "id": id, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": cat}]}],
            "code": {"text": "x"}, "subject": {"reference": "Patient/p1"}}))
            .await;
    }
    w.auth()
        .add_user(NewUser {
            username: "gina".into(),
            display_name: "Gina".into(),
            kind: AccountKind::Patient {
                patient: "p1".into(),
            },
            password: PASSWORD.into(),
            fhir_user: None,
            with_totp: false,
        })
        .await
        .unwrap();
    let scope = "patient/Observation.rs?category=laboratory";
    w.public_client("labapp", scope).await;
    let done = authorize(&w, &Flow::new("labapp", scope, "gina")).await;
    let t = json(exchange(&w, "labapp", &done.code, &done.verifier).await).await;
    assert_eq!(t["scope"], scope);
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(get(&w, "/Observation/lab", access).await.status(), 200);
    assert_eq!(get(&w, "/Observation/vs", access).await.status(), 404);
    assert_eq!(
        get(&w, "/Patient/p1", access).await.status(),
        404,
        "no Patient scope"
    );
    // Searches carry the filter in the query: total and entries agree.
    let found = json(get(&w, "/Observation?_total=accurate", access).await).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["entry"][0]["resource"]["id"], "lab");
    // History shows only what the token may read, and no store-wide total.
    let history = json(get(&w, "/Observation/_history", access).await).await;
    let ids: Vec<&str> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["lab"]);
    assert!(history.get("total").is_none());
    assert_eq!(get(&w, "/Patient", access).await.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_tokens_reach_system_level_interactions() {
    let w = World::new().await;
    let all = w.operator("system/*.cruds").await;
    let read_only = w.operator("system/*.rs").await;
    assert_eq!(get(&w, "/_history", &all).await.status(), 200);
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"},
         "resource": {"resourceType": "Patient", "name": [{"family": "Batch"}]}}]});
    let post = |token: String| {
        let w = &w;
        let body = bundle.to_string();
        async move {
            w.http
                .post(format!("{}/", w.base()))
                .bearer_auth(token)
                .header("content-type", "application/fhir+json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    // Each entry is decided on its own: the read-only token's create is 403.
    let ok = post(all.clone()).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        json(ok).await["entry"][0]["response"]["status"],
        "201 Created"
    );
    let refused = post(read_only).await;
    assert_eq!(refused.status(), 200);
    let refused = json(refused).await;
    assert!(refused["entry"][0]["response"]["status"]
        .as_str()
        .unwrap()
        .starts_with("403"));
    assert!(w
        .auth()
        .operator_token(&w.base(), "x", "user/*.rs")
        .await
        .is_err());
}

async fn patient_token(w: &World) -> String {
    let done = authorize(w, &Flow::new("app", "patient/*.rs", "fay")).await;
    let t = json(exchange(w, "app", &done.code, &done.verifier).await).await;
    t["access_token"].as_str().unwrap().to_string()
}

/// The guard keeps verified tokens and their clean revocation lookups
/// between requests (`concord_auth` `verified.rs`); a revocation through
/// the server still refuses the token on the very next request — here
/// after a run of requests that filled the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_on_the_very_next_request() {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p1"})).await;
    w.patient_user("fay", "p1").await;
    w.public_client("app", "patient/*.rs").await;
    // Token revocation (RFC 7009).
    let first = patient_token(&w).await;
    let second = patient_token(&w).await;
    for _ in 0..5 {
        assert_eq!(get(&w, "/Patient/p1", &first).await.status(), 200);
        assert_eq!(get(&w, "/Patient/p1", &second).await.status(), 200);
    }
    let r = w
        .post_form(
            "/auth/revoke",
            &[("token", &first), ("client_id", "app")],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(get(&w, "/Patient/p1", &first).await.status(), 401);
    // Another token of the same user is untouched.
    assert_eq!(get(&w, "/Patient/p1", &second).await.status(), 200);
    // Deactivating the user refuses every token of theirs at once.
    for _ in 0..5 {
        assert_eq!(get(&w, "/Patient/p1", &second).await.status(), 200);
    }
    w.auth().disable_user("fay").await.unwrap();
    assert_eq!(get(&w, "/Patient/p1", &second).await.status(), 401);
}

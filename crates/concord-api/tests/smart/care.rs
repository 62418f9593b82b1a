//! Care team, break-the-glass, and patients revoking the apps they authorized.

use reqwest::Method;
use serde_json::{json, Value};

use super::common::*;

async fn seed(w: &World) {
    w.seed(json!({"resourceType": "Patient", "id": "p1",
        "generalPractitioner": [{"reference": "Practitioner/doc"}]}))
        .await;
    w.seed(json!({"resourceType": "Patient", "id": "p2"})).await;
    w.seed(json!({"resourceType": "Patient", "id": "p3"})).await;
    for (id, p) in [("o1", "p1"), ("o2", "p2"), ("o3", "p3")] {
        w.seed(
            json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"text": "weight"}, "subject": {"reference": format!("Patient/{p}")}}),
        )
        .await;
    }
    // The nurse is on p3's CareTeam.
    w.seed(
        json!({"resourceType": "CareTeam", "id": "ct3", "subject": {"reference": "Patient/p3"},
        "participant": [{"member": {"reference": "Practitioner/nurse"}}]}),
    )
    .await;
}

async fn glass(w: &World, token: &str, patient: &str, reason: Option<&str>) -> reqwest::Response {
    let body = reason
        .map(|r| {
            format!(
                "reason={}",
                form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
            )
        })
        .unwrap_or_default();
    w.http
        .post(format!("{}/Patient/{patient}/$break-glass", w.base()))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn care_team_confines_searches_only_for_resources_linked_to_patients() {
    let w = World::new().await;
    seed(&w).await;
    let doc = staff_token(&w, "doc", "physician").await;
    // Schedule and Communication are in the R4 Patient compartment, but these
    // name no patient: like a read by id, a search finds them.
    w.seed(json!({"resourceType": "Schedule", "id": "s-doc",
        "actor": [{"reference": "Practitioner/doc"}]}))
        .await;
    w.seed(json!({"resourceType": "Schedule", "id": "s-p1",
        "actor": [{"reference": "Patient/p1"}, {"reference": "Practitioner/doc"}]}))
        .await;
    w.seed(json!({"resourceType": "Schedule", "id": "s-p2",
        "actor": [{"reference": "Patient/p2"}, {"reference": "Practitioner/doc"}]}))
        .await;
    w.seed(
        json!({"resourceType": "Communication", "id": "msg", "status": "completed",
        "sender": {"reference": "Practitioner/nurse"},
        "recipient": [{"reference": "Practitioner/doc"}],
        "payload": [{"contentString": "Room 4 is ready"}]}),
    )
    .await;
    let b = json(get(&w, "/Schedule?_total=accurate", &doc).await).await;
    let mut found = ids_of(&b, "match");
    found.sort();
    assert_eq!(found, vec!["Schedule/s-doc", "Schedule/s-p1"]);
    assert_eq!(b["total"], 2);
    assert_eq!(get(&w, "/Schedule/s-doc", &doc).await.status(), 200);
    assert_eq!(get(&w, "/Schedule/s-p2", &doc).await.status(), 404);
    let b = json(get(&w, "/Communication?recipient=Practitioner/doc", &doc).await).await;
    assert_eq!(ids_of(&b, "match"), vec!["Communication/msg"]);
    // Patient-linked data outside the care team stays out of searches.
    let b = json(get(&w, "/Observation", &doc).await).await;
    assert_eq!(ids_of(&b, "match"), vec!["Observation/o1"]);
}

/// A care team is read whole and bound as one value: a panel longer than
/// the 5,000 patients care teams were once cut at, and than SQLite's limit
/// on bound values per statement, is seen entire; outsiders stay hidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_care_team_of_any_size_is_seen_whole() {
    const PANEL: usize = 5_001;
    let w = World::new().await;
    let mut entries: Vec<serde_json::Value> = (0..PANEL)
        .map(|i| {
            json!({"resource": {"resourceType": "Patient", "id": format!("gp{i}"),
                "generalPractitioner": [{"reference": "Practitioner/doc"}]},
                "request": {"method": "PUT", "url": format!("Patient/gp{i}")}})
        })
        .collect();
    entries.push(
        json!({"resource": {"resourceType": "Patient", "id": "stranger"},
        "request": {"method": "PUT", "url": "Patient/stranger"}}),
    );
    for p in ["gp5000", "stranger"] {
        entries.push(
            json!({"resource": {"resourceType": "Observation", "id": format!("o-{p}"),
            "status": "final", "code": {"text": "weight"},
            "subject": {"reference": format!("Patient/{p}")}},
            "request": {"method": "PUT", "url": format!("Observation/o-{p}")}}),
        );
    }
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
    let operator = w.operator("system/*.cruds").await;
    let r = send(&w, Method::POST, "/", &operator, Some(&bundle)).await;
    assert_eq!(r.status(), 200);
    let doc = staff_token(&w, "doc", "physician").await;
    assert_eq!(get(&w, "/Patient/gp5000", &doc).await.status(), 200);
    assert_eq!(get(&w, "/Patient/stranger", &doc).await.status(), 404);
    let b = json(get(&w, "/Patient?_count=1&_total=accurate", &doc).await).await;
    assert_eq!(b["total"], PANEL);
    let b = json(get(&w, "/Observation?_total=accurate", &doc).await).await;
    assert_eq!(ids_of(&b, "match"), vec!["Observation/o-gp5000"]);
    assert_eq!(b["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn care_team_limits_clinicians_until_they_break_the_glass() {
    let w = World::new().await;
    seed(&w).await;
    let doc = staff_token(&w, "doc", "physician").await;
    let nurse = staff_token(&w, "nurse", "nurse").await;
    let other = staff_token(&w, "drb", "physician").await;
    let billing = staff_token(&w, "bill", "billing").await;
    // generalPractitioner and CareTeam membership make the care team.
    assert_eq!(get(&w, "/Observation/o1", &doc).await.status(), 200);
    assert_eq!(get(&w, "/Observation/o2", &doc).await.status(), 404);
    assert_eq!(get(&w, "/Observation/o3", &nurse).await.status(), 200);
    assert_eq!(get(&w, "/Observation/o1", &nurse).await.status(), 404);
    let b = json(get(&w, "/Observation?_total=accurate", &doc).await).await;
    assert_eq!(ids_of(&b, "match"), vec!["Observation/o1"]);
    assert_eq!(b["total"], 1);
    // Non-clinical roles are not limited by care team (billing codes claims).
    assert_eq!(get(&w, "/Observation/o2", &billing).await.status(), 200);
    // A clinician outside the care team: nothing, until the glass is broken.
    assert_eq!(get(&w, "/Patient/p2", &other).await.status(), 404);
    assert_eq!(glass(&w, &other, "p2", None).await.status(), 400);
    assert_eq!(glass(&w, &other, "p2", Some("  ")).await.status(), 400);
    assert_eq!(
        glass(&w, &billing, "p2", Some("curious")).await.status(),
        403
    );
    assert_eq!(glass(&w, &other, "nobody", Some("x")).await.status(), 404);
    let r = glass(&w, &other, "p2", Some("unconscious in the ED")).await;
    assert_eq!(r.status(), 200);
    let granted = json(r).await;
    assert_eq!(granted["resourceType"], "Parameters");
    assert!(granted.to_string().contains("until"));
    assert_eq!(get(&w, "/Patient/p2", &other).await.status(), 200);
    assert_eq!(get(&w, "/Observation/o2", &other).await.status(), 200);
    let b = json(get(&w, "/Observation", &other).await).await;
    assert_eq!(ids_of(&b, "match"), vec!["Observation/o2"]);
    // ... and only to that patient.
    assert_eq!(get(&w, "/Observation/o1", &other).await.status(), 404);
    // Security officers see the alert; others may not.
    let officer = staff_token(&w, "sec", "security-officer").await;
    let alerts = get(&w, "/auth/break-glass/alerts", &officer).await;
    assert_eq!(alerts.status(), 200);
    let alerts = json(alerts).await;
    let list = alerts["alerts"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["user"], "drb");
    assert_eq!(list[0]["patient"], "p2");
    assert_eq!(list[0]["reason"], "unconscious in the ED");
    assert!(list[0]["until"].as_i64().unwrap() > list[0]["at"].as_i64().unwrap());
    assert_eq!(
        get(&w, "/auth/break-glass/alerts", &other).await.status(),
        403
    );
    let anonymous = w
        .http
        .get(format!("{}/auth/break-glass/alerts", w.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The emergency access is audited as such, with the reason given; so is
    // a record export (`$everything`) made with it.
    assert_eq!(
        get(&w, "/Patient/p2/$everything", &other).await.status(),
        200
    );
    let auditor = w.operator("system/AuditEvent.rs").await;
    let events = json(get(&w, "/AuditEvent?subtype=emergency&_count=100", &auditor).await).await;
    let events: Vec<&Value> = events["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    assert_eq!(events.len(), 5, "every $break-glass request: {events:?}");
    let granted = events
        .iter()
        .find(|e| e["outcome"] == "0")
        .expect("the granted access");
    assert_eq!(
        granted["purposeOfEvent"][0]["text"],
        "unconscious in the ED"
    );
    assert_eq!(granted["purposeOfEvent"][0]["coding"][0]["code"], "ETREAT");
    assert!(granted.to_string().contains("Patient/p2"), "{granted}");
    let refused: Vec<&&Value> = events
        .iter()
        .filter(|e| e["purposeOfEvent"][0]["text"] == "curious")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_ne!(refused[0]["outcome"], "0");
    // DICOM 110106 "Export" (the BALP event type of a record export).
    let exports = json(get(&w, "/AuditEvent?type=110106", &auditor).await).await;
    assert_eq!(
        exports["entry"].as_array().map(Vec::len),
        Some(1),
        "{exports}"
    );
    let export = exports["entry"][0]["resource"].to_string();
    assert!(
        export.contains("$everything") && export.contains("Patient/p2"),
        "{export}"
    );
    // Writing outside the care team is refused too (treatment needs the team).
    let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "hr"},
        "subject": {"reference": "Patient/p3"}});
    assert_eq!(
        send(&w, Method::POST, "/Observation", &doc, Some(&obs))
            .await
            .status(),
        403
    );
    assert_eq!(
        send(&w, Method::POST, "/Observation", &nurse, Some(&obs))
            .await
            .status(),
        201
    );
    // Registering a new patient is not limited by care team.
    let new_patient = json!({"resourceType": "Patient", "name": [{"family": "New"}]});
    assert_eq!(
        send(&w, Method::POST, "/Patient", &doc, Some(&new_patient))
            .await
            .status(),
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patients_list_and_revoke_their_apps() {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p2"})).await;
    w.patient_user("bob", "p2").await;
    let scope = "patient/*.rs offline_access";
    w.public_client("app", scope).await;
    w.public_client("app2", scope).await;
    let first = authorize(&w, &Flow::new("app", scope, "bob")).await;
    let t1 = json(exchange(&w, "app", &first.code, &first.verifier).await).await;
    let second = authorize(&w, &Flow::new("app2", scope, "bob")).await;
    let t2 = json(exchange(&w, "app2", &second.code, &second.verifier).await).await;
    let access1 = t1["access_token"].as_str().unwrap().to_string();
    let access2 = t2["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&w, "/Patient/p2", &access1).await.status(), 200);
    // The list, by token.
    let listed = json(get(&w, "/auth/apps", &access2).await).await;
    let ids: Vec<&str> = listed["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["app", "app2"]);
    assert_eq!(listed["apps"][0]["name"], "App app");
    // The page, by sign-in cookie.
    let page = w
        .http
        .get(format!("{}/auth/apps/page", w.base()))
        .header("cookie", &second.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("data-apps=\"2\"") && html.contains("Revoke App app2"),
        "{html}"
    );
    // Revoking app by API: its refresh token and access token die.
    let r = w
        .http
        .post(format!("{}/auth/apps/app/revoke", w.base()))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["revoked_refresh_tokens"], 1);
    let refreshed = w
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "app"),
                ("refresh_token", t1["refresh_token"].as_str().unwrap()),
            ],
            None,
        )
        .await;
    assert_eq!(json(refreshed).await["error"], "invalid_grant");
    assert_eq!(get(&w, "/Patient/p2", &access1).await.status(), 401);
    assert_eq!(get(&w, "/Patient/p2", &access2).await.status(), 200);
    // Revoking app2 from the page's form (cookie): back to an empty list.
    let listing = w
        .http
        .get(format!("{}/auth/apps/page", w.base()))
        .header(
            "cookie",
            format!("concord_csrf={CSRF_SECRET}; {}", second.cookie),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&listing, "csrf").expect("CSRF token on the apps page");
    // Without the page's token (a form posted from another site): refused.
    let forged = w
        .post_form("/auth/apps/app2/revoke", &[], Some(&second.cookie))
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(
        page_error(&forged.text().await.unwrap()).as_deref(),
        Some("csrf_token_missing")
    );
    let r = w
        .post_form(
            "/auth/apps/app2/revoke",
            &[("csrf", &csrf)],
            Some(&second.cookie),
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let html = w
        .http
        .get(format!("{}/auth/apps/page", w.base()))
        .header("cookie", &second.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-apps=\"0\""), "{html}");
    assert_eq!(get(&w, "/Patient/p2", &access2).await.status(), 401);
    // Without a sign-in, the API refuses.
    let anonymous = w
        .http
        .get(format!("{}/auth/apps", w.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

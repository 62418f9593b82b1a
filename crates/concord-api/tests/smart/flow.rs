//! Authorization-code flows with PKCE: standalone and EHR launch, scope
//! trimming, refresh rotation, introspection and revocation.

use concord_auth::Role;
use serde_json::json;

use super::common::*;

async fn seed_two_patients(w: &World) {
    for p in ["p1", "p2"] {
        w.seed(json!({"resourceType": "Patient", "id": p, "name": [{"family": "Test"}]}))
            .await;
        w.seed(
            json!({"resourceType": "Observation", "id": format!("obs-{p}"), "status": "final",
            "code": {"text": "weight"}, "subject": {"reference": format!("Patient/{p}")}}),
        )
        .await;
    }
}

/// A patient signs in to a public app (standalone launch): the token is
/// confined to their own record; the id_token names them; the signature
/// verifies with the published JWKS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_patient_launch_reads_own_record_only() {
    let w = World::new().await;
    seed_two_patients(&w).await;
    w.patient_user("alice", "p1").await;
    w.public_client(
        "app",
        "openid fhirUser launch/patient patient/*.rs offline_access",
    )
    .await;
    let flow = Flow::new(
        "app",
        "openid fhirUser launch/patient patient/*.read offline_access",
        "alice",
    );
    let done = authorize(&w, &flow).await;
    assert!(
        done.offered.contains(&"patient/*.rs".to_string()),
        "v1 shown as v2"
    );
    let r = exchange(&w, "app", &done.code, &done.verifier).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let t = json(r).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["patient"], "p1");
    assert_eq!(t["need_patient_banner"], true);
    assert!(t["scope"].as_str().unwrap().contains("patient/*.rs"));
    assert!(t["refresh_token"].is_string());
    let access = t["access_token"].as_str().unwrap();

    // The id_token verifies with the JWKS and carries fhirUser.
    let jwks = json(
        w.http
            .get(format!("{}/auth/jwks", w.base()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["app"]);
    let id = jsonwebtoken::decode::<serde_json::Value>(t["id_token"].as_str().unwrap(), &key, &v)
        .unwrap()
        .claims;
    assert_eq!(id["fhirUser"], "Patient/p1");
    assert_eq!(id["iss"], w.base());

    assert_eq!(get(&w, "/Patient/p1", access).await.status(), 200);
    assert_eq!(get(&w, "/Observation/obs-p1", access).await.status(), 200);
    // Another patient's data is answered as not found (404), never 403,
    // so a caller cannot learn that it exists.
    let other = get(&w, "/Observation/obs-p2", access).await;
    assert_eq!(other.status(), 404);
    let outcome = json(other).await;
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(get(&w, "/Patient/p2", access).await.status(), 404);
    // Read-only scopes: no writes, even to the own record.
    let write = w
        .http
        .post(format!("{}/Observation", w.base()))
        .bearer_auth(access)
        .header("content-type", "application/fhir+json")
        .body(
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "Patient/p1"}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403);
}

/// EHR launch: a physician (password + TOTP) opens an app in the context of
/// a patient and encounter, unticks a scope, and the app can read and create
/// for that patient only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ehr_launch_with_context_and_trimmed_scopes() {
    let w = World::new().await;
    seed_two_patients(&w).await;
    // drx treats p1 (a participant of the launch encounter): the care team.
    w.seed(
        json!({"resourceType": "Encounter", "id": "enc-1", "status": "in-progress",
        "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"},
        "participant": [{"individual": {"reference": "Practitioner/drx"}}]}),
    )
    .await;
    let secret = w.staff("drx", Role::Physician).await;
    w.public_client("ehrapp", "launch openid fhirUser patient/*.cruds user/*.rs")
        .await;
    let operator = w.operator("system/*.rs").await;
    let r = w
        .http
        .post(format!("{}/auth/launch", w.base()))
        .bearer_auth(&operator)
        .body(json!({"patient": "p1", "encounter": "enc-1"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let launch = json(r).await["launch"].as_str().unwrap().to_string();
    let mut flow = Flow::new(
        "ehrapp",
        "launch openid fhirUser patient/*.cruds user/*.rs",
        "drx",
    );
    flow.launch = Some(launch);
    flow.totp_secret = Some(secret);
    flow.untick = vec!["user/*.rs"];
    let done = authorize(&w, &flow).await;
    assert!(done.offered.contains(&"user/*.rs".to_string()));
    let t = json(exchange(&w, "ehrapp", &done.code, &done.verifier).await).await;
    assert_eq!(t["patient"], "p1");
    assert_eq!(t["encounter"], "enc-1");
    assert_eq!(t["need_patient_banner"], false);
    let scope = t["scope"].as_str().unwrap();
    assert!(
        !scope.contains("user/"),
        "unticked scope not granted: {scope}"
    );
    assert!(scope.contains("patient/*.cruds") && scope.contains("launch"));
    assert!(t.get("refresh_token").is_none(), "no offline_access asked");
    let access = t["access_token"].as_str().unwrap();
    let create = |subject: &'static str| {
        w.http
            .post(format!("{}/Observation", w.base()))
            .bearer_auth(access)
            .header("content-type", "application/fhir+json")
            .body(
                json!({"resourceType": "Observation", "status": "final",
                "code": {"text": "pulse"}, "subject": {"reference": subject}})
                .to_string(),
            )
            .send()
    };
    assert_eq!(create("Patient/p1").await.unwrap().status(), 201);
    assert_eq!(create("Patient/p2").await.unwrap().status(), 403);
    assert_eq!(get(&w, "/Observation/obs-p1", access).await.status(), 200);
    assert_eq!(get(&w, "/Observation/obs-p2", access).await.status(), 404);
    // An update may not move a resource into another patient's record.
    let put = |subject: &'static str| {
        w.http
            .put(format!("{}/Observation/obs-p1", w.base()))
            .bearer_auth(access)
            .header("content-type", "application/fhir+json")
            .body(
                json!({"resourceType": "Observation", "id": "obs-p1", "status": "amended",
                "code": {"text": "weight"}, "subject": {"reference": subject}})
                .to_string(),
            )
            .send()
    };
    assert_eq!(put("Patient/p2").await.unwrap().status(), 403);
    assert_eq!(put("Patient/p1").await.unwrap().status(), 200);
    // The same session skips the sign-in form on the next authorization.
    let (_, challenge) = pkce();
    let again = w
        .http
        .get(authorize_url(
            &w,
            &Flow::new("ehrapp", "openid user/*.rs", "drx"),
            &challenge,
            "s2",
        ))
        .header("cookie", &done.cookie)
        .send()
        .await
        .unwrap();
    let html = again.text().await.unwrap();
    assert!(
        html.contains("Allow access?"),
        "signed-in user goes straight to approval"
    );
}

/// offline_access: refresh tokens rotate; presenting a rotated-out token
/// revokes the family.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_reuse_is_detected() {
    let w = World::new().await;
    seed_two_patients(&w).await;
    w.patient_user("bob", "p2").await;
    w.public_client("app", "patient/*.rs offline_access").await;
    let done = authorize(&w, &Flow::new("app", "patient/*.rs offline_access", "bob")).await;
    let t1 = json(exchange(&w, "app", &done.code, &done.verifier).await).await;
    let r1 = t1["refresh_token"].as_str().unwrap().to_string();
    let refresh = |token: String, scope: Option<&'static str>| {
        let w = &w;
        async move {
            let mut fields = vec![("grant_type", "refresh_token"), ("client_id", "app")];
            fields.push(("refresh_token", token.as_str()));
            if let Some(s) = scope {
                fields.push(("scope", s));
            }
            let fields: Vec<(&str, &str)> = fields;
            w.post_form("/auth/token", &fields, None).await
        }
    };
    let r = refresh(r1.clone(), None).await;
    assert_eq!(r.status(), 200);
    let t2 = json(r).await;
    let r2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2, "rotated");
    assert_eq!(t2["patient"], "p2");
    assert_eq!(
        get(&w, "/Patient/p2", t2["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    // Scope escalation on refresh is refused.
    let esc = json(refresh(r2.clone(), Some("patient/*.cruds")).await).await;
    assert_eq!(esc["error"], "invalid_scope");
    // A refused refresh leaves the token usable; narrowing is allowed.
    let narrowed = refresh(r2.clone(), Some("offline_access patient/*.rs")).await;
    assert_eq!(narrowed.status(), 200);
    let r3 = json(narrowed).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Presenting a rotated-out token: refused, and the family is revoked.
    let reuse = refresh(r1, None).await;
    assert_eq!(reuse.status(), 400);
    let body = json(reuse).await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(
        json(refresh(r3, None).await).await["error"],
        "invalid_grant"
    );
}

/// Introspection reports live tokens with their context; revocation ends
/// access and refresh tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_and_revocation() {
    let w = World::new().await;
    seed_two_patients(&w).await;
    w.patient_user("carol", "p1").await;
    w.public_client("app", "openid fhirUser patient/*.rs offline_access")
        .await;
    let done = authorize(
        &w,
        &Flow::new(
            "app",
            "openid fhirUser patient/*.rs offline_access",
            "carol",
        ),
    )
    .await;
    let t = json(exchange(&w, "app", &done.code, &done.verifier).await).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let intro = |token: String| {
        let w = &w;
        async move {
            json(
                w.post_form(
                    "/auth/introspect",
                    &[("token", &token), ("client_id", "app")],
                    None,
                )
                .await,
            )
            .await
        }
    };
    let i = intro(access.clone()).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["patient"], "p1");
    assert_eq!(i["client_id"], "app");
    assert_eq!(i["fhirUser"], "Patient/p1");
    assert_eq!(intro(refresh.clone()).await["active"], true);
    assert_eq!(intro("garbage".into()).await["active"], false);
    // Introspection without any client authentication is refused.
    let anon = w
        .post_form("/auth/introspect", &[("token", &access)], None)
        .await;
    assert_eq!(anon.status(), 401);
    assert_eq!(json(anon).await["error"], "invalid_client");

    let revoked = w
        .post_form(
            "/auth/revoke",
            &[("token", &access), ("client_id", "app")],
            None,
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(intro(access.clone()).await["active"], false);
    let r = get(&w, "/Patient/p1", &access).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    w.post_form(
        "/auth/revoke",
        &[("token", &refresh), ("client_id", "app")],
        None,
    )
    .await;
    let again = w
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", "app"),
            ],
            None,
        )
        .await;
    assert_eq!(json(again).await["error"], "invalid_grant");
}

/// A proxy (guardian) picks one of their children on the approval screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_chooses_a_linked_child() {
    let w = World::new().await;
    seed_two_patients(&w).await;
    w.auth()
        .add_user(concord_auth::NewUser {
            username: "guardian".into(),
            display_name: "Guardian".into(),
            kind: concord_auth::AccountKind::Proxy {
                patients: vec!["p1".into(), "p2".into()],
            },
            password: PASSWORD.into(),
            fhir_user: Some("RelatedPerson/g1".into()),
            with_totp: false,
        })
        .await
        .unwrap();
    w.public_client("app", "launch/patient patient/*.rs").await;
    let mut flow = Flow::new("app", "launch/patient patient/*.rs", "guardian");
    flow.patient = Some("p2");
    let done = authorize(&w, &flow).await;
    let t = json(exchange(&w, "app", &done.code, &done.verifier).await).await;
    assert_eq!(t["patient"], "p2");
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(get(&w, "/Observation/obs-p2", access).await.status(), 200);
    assert_eq!(get(&w, "/Observation/obs-p1", access).await.status(), 404);
}

//! Bad input gets clear errors: sign-in failures and lockout, TOTP, PKCE,
//! code replay, redirect mismatch, malformed requests, bad tokens.

use concord_auth::Role;
use serde_json::json;

use super::common::*;

async fn login_page(w: &World, client: &str, scope: &str) -> String {
    let (_, challenge) = pkce();
    let html = w
        .http
        .get(authorize_url(
            w,
            &Flow::new(client, scope, "-"),
            &challenge,
            "s",
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    hidden(&html, "request").expect("login form")
}

async fn try_login(
    w: &World,
    request: &str,
    user: &str,
    password: &str,
    totp: &str,
) -> (u16, String) {
    let r = w
        .post_form(
            "/auth/login",
            &[
                ("request", request),
                ("username", user),
                ("password", password),
                ("totp", totp),
            ],
            None,
        )
        .await;
    let status = r.status().as_u16();
    let html = r.text().await.unwrap();
    (status, page_error(&html).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_then_lockout() {
    let w = World::new().await;
    w.patient_user("dave", "p1").await;
    w.public_client("app", "patient/*.rs").await;
    let req = login_page(&w, "app", "patient/*.rs").await;
    assert_eq!(
        try_login(&w, &req, "nobody", PASSWORD, "").await,
        (401, "invalid_credentials".into()),
        "unknown users look like wrong passwords"
    );
    for _ in 0..4 {
        assert_eq!(
            try_login(&w, &req, "dave", "wrong password!!", "").await,
            (401, "invalid_credentials".into())
        );
    }
    assert_eq!(
        try_login(&w, &req, "dave", "wrong password!!", "").await,
        (429, "account_locked".into()),
        "the fifth failure locks"
    );
    assert_eq!(
        try_login(&w, &req, "dave", PASSWORD, "").await,
        (429, "account_locked".into()),
        "locked even with the right password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_need_a_valid_unused_totp_code() {
    let w = World::new().await;
    let secret = w.staff("nina", Role::Nurse).await;
    w.public_client("app", "user/*.rs").await;
    let req = login_page(&w, "app", "user/*.rs").await;
    assert_eq!(
        try_login(&w, &req, "nina", PASSWORD, "").await,
        (401, "totp_required".into())
    );
    assert_eq!(
        try_login(&w, &req, "nina", PASSWORD, "000000").await.1,
        "totp_invalid"
    );
    let code = totp_now(&secret);
    assert_eq!(try_login(&w, &req, "nina", PASSWORD, &code).await.0, 200);
    // The same code again is a replay.
    let req2 = login_page(&w, "app", "user/*.rs").await;
    assert_eq!(
        try_login(&w, &req2, "nina", PASSWORD, &code).await,
        (401, "totp_invalid".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_mismatch_and_code_replay_are_invalid_grant() {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p1"})).await;
    w.patient_user("erin", "p1").await;
    w.public_client("app", "patient/*.rs").await;
    let done = authorize(&w, &Flow::new("app", "patient/*.rs", "erin")).await;
    let (wrong_verifier, _) = pkce();
    let r = exchange(&w, "app", &done.code, &wrong_verifier).await;
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"].as_str().unwrap().contains("PKCE"),
        "{body}"
    );
    // The code was spent by that attempt: the right verifier is too late.
    let replay = json(exchange(&w, "app", &done.code, &done.verifier).await).await;
    assert_eq!(replay["error"], "invalid_grant");

    let done = authorize(&w, &Flow::new("app", "patient/*.rs", "erin")).await;
    assert_eq!(
        exchange(&w, "app", &done.code, &done.verifier)
            .await
            .status(),
        200
    );
    let again = json(exchange(&w, "app", &done.code, &done.verifier).await).await;
    assert_eq!(again["error"], "invalid_grant", "codes are single-use");
    assert!(again["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    // A code for another redirect URI or client is refused.
    let done = authorize(&w, &Flow::new("app", "patient/*.rs", "erin")).await;
    let wrong = w
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &done.code),
                ("redirect_uri", "http://localhost:9999/other"),
                ("code_verifier", &done.verifier),
                ("client_id", "app"),
            ],
            None,
        )
        .await;
    assert_eq!(json(wrong).await["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_authorization_requests() {
    let w = World::new().await;
    w.public_client("app", "patient/*.rs").await;
    let (_, challenge) = pkce();
    let base = w.base();
    let get = |query: String| {
        let w = &w;
        async move {
            w.http
                .get(format!("{}/auth/authorize?{query}", w.base()))
                .send()
                .await
                .unwrap()
        }
    };
    let aud = form_urlencoded::byte_serialize(base.as_bytes()).collect::<String>();
    let redirect = form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>();
    // Unknown client and redirect mismatch: shown, never redirected.
    let r = get(format!("response_type=code&client_id=nope&redirect_uri={redirect}&scope=patient/*.rs&state=s&aud={aud}&code_challenge={challenge}&code_challenge_method=S256")).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        page_error(&r.text().await.unwrap()).as_deref(),
        Some("unauthorized_client")
    );
    let r = get(format!("response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=patient/*.rs&state=s&aud={aud}&code_challenge={challenge}&code_challenge_method=S256")).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert_eq!(
        page_error(&r.text().await.unwrap()).as_deref(),
        Some("invalid_request")
    );
    // Missing PKCE, plain PKCE, wrong aud, bad scope: redirected with the error.
    for (query, error) in [
        (format!("response_type=code&client_id=app&redirect_uri={redirect}&scope=patient/*.rs&state=s&aud={aud}"), "invalid_request"),
        (format!("response_type=code&client_id=app&redirect_uri={redirect}&scope=patient/*.rs&state=s&aud={aud}&code_challenge={challenge}&code_challenge_method=plain"), "invalid_request"),
        (format!("response_type=code&client_id=app&redirect_uri={redirect}&scope=patient/*.rs&state=s&aud=https%3A%2F%2Fother.example&code_challenge={challenge}&code_challenge_method=S256"), "invalid_request"),
        (format!("response_type=code&client_id=app&redirect_uri={redirect}&scope=patient/Obs.xx&state=s&aud={aud}&code_challenge={challenge}&code_challenge_method=S256"), "invalid_scope"),
        (format!("response_type=code&client_id=app&redirect_uri={redirect}&scope=user/*.cruds&state=s&aud={aud}&code_challenge={challenge}&code_challenge_method=S256"), "invalid_scope"),
        (format!("response_type=token&client_id=app&redirect_uri={redirect}&scope=patient/*.rs&state=s&aud={aud}&code_challenge={challenge}&code_challenge_method=S256"), "unsupported_response_type"),
    ] {
        let r = get(query).await;
        assert_eq!(r.status(), 302);
        let params = location_params(&r);
        assert_eq!(param(&params, "error").as_deref(), Some(error));
        assert!(param(&params, "error_description").is_some());
        assert_eq!(param(&params, "state").as_deref(), Some("s"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_rejects_malformed_requests() {
    let w = World::new().await;
    w.public_client("app", "patient/*.rs").await;
    let r = w
        .post_form(
            "/auth/token",
            &[("grant_type", "password"), ("client_id", "app")],
            None,
        )
        .await;
    assert_eq!(json(r).await["error"], "unsupported_grant_type");
    let r = w
        .post_form("/auth/token", &[("client_id", "app")], None)
        .await;
    assert_eq!(json(r).await["error"], "invalid_request");
    let r = w
        .http
        .post(format!("{}/auth/token", w.base()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["error"], "invalid_request");
    let r = w
        .post_form(
            "/auth/token",
            &[("grant_type", "authorization_code"), ("client_id", "ghost")],
            None,
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "invalid_client");
    let r = w
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "app"),
                ("code", "forged"),
                ("code_verifier", "x"),
            ],
            None,
        )
        .await;
    assert_eq!(json(r).await["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_requests_need_a_valid_token() {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p1"})).await;
    let none = w
        .http
        .get(format!("{}/Patient/p1", w.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"concord\""
    );
    assert_eq!(json(none).await["resourceType"], "OperationOutcome");
    // The CapabilityStatement stays public.
    assert_eq!(
        w.http
            .get(format!("{}/metadata", w.base()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for bad in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let r = get(&w, "/Patient/p1", bad).await;
        assert_eq!(r.status(), 401, "{bad}");
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"));
    }
    // Signed by a key that is not ours.
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let real = w.operator("system/*.rs").await;
    let claims: serde_json::Value = {
        use base64::Engine;
        let payload = real.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
    .unwrap();
    let r = get(&w, "/Patient/p1", &forged).await;
    assert_eq!(r.status(), 401);
    // Expired, though signed with the server's own key.
    let mut old = claims.clone();
    old["exp"] = json!(1_000_000);
    old["iat"] = json!(999_000);
    let keys = w.auth().keys().await.unwrap();
    let expired = concord_auth::token::sign(keys, &old).unwrap();
    let r = get(&w, "/Patient/p1", &expired).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("expired"));
    assert_eq!(get(&w, "/Patient/p1", &real).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_and_reset_revoke_access() {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p1"})).await;
    w.patient_user("fay", "p1").await;
    w.public_client("app", "patient/*.rs").await;
    let done = authorize(&w, &Flow::new("app", "patient/*.rs", "fay")).await;
    let t = json(exchange(&w, "app", &done.code, &done.verifier).await).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&w, "/Patient/p1", &access).await.status(), 200);
    // Tokens issued in the same second as the revocation count as before it.
    w.auth().disable_user("fay").await.unwrap();
    assert_eq!(get(&w, "/Patient/p1", &access).await.status(), 401);
    let req = login_page(&w, "app", "patient/*.rs").await;
    let r = w
        .post_form(
            "/auth/login",
            &[
                ("request", &req),
                ("username", "fay"),
                ("password", PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(
        page_error(&r.text().await.unwrap()).as_deref(),
        Some("account_disabled")
    );
    // Re-enabled and reset by an admin: the temporary password must be changed.
    w.auth().enable_user("fay").await.unwrap();
    w.auth()
        .reset_password("fay", "temporary password 1")
        .await
        .unwrap();
    let r = w
        .post_form(
            "/auth/login",
            &[
                ("request", &req),
                ("username", "fay"),
                ("password", "temporary password 1"),
            ],
            None,
        )
        .await;
    let html = r.text().await.unwrap();
    assert_eq!(
        page_error(&html).as_deref(),
        Some("password_change_required")
    );
    assert!(html.contains("new_password"));
    let r = w
        .post_form(
            "/auth/login",
            &[
                ("request", &req),
                ("username", "fay"),
                ("password", "temporary password 1"),
                ("new_password", "a brand new passphrase"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Allow access?"));
}

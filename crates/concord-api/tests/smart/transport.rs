//! Transport protections over HTTP: CSRF on the sign-in and approval forms,
//! rate limits on sign-in and token requests, secure headers and cookies.

use concord_api::{ApiConfig, RateLimits};
use concord_auth::csrf;

use super::common::*;

/// A fresh login page as a browser without any cookie sees it: the pending
/// request, the page's token, and the CSRF cookie the page set.
async fn fresh_login_page(w: &World) -> (String, String, String) {
    let (_, challenge) = pkce();
    let url = authorize_url(w, &Flow::new("app", "patient/*.rs", "-"), &challenge, "s");
    let page = reqwest::Client::new().get(url).send().await.unwrap();
    let set_cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set_cookie.starts_with("concord_csrf=")
            && set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict")
            && !set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    let secret = set_cookie["concord_csrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    (
        hidden(&html, "request").unwrap(),
        hidden(&html, "csrf").unwrap(),
        secret,
    )
}

async fn post_raw(
    w: &World,
    path: &str,
    body: String,
    cookie: Option<String>,
) -> reqwest::Response {
    let mut req = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{path}", w.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn refused(r: reqwest::Response, code: &str) {
    assert_eq!(r.status(), 403, "CSRF refusal is 403");
    let html = r.text().await.unwrap();
    assert_eq!(page_error(&html).as_deref(), Some(code), "{html}");
    assert!(html.contains("Reload the page") || html.contains("Enable cookies"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_form_refuses_missing_or_foreign_csrf_tokens() {
    let w = World::new().await;
    w.patient_user("zoe", "pz").await;
    w.public_client("app", "patient/*.rs").await;
    let (request, token, secret) = fresh_login_page(&w).await;
    let cookie = format!("concord_csrf={secret}");
    let creds = [("username", "zoe"), ("password", PASSWORD)];
    let with = |extra: &[(&'static str, &str)]| {
        let mut f: Vec<(&str, &str)> = vec![("request", &request)];
        f.extend_from_slice(&creds);
        f.extend(extra.iter().map(|(k, v)| (*k, *v)));
        form(&f)
    };
    // No token field.
    refused(
        post_raw(&w, "/auth/login", with(&[]), Some(cookie.clone())).await,
        "csrf_token_missing",
    )
    .await;
    // No cookie (a form posted from another site: SameSite=Strict keeps it home).
    refused(
        post_raw(&w, "/auth/login", with(&[("csrf", &token)]), None).await,
        "csrf_cookie_missing",
    )
    .await;
    // A token made for another browser.
    let other = csrf::token("another-browser-secret-0123456789abcdef", &request);
    refused(
        post_raw(
            &w,
            "/auth/login",
            with(&[("csrf", &other)]),
            Some(cookie.clone()),
        )
        .await,
        "csrf_token_invalid",
    )
    .await;
    // The attacker's own request's token does not fit the victim's request.
    let (_, attacker_token, _) = fresh_login_page(&w).await;
    refused(
        post_raw(
            &w,
            "/auth/login",
            with(&[("csrf", &attacker_token)]),
            Some(cookie.clone()),
        )
        .await,
        "csrf_token_invalid",
    )
    .await;
    // Garbage.
    refused(
        post_raw(
            &w,
            "/auth/login",
            with(&[("csrf", "%%%")]),
            Some(cookie.clone()),
        )
        .await,
        "csrf_token_invalid",
    )
    .await;
    // The page's own token with the page's cookie: signed in (approval page).
    let ok = post_raw(
        &w,
        "/auth/login",
        with(&[("csrf", &token)]),
        Some(cookie.clone()),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let session = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        session.starts_with("concord_session=") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_string();
    let html = ok.text().await.unwrap();
    assert!(html.contains("Allow access?"));
    // The approval form: the session alone is not enough.
    let both = format!("{cookie}; {session}");
    let approve = |csrf: Option<&str>| {
        let mut f: Vec<(&str, &str)> = vec![("request", &request), ("decision", "approve")];
        if let Some(c) = csrf {
            f.push(("csrf", c));
        }
        form(&f)
    };
    refused(
        post_raw(&w, "/auth/approve", approve(None), Some(both.clone())).await,
        "csrf_token_missing",
    )
    .await;
    refused(
        post_raw(
            &w,
            "/auth/approve",
            approve(Some(&other)),
            Some(both.clone()),
        )
        .await,
        "csrf_token_invalid",
    )
    .await;
    refused(
        post_raw(
            &w,
            "/auth/approve",
            approve(Some(&token)),
            Some(session.clone()),
        )
        .await,
        "csrf_cookie_missing",
    )
    .await;
    // Nothing was approved by the refused posts: the right one still works once.
    let done = post_raw(&w, "/auth/approve", approve(Some(&token)), Some(both)).await;
    assert_eq!(done.status(), 302);
    assert!(param(&location_params(&done), "code").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_address_and_per_username() {
    let config = ApiConfig {
        rate_limits: RateLimits::new(6, 3, 0, 0),
        ..ApiConfig::default()
    };
    let w = World::with_config(config).await;
    w.patient_user("yan", "py").await;
    w.public_client("app", "patient/*.rs").await;
    let (request, _, _) = fresh_login_page(&w).await;
    let attempt = |user: &'static str| {
        let request = request.clone();
        let w = &w;
        async move {
            w.post_form(
                "/auth/login",
                &[
                    ("request", &request),
                    ("username", user),
                    ("password", "not the password"),
                ],
                None,
            )
            .await
        }
    };
    // Per username: 3 a minute.
    for _ in 0..3 {
        assert_eq!(attempt("yan").await.status(), 401);
    }
    let limited = attempt("YAN").await;
    assert_eq!(limited.status(), 429, "usernames are compared case-blind");
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "one try every 20 s: {retry}");
    let html = limited.text().await.unwrap();
    assert_eq!(page_error(&html).as_deref(), Some("rate_limited"));
    assert!(html.contains("Too many sign-in attempts"));
    // Per address: 6 a minute in all (3 used; the refused one took nothing).
    for user in ["u1", "u2", "u3"] {
        assert_eq!(attempt(user).await.status(), 401);
    }
    let limited = attempt("u4").await;
    assert_eq!(limited.status(), 429, "the address's bucket is empty");
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_is_rate_limited_with_oauth_json() {
    let config = ApiConfig {
        rate_limits: RateLimits::new(0, 0, 0, 2),
        ..ApiConfig::default()
    };
    let w = World::with_config(config).await;
    w.public_client("app", "patient/*.rs").await;
    let grant = |client: &'static str| {
        let w = &w;
        async move {
            w.post_form(
                "/auth/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "no-such-code"),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", "v"),
                    ("client_id", client),
                ],
                None,
            )
            .await
        }
    };
    for _ in 0..2 {
        assert_eq!(grant("app").await.status(), 400);
    }
    let limited = grant("app").await;
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(limited.headers()["cache-control"], "no-store");
    let body = json(limited).await;
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("retry after"));
    // Another client is counted on its own.
    assert_eq!(grant("other").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_secure_headers() {
    let w = World::new().await;
    w.public_client("app", "patient/*.rs").await;
    let token = w.operator("system/*.cruds").await;
    w.seed(serde_json::json!({"resourceType": "Patient", "id": "hdr1"}))
        .await;
    // Patient data: no-store, nosniff, no referrer; no HSTS over plain HTTP.
    let read = get(&w, "/Patient/hdr1", &token).await;
    assert_eq!(read.status(), 200);
    let h = read.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(!h.contains_key("strict-transport-security"));
    // Refusals too.
    let refused = w
        .http
        .get(format!("{}/Patient/hdr1", w.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["cache-control"], "no-store");
    assert_eq!(refused.headers()["x-content-type-options"], "nosniff");
    // Public documents may be cached.
    let meta = w
        .http
        .get(format!("{}/metadata", w.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(meta.headers()["x-content-type-options"], "nosniff");
    assert!(!meta.headers().contains_key("cache-control"));
    // HTML pages cannot be framed.
    let (_, challenge) = pkce();
    let page = w
        .http
        .get(authorize_url(
            &w,
            &Flow::new("app", "patient/*.rs", "-"),
            &challenge,
            "s",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["cache-control"], "no-store");
}

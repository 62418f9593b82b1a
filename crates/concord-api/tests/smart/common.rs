//! Helpers: accounts, clients, PKCE, and driving the login and approval
//! forms over HTTP like a browser would.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use concord_auth::totp::{totp_at, TotpAlgorithm};
use concord_auth::{AccountKind, AuthServer, ClientType, NewClient, NewUser, Role};
use concord_testkit::TestApp;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://localhost:9999/callback";
pub const PASSWORD: &str = "correct horse battery staple";
/// The test browser's CSRF cookie secret (sent with every request of `World::http`).
pub const CSRF_SECRET: &str = "test-browser-csrf-secret-0123456789abcdefghij";

pub struct World {
    pub app: TestApp,
    /// A client that does not follow redirects.
    pub http: reqwest::Client,
}

impl World {
    pub async fn new() -> World {
        World::with_config(concord_api::ApiConfig::default()).await
    }

    pub async fn with_config(config: concord_api::ApiConfig) -> World {
        let app = TestApp::spawn_with_auth_config(config).await;
        let mut cookie = reqwest::header::HeaderMap::new();
        cookie.insert(
            "cookie",
            format!("{}={CSRF_SECRET}", concord_auth::csrf::COOKIE)
                .parse()
                .unwrap(),
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(cookie)
            .build()
            .unwrap();
        World { app, http }
    }

    pub fn auth(&self) -> &AuthServer {
        self.app.auth.as_ref().unwrap()
    }

    pub fn base(&self) -> String {
        self.app.base.clone()
    }

    /// A staff account; returns its TOTP secret.
    pub async fn staff(&self, username: &str, role: Role) -> Vec<u8> {
        let created = self
            .auth()
            .add_user(NewUser {
                username: username.into(),
                display_name: format!("Staff {username}"),
                kind: AccountKind::Staff(role),
                password: PASSWORD.into(),
                fhir_user: Some(format!("Practitioner/{username}")),
                with_totp: false,
            })
            .await
            .unwrap();
        created.totp_secret.expect("staff always get TOTP")
    }

    pub async fn patient_user(&self, username: &str, patient: &str) {
        self.auth()
            .add_user(NewUser {
                username: username.into(),
                display_name: format!("Patient {username}"),
                kind: AccountKind::Patient {
                    patient: patient.into(),
                },
                password: PASSWORD.into(),
                fhir_user: None,
                with_totp: false,
            })
            .await
            .unwrap();
    }

    pub async fn public_client(&self, id: &str, scopes: &str) {
        self.auth()
            .register_client(NewClient {
                client_id: Some(id.into()),
                name: format!("App {id}"),
                client_type: ClientType::Public,
                redirect_uris: vec![REDIRECT.into()],
                allowed_scopes: scopes.into(),
                jwks: None,
            })
            .await
            .unwrap();
    }

    /// Creates a resource through the API with an operator token.
    pub async fn seed(&self, resource: Value) -> String {
        let token = self.operator("system/*.cruds").await;
        let rtype = resource["resourceType"].as_str().unwrap().to_string();
        let id = resource["id"].as_str().unwrap().to_string();
        let r = self
            .http
            .put(format!("{}/{rtype}/{id}", self.base()))
            .bearer_auth(&token)
            .header("content-type", "application/fhir+json")
            .body(resource.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "seed {rtype}/{id}: {}", r.status());
        id
    }

    pub async fn operator(&self, scope: &str) -> String {
        self.auth()
            .operator_token(&self.base(), "test-operator", scope)
            .await
            .unwrap()
    }

    /// Posts a form as the test browser (its CSRF cookie, plus `cookie`).
    /// Sign-in and approval forms get the CSRF token of their `request`
    /// when the caller gave none (the flow in `authorize` takes the one
    /// the page shows instead).
    pub async fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let is_form_page = path == "/auth/login" || path == "/auth/approve";
        if is_form_page && !fields.iter().any(|(k, _)| *k == "csrf") {
            if let Some((_, request)) = fields.iter().find(|(k, _)| *k == "request") {
                body.append_pair("csrf", &concord_auth::csrf::token(CSRF_SECRET, request));
            }
        }
        let mut req = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "cookie",
                format!("{}={CSRF_SECRET}", concord_auth::csrf::COOKIE),
            )
            .body(body.finish());
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }
}

pub fn totp_now(secret: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp_at(secret, now, 6, TotpAlgorithm::Sha1)
}

/// A PKCE verifier and its S256 challenge, computed independently of Concord.
pub fn pkce() -> (String, String) {
    let verifier = format!(
        "verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz",
        uuid_like()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The value of `<input … name="NAME" value="…">` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

/// Every checkbox scope value on the approval page.
pub fn offered_scopes(html: &str) -> Vec<String> {
    let marker = "name=\"scope\" value=\"";
    html.match_indices(marker)
        .filter_map(|(i, _)| {
            let start = i + marker.len();
            let end = html[start..].find('"')? + start;
            Some(html[start..end].replace("&amp;", "&"))
        })
        .collect()
}

/// The `data-error` code shown on a page.
pub fn page_error(html: &str) -> Option<String> {
    let marker = "data-error=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// Query parameters of a redirect `Location`.
pub fn location_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        location.starts_with(REDIRECT),
        "redirects to the app: {location}"
    );
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// One run of the authorization-code flow.
pub struct Flow<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub launch: Option<String>,
    pub username: &'a str,
    pub totp_secret: Option<Vec<u8>>,
    /// Scopes to untick on the approval screen.
    pub untick: Vec<&'a str>,
    pub patient: Option<&'a str>,
}

impl<'a> Flow<'a> {
    pub fn new(client_id: &'a str, scope: &'a str, username: &'a str) -> Flow<'a> {
        Flow {
            client_id,
            scope,
            launch: None,
            username,
            totp_secret: None,
            untick: Vec::new(),
            patient: None,
        }
    }
}

/// Result of signing in and approving: the code, the verifier, the approval page.
pub struct Authorized {
    pub code: String,
    pub verifier: String,
    pub offered: Vec<String>,
    pub cookie: String,
}

pub fn authorize_url(world: &World, flow: &Flow<'_>, challenge: &str, state: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", flow.client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", flow.scope)
        .append_pair("state", state)
        .append_pair("aud", &world.base())
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(l) = &flow.launch {
        q.append_pair("launch", l);
    }
    format!("{}/auth/authorize?{}", world.base(), q.finish())
}

pub async fn authorize(world: &World, flow: &Flow<'_>) -> Authorized {
    let (verifier, challenge) = pkce();
    let page = world
        .http
        .get(authorize_url(world, flow, &challenge, "st-123"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let request = hidden(&html, "request").expect("login form");
    let csrf = hidden(&html, "csrf").expect("CSRF token on the login form");
    let code = flow
        .totp_secret
        .as_deref()
        .map(totp_now)
        .unwrap_or_default();
    let login = world
        .post_form(
            "/auth/login",
            &[
                ("request", &request),
                ("csrf", &csrf),
                ("username", flow.username),
                ("password", PASSWORD),
                ("totp", &code),
            ],
            None,
        )
        .await;
    assert_eq!(login.status(), 200, "sign-in accepted");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .expect("session cookie");
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let html = login.text().await.unwrap();
    assert_eq!(
        hidden(&html, "csrf").as_deref(),
        Some(csrf.as_str()),
        "the approval form is bound to the same request"
    );
    let offered = offered_scopes(&html);
    let kept: Vec<String> = offered
        .iter()
        .filter(|s| !flow.untick.contains(&s.as_str()))
        .cloned()
        .collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("request", &request),
        ("csrf", &csrf),
        ("decision", "approve"),
    ];
    for s in &kept {
        fields.push(("scope", s));
    }
    if let Some(p) = flow.patient {
        fields.push(("patient", p));
    }
    let approved = world
        .post_form("/auth/approve", &fields, Some(&cookie))
        .await;
    assert_eq!(approved.status(), 302, "approval redirects to the app");
    let params = location_params(&approved);
    assert_eq!(param(&params, "state").as_deref(), Some("st-123"));
    let code = param(&params, "code").expect("code in redirect");
    Authorized {
        code,
        verifier,
        offered,
        cookie,
    }
}

pub async fn exchange(
    world: &World,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    world
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
                ("client_id", client_id),
            ],
            None,
        )
        .await
}

/// GET with a bearer token.
pub async fn get(world: &World, path: &str, token: &str) -> reqwest::Response {
    world
        .http
        .get(format!("{}{path}", world.base()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn json(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got: {text}"))
}

/// Claims of a user token as the authorization server would issue them
/// (`iss` and `aud` = the FHIR base, one hour).
pub fn user_claims(
    w: &World,
    sub: &str,
    acct: &str,
    role: Option<&str>,
    patients: &[&str],
    scope: &str,
) -> concord_auth::token::AccessClaims {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    concord_auth::token::AccessClaims {
        iss: w.base(),
        sub: sub.into(),
        aud: w.base(),
        exp: now + 3600,
        iat: now,
        jti: format!("jti-{sub}-{}", uuid_like()),
        scope: scope.into(),
        client_id: Some("test-app".into()),
        kind: "user".into(),
        acct: Some(acct.into()),
        role: role.map(str::to_string),
        patients: patients.iter().map(|p| p.to_string()).collect(),
        patient: None,
        encounter: None,
        fhir_user: None,
    }
}

/// Signs claims with the server's own key (what `/auth/token` does).
pub async fn mint(w: &World, claims: &concord_auth::token::AccessClaims) -> String {
    concord_auth::token::sign(w.auth().keys().await.unwrap(), claims).unwrap()
}

/// A staff token (role code as in the matrix, `user/*.cruds`), the user's
/// Practitioner being `Practitioner/{sub}`.
pub async fn staff_token(w: &World, sub: &str, role: &str) -> String {
    let mut c = user_claims(w, sub, "staff", Some(role), &[], "user/*.cruds");
    c.fhir_user = Some(format!("Practitioner/{sub}"));
    mint(w, &c).await
}

/// A patient account's token for `patient`, `patient/*.rs` in its context.
pub async fn patient_token(w: &World, sub: &str, patient: &str) -> String {
    let mut c = user_claims(w, sub, "patient", None, &[patient], "patient/*.rs");
    c.patient = Some(patient.into());
    c.fhir_user = Some(format!("Patient/{patient}"));
    mint(w, &c).await
}

/// Sends a request with a bearer token and an optional JSON body.
pub async fn send(
    w: &World,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = w
        .http
        .request(method, format!("{}{path}", w.base()))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/fhir+json")
            .body(b.to_string());
    }
    req.send().await.unwrap()
}

/// The `Type/id`s of a Bundle's entries with `search.mode` = `mode`.
pub fn ids_of(bundle: &Value, mode: &str) -> Vec<String> {
    let mut out: Vec<String> = bundle["entry"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|e| e["search"]["mode"] == mode)
        .map(|e| {
            format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str().unwrap_or(""),
                e["resource"]["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    out.sort();
    out
}

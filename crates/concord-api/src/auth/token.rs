//! `POST /auth/token`, `/auth/introspect` and `/auth/revoke`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use concord_auth::{OAuthError, TokenRequest};
use serde_json::json;

use super::form::{client_credentials, is_form, no_store_json, oauth_error, Form};
use super::server;
use crate::limit::{retry_after_secs, ClientAddr};
use crate::response::base_url;
use crate::AppState;

fn read_form(headers: &HeaderMap, body: &[u8]) -> Result<Form, Response> {
    if !is_form(headers) {
        return Err(oauth_error(&OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )));
    }
    let form = Form::parse(body);
    let single = [
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
        "token",
    ];
    if let Some(name) = form.repeated(&single) {
        return Err(oauth_error(&OAuthError::invalid_request(format!(
            "parameter {name} appears more than once"
        ))));
    }
    Ok(form)
}

/// 429 in OAuth JSON, with `Retry-After`.
fn too_many(wait: std::time::Duration) -> Response {
    let secs = retry_after_secs(wait);
    let mut r = no_store_json(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({"error": "temporarily_unavailable",
                "error_description": format!("too many token requests; retry after {secs} seconds")}),
    );
    if let Ok(v) = secs.to_string().parse() {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub async fn token(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = match read_form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let credentials = client_credentials(&headers, &form);
    let client = credentials
        .basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| credentials.client_id.clone());
    let limits = &state.config.rate_limits;
    let mut keys = vec![(format!("token-ip:{addr}"), limits.token_per_address)];
    if let Some(client) = client {
        keys.push((format!("token-client:{client}"), limits.token_per_client));
    }
    if let Err(wait) = limits.take(&keys) {
        return too_many(wait);
    }
    let base = base_url(&state, &headers);
    let request = TokenRequest {
        grant_type: form.get("grant_type"),
        code: form.get("code"),
        redirect_uri: form.get("redirect_uri"),
        code_verifier: form.get("code_verifier"),
        refresh_token: form.get("refresh_token"),
        scope: form.get("scope"),
        client: credentials,
    };
    let token_url = format!("{base}/auth/token");
    match auth.token(&request, &auth.issuer(&base), &token_url).await {
        Ok(body) => no_store_json(StatusCode::OK, &body),
        Err(e) => oauth_error(&e),
    }
}

/// RFC 7662. The caller authenticates as a registered client (any type) or
/// with a valid bearer token.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = match read_form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let base = base_url(&state, &headers);
    let bearer = super::guard::bearer(&headers);
    let allowed = match bearer {
        Some(b) => auth.validate(&b).await.is_ok(),
        None => auth
            .authenticate_client(
                &client_credentials(&headers, &form),
                &format!("{base}/auth/token"),
            )
            .await
            .is_ok(),
    };
    if !allowed {
        return oauth_error(&OAuthError::invalid_client(
            "introspection needs client authentication or a valid bearer token",
        ));
    }
    let Some(token) = form.get("token") else {
        return oauth_error(&OAuthError::invalid_request("token is required"));
    };
    no_store_json(StatusCode::OK, &auth.introspect(&token).await)
}

/// RFC 7009. Always 200 for an authenticated client, whether or not the
/// token was known.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = match read_form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let base = base_url(&state, &headers);
    let client = match auth
        .authenticate_client(
            &client_credentials(&headers, &form),
            &format!("{base}/auth/token"),
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return oauth_error(&e),
    };
    let Some(token) = form.get("token") else {
        return oauth_error(&OAuthError::invalid_request("token is required"));
    };
    match auth.revoke(&token, &client.client_id).await {
        Ok(()) => no_store_json(StatusCode::OK, &json!({})),
        Err(e) => oauth_error(&e),
    }
}

//! `/.well-known/smart-configuration`, `/.well-known/openid-configuration`
//! and the JWK Set.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::server;
use crate::response::base_url;
use crate::AppState;

const SCOPES: &[&str] = &[
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "launch/patient",
    "launch/encounter",
    "offline_access",
    "online_access",
    "patient/*.rs",
    "patient/*.cruds",
    "user/*.rs",
    "user/*.cruds",
    "system/*.rs",
    "system/*.cruds",
    "patient/*.read",
    "user/*.read",
    "system/*.read",
];

fn endpoints(base: &str, issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/auth/jwks"),
        "authorization_endpoint": format!("{base}/auth/authorize"),
        "token_endpoint": format!("{base}/auth/token"),
        "introspection_endpoint": format!("{base}/auth/introspect"),
        "revocation_endpoint": format!("{base}/auth/revoke"),
    })
}

fn json_ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn smart_configuration(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let base = base_url(&state, &headers);
    let mut doc = endpoints(&base, &auth.issuer(&base));
    doc["grant_types_supported"] =
        json!(["authorization_code", "refresh_token", "client_credentials"]);
    doc["token_endpoint_auth_methods_supported"] = json!([
        "private_key_jwt",
        "client_secret_basic",
        "client_secret_post",
        "none"
    ]);
    doc["token_endpoint_auth_signing_alg_values_supported"] = json!(["RS384", "ES384"]);
    doc["scopes_supported"] = json!(SCOPES);
    doc["response_types_supported"] = json!(["code"]);
    doc["code_challenge_methods_supported"] = json!(["S256"]);
    doc["capabilities"] = json!([
        "launch-ehr",
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "client-confidential-asymmetric",
        "context-ehr-patient",
        "context-ehr-encounter",
        "context-standalone-patient",
        "context-banner",
        "permission-offline",
        "permission-online",
        "permission-patient",
        "permission-user",
        "permission-v1",
        "permission-v2",
        "sso-openid-connect"
    ]);
    json_ok(doc)
}

pub async fn openid_configuration(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let base = base_url(&state, &headers);
    let mut doc = endpoints(&base, &auth.issuer(&base));
    doc["response_types_supported"] = json!(["code"]);
    doc["subject_types_supported"] = json!(["public"]);
    doc["id_token_signing_alg_values_supported"] = json!(["ES256"]);
    doc["scopes_supported"] = json!(["openid", "fhirUser", "profile", "offline_access"]);
    doc["claims_supported"] = json!([
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "fhirUser",
        "name"
    ]);
    doc["code_challenge_methods_supported"] = json!(["S256"]);
    doc["grant_types_supported"] = json!(["authorization_code", "refresh_token"]);
    json_ok(doc)
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match auth.jwks().await {
        Ok(set) => json_ok(set),
        Err(e) => {
            tracing::error!(error = %e, "cannot load signing keys");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

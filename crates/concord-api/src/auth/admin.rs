//! Administrative endpoints of the authorization server: EHR launch
//! contexts and client registration. Both need a bearer token.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use concord_auth::{ClientType, NewClient, OAuthError, Principal, Subject};
use serde_json::{json, Value};

use super::form::{no_store_json, oauth_error};
use super::guard::bearer;
use super::server;
use crate::AppState;

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let auth = server(state)?;
    let token = bearer(headers).ok_or_else(|| {
        let mut r = oauth_error(&OAuthError::new(
            "invalid_token",
            "a bearer token is required",
        ));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r
    })?;
    auth.validate(&token).await.map_err(|e| {
        let mut r = oauth_error(&OAuthError::new("invalid_token", e.0));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r
    })
}

fn insufficient(message: &str) -> Response {
    no_store_json(
        StatusCode::FORBIDDEN,
        &json!({"error": "insufficient_scope", "error_description": message}),
    )
}

/// `POST /auth/launch` `{"patient": "…", "encounter": "…"}` → `{"launch": "…"}`:
/// the EHR (a signed-in staff user or an operator) opens an app in context.
pub async fn launch(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let principal = match caller(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let allowed = matches!(
        &principal.subject,
        Subject::User {
            kind: concord_auth::AccountKind::Staff(_),
            ..
        } | Subject::Operator { .. }
    );
    if !allowed {
        return insufficient("only staff and operators create launch contexts");
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(&OAuthError::invalid_request("the body must be JSON"));
    };
    let patient = input.get("patient").and_then(Value::as_str);
    let encounter = input.get("encounter").and_then(Value::as_str);
    let Ok(auth) = server(&state) else {
        return oauth_error(&OAuthError::server_error());
    };
    match auth.create_launch(patient, encounter).await {
        Ok(launch) => no_store_json(StatusCode::CREATED, &json!({ "launch": launch })),
        Err(e) => oauth_error(&e.into()),
    }
}

/// `POST /auth/clients`: registers a client (operators and account
/// administrators). Body: `name`, `client_type`, `redirect_uris`, `scope`,
/// optional `client_id` and `jwks` (a JWK Set object).
pub async fn register_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let principal = match caller(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let allowed = match &principal.subject {
        Subject::Operator { .. } => true,
        Subject::User {
            kind: concord_auth::AccountKind::Staff(role),
            ..
        } => role.administers_accounts(),
        _ => false,
    };
    if !allowed {
        return insufficient("only administrators register clients");
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(&OAuthError::invalid_request("the body must be JSON"));
    };
    let s = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(client_type) = s("client_type").as_deref().and_then(ClientType::parse) else {
        return oauth_error(&OAuthError::invalid_request(
            "client_type must be public, confidential-symmetric or confidential-asymmetric",
        ));
    };
    let new = NewClient {
        client_id: s("client_id"),
        name: s("name").unwrap_or_else(|| "Unnamed app".into()),
        client_type,
        redirect_uris: input
            .get("redirect_uris")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        allowed_scopes: s("scope").unwrap_or_default(),
        jwks: input.get("jwks").map(Value::to_string),
    };
    let Ok(auth) = server(&state) else {
        return oauth_error(&OAuthError::server_error());
    };
    match auth.register_client(new).await {
        Ok(reg) => no_store_json(
            StatusCode::CREATED,
            &json!({
                "client_id": reg.client.client_id,
                "client_secret": reg.secret,
                "client_type": reg.client.client_type,
                "redirect_uris": reg.client.redirect_uris,
                "scope": reg.client.allowed_scopes,
            }),
        ),
        Err(concord_auth::AuthError::Invalid(m)) => {
            oauth_error(&OAuthError::new("invalid_client_metadata", m))
        }
        Err(concord_auth::AuthError::Conflict(m)) => oauth_error(&OAuthError::new(
            "invalid_client_metadata",
            format!("{m} already exists"),
        )),
        Err(e) => oauth_error(&e.into()),
    }
}

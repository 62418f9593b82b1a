//! The bearer-token guard for FHIR requests (when `AuthMode::Required`).
//!
//! It validates the token (signature, algorithm, expiry, revocation, `iss`
//! and `aud` = this FHIR base URL), loads the caller's access policy
//! ([`concord_core::policy::load`]) and hands it to the core with the request
//! ([`crate::request_id::RequestId`]). The decisions are not made here:
//! the core applies the policy at its one read path and one write path,
//! so every interaction — reads, searches with chains, `_has` and
//! includes, history, `$everything`, each entry of a batch or transaction,
//! operations — is decided the same way ([`concord_core::policy`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concord_auth::Principal;
use concord_fhir::{Issue, IssueType};

use super::is_public_path;
use crate::request_id::RequestId;
use crate::response::base_url;
use crate::{ApiError, AppState};
use concord_core::policy::{self, RequestPolicy};

/// The caller's access policy (with the caller, `.0.principal`), for
/// handlers that decide themselves (break-the-glass).
#[derive(Debug, Clone)]
pub struct CurrentPolicy(pub Arc<RequestPolicy>);

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
        .filter(|t| !t.is_empty())
}

pub(crate) fn unauthorized(error: Option<&str>, message: &str) -> Response {
    let mut r = ApiError {
        status: StatusCode::UNAUTHORIZED,
        issues: vec![Issue::error(IssueType::Login, message)],
    }
    .into_response();
    let challenge = match error {
        Some(e) => format!(
            "Bearer realm=\"concord\", error=\"{e}\", error_description=\"{}\"",
            message.replace('"', "'")
        ),
        None => "Bearer realm=\"concord\"".to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The principal of a request's bearer token, or the 401 to answer.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, Response> {
    let Some(auth) = state.config.auth.server() else {
        return Err(unauthorized(None, "authentication is not configured"));
    };
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(
            None,
            "this server requires an access token (Authorization: Bearer …)",
        ));
    };
    let base = base_url(state, headers);
    auth.validate_for(&token, &base)
        .await
        .map_err(|rejected| unauthorized(Some("invalid_token"), rejected.0))
}

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if state.config.auth.server().is_none() || is_public_path(req.uri().path()) {
        return next.run(req).await;
    }
    let principal = match authenticate(&state, req.headers()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    crate::audit::note_principal(&req, &principal);
    let rid = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let policy = match policy::load(
        &state.engine,
        &state.context(&rid),
        state.config.auth.server(),
        principal,
    )
    .await
    {
        Ok(p) => Arc::new(p),
        Err(e) => return ApiError::from_core(e, &rid).into_response(),
    };
    req.extensions_mut()
        .insert(RequestId(rid, Some(policy.clone())));
    req.extensions_mut().insert(CurrentPolicy(policy));
    next.run(req).await
}

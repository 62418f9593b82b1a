//! The bearer-token guard for FHIR requests (when `AuthMode::Required`).
//!
//! It validates the token, puts the [`concord_auth::Principal`] on the
//! request, and decides with [`concord_auth::may`]: role ∩ scopes ∩ patient
//! compartment. Single-resource interactions (read, vread, instance history,
//! create, update, patch, delete) are decided against the resource itself.
//! Requests this guard cannot yet decide precisely — searches, type and
//! system history, batches and transactions, conditional writes — are
//! refused to principals confined to patients, and need `system/*` scopes
//! (batches, system history); the per-interaction guards of the search work
//! replace this.

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concord_auth::{may, AccountKind, Decision, Interaction, Principal, ScopeContext, Subject};
use concord_fhir::{Issue, IssueType};
use serde_json::Value;

use super::compartment::{matches_filter, patients_of};
use super::is_public_path;
use crate::request_id::RequestId;
use crate::{ApiError, AppState};

/// The caller, for handlers that want it.
#[derive(Debug, Clone)]
pub struct CurrentPrincipal(pub Principal);

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

fn unauthorized(error: Option<&str>, message: &str) -> Response {
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

fn forbidden(message: &str) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, IssueType::Forbidden, message).into_response()
}

/// Whether the principal is confined to particular patients.
fn confined(p: &Principal) -> bool {
    let patient_account = matches!(
        &p.subject,
        Subject::User {
            kind: AccountKind::Patient { .. } | AccountKind::Proxy { .. },
            ..
        }
    );
    patient_account || p.scopes.has_context(ScopeContext::Patient)
}

/// Decides for a resource (current or proposed) belonging to `patients`.
fn decide_for(p: &Principal, i: Interaction, rtype: &str, resource: Option<&Value>) -> Decision {
    let patients = resource.map(patients_of).unwrap_or_default();
    let decisions: Vec<Decision> = if patients.is_empty() {
        vec![may(p, i, rtype, None)]
    } else {
        patients
            .iter()
            .map(|pt| may(p, i, rtype, Some(pt)))
            .collect()
    };
    // Reads: being in one permitted compartment suffices; writes: every
    // compartment the resource touches must be permitted.
    let pick = if i.is_read() {
        decisions
            .iter()
            .find(|d| d.is_allowed())
            .or(decisions.first())
    } else {
        decisions
            .iter()
            .find(|d| !d.is_allowed())
            .or(decisions.first())
    };
    match pick
        .cloned()
        .unwrap_or(Decision::Deny(concord_auth::DenyReason::NoScope))
    {
        Decision::AllowIf(filters) => match resource {
            Some(r) if filters.iter().any(|f| matches_filter(r, f)) => Decision::Allow,
            _ => Decision::AllowIf(filters),
        },
        other => other,
    }
}

fn verdict(d: Decision) -> Result<(), Response> {
    match d {
        Decision::Allow => Ok(()),
        Decision::AllowIf(_) => Err(forbidden(
            "the access token's scopes allow only resources matching their filters",
        )),
        Decision::Deny(reason) => Err(forbidden(reason.message())),
    }
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(auth) = state.config.auth.server() else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_string();
    if is_public_path(&path) {
        return next.run(req).await;
    }
    let Some(token) = bearer(req.headers()) else {
        return unauthorized(
            None,
            "this server requires an access token (Authorization: Bearer …)",
        );
    };
    let principal = match auth.validate(&token).await {
        Ok(p) => p,
        Err(rejected) => return unauthorized(Some("invalid_token"), rejected.0),
    };
    crate::audit::note_principal(&req, &principal);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let rid = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let method = req.method().clone();
    let outcome = match (route.as_str(), &method) {
        ("/{rtype}/{id}", m)
        | ("/{rtype}/{id}/_history", m)
        | ("/{rtype}/{id}/_history/{vid}", m)
            if segments.len() >= 2 =>
        {
            let interaction = match (route.as_str(), m) {
                ("/{rtype}/{id}", &Method::GET) => Interaction::Read,
                ("/{rtype}/{id}", &Method::PUT) => Interaction::Update,
                ("/{rtype}/{id}", &Method::PATCH) => Interaction::Patch,
                ("/{rtype}/{id}", &Method::DELETE) => Interaction::Delete,
                ("/{rtype}/{id}/_history", _) => Interaction::HistoryInstance,
                _ => Interaction::Vread,
            };
            let (rtype, id) = (segments[0].clone(), segments[1].clone());
            let ctx = state.context(&rid);
            let current = match state.engine.store().read(&ctx, &rtype, &id).await {
                Ok(v) => v
                    .and_then(|v| v.content)
                    .and_then(|c| serde_json::from_str::<Value>(&c).ok()),
                Err(e) => return ApiError::from_core(e.into(), &rid).into_response(),
            };
            if interaction == Interaction::Update && current.is_none() {
                // Create-on-update: decided on the body, below.
                decide_body(&state, &principal, Interaction::Create, &rtype, req, next).await
            } else if interaction == Interaction::Patch && confined(&principal) {
                // The patched result is not known here: a patch could move the
                // resource into another patient's compartment.
                forbidden("patient-confined tokens cannot patch yet; use update")
            } else if interaction == Interaction::Update {
                // Both the current version and the replacement must be permitted.
                match verdict(decide_for(
                    &principal,
                    interaction,
                    &rtype,
                    current.as_ref(),
                )) {
                    Ok(()) => decide_body(&state, &principal, interaction, &rtype, req, next).await,
                    Err(r) => r,
                }
            } else {
                match verdict(decide_for(
                    &principal,
                    interaction,
                    &rtype,
                    current.as_ref(),
                )) {
                    Ok(()) => {
                        let mut req = req;
                        req.extensions_mut().insert(CurrentPrincipal(principal));
                        next.run(req).await
                    }
                    Err(r) => r,
                }
            }
        }
        ("/{rtype}", &Method::POST) if segments.len() == 1 => {
            let rtype = segments[0].clone();
            decide_body(&state, &principal, Interaction::Create, &rtype, req, next).await
        }
        _ => {
            // Searches, type/system history, batches, conditional writes, operations.
            // Compartment searches name the searched type last.
            let rtype = if route == "/{ctype}/{cid}/{rtype}" {
                segments.get(2).cloned().unwrap_or_default()
            } else {
                segments.first().cloned().unwrap_or_default()
            };
            let is_search = segments.last().is_some_and(|s| s == "_search");
            let interaction = match method {
                Method::GET => Interaction::Search,
                _ if is_search => Interaction::Search,
                Method::DELETE => Interaction::Delete,
                _ => Interaction::Update,
            };
            let system_level = rtype.is_empty() || rtype.starts_with('_') || rtype.starts_with('$');
            let d = if confined(&principal) {
                Decision::Deny(concord_auth::DenyReason::OutsidePatientContext)
            } else if system_level {
                let everything = match &principal.subject {
                    Subject::User { .. } => false,
                    _ => ["Patient", "Observation"]
                        .iter()
                        .all(|t| may(&principal, interaction, t, None) == Decision::Allow),
                };
                if everything {
                    Decision::Allow
                } else {
                    Decision::Deny(concord_auth::DenyReason::NoScope)
                }
            } else {
                may(&principal, interaction, &rtype, None)
            };
            match verdict(d) {
                Ok(()) => {
                    let mut req = req;
                    req.extensions_mut().insert(CurrentPrincipal(principal));
                    next.run(req).await
                }
                Err(r) => r,
            }
        }
    };
    outcome
}

/// Create (or create-on-update): decided on the submitted resource.
async fn decide_body(
    state: &AppState,
    principal: &Principal,
    interaction: Interaction,
    rtype: &str,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                IssueType::TooCostly,
                "request body too large",
            )
            .into_response()
        }
    };
    // An unparsable body is the handler's to reject (with its own message);
    // decide on the type alone, which is never more permissive.
    let resource = serde_json::from_slice::<Value>(&bytes).ok();
    if let Err(r) = verdict(decide_for(principal, interaction, rtype, resource.as_ref())) {
        return r;
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut()
        .insert(CurrentPrincipal(principal.clone()));
    next.run(req).await
}

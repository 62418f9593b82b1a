//! The audit layer: every request (outside [`classify::unaudited`] paths)
//! becomes an AuditEvent, whatever the outcome — also without `--auth`, when
//! the agent is `anonymous`. The layer wraps the guard, so refusals are
//! audited too; the guard tells it who the caller is through [`AuditSlot`].
//! Records go to the buffered [`concord_core::audit::AuditWriter`]; reads
//! of the audit trail itself (`/AuditEvent…`, `$access-log`) first flush it.

mod access_log;
mod classify;

pub use access_log::access_log;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concord_auth::{AccountKind, Principal, Subject};
use concord_core::audit::{Agent, AuditRecord, Evidence};
use concord_store::timestamp;

use crate::request_id::RequestId;
use crate::AppState;
use classify::{classify, unaudited, Capture};

/// Where the guard leaves the validated caller for the audit layer.
#[derive(Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Option<Agent>>>);

/// Records the caller of `req` for its AuditEvent (the guard's one hook):
/// the agent it will name, not a copy of the principal.
pub fn note_principal(req: &Request, principal: &Principal) {
    if let Some(slot) = req.extensions().get::<AuditSlot>() {
        if let Ok(mut a) = slot.0.lock() {
            *a = Some(agent_of(principal));
        }
    }
}

fn agent_of(p: &Principal) -> Agent {
    let role = match &p.subject {
        Subject::User {
            kind: AccountKind::Staff(role),
            ..
        } => Some(role.code().to_string()),
        Subject::User { kind, .. } => Some(kind.code().to_string()),
        Subject::Client { .. } => Some("backend-service".into()),
        Subject::Operator { .. } => Some("operator".into()),
    };
    Agent {
        who: p.actor_id(),
        name: None,
        fhir_user: p.fhir_user.clone(),
        client_id: p.client_id.clone(),
        role,
    }
}

/// The body of a form post, and the form fields the audit keeps.
fn form_agent(body: &[u8], interaction: &str) -> Option<Agent> {
    let field = |name: &str| {
        form_urlencoded::parse(body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    match interaction {
        "login" => field("username").map(|u| Agent {
            who: format!("username:{u}"),
            ..Agent::default()
        }),
        _ => field("client_id").map(|c| Agent {
            who: format!("client:{c}"),
            client_id: Some(c),
            ..Agent::default()
        }),
    }
}

async fn buffer(body: Body, limit: usize) -> Result<Bytes, ()> {
    to_bytes(body, limit).await.map_err(|_| ())
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if unaudited(&path) {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let c = classify(req.method(), &route, &segments, req.uri().query());
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    let limit = state.config.max_body_bytes;
    // Bundles and forms: keep the request body for the writer. A body
    // declared too large is left to the handler (which drains it and answers
    // 413); one that turns out too large while read is answered 413 here.
    let mut request_body = None;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut early = None;
    // Only a break-the-glass reason needs the body's type.
    let content_type = (c.capture == Capture::Reason)
        .then(|| req.headers().get(axum::http::header::CONTENT_TYPE).cloned())
        .flatten();
    if matches!(c.capture, Capture::Bundle | Capture::Form | Capture::Reason)
        && declared.is_none_or(|n| n <= limit)
    {
        let (parts, body) = req.into_parts();
        let bytes = match crate::body::read_limited(body, limit).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                early = Some(
                    crate::ApiError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        concord_fhir::IssueType::TooLong,
                        format!("the request body is larger than {limit} bytes"),
                    )
                    .into_response(),
                );
                Bytes::new()
            }
            Err(e) => {
                early = Some(e.into_response());
                Bytes::new()
            }
        };
        request_body = Some(bytes.clone());
        req = Request::from_parts(parts, Body::from(bytes));
    }
    if segments.first() == Some(&"AuditEvent") || path.ends_with("/$access-log") {
        state.audit.flush().await;
    }
    let response = match early {
        Some(r) => r,
        None => next.run(req).await,
    };
    let status = response.status().as_u16();
    let noted = slot.0.lock().ok().and_then(|mut a| a.take());
    let authenticated = noted.is_some();
    let mut agent = noted.unwrap_or_else(Agent::anonymous);
    if !authenticated && c.capture == Capture::Form {
        if let Some(a) = request_body
            .as_deref()
            .and_then(|b| form_agent(b, c.interaction))
        {
            agent = a;
        }
    }
    let reason = match (c.capture, &request_body) {
        (Capture::Reason, Some(body)) => crate::auth::reason_of(content_type.as_ref(), body),
        _ => None,
    };
    let success = response.status().is_success();
    let (response, evidence) = match c.capture {
        Capture::ResponseResource | Capture::Bundle if success => {
            let (parts, body) = response.into_parts();
            let bytes = buffer(body, usize::MAX).await.unwrap_or_default();
            let evidence = if c.capture == Capture::Bundle {
                Evidence::Bundle {
                    request: request_body.unwrap_or_default(),
                    response: bytes.clone(),
                }
            } else {
                Evidence::Resource(bytes.clone())
            };
            (Response::from_parts(parts, Body::from(bytes)), evidence)
        }
        _ => (response, Evidence::None),
    };
    let record = AuditRecord {
        tenant: state.config.tenant.clone(),
        recorded: timestamp::now_millis(),
        category: c.category,
        interaction: c.interaction.to_string(),
        action: c.action,
        status,
        agent,
        address,
        resource: c.resource,
        query: c.query,
        operation: c.operation,
        patients: c.patients,
        request_id,
        reason,
    };
    state.audit.record(record, evidence).await;
    response
}

//! Every UI request leaves an AuditEvent, like every API request: the same
//! BALP record ([`concord_core::audit::AuditRecord`]) through the same
//! buffered writer. The layer gives each request an id and a note
//! ([`AuditNote`]) that the session ([`crate::Staff`]) fills with the
//! user, and the page with what it touched ([`crate::Staff::audit`]);
//! after the answer the record is written with the status. Sign-in and
//! sign-out are `Login`/`Logout` events. Static assets are not audited.
//!
//! The layer also refuses every POST whose CSRF token does not match the
//! session ([`crate::csrf::check`]) before any handler sees it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concord_core::audit::{Action, Agent, AuditRecord, Category, Evidence};
use concord_store::timestamp;

use crate::error::WebError;
use crate::{csrf, paths, WebState};

/// Largest form body accepted.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
struct Noted {
    category: Category,
    interaction: &'static str,
    action: Action,
    resource: Option<String>,
    patients: Vec<String>,
    agent: Option<Agent>,
}

/// What one request did, filled in while it runs.
#[derive(Clone)]
pub struct AuditNote(Arc<Mutex<Noted>>);

impl AuditNote {
    fn new(method: &Method) -> AuditNote {
        let (interaction, action) = if method == Method::POST {
            ("update", Action::Update)
        } else {
            ("read", Action::Read)
        };
        AuditNote(Arc::new(Mutex::new(Noted {
            category: Category::Rest,
            interaction,
            action,
            resource: None,
            patients: Vec::new(),
            agent: None,
        })))
    }

    pub(crate) fn set(
        &self,
        interaction: &'static str,
        action: Action,
        resource: Option<String>,
        patients: &[&str],
    ) {
        if let Ok(mut n) = self.0.lock() {
            n.interaction = interaction;
            n.action = action;
            n.resource = resource;
            n.patients = patients.iter().map(|p| p.to_string()).collect();
        }
    }

    pub(crate) fn agent(&self, agent: Agent) {
        if let Ok(mut n) = self.0.lock() {
            n.agent = Some(agent);
        }
    }

    /// Marks the request as a sign-in or sign-out.
    pub(crate) fn session_event(&self, category: Category, interaction: &'static str) {
        if let Ok(mut n) = self.0.lock() {
            n.category = category;
            n.interaction = interaction;
            n.action = Action::Execute;
        }
    }
}

/// The request id and audit note of a request (a request extension).
#[derive(Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub note: AuditNote,
}

impl Default for RequestMeta {
    fn default() -> Self {
        RequestMeta {
            request_id: uuid::Uuid::new_v4().simple().to_string(),
            note: AuditNote::new(&Method::GET),
        }
    }
}

pub async fn layer(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/ui/static/") {
        return next.run(req).await;
    }
    let response = audited(state, path, req, next).await;
    with_page_headers(response)
}

/// Pages hold patient data: never cached, never framed, only our own
/// styles and forms (no script at all).
fn with_page_headers(mut r: Response) -> Response {
    use axum::http::{header, HeaderValue};
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

async fn audited(state: WebState, path: String, mut req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let note = AuditNote::new(req.method());
    req.extensions_mut().insert(RequestMeta {
        request_id: request_id.clone(),
        note: note.clone(),
    });
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let is_post = req.method() == Method::POST;
    let mut early = None;
    if is_post {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, MAX_FORM_BYTES).await;
        req = match bytes {
            Ok(bytes) => {
                if !csrf::check(&parts.headers, &path, &bytes) {
                    tracing::info!(request_id = %request_id, "form refused: bad CSRF token");
                    early = Some(WebError::Csrf.into_response());
                }
                Request::from_parts(parts, Body::from(bytes))
            }
            Err(_) => {
                early = Some(
                    WebError::BadRequest(format!(
                        "The form is larger than {MAX_FORM_BYTES} bytes."
                    ))
                    .into_response(),
                );
                Request::from_parts(parts, Body::empty())
            }
        };
    }
    // Showing the sign-in form touches no data: not audited.
    let quiet = !is_post && path == paths::LOGIN;
    let response = match early {
        Some(r) => r,
        None => next.run(req).await,
    };
    if quiet {
        return response;
    }
    let noted = note.0.lock().ok().map(|n| n.clone());
    let Some(n) = noted else {
        return response;
    };
    let record = AuditRecord {
        tenant: state.config.tenant.clone(),
        recorded: timestamp::now_millis(),
        category: n.category,
        interaction: n.interaction.to_string(),
        action: n.action,
        status: response.status().as_u16(),
        agent: n.agent.unwrap_or_else(Agent::anonymous),
        address,
        resource: n.resource,
        query: None,
        operation: None,
        patients: n.patients,
        request_id,
        reason: None,
    };
    state.audit.record(record, Evidence::None).await;
    response
}

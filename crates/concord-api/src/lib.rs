//! Concord's FHIR R4 REST API over HTTP, JSON only (`application/fhir+json`).
#![forbid(unsafe_code)]

mod admin_interfaces;
pub mod audit;
pub mod auth;
mod body;
mod bundle;
mod capability;
mod crud;
mod csrf;
mod elements;
mod error;
mod headers;
mod history;
mod hl7v2;
mod ledger;
pub mod limit;
mod negotiate;
mod request_id;
mod response;
mod search;
mod security;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use concord_core::audit::AuditWriter;
use concord_core::ledger::MerkleLog;
use concord_core::Engine;
use concord_interfaces::Monitor;
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};

pub use auth::AuthMode;
pub use error::ApiError;
pub use limit::RateLimits;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The public base URL (e.g. `https://ehr.example.org/fhir`); when `None`,
    /// taken from each request's `Host` header.
    pub base_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// The tenant every request works in (one per deployment for now).
    pub tenant: String,
    /// Whether FHIR requests need an access token (and the SMART
    /// authorization server is served).
    pub auth: AuthMode,
    /// UTC offset assumed for HL7 v2 times without one when a message of
    /// the error queue is reprocessed (the MLLP listener's setting).
    pub hl7v2_default_offset: Option<String>,
    /// HL7 v2 interface counters and configured endpoints (shared with the
    /// MLLP listener and the outbound service), for `GET /$hl7v2-monitor`
    /// and `/admin/interfaces`.
    pub hl7v2_monitor: Arc<Monitor>,
    /// Served over TLS (`concord serve --tls-*`): HSTS on every response,
    /// `Secure` cookies, and `https` in base URLs taken from `Host`.
    pub tls: bool,
    /// Rate limits of the sign-in form and the token endpoint.
    pub rate_limits: RateLimits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            base_url: None,
            max_body_bytes: 32 * 1024 * 1024,
            tenant: DEFAULT_TENANT.to_string(),
            auth: AuthMode::Disabled,
            hl7v2_default_offset: None,
            hl7v2_monitor: Arc::new(Monitor::default()),
            tls: false,
            rate_limits: RateLimits::default(),
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// Shared, not copied: every middleware layer clones the state per request.
    pub config: Arc<ApiConfig>,
    /// The buffered audit writer every request reports to.
    pub audit: AuditWriter,
    /// The Merkle log and its signing key (`None`: no tree heads, no proofs).
    pub ledger: Option<MerkleLog>,
}

impl AppState {
    /// The store context of a request (tenant and actor travel with every call).
    pub fn context(&self, request_id: &str) -> TenantContext {
        TenantContext::new(self.config.tenant.clone(), Actor::Anonymous, request_id)
    }

    /// The store context of a request, confined by the caller's access
    /// policy when the guard set one.
    pub(crate) fn request_context(&self, rid: &request_id::RequestId) -> TenantContext {
        let ctx = self.context(&rid.0);
        match &rid.1 {
            Some(policy) => {
                let mut ctx = ctx.with_access(policy.clone());
                ctx.actor = policy.actor();
                ctx
            }
            None => ctx,
        }
    }
}

/// The FHIR REST router, the same in production and tests.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metadata", get(capability::metadata))
        .route("/healthz", get(|| async { "ok" }))
        .route("/", post(bundle::process).get(search::system_get))
        .route("/_search", post(search::system_post))
        .route("/_history", get(history::system))
        .route("/$hl7v2-errors", get(hl7v2::errors))
        .route("/$hl7v2-monitor", get(hl7v2::monitor))
        .route("/admin/interfaces", get(admin_interfaces::page))
        .route(
            "/admin/interfaces/reprocess",
            post(admin_interfaces::reprocess),
        )
        .route("/admin/interfaces/resend", post(admin_interfaces::resend))
        .route("/$ledger-public-key", get(ledger::public_key))
        .route("/.well-known/concord-ledger-key", get(ledger::public_key))
        .route(
            "/$ledger-tree-head",
            get(ledger::latest_head).post(ledger::issue_head),
        )
        .route(
            "/{rtype}/{id}/_history/{vid}/$ledger-proof",
            get(ledger::proof),
        )
        .route("/$ledger-consistency", get(ledger::consistency))
        .route("/Patient/{id}/$access-log", get(audit::access_log))
        .route(
            "/{rtype}",
            get(search::type_get)
                .post(crud::create)
                .put(crud::conditional_update)
                .delete(crud::conditional_delete),
        )
        .route("/{rtype}/_history", get(history::type_level))
        .route("/{rtype}/_search", post(search::type_post))
        .route(
            "/{rtype}/{id}",
            get(crud::read)
                .put(crud::update)
                .patch(crud::patch)
                .delete(crud::delete),
        )
        .route("/{rtype}/{id}/_history", get(history::instance))
        .route(
            "/{ctype}/{cid}/{rtype}",
            get(hl7v2::instance_get).post(hl7v2::instance_operation),
        )
        .route("/{rtype}/{id}/_history/{vid}", get(crud::vread))
        .merge(auth::routes(&state))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            negotiate::check_format,
        ))
        .layer(axum::middleware::from_fn(request_id::tag))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .with_state(state)
}

//! SMART on FHIR authorization server routes and the bearer-token guard.
//! The protocol logic lives in `concord-auth`; this module is its HTTP face.
// Early exits carry the finished axum `Response` (once per request, on the
// error path); boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

mod admin;
mod apps;
mod authorize;
mod discovery;
mod form;
mod glass;
mod guard;
pub(crate) mod pages;
mod token;

use axum::routing::{get, post};
use axum::Router;
use concord_auth::AuthServer;

use crate::AppState;

pub(crate) use glass::{break_glass, reason_of};
pub use guard::{guard, CurrentPolicy};

/// Whether the FHIR API requires an access token.
#[derive(Debug, Clone, Default)]
pub enum AuthMode {
    /// No authentication (tests, local demos): every request is anonymous.
    #[default]
    Disabled,
    /// Every FHIR request needs a valid bearer token; the authorization
    /// server's routes (`/auth/*`, `/.well-known/*`) are served.
    Required(AuthServer),
}

impl AuthMode {
    pub fn server(&self) -> Option<&AuthServer> {
        match self {
            AuthMode::Disabled => None,
            AuthMode::Required(s) => Some(s),
        }
    }
}

/// The authorization server's routes (none when auth is disabled).
pub fn routes(state: &AppState) -> Router<AppState> {
    if state.config.auth.server().is_none() {
        return Router::new();
    }
    Router::new()
        .route(
            "/.well-known/smart-configuration",
            get(discovery::smart_configuration),
        )
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/auth/jwks", get(discovery::jwks))
        .route("/auth/authorize", get(authorize::authorize))
        .route("/auth/login", post(authorize::login))
        .route("/auth/approve", post(authorize::approve))
        .route("/auth/token", post(token::token))
        .route("/auth/introspect", post(token::introspect))
        .route("/auth/revoke", post(token::revoke))
        .route("/auth/launch", post(admin::launch))
        .route("/auth/clients", post(admin::register_client))
        .route("/auth/apps", get(apps::list))
        .route("/auth/apps/page", get(apps::page))
        .route("/auth/apps/{client}/revoke", post(apps::revoke))
        .route("/auth/break-glass/alerts", get(glass::alerts))
}

/// The auth server of a state whose routes exist only when it is configured.
fn server(state: &AppState) -> Result<&AuthServer, axum::response::Response> {
    state.config.auth.server().ok_or_else(|| {
        use axum::response::IntoResponse;
        axum::http::StatusCode::NOT_FOUND.into_response()
    })
}

/// Paths the guard lets through without a token.
pub(crate) fn is_public_path(path: &str) -> bool {
    path == "/metadata"
        || path == "/healthz"
        || path.starts_with("/.well-known/")
        || path.starts_with("/auth/")
}

/// With auth on, the CapabilityStatement names SMART-on-FHIR and its
/// OAuth endpoints (the `oauth-uris` extension clients discover them by).
pub(crate) fn add_security(state: &AppState, base: &str, cs: &mut serde_json::Value) {
    if state.config.auth.server().is_none() {
        return;
    }
    cs["rest"][0]["security"] = serde_json::json!({
        "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR"}]}],
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [
                {"url": "authorize", "valueUri": format!("{base}/auth/authorize")},
                {"url": "token", "valueUri": format!("{base}/auth/token")},
                {"url": "revoke", "valueUri": format!("{base}/auth/revoke")},
                {"url": "introspect", "valueUri": format!("{base}/auth/introspect")}
            ]
        }]
    });
}

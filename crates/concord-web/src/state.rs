//! [`WebState`]: what every page handler is given — the engine (the one
//! read and write path), the authorization server (accounts, sessions,
//! TOTP), the audit writer and the web settings.

use concord_auth::AuthServer;
use concord_core::audit::AuditWriter;
use concord_core::Engine;
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};

/// Settings of the web UI.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The tenant every page works in (the API's tenant).
    pub tenant: String,
    /// Mark cookies `Secure` (set when Concord serves TLS).
    pub secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            tenant: DEFAULT_TENANT.to_string(),
            secure_cookies: false,
        }
    }
}

/// Shared by every page handler. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    pub engine: Engine,
    /// Accounts and sessions. `None`: the server runs without
    /// authentication, and the web UI refuses to serve (it never runs
    /// anonymously).
    pub auth: Option<AuthServer>,
    /// The buffered audit writer every page request reports to.
    pub audit: AuditWriter,
    pub config: WebConfig,
}

impl WebState {
    /// The server's own, unconfined context (for loading the access policy
    /// and the session; never for a page's reads or writes).
    pub fn system_context(&self, request_id: &str) -> TenantContext {
        TenantContext::new(self.config.tenant.clone(), Actor::System, request_id)
    }
}

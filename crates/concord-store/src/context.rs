//! Who is calling and for which tenant. Every store call carries one.

use std::sync::Arc;

use crate::access::AccessPolicy;

/// The tenant used when none is configured.
pub const DEFAULT_TENANT: &str = "default";

/// The party on whose behalf a store call runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Concord itself (migrations, background jobs).
    System,
    /// An operator at the command line (`concord import`, benchmarks).
    Operator(String),
    /// A signed-in user or client, by account id.
    User(String),
    /// An unauthenticated caller (until the security layer lands).
    Anonymous,
}

/// Tenant, actor and request id for one call.
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub tenant: String,
    pub actor: Actor,
    pub request_id: String,
    /// The caller's access policy; `None` is unrestricted (the system,
    /// operators at the command line, a server without authentication).
    pub access: Option<Arc<dyn AccessPolicy>>,
}

impl TenantContext {
    pub fn new(tenant: impl Into<String>, actor: Actor, request_id: impl Into<String>) -> Self {
        TenantContext {
            tenant: tenant.into(),
            actor,
            request_id: request_id.into(),
            access: None,
        }
    }

    /// The same context confined by `policy`.
    pub fn with_access(mut self, policy: Arc<dyn AccessPolicy>) -> Self {
        self.access = Some(policy);
        self
    }

    /// The default tenant, acting as Concord itself.
    pub fn system() -> Self {
        TenantContext::new(DEFAULT_TENANT, Actor::System, "system")
    }
}

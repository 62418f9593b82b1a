//! The OAuth 2.0 / SMART App Launch flows, independent of HTTP.

mod authorize;
mod error;
mod introspect;
mod issue;
mod pkce;
mod token;

pub use authorize::{Approval, AuthorizeParams, AuthorizeRejection, PendingAuthorization};
pub use error::OAuthError;
pub use token::TokenRequest;

/// Grant kinds this module stores.
pub(crate) const AUTHZ_REQUEST: &str = "authz_request";
pub(crate) const CODE: &str = "code";
pub(crate) const REFRESH: &str = "refresh";
pub(crate) const REFRESH_USED: &str = "refresh_used";
pub(crate) const LAUNCH: &str = "launch";
pub(crate) const REVOKED_JTI: &str = "revoked_jti";

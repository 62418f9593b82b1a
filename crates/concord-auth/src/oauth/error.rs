//! OAuth 2.0 error responses (RFC 6749 §5.2, RFC 6750 §3.1).

use serde_json::{json, Value};

/// An OAuth error: a registered code and a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_client", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_grant", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_scope", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> OAuthError {
        OAuthError::new("unauthorized_client", d)
    }
    pub fn server_error() -> OAuthError {
        OAuthError::new("server_error", "the authorization server failed; try again")
    }

    /// The HTTP status for a token-endpoint response.
    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" => 401,
            "server_error" => 500,
            "temporarily_unavailable" => 503,
            _ => 400,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl From<crate::error::AuthError> for OAuthError {
    fn from(e: crate::error::AuthError) -> OAuthError {
        tracing::error!(error = %e, "authorization server error");
        OAuthError::server_error()
    }
}

impl From<concord_store::StoreError> for OAuthError {
    fn from(e: concord_store::StoreError) -> OAuthError {
        tracing::error!(error = %e, "authorization server store error");
        OAuthError::server_error()
    }
}

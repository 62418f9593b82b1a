//! Errors of the security layer.

use concord_store::StoreError;
use thiserror::Error;

/// Errors from account management and token handling (not OAuth protocol
/// errors, see [`crate::oauth::OAuthError`]).
#[derive(Debug, Error)]
pub enum AuthError {
    /// Bad input from an administrator or caller; the message says what.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure inside Concord; the message is for logs.
    #[error("internal error: {0}")]
    Internal(String),
}

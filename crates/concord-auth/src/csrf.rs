//! CSRF tokens for server-rendered forms (signed double-submit cookie).
//!
//! A browser gets a random **secret** in an `HttpOnly; SameSite=Strict`
//! cookie ([`new_secret`]); every form the server renders for that browser
//! carries [`token`]`(secret, binding)` in a hidden field, where `binding`
//! names what the form acts on (a pending authorization's handle, a page,
//! a session). A posted form is accepted only if [`verify`] finds the field
//! equal to the token recomputed from the cookie the browser sent — a page
//! on another site can make the browser post, but it cannot read the cookie
//! or the page, so it cannot know the token, and a token for one binding
//! does not work for another.
//!
//! The token is `base64url(HMAC-SHA-256(secret, "concord-csrf-v1\0" ‖ binding))`;
//! the comparison is constant-time. No server-side state: any instance
//! checks any form. Use it like this (the HTTP layer owns the cookie):
//!
//! ```
//! use concord_auth::csrf;
//! let secret = csrf::new_secret().unwrap();        // set as the browser's cookie
//! let t = csrf::token(&secret, "apps-page");       // put in the form
//! assert!(csrf::verify(Some(&secret), "apps-page", Some(&t)).is_ok());
//! assert_eq!(csrf::verify(Some(&secret), "other-form", Some(&t)), Err(csrf::CsrfError::Mismatch));
//! assert_eq!(csrf::verify(None, "apps-page", Some(&t)), Err(csrf::CsrfError::MissingCookie));
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

use crate::error::AuthError;

/// The cookie name the HTTP layers use for the secret.
pub const COOKIE: &str = "concord_csrf";
/// The form field name the HTTP layers use for the token.
pub const FIELD: &str = "csrf";

const CONTEXT: &[u8] = b"concord-csrf-v1\0";

/// Why a posted form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfError {
    /// The browser sent no CSRF cookie (cookies off, or the form came from elsewhere).
    MissingCookie,
    /// The form has no token field.
    MissingToken,
    /// The token does not belong to this browser and form.
    Mismatch,
}

impl CsrfError {
    /// A sentence for the refusal page.
    pub fn message(self) -> &'static str {
        match self {
            CsrfError::MissingCookie => {
                "This form could not be checked: your browser did not send the form's security cookie. Enable cookies, reload the page and try again."
            }
            CsrfError::MissingToken => {
                "This form is missing its security token. Reload the page and try again."
            }
            CsrfError::Mismatch => {
                "This form's security token is not valid for this page. Reload the page and try again."
            }
        }
    }

    /// A short code (`data-error` on pages, logs).
    pub fn code(self) -> &'static str {
        match self {
            CsrfError::MissingCookie => "csrf_cookie_missing",
            CsrfError::MissingToken => "csrf_token_missing",
            CsrfError::Mismatch => "csrf_token_invalid",
        }
    }
}

/// A fresh browser secret (256 random bits, base64url) for the cookie.
pub fn new_secret() -> Result<String, AuthError> {
    crate::random::handle()
}

fn tag(secret: &str, binding: &str) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(CONTEXT);
    ctx.update(binding.as_bytes());
    ctx.sign()
}

/// The token a form bound to `binding` carries for the browser holding `secret`.
pub fn token(secret: &str, binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(tag(secret, binding).as_ref())
}

/// Checks a posted token against the browser's cookie secret (constant-time).
pub fn verify(
    secret: Option<&str>,
    binding: &str,
    presented: Option<&str>,
) -> Result<(), CsrfError> {
    let secret = secret
        .filter(|s| !s.is_empty())
        .ok_or(CsrfError::MissingCookie)?;
    let presented = presented
        .filter(|t| !t.is_empty())
        .ok_or(CsrfError::MissingToken)?;
    let raw = URL_SAFE_NO_PAD
        .decode(presented.trim())
        .map_err(|_| CsrfError::Mismatch)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = Vec::with_capacity(CONTEXT.len() + binding.len());
    msg.extend_from_slice(CONTEXT);
    msg.extend_from_slice(binding.as_bytes());
    hmac::verify(&key, &msg, &raw).map_err(|_| CsrfError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_bound_to_secret_and_binding() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        let t = token(&a, "req-1");
        assert_eq!(verify(Some(&a), "req-1", Some(&t)), Ok(()));
        assert_eq!(
            verify(Some(&b), "req-1", Some(&t)),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(
            verify(Some(&a), "req-2", Some(&t)),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(
            verify(Some(&a), "req-1", Some("not base64 !")),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(
            verify(Some(&a), "req-1", None),
            Err(CsrfError::MissingToken)
        );
        assert_eq!(
            verify(Some(""), "req-1", Some(&t)),
            Err(CsrfError::MissingCookie)
        );
        // Deterministic: the same page renders the same token.
        assert_eq!(token(&a, "req-1"), t);
    }
}

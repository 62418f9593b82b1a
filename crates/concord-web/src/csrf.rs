//! CSRF tokens, bound to the session: the token of a form is a hash of the
//! session's secret cookie value, so a page of another site (which can
//! neither read the cookie nor the page) cannot produce it. Before sign-in
//! the login form is bound the same way to a short-lived pre-session
//! cookie. The [`crate::audit`]-wrapped router checks every POST
//! ([`check`]) before any handler runs.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

/// The form field every form carries.
pub const FIELD: &str = "_csrf";

/// The token for a session (or pre-session) cookie value.
pub fn token_for(cookie_value: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"concord-web-csrf\0");
    h.update(cookie_value.as_bytes());
    hex::encode(h.finalize())
}

/// Compares without an early exit (no timing hint about the token).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether a POST's `_csrf` field matches the cookie it must be bound to:
/// the session cookie, or for the sign-in form the pre-session cookie.
pub fn check(headers: &HeaderMap, path: &str, body: &[u8]) -> bool {
    let Some(sent) = form_urlencoded::parse(body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned())
    else {
        return false;
    };
    let bound = if path == crate::paths::LOGIN {
        crate::cookies::get(headers, crate::cookies::PRE_SESSION)
    } else {
        crate::cookies::get(headers, crate::cookies::SESSION)
    };
    bound.is_some_and(|c| !c.is_empty() && same(&token_for(&c), &sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_cookie() {
        assert_eq!(token_for("a"), token_for("a"));
        assert_ne!(token_for("a"), token_for("b"));
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}

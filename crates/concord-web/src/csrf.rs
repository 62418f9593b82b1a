//! CSRF tokens, bound to the session: the token of a form is a hash of the
//! session's secret cookie value, so a page of another site (which can
//! neither read the cookie nor the page) cannot produce it. Before sign-in
//! the login form is bound the same way to a short-lived pre-session
//! cookie. The [`crate::audit`]-wrapped router checks every POST
//! ([`check`]) before any handler runs.

use axum::http::HeaderMap;

/// The form field every form carries.
pub const FIELD: &str = "_csrf";

/// What a `/ui` form token is bound to (with the cookie value as the
/// secret), through the shared [`concord_auth::csrf`] HMAC.
const BINDING: &str = "concord-web";

/// The token for a session (or pre-session) cookie value.
pub fn token_for(cookie_value: &str) -> String {
    concord_auth::csrf::token(cookie_value, BINDING)
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
    concord_auth::csrf::verify(bound.as_deref(), BINDING, Some(&sent)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_cookie() {
        assert_eq!(token_for("a"), token_for("a"));
        assert_ne!(token_for("a"), token_for("b"));
        assert!(concord_auth::csrf::verify(Some("a"), BINDING, Some(&token_for("a"))).is_ok());
        assert!(concord_auth::csrf::verify(Some("b"), BINDING, Some(&token_for("a"))).is_err());
    }
}

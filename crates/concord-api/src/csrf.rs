//! The HTTP side of [`concord_auth::csrf`] for the server-rendered forms
//! (sign-in, approval, the apps page, `/admin/interfaces`): the browser's
//! secret cookie, the hidden field, and the refusal page.
// Refusals carry the finished page (once per request, on the error path);
// boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use concord_auth::csrf::{self, CsrfError, COOKIE};

use crate::auth::pages;
use crate::AppState;

/// Value of the cookie `name` among the request's `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}

/// Whether cookies get `Secure`: served over TLS, or behind an `https` base URL.
pub(crate) fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.tls || crate::response::base_url(state, headers).starts_with("https://")
}

/// Appends a `Set-Cookie` with the house attributes (`HttpOnly; SameSite=Strict`, `Secure` under TLS).
pub(crate) fn set_cookie(
    response: &mut Response,
    name: &str,
    value: &str,
    path: &str,
    secure: bool,
) {
    let cookie = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The browser's CSRF secret: the one its cookie carries, or a new one that
/// [`Browser::finish`] sets.
pub(crate) struct Browser {
    secret: String,
    fresh: bool,
}

impl Browser {
    pub(crate) fn of(headers: &HeaderMap) -> Result<Browser, Response> {
        if let Some(secret) = cookie(headers, COOKIE).filter(|s| s.len() >= 32) {
            return Ok(Browser {
                secret,
                fresh: false,
            });
        }
        match csrf::new_secret() {
            Ok(secret) => Ok(Browser {
                secret,
                fresh: true,
            }),
            Err(_) => Err(pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "the form cannot be shown right now; try again",
            )),
        }
    }

    /// The hidden-field value of a form bound to `binding`.
    pub(crate) fn token(&self, binding: &str) -> String {
        csrf::token(&self.secret, binding)
    }

    /// Sets the cookie on the page when the secret is new.
    pub(crate) fn finish(&self, mut response: Response, secure: bool) -> Response {
        if self.fresh {
            set_cookie(&mut response, COOKIE, &self.secret, "/", secure);
        }
        response
    }
}

/// The hidden field for a form (already escaped: base64url only).
pub(crate) fn field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        csrf::FIELD,
        pages::esc(token)
    )
}

/// Checks a posted form: `Err` is the 403 refusal page.
pub(crate) fn check(
    headers: &HeaderMap,
    presented: Option<&str>,
    binding: &str,
) -> Result<(), Response> {
    let secret = cookie(headers, COOKIE);
    csrf::verify(secret.as_deref(), binding, presented).map_err(refusal)
}

fn refusal(e: CsrfError) -> Response {
    tracing::info!(reason = e.code(), "form refused: CSRF check failed");
    pages::error(StatusCode::FORBIDDEN, e.code(), e.message())
}

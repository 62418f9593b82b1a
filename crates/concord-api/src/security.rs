//! Secure response headers, added to every answer (the outermost layer):
//!
//! - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`
//!   (authorization codes and ids travel in URLs) on everything;
//! - on HTML pages, frame denial (`X-Frame-Options: DENY` and a CSP with
//!   `frame-ancestors 'none'`, no scripts) unless the page set its own;
//! - `Cache-Control: no-store` on every answer except the public,
//!   patient-free documents (`/metadata`, `/healthz`, `/.well-known/*`,
//!   `/auth/jwks`, `/$ledger-public-key`), unless the handler chose one;
//! - `Strict-Transport-Security` when served over TLS.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// One year; browsers then refuse plain HTTP to this host.
pub const HSTS: &str = "max-age=31536000";
const HTML_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

fn cacheable(path: &str) -> bool {
    path == "/metadata"
        || path == "/healthz"
        || path.starts_with("/.well-known/")
        || path == "/auth/jwks"
        || path == "/$ledger-public-key"
}

pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let public = cacheable(req.uri().path());
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        h.entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
        h.entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(HTML_CSP));
    }
    if !public {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    if state.config.tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

//! A request id for every request: taken from `X-Request-Id` or made up,
//! echoed in the response, and recorded on the request's tracing span
//! (route template only — never query strings, which can hold patient data).

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

use concord_store::AccessPolicy;
use tracing::Instrument;

/// The request id, available to handlers as an extension, with the
/// caller's access policy once the guard has established it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String, pub Option<Arc<dyn AccessPolicy>>);

pub async fn tag(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let span =
        tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route);
    req.extensions_mut().insert(RequestId(id.clone(), None));
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), "done"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

//! Building FHIR responses: stored JSON text goes out as it is (no re-serialising).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use concord_core::WriteResult;
use concord_fhir::outcome::operation_outcome;
use concord_fhir::{Issue, IssueType};
use concord_store::WriteOutcome;

use crate::headers::{etag, http_date, Return};
use crate::AppState;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The base URL for absolute links: configured, or from a well-formed `Host`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.config.base_url {
        return base.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.tls { "https" } else { "http" };
    format!("{scheme}://{host}")
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// A JSON body with the FHIR content type.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, FHIR_JSON)], body).into_response()
}

/// A resource version: body, ETag, Last-Modified (and Location when given).
pub fn resource_response(
    status: StatusCode,
    body: String,
    version: i64,
    last_updated: i64,
    location: Option<String>,
) -> Response {
    let mut response = json_response(status, body);
    let h = response.headers_mut();
    set(h, header::ETAG, &etag(version));
    set(h, header::LAST_MODIFIED, &http_date(last_updated));
    if let Some(location) = location {
        set(h, header::LOCATION, &location);
        set(h, header::CONTENT_LOCATION, &location);
    }
    response
}

/// The answer to a create/update/patch, shaped by `Prefer: return=`.
pub fn write_response(
    base: &str,
    result: WriteResult,
    prefer: Return,
    created_status: bool,
) -> Response {
    let status = match result.outcome {
        WriteOutcome::Created if created_status => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    let location = format!(
        "{base}/{}/{}/_history/{}",
        result.resource_type, result.id, result.version
    );
    let body = match prefer {
        Return::Minimal => String::new(),
        Return::OperationOutcome => {
            let mut issues = result.warnings.clone();
            if issues.is_empty() {
                issues.push(Issue::information(
                    IssueType::Informational,
                    format!(
                        "{}/{} stored as version {}",
                        result.resource_type, result.id, result.version
                    ),
                ));
            }
            operation_outcome(&issues).to_string()
        }
        _ => result.content.clone().unwrap_or_default(),
    };
    let mut response = resource_response(
        status,
        body,
        result.version,
        result.last_updated,
        Some(location),
    );
    if prefer == Return::Minimal {
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
    response
}

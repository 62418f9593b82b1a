//! Reading a request body as JSON, with the right error for each way it can fail.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use concord_fhir::IssueType;
use serde_json::Value;

use crate::ApiError;

/// Which media types a body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Resource,
    JsonPatch,
}

fn content_type_ok(kind: BodyKind, media: &str) -> bool {
    let m = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match kind {
        BodyKind::Resource => {
            matches!(
                m.as_str(),
                "application/fhir+json" | "application/json" | "application/json+fhir"
            )
        }
        BodyKind::JsonPatch => m == "application/json-patch+json",
    }
}

/// Reads and parses the body: 415 for a wrong Content-Type, 413 when too large,
/// 400 when empty or not JSON.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    kind: BodyKind,
) -> Result<Value, ApiError> {
    if let Some(media) = headers.get(header::CONTENT_TYPE) {
        let media = media.to_str().unwrap_or("");
        if !content_type_ok(kind, media) {
            let expected = match kind {
                BodyKind::Resource => "application/fhir+json",
                BodyKind::JsonPatch => "application/json-patch+json",
            };
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                IssueType::NotSupported,
                format!("Content-Type '{media}' is not supported here; send {expected}"),
            ));
        }
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            IssueType::TooLong,
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            IssueType::Structure,
            "the request body is empty",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            IssueType::Structure,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

//! Reading a request body as JSON, with the right error for each way it can fail.

use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
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

/// Reads the whole body, or `None` once it passes `limit` bytes (the rest is
/// then drained, see [`drain`]). `Err` when the connection fails mid-body.
pub(crate) async fn read_limited(mut body: Body, limit: usize) -> Result<Option<Bytes>, ApiError> {
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                drain(body, limit).await;
                return Ok(None);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Some(Bytes::from(buf)))
}

/// Reads and discards up to four times `limit` more bytes of a body that is too
/// large, so a client still sending it receives the 413 instead of a broken
/// pipe (past that, the connection is simply closed).
async fn drain(mut body: Body, limit: usize) {
    let cap = limit.saturating_mul(4);
    let mut seen = 0usize;
    while seen <= cap {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
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
        drain(body, limit).await;
        return Err(too_large());
    }
    let bytes = read_limited(body, limit).await?.ok_or_else(too_large)?;
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

//! FHIR's HTTP headers: ETag, Last-Modified, If-Match, If-None-Match,
//! If-Modified-Since, If-None-Exist and Prefer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};

use crate::ApiError;

/// `W/"3"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// An HTTP date for milliseconds since the epoch.
pub fn http_date(millis: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64);
    httpdate::fmt_http_date(t)
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The version `If-Match` demands; 400 if it is not a version tag.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    match text(headers, header::IF_MATCH.as_str()) {
        None => Ok(None),
        Some(tag) => concord_core::parse_etag(tag).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "If-Match '{tag}' is not a version tag like W/\"1\""
            ))
        }),
    }
}

/// The version in `If-None-Match` (`*` matches any version).
pub fn if_none_match(headers: &HeaderMap, current: i64) -> bool {
    match text(headers, header::IF_NONE_MATCH.as_str()) {
        Some("*") => true,
        Some(tags) => tags
            .split(',')
            .filter_map(concord_core::parse_etag)
            .any(|v| v == current),
        None => false,
    }
}

/// True when `If-Modified-Since` is at or after the last update (→ 304).
pub fn not_modified_since(headers: &HeaderMap, last_updated: i64) -> bool {
    let Some(since) = text(headers, header::IF_MODIFIED_SINCE.as_str())
        .and_then(|t| httpdate::parse_http_date(t).ok())
    else {
        return false;
    };
    let since_ms = since
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    // HTTP dates have whole seconds.
    last_updated / 1000 <= since_ms / 1000 && since <= SystemTime::now()
}

pub fn if_none_exist(headers: &HeaderMap) -> Option<&str> {
    text(headers, "if-none-exist").filter(|v| !v.is_empty())
}

/// `Prefer: return=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    Representation,
    OperationOutcome,
}

pub fn prefer_return(headers: &HeaderMap, default: Return) -> Return {
    let Some(prefer) = text(headers, "prefer") else {
        return default;
    };
    for part in prefer.split([',', ';']) {
        match part
            .trim()
            .strip_prefix("return=")
            .map(|v| v.trim_matches('"'))
        {
            Some("minimal") => return Return::Minimal,
            Some("representation") => return Return::Representation,
            Some("OperationOutcome") => return Return::OperationOutcome,
            _ => {}
        }
    }
    default
}

/// `Prefer: handling=strict|lenient` (lenient when absent).
pub fn prefer_strict(headers: &HeaderMap) -> bool {
    text(headers, "prefer").is_some_and(|prefer| {
        prefer.split([',', ';']).any(|part| {
            part.trim()
                .strip_prefix("handling=")
                .map(|v| v.trim_matches('"'))
                == Some("strict")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn prefer_and_if_match() {
        let mut h = HeaderMap::new();
        assert_eq!(
            prefer_return(&h, Return::Representation),
            Return::Representation
        );
        h.insert("prefer", HeaderValue::from_static("return=minimal"));
        assert_eq!(prefer_return(&h, Return::Representation), Return::Minimal);
        h.insert("if-match", HeaderValue::from_static("W/\"4\""));
        assert_eq!(if_match(&h).unwrap(), Some(4));
        h.insert("if-match", HeaderValue::from_static("junk"));
        assert!(if_match(&h).is_err());
        h.insert("if-none-match", HeaderValue::from_static("W/\"2\""));
        assert!(if_none_match(&h, 2));
        assert!(!if_none_match(&h, 3));
    }
}

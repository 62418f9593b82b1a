//! Content negotiation: Concord speaks JSON. `_format` wins over `Accept`;
//! a request for XML (or anything else that is not JSON) gets 406.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concord_fhir::IssueType;

use crate::{ApiError, AppState};

/// Media types (or `_format` shorthands) answered with FHIR JSON.
fn is_json(media: &str) -> bool {
    let m = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        m.as_str(),
        "json"
            | "application/json"
            | "application/fhir+json"
            | "application/json+fhir"
            | "text/json"
            | "*/*"
            | "application/*"
            | "text/html"
            | "html"
    )
}

fn not_acceptable(what: &str) -> Response {
    ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        IssueType::NotSupported,
        format!("'{what}' is not supported: Concord returns application/fhir+json"),
    )
    .into_response()
}

pub async fn check_format(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    let mut format_given = false;
    if let Some(query) = req.uri().query() {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name == "_format" {
                if !is_json(&value) {
                    return not_acceptable(&value);
                }
                format_given = true;
            }
        }
    }
    // A `_format` the server can answer overrides `Accept` (http.html#mime-type).
    if format_given {
        return next.run(req).await;
    }
    if let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    {
        let offered: Vec<&str> = accept
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let forbids_all = offered.iter().all(|m| {
            let q_zero = m.split(';').skip(1).any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            !is_json(m) || q_zero
        });
        if !offered.is_empty() && forbids_all {
            return not_acceptable(accept);
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_types() {
        assert!(is_json("application/fhir+json; fhirVersion=4.0"));
        assert!(is_json("json"));
        assert!(!is_json("application/fhir+xml"));
        assert!(!is_json("xml"));
    }
}

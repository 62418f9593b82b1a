//! Form bodies (`application/x-www-form-urlencoded`) and OAuth JSON responses.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use concord_auth::{ClientCredentials, OAuthError};
use serde_json::Value;

/// Form fields: the first value of each name, and every value of repeated names.
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form {
            pairs: form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    pub fn from_query(query: Option<&str>) -> Form {
        Form::parse(query.unwrap_or_default().as_bytes())
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Names that appear more than once (OAuth forbids repeating parameters).
    pub fn repeated(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find(|n| self.pairs.iter().filter(|(k, _)| k == *n).count() > 1)
            .map(|n| n.to_string())
    }

    #[cfg(test)]
    pub fn to_map(&self) -> std::collections::HashMap<String, String> {
        self.pairs.iter().cloned().collect()
    }
}

/// Whether the body is a form (as the OAuth endpoints require).
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Client credentials from HTTP Basic and the form.
pub fn client_credentials(headers: &HeaderMap, form: &Form) -> ClientCredentials {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let (id, secret) = text.split_once(':')?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded.
            let decode = |s: &str| -> String {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((decode(id), decode(secret)))
        });
    ClientCredentials {
        basic,
        client_id: form.get("client_id"),
        client_secret: form.get("client_secret"),
        assertion_type: form.get("client_assertion_type"),
        assertion: form.get("client_assertion"),
    }
}

/// A JSON response that must not be cached (token endpoint responses).
pub fn no_store_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// An OAuth error as JSON with its status (and `WWW-Authenticate` for 401).
pub fn oauth_error(e: &OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store_json(status, &e.to_json());
    if status == StatusCode::UNAUTHORIZED {
        if let Ok(v) = "Basic realm=\"concord\"".parse() {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeated_and_encoded_fields() {
        let f = Form::parse(b"scope=a&scope=b%20c&x=1+2");
        assert_eq!(f.all("scope"), vec!["a", "b c"]);
        assert_eq!(f.get("x").as_deref(), Some("1 2"));
        assert_eq!(f.repeated(&["scope", "x"]).as_deref(), Some("scope"));
        assert_eq!(f.to_map().len(), 2);
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let mut h = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode("my%20app:s3cr%3At"));
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        let c = client_credentials(&h, &Form::parse(b""));
        assert_eq!(c.basic, Some(("my app".into(), "s3cr:t".into())));
    }
}

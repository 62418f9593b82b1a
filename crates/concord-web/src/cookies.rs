//! The web UI's cookies: the session (`HttpOnly; SameSite=Strict`, `Secure`
//! under TLS, path `/ui`) and the pre-session cookie the sign-in form's
//! CSRF token is bound to.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;

pub const SESSION: &str = "concord_ui";
pub const PRE_SESSION: &str = "concord_ui_pre";

/// A cookie's value from the request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Sets a cookie (`max_age` 0 deletes it) with the UI's flags.
pub fn set(response: &mut Response, name: &str, value: &str, secure: bool, max_age: Option<i64>) {
    let mut cookie = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Strict",
        crate::paths::ROOT
    );
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; concord_ui=xyz; b=2"),
        );
        assert_eq!(get(&h, SESSION).as_deref(), Some("xyz"));
        assert_eq!(get(&h, PRE_SESSION), None);
    }
}

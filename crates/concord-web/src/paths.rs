//! The UI's fixed paths (all under `/ui`, clear of the FHIR API's `/{type}`).

pub const ROOT: &str = "/ui";
pub const HOME: &str = "/ui/";
pub const LOGIN: &str = "/ui/login";
pub const LOGOUT: &str = "/ui/logout";
pub const STATIC_CSS: &str = "/ui/static/app.css";

/// `/ui/login?next=…` for a page that needs a session.
pub fn login_then(next: &str) -> String {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("{LOGIN}?next={next}")
}

/// A `next` target that stays inside the UI (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains("://") => {
            n.to_string()
        }
        _ => HOME.to_string(),
    }
}

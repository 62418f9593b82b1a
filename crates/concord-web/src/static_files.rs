//! The stylesheet, compiled into the binary (no Node build, no files to ship).

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../static/app.css");

/// `GET /ui/static/app.css`.
pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

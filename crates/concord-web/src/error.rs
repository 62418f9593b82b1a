//! [`WebError`]: what a page answers when something goes wrong — a
//! readable HTML page with the right status, never a stack trace or a
//! store detail (those go to the log under the request id, without
//! patient data).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use concord_core::CoreError;
use concord_fhir::Severity;
use maud::html;

use crate::layout;

#[derive(Debug)]
pub enum WebError {
    /// 404: no such page or record (or one the user may not see).
    NotFound,
    /// 403, with a reason safe to show.
    Forbidden(String),
    /// 400: the request itself is malformed (a form field missing, …).
    BadRequest(String),
    /// 403: a POST without a valid CSRF token.
    Csrf,
    /// 422: the data was refused (validation), with one line per problem.
    Invalid(Vec<String>),
    /// 409: someone else changed the record first.
    Conflict(String),
    /// 503: the server runs without authentication.
    AuthDisabled,
    /// 500, with the correlation (request) id.
    Internal(String),
}

impl WebError {
    /// Maps an engine error; internal details go to the log.
    pub fn from_core(e: CoreError, request_id: &str) -> WebError {
        let lines = |e: &CoreError| {
            e.issues()
                .into_iter()
                .filter(|i| matches!(i.severity, Severity::Error | Severity::Fatal))
                .map(|i| match i.expression.first() {
                    Some(x) => format!("{} ({x})", i.diagnostics),
                    None => i.diagnostics,
                })
                .collect::<Vec<_>>()
        };
        match &e {
            CoreError::NotFound { .. } | CoreError::Gone { .. } | CoreError::UnknownType(_) => {
                WebError::NotFound
            }
            CoreError::Forbidden(why) => WebError::Forbidden(why.clone()),
            CoreError::BadRequest(_) | CoreError::Invalid(_) => WebError::Invalid(lines(&e)),
            CoreError::PreconditionFailed(m) | CoreError::Conflict(m) => {
                WebError::Conflict(m.clone())
            }
            CoreError::NotSupported(m) | CoreError::ReadOnly(m) => WebError::BadRequest(m.clone()),
            CoreError::Store(_) => {
                tracing::error!(request_id, error = %e, "page failed");
                WebError::Internal(request_id.to_string())
            }
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::AuthDisabled => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Title and explanation lines for the error page.
    fn words(&self) -> (&'static str, Vec<String>) {
        match self {
            WebError::NotFound => (
                "Not found",
                vec!["There is no such page or record, or you may not see it.".into()],
            ),
            WebError::Forbidden(why) => ("Not allowed", vec![why.clone()]),
            WebError::BadRequest(why) => ("Cannot do that", vec![why.clone()]),
            WebError::Csrf => (
                "Form expired",
                vec!["This form is no longer valid (it was opened in another session, or the session ended). Go back, reload the page and try again.".into()],
            ),
            WebError::Invalid(lines) => ("Not saved: please correct the data", lines.clone()),
            WebError::Conflict(why) => (
                "Changed by someone else",
                vec![format!("{why}. Reload the page to see the current data.")],
            ),
            WebError::AuthDisabled => (
                "Sign-in is not configured",
                vec!["The clinician workspace needs Concord to run with authentication (`concord serve --auth`, or `concord demo`).".into()],
            ),
            WebError::Internal(id) => (
                "Something went wrong",
                vec![format!("The server could not complete this request. Quote reference {id} to your administrator.")],
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (title, lines) = self.words();
        let body = html! {
            div.alert.error role="alert" {
                @for l in &lines { p { (l) } }
            }
            p { a href=(crate::paths::HOME) { "Back to the start page" } }
        };
        (self.status(), layout::bare_page(title, body)).into_response()
    }
}

/// A page's result.
pub type WebResult<T> = Result<T, WebError>;

//! `ApiError`: an HTTP status and the issues of an OperationOutcome.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use concord_core::CoreError;
use concord_fhir::outcome::operation_outcome;
use concord_fhir::{Issue, IssueType};
use concord_store::StoreError;

use crate::response::FHIR_JSON;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub issues: Vec<Issue>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: IssueType, diagnostics: impl Into<String>) -> ApiError {
        ApiError {
            status,
            issues: vec![Issue::error(code, diagnostics)],
        }
    }

    pub fn bad_request(diagnostics: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, IssueType::Invalid, diagnostics)
    }

    /// The status a core error stands for.
    pub fn status_of(e: &CoreError) -> StatusCode {
        match e {
            CoreError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CoreError::UnknownType(_) | CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            CoreError::Gone { .. } => StatusCode::GONE,
            CoreError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            CoreError::Conflict(_) => StatusCode::CONFLICT,
            CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            CoreError::NotSupported(_) => StatusCode::BAD_REQUEST,
            CoreError::ReadOnly(_) => StatusCode::METHOD_NOT_ALLOWED,
            CoreError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Maps a core error; internal details go to the log under a correlation id.
    pub fn from_core(e: CoreError, request_id: &str) -> ApiError {
        let status = ApiError::status_of(&e);
        let mut issues = e.issues();
        if status.is_server_error() {
            tracing::error!(request_id, error = %e, "request failed");
            for issue in &mut issues {
                issue.diagnostics = format!("{} (correlation id {request_id})", issue.diagnostics);
            }
        }
        ApiError { status, issues }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> ApiError {
        ApiError::from_core(e, "-")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = operation_outcome(&self.issues).to_string();
        (self.status, [(header::CONTENT_TYPE, FHIR_JSON)], body).into_response()
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        IssueType::NotSupported,
        "no FHIR interaction at this URL",
    )
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        IssueType::NotSupported,
        "this HTTP method is not supported at this URL",
    )
}

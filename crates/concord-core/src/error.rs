//! What can go wrong in a use case. The API maps each variant to an HTTP status.

use concord_fhir::{Issue, IssueType};
use concord_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    /// The request itself is wrong (400).
    #[error("bad request")]
    BadRequest(Vec<Issue>),
    /// The resource breaks the FHIR rules (422).
    #[error("resource failed validation")]
    Invalid(Vec<Issue>),
    /// Not a resource type this server knows (404).
    #[error("unknown resource type {0}")]
    UnknownType(String),
    /// No such resource or version (404).
    #[error("{resource_type}/{id} not found")]
    NotFound { resource_type: String, id: String },
    /// The resource was deleted (410).
    #[error("{resource_type}/{id} was deleted")]
    Gone {
        resource_type: String,
        id: String,
        version: i64,
    },
    /// `If-Match` named another version, or conditional criteria matched several (412).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// A create collided with an existing id, or a concurrent change won (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller's access policy refuses it (403); the reason is safe to show.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A feature the server does not offer (yet) (501 or 400 depending on context).
    #[error("not supported: {0}")]
    NotSupported(String),
    /// The resource type cannot be written through the API: AuditEvents are
    /// written only by the audit trail (405).
    #[error("read only: {0}")]
    ReadOnly(String),
    /// The database failed (500 / 503).
    #[error(transparent)]
    Store(StoreError),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn bad_request(diagnostics: impl Into<String>) -> CoreError {
        CoreError::BadRequest(vec![Issue::error(IssueType::Invalid, diagnostics)])
    }

    /// The issues to show a client (internal store details are left to the API,
    /// which replaces them with a correlation id).
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            CoreError::BadRequest(issues) | CoreError::Invalid(issues) => issues.clone(),
            CoreError::UnknownType(t) => vec![Issue::error(
                IssueType::NotSupported,
                format!("'{t}' is not a resource type of FHIR R4"),
            )],
            CoreError::NotFound { resource_type, id } => vec![Issue::error(
                IssueType::NotFound,
                format!("{resource_type}/{id} is not known"),
            )],
            CoreError::Gone {
                resource_type, id, ..
            } => vec![Issue::error(
                IssueType::Deleted,
                format!("{resource_type}/{id} has been deleted"),
            )],
            CoreError::PreconditionFailed(msg) => {
                vec![Issue::error(IssueType::Conflict, msg.clone())]
            }
            CoreError::Conflict(msg) => vec![Issue::error(IssueType::Conflict, msg.clone())],
            CoreError::Forbidden(msg) => vec![Issue::error(IssueType::Forbidden, msg.clone())],
            CoreError::NotSupported(msg) => {
                vec![Issue::error(IssueType::NotSupported, msg.clone())]
            }
            CoreError::ReadOnly(t) => vec![Issue::error(
                IssueType::Forbidden,
                format!(
                    "{t} resources are append-only: they are never updated, patched or deleted"
                ),
            )],
            CoreError::Store(StoreError::Unavailable(_)) => vec![Issue::error(
                IssueType::Transient,
                "the database is busy; try again",
            )],
            CoreError::Store(_) => {
                vec![Issue::error(IssueType::Exception, "internal storage error")]
            }
        }
    }

    /// Prefixes every issue's expression, e.g. with `Bundle.entry[3].resource`.
    pub fn within(self, prefix: &str) -> CoreError {
        let prefix_all = |issues: Vec<Issue>| {
            issues
                .into_iter()
                .map(|mut i| {
                    if i.expression.is_empty() {
                        i.expression.push(prefix.to_string());
                    } else {
                        i.expression = i
                            .expression
                            .iter()
                            .map(|e| match e.split_once('.') {
                                Some((_, rest)) => format!("{prefix}.{rest}"),
                                None => prefix.to_string(),
                            })
                            .collect();
                    }
                    i
                })
                .collect()
        };
        match self {
            CoreError::BadRequest(issues) => CoreError::BadRequest(prefix_all(issues)),
            CoreError::Invalid(issues) => CoreError::Invalid(prefix_all(issues)),
            other => other,
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> CoreError {
        match e {
            StoreError::AlreadyExists { resource_type, id } => {
                CoreError::Conflict(format!("{resource_type}/{id} already exists"))
            }
            StoreError::VersionConflict {
                resource_type,
                id,
                expected,
                current,
            } => CoreError::PreconditionFailed(format!(
                "{resource_type}/{id} is at version {}, not {expected}",
                current.map_or_else(|| "none".to_string(), |v| v.to_string())
            )),
            StoreError::DuplicateInBatch { resource_type, id } => CoreError::bad_request(format!(
                "{resource_type}/{id} is the target of more than one entry"
            )),
            StoreError::InvalidCursor => CoreError::bad_request("invalid paging cursor"),
            StoreError::TooCostly(budget) => CoreError::BadRequest(vec![Issue::error(
                IssueType::TooCostly,
                format!(
                    "the search was stopped after {} s, its time budget: narrow it \
                     (more specific criteria, fewer chains or _has, no _total=accurate)",
                    budget.as_secs_f64()
                ),
            )]),
            other => CoreError::Store(other),
        }
    }
}

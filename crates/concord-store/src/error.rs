//! Errors a store can return. Callers map them to HTTP statuses.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A create named an id that exists already (live or deleted).
    #[error("{resource_type}/{id} already exists")]
    AlreadyExists { resource_type: String, id: String },
    /// An `If-Match` style precondition did not hold.
    #[error("{resource_type}/{id} is at version {current:?}, not {expected}")]
    VersionConflict {
        resource_type: String,
        id: String,
        expected: i64,
        current: Option<i64>,
    },
    /// A write batch named the same resource twice.
    #[error("{resource_type}/{id} appears more than once in one commit")]
    DuplicateInBatch { resource_type: String, id: String },
    /// A history cursor that the store did not issue.
    #[error("invalid paging cursor")]
    InvalidCursor,
    /// The database is busy or unreachable; the call may be retried.
    #[error("storage temporarily unavailable: {0}")]
    Unavailable(String),
    /// A search query ran past its plan's time budget and was stopped.
    #[error("the query ran past its time budget of {0:?}")]
    TooCostly(std::time::Duration),
    /// Anything else from the database. The message is for logs, not clients.
    #[error("storage error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

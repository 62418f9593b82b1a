//! rusqlite errors → `StoreError`, with no resource content in messages.

use concord_store::StoreError;

pub fn backend(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable("database is busy".into())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

//! Maps driver and pool errors to [`StoreError`].
//!
//! Messages carry the SQLSTATE and the server's primary message only: never
//! the `DETAIL` part, which can quote row values (and so resource content).

use concord_store::StoreError;
use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

/// Whether the failed transaction can simply be run again.
pub(crate) fn is_retryable(err: &tokio_postgres::Error) -> bool {
    matches!(
        err.code(),
        Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// A driver error as a store error.
pub(crate) fn db(err: tokio_postgres::Error) -> StoreError {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        let text = format!("{code}: {}", db.message());
        // Class 08 connection exception, 53 insufficient resources,
        // 57 operator intervention (shutdown, cancel), 40 rollbacks.
        let transient = ["08", "53", "57", "40"]
            .iter()
            .any(|class| code.starts_with(class));
        return if transient {
            StoreError::Unavailable(text)
        } else {
            StoreError::Backend(text)
        };
    }
    if err.is_closed() || source_is_io(&err) {
        return StoreError::Unavailable(format!("connection failed: {err}"));
    }
    StoreError::Backend(err.to_string())
}

/// A pool error (no connection could be had) as a store error.
pub(crate) fn pool(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(e) => match db(e) {
            StoreError::Backend(msg) => StoreError::Unavailable(msg),
            other => other,
        },
        other => StoreError::Unavailable(format!("connection pool: {other}")),
    }
}

fn source_is_io(err: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if inner.is::<std::io::Error>() {
            return true;
        }
        source = inner.source();
    }
    false
}

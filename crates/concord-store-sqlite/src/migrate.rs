//! Versioned migrations, applied in order on open, each in its own transaction.

use concord_store::{timestamp, StoreResult};
use rusqlite::{params, Connection};

use crate::error::backend;

/// (version, name, SQL), in order. Never edit a released migration; add a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "search_index",
        include_str!("../migrations/0002_search_index.sql"),
    ),
    (
        3,
        "search_lookup",
        include_str!("../migrations/0003_search_lookup.sql"),
    ),
    (4, "auth", include_str!("../migrations/0004_auth.sql")),
    (
        5,
        "merkle_log",
        include_str!("../migrations/0005_merkle_log.sql"),
    ),
    (
        6,
        "audit_log",
        include_str!("../migrations/0006_audit_log.sql"),
    ),
    (
        7,
        "search_owner_covering",
        include_str!("../migrations/0007_search_owner_covering.sql"),
    ),
    (
        8,
        "audit_links_upto",
        include_str!("../migrations/0008_audit_links_upto.sql"),
    ),
];

pub fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .map_err(backend)?;
    for (version, name, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(backend)?;
        if !done {
            tx.execute_batch(sql).map_err(backend)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![version, name, timestamp::now_millis()],
            )
            .map_err(backend)?;
            tracing::info!(version, name, "applied migration");
        }
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

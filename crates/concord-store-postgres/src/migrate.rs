//! Versioned schema migrations, embedded at build time and applied on start.
//!
//! Each migration runs in its own transaction, which first takes a
//! transaction-scoped advisory lock, so concurrent starters apply each one
//! exactly once and the others find it recorded in `schema_migrations`.

use concord_store::StoreError;
use deadpool_postgres::Pool;

use crate::error;

/// One migration: its version, name and SQL.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// All migrations, in order. Append only: never edit an applied one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "string_exact",
        sql: include_str!("../migrations/0002_string_exact.sql"),
    },
    Migration {
        version: 3,
        name: "search_lookup",
        sql: include_str!("../migrations/0003_search_lookup.sql"),
    },
    Migration {
        version: 4,
        name: "auth",
        sql: include_str!("../migrations/0004_auth.sql"),
    },
    Migration {
        version: 5,
        name: "merkle_log",
        sql: include_str!("../migrations/0005_merkle_log.sql"),
    },
    Migration {
        version: 6,
        name: "audit_log",
        sql: include_str!("../migrations/0006_audit_log.sql"),
    },
    Migration {
        version: 7,
        name: "search_owner_covering",
        sql: include_str!("../migrations/0007_search_owner_covering.sql"),
    },
    Migration {
        version: 8,
        name: "patient_timeline",
        sql: include_str!("../migrations/0008_patient_timeline.sql"),
    },
    Migration {
        version: 9,
        name: "tree_head_size",
        sql: include_str!("../migrations/0009_tree_head_size.sql"),
    },
    Migration {
        version: 10,
        name: "composite_number",
        sql: include_str!("../migrations/0010_composite_number.sql"),
    },
];

/// Advisory lock key for migrations ("concord\0" as an integer).
const LOCK_KEY: i64 = 0x636f_6e63_6f72_6400;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    bigint PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// Applies every migration not yet recorded. Returns how many were applied.
pub(crate) async fn run(pool: &Pool) -> Result<usize, StoreError> {
    let mut client = pool.get().await.map_err(error::pool)?;
    let mut applied = 0;
    for migration in MIGRATIONS {
        let tx = client.transaction().await.map_err(error::db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .await
            .map_err(error::db)?;
        tx.batch_execute(CREATE_TABLE).await.map_err(error::db)?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&migration.version],
            )
            .await
            .map_err(error::db)?
            .is_some();
        if done {
            tx.rollback().await.map_err(error::db)?;
            continue;
        }
        tx.batch_execute(migration.sql).await.map_err(error::db)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(error::db)?;
        tx.commit().await.map_err(error::db)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        applied += 1;
    }
    Ok(applied)
}

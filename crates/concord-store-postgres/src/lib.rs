//! PostgreSQL backend for the Concord store traits.
//!
//! [`PostgresStore::connect`] opens a connection pool and applies the embedded,
//! versioned migrations; the store then implements [`Store`] with the same
//! semantics as every other backend (checked by `concord_store::conformance`).
#![forbid(unsafe_code)]

mod audit;
mod auth;
mod changes;
mod commit;
mod dialect;
mod error;
mod find;
mod history;
mod index;
mod journal;
mod ledger;
mod merkle;
mod migrate;
mod plan;
mod read;
mod search;
#[cfg(test)]
mod sql_snapshots;
mod stamp;
pub mod tls;

use std::time::Duration;

use async_trait::async_trait;
use concord_store::audit_log::{is_audit_plan, AuditAppend, AuditLogRow, AUDIT_TYPE};
use concord_store::search::{SearchPage, SearchPlan};
use concord_store::{
    ChangeEvent, ChangeFeed, CommittedWrite, Criterion, HistoryPage, HistoryQuery, IndexRows,
    LedgerRow, LedgerStore, PendingWrite, ResourceStore, SearchStore, Store, StoreError,
    StoreResult, StoredVersion, TenantContext, TreeHead, VersionRow,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

/// Connections kept in the pool.
pub const POOL_SIZE: usize = 16;

/// A [`Store`] over a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's config holds the password: show only its status.
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db` or a key=value
    /// string), builds a pool of [`POOL_SIZE`] connections and applies any
    /// pending migrations.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        // The URL may hold a password: keep it out of the error.
        let parsed = tls::parse(url)?;
        let config: tokio_postgres::Config = parsed
            .config
            .parse()
            .map_err(|_| StoreError::Backend("invalid PostgreSQL connection string".into()))?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls::client_config(&parsed)? {
            Some(tls) => Manager::from_config(
                config,
                tokio_postgres_rustls::MakeRustlsConnect::new(tls),
                manager_config,
            ),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let timeouts = Timeouts {
            wait: Some(Duration::from_secs(30)),
            create: Some(Duration::from_secs(10)),
            recycle: Some(Duration::from_secs(5)),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .timeouts(timeouts)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build connection pool: {e}")))?;
        migrate::run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Whether this store's connections to the server are encrypted (TLS),
    /// as the server sees them (`pg_stat_ssl`).
    pub async fn connection_encrypted(&self) -> StoreResult<bool> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(format!("no connection: {e}")))?;
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .map_err(|e| StoreError::Backend(format!("pg_stat_ssl: {e}")))?;
        Ok(row.get(0))
    }

    /// The highest schema version this build knows (and has applied).
    pub fn schema_version() -> i64 {
        migrate::MIGRATIONS.last().map_or(0, |m| m.version)
    }

    /// Every migration version this build applies, in order (numbers may
    /// have gaps while concurrent branches land).
    pub fn schema_versions() -> Vec<i64> {
        migrate::MIGRATIONS.iter().map(|m| m.version).collect()
    }
}

#[async_trait]
impl ResourceStore for PostgresStore {
    async fn read(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> StoreResult<Option<StoredVersion>> {
        if resource_type == AUDIT_TYPE {
            return audit::read(&self.pool, &ctx.tenant, id).await;
        }
        read::read(&self.pool, &ctx.tenant, resource_type, id).await
    }

    async fn read_many(
        &self,
        ctx: &TenantContext,
        keys: &[(String, String)],
    ) -> StoreResult<Vec<Option<StoredVersion>>> {
        if !keys.iter().any(|(t, _)| t == AUDIT_TYPE) {
            return read::read_many(&self.pool, &ctx.tenant, keys).await;
        }
        // AuditEvents live in the audit log, not the resource table: read
        // those one by one, the rest as one page, and keep the order.
        let others: Vec<(String, String)> = keys
            .iter()
            .filter(|(t, _)| t != AUDIT_TYPE)
            .cloned()
            .collect();
        let mut found = read::read_many(&self.pool, &ctx.tenant, &others)
            .await?
            .into_iter();
        let mut out = Vec::with_capacity(keys.len());
        for (t, id) in keys {
            if t == AUDIT_TYPE {
                out.push(audit::read(&self.pool, &ctx.tenant, id).await?);
            } else {
                out.push(found.next().flatten());
            }
        }
        Ok(out)
    }

    async fn vread(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredVersion>> {
        if resource_type == AUDIT_TYPE {
            let v = audit::read(&self.pool, &ctx.tenant, id).await?;
            return Ok(v.filter(|_| version == 1));
        }
        read::vread(&self.pool, &ctx.tenant, resource_type, id, version).await
    }

    async fn history(&self, ctx: &TenantContext, query: &HistoryQuery) -> StoreResult<HistoryPage> {
        history::history(&self.pool, &ctx.tenant, query).await
    }

    async fn commit(
        &self,
        ctx: &TenantContext,
        writes: Vec<PendingWrite>,
    ) -> StoreResult<Vec<CommittedWrite>> {
        commit::commit(&self.pool, &ctx.tenant, writes).await
    }

    async fn find_ids(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        criteria: &[Criterion],
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        find::find_ids(&self.pool, &ctx.tenant, resource_type, criteria, limit).await
    }

    async fn index_rows(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> StoreResult<IndexRows> {
        index::read(&self.pool, &ctx.tenant, resource_type, id).await
    }

    async fn count_by_type(&self, ctx: &TenantContext) -> StoreResult<Vec<(String, u64)>> {
        read::count_by_type(&self.pool, &ctx.tenant).await
    }
}

#[async_trait]
impl SearchStore for PostgresStore {
    async fn search(&self, ctx: &TenantContext, plan: &SearchPlan) -> StoreResult<SearchPage> {
        if is_audit_plan(plan) {
            return audit::search(&self.pool, &ctx.tenant, plan).await;
        }
        search::search(&self.pool, &ctx.tenant, plan).await
    }

    async fn count(&self, ctx: &TenantContext, plan: &SearchPlan) -> StoreResult<u64> {
        if is_audit_plan(plan) {
            return audit::count(&self.pool, &ctx.tenant, plan).await;
        }
        search::count(&self.pool, &ctx.tenant, plan).await
    }

    async fn scan(
        &self,
        ctx: &TenantContext,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredVersion>> {
        search::scan(&self.pool, &ctx.tenant, after, limit).await
    }

    async fn replace_index_rows(
        &self,
        ctx: &TenantContext,
        rows: Vec<(String, String, IndexRows)>,
    ) -> StoreResult<()> {
        search::replace_index_rows(&self.pool, &ctx.tenant, &rows).await
    }

    async fn append_audit(
        &self,
        ctx: &TenantContext,
        events: std::sync::Arc<[AuditAppend]>,
    ) -> StoreResult<()> {
        audit::append(&self.pool, &ctx.tenant, &events).await
    }

    async fn refresh_statistics(&self) -> StoreResult<()> {
        search::analyze(&self.pool).await
    }
}

#[async_trait]
impl ChangeFeed for PostgresStore {
    async fn changes_after(
        &self,
        ctx: &TenantContext,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<ChangeEvent>> {
        changes::changes_after(&self.pool, &ctx.tenant, after, limit).await
    }
}

#[async_trait]
impl LedgerStore for PostgresStore {
    async fn ledger_rows(&self, from: i64, limit: usize) -> StoreResult<Vec<LedgerRow>> {
        merkle::rows(&self.pool, from, limit).await
    }

    async fn ledger_row_of(
        &self,
        tenant: &str,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<LedgerRow>> {
        merkle::row_of(&self.pool, tenant, resource_type, id, version).await
    }

    async fn version_rows(&self, after: i64, limit: usize) -> StoreResult<(Vec<VersionRow>, i64)> {
        merkle::versions(&self.pool, after, limit).await
    }

    async fn audit_log_rows(&self, after: i64, limit: usize) -> StoreResult<Vec<AuditLogRow>> {
        audit::rows(&self.pool, after, limit).await
    }

    async fn save_tree_head(&self, head: &TreeHead) -> StoreResult<()> {
        merkle::save_head(&self.pool, head).await
    }

    async fn tree_heads(&self) -> StoreResult<Vec<TreeHead>> {
        merkle::heads(&self.pool, false).await
    }

    async fn latest_tree_head(&self) -> StoreResult<Option<TreeHead>> {
        Ok(merkle::heads(&self.pool, true).await?.pop())
    }

    async fn tree_head_of_size(&self, tree_size: i64) -> StoreResult<Option<TreeHead>> {
        merkle::head_of_size(&self.pool, tree_size).await
    }
}

impl Store for PostgresStore {
    fn backend_name(&self) -> &'static str {
        "postgresql"
    }
}

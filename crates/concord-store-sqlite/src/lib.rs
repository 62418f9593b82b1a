//! Concord's embedded backend: one SQLite file in WAL mode, zero set-up.
//! All SQL for SQLite lives in this crate.
#![forbid(unsafe_code)]

mod audit;

/// Trail events whose patient links are written together (see `audit`).
pub use audit::LINK_EVERY as AUDIT_LINK_EVERY;
mod auth;
mod checkpoint;
mod commit;
mod dialect;
mod error;
pub mod floor;
mod group;
mod index;
mod key;
mod ledger;
mod migrate;
mod pool;
mod priority;
mod read;
mod search;
#[cfg(test)]
mod sql_snapshots;

use std::path::{Path, PathBuf};

use concord_store::audit_log::{is_audit_plan, AuditAppend, AuditLogRow, AUDIT_TYPE};
use std::sync::Arc;

use async_trait::async_trait;
use concord_store::search::{SearchPage, SearchPlan};
use concord_store::{
    ChangeEvent, ChangeFeed, CommittedWrite, Criterion, HistoryPage, HistoryQuery, IndexRows,
    LedgerRow, LedgerStore, PendingWrite, ResourceStore, SearchStore, Store, StoreError,
    StoreResult, StoredVersion, TenantContext, TreeHead, VersionRow,
};
use rusqlite::Connection;

pub use key::{rekey, DbKey};
use pool::Pool;

/// The SQLite store. Cheap to clone; one writer connection, a pool of readers.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        SqliteStore::open_with_key(path, None)
    }

    /// As [`SqliteStore::open`], for a database encrypted with SQLCipher
    /// under `key` (a new file is created encrypted). `None`: plain SQLite.
    pub fn open_with_key(path: impl AsRef<Path>, key: Option<DbKey>) -> StoreResult<SqliteStore> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let pool = Pool::open(path, key)?;
        Ok(SqliteStore {
            pool: Arc::new(pool),
        })
    }

    /// Runs a short lookup (a primary-key read, microseconds) on a reader
    /// connection right here: handing it to the blocking pool would cost more
    /// in thread switches than the read itself.
    fn read_inline<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        self.pool.with_reader(f)
    }

    /// Runs a closure on a reader connection off the async runtime.
    async fn with_reader<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || pool.with_reader(f))
            .await
            .map_err(|e| StoreError::Backend(format!("reader task failed: {e}")))?
    }
}

#[async_trait]
impl ResourceStore for SqliteStore {
    async fn read(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> StoreResult<Option<StoredVersion>> {
        if resource_type == AUDIT_TYPE {
            return self.read_inline(|c| audit::read(c, &ctx.tenant, id));
        }
        self.read_inline(|c| read::current(c, &ctx.tenant, resource_type, id))
    }

    /// On one reader connection, one cached statement (a page of 200
    /// costs one pool checkout, not 200).
    async fn read_many(
        &self,
        ctx: &TenantContext,
        keys: &[(String, String)],
    ) -> StoreResult<Vec<Option<StoredVersion>>> {
        self.read_inline(|c| {
            keys.iter()
                .map(|(t, id)| {
                    // AuditEvents live in the audit log, not the resource table.
                    if t == AUDIT_TYPE {
                        audit::read(c, &ctx.tenant, id)
                    } else {
                        read::current(c, &ctx.tenant, t, id)
                    }
                })
                .collect()
        })
    }

    async fn vread(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredVersion>> {
        if resource_type == AUDIT_TYPE {
            let v = self.read_inline(|c| audit::read(c, &ctx.tenant, id))?;
            return Ok(v.filter(|_| version == 1));
        }
        self.read_inline(|c| read::version(c, &ctx.tenant, resource_type, id, version))
    }

    async fn history(&self, ctx: &TenantContext, query: &HistoryQuery) -> StoreResult<HistoryPage> {
        let (tenant, query) = (ctx.tenant.clone(), query.clone());
        self.with_reader(move |c| read::history(c, &tenant, &query))
            .await
    }

    async fn commit(
        &self,
        ctx: &TenantContext,
        writes: Vec<PendingWrite>,
    ) -> StoreResult<Vec<CommittedWrite>> {
        // Queued for the writer thread's group commit (see `group`):
        // answered after the shared COMMIT of the group that takes it.
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.pool
            .queue()
            .push(group::Job::new(ctx.tenant.clone(), writes, reply))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("commit answer lost".into()))?
    }

    async fn find_ids(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        criteria: &[Criterion],
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let (tenant, rt, criteria) = (
            ctx.tenant.clone(),
            resource_type.to_string(),
            criteria.to_vec(),
        );
        self.with_reader(move |c| read::find_ids(c, &tenant, &rt, &criteria, limit))
            .await
    }

    async fn index_rows(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> StoreResult<IndexRows> {
        let (tenant, rt, id) = (
            ctx.tenant.clone(),
            resource_type.to_string(),
            id.to_string(),
        );
        self.with_reader(move |c| index::read(c, &tenant, &rt, &id))
            .await
    }

    async fn count_by_type(&self, ctx: &TenantContext) -> StoreResult<Vec<(String, u64)>> {
        let tenant = ctx.tenant.clone();
        self.with_reader(move |c| read::count_by_type(c, &tenant))
            .await
    }
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(&self, ctx: &TenantContext, plan: &SearchPlan) -> StoreResult<SearchPage> {
        let (tenant, plan) = (ctx.tenant.clone(), plan.clone());
        if is_audit_plan(&plan) {
            return self
                .with_reader(move |c| audit::search(c, &tenant, &plan))
                .await;
        }
        self.with_reader(move |c| search::search(c, &tenant, &plan))
            .await
    }

    async fn count(&self, ctx: &TenantContext, plan: &SearchPlan) -> StoreResult<u64> {
        let (tenant, plan) = (ctx.tenant.clone(), plan.clone());
        if is_audit_plan(&plan) {
            return self
                .with_reader(move |c| audit::count(c, &tenant, &plan))
                .await;
        }
        self.with_reader(move |c| search::count(c, &tenant, &plan))
            .await
    }

    async fn scan(
        &self,
        ctx: &TenantContext,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredVersion>> {
        let tenant = ctx.tenant.clone();
        self.with_reader(move |c| search::scan(c, &tenant, after.as_ref(), limit))
            .await
    }

    async fn replace_index_rows(
        &self,
        ctx: &TenantContext,
        rows: Vec<(String, String, IndexRows)>,
    ) -> StoreResult<()> {
        let pool = self.pool.clone();
        let tenant = ctx.tenant.clone();
        tokio::task::spawn_blocking(move || {
            pool.with_writer(|w| {
                let tx = w.conn.transaction().map_err(error::backend)?;
                for (rt, id, rows) in &rows {
                    search::replace_index_rows(&tx, &tenant, rt, id, rows)?;
                }
                tx.commit().map_err(error::backend)
            })
        })
        .await
        .map_err(|e| StoreError::Backend(format!("writer task failed: {e}")))?
    }

    async fn append_audit(
        &self,
        ctx: &TenantContext,
        events: Arc<[AuditAppend]>,
    ) -> StoreResult<()> {
        let pool = self.pool.clone();
        let tenant = ctx.tenant.clone();
        tokio::task::spawn_blocking(move || {
            pool.with_writer(|w| audit::append(w, &tenant, &events))
        })
        .await
        .map_err(|e| StoreError::Backend(format!("writer task failed: {e}")))?
    }
}

#[async_trait]
impl ChangeFeed for SqliteStore {
    async fn changes_after(
        &self,
        ctx: &TenantContext,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<ChangeEvent>> {
        let tenant = ctx.tenant.clone();
        self.with_reader(move |c| read::changes_after(c, &tenant, after, limit))
            .await
    }
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn ledger_rows(&self, from: i64, limit: usize) -> StoreResult<Vec<LedgerRow>> {
        self.with_reader(move |c| ledger::rows(c, from, limit))
            .await
    }

    async fn ledger_row_of(
        &self,
        tenant: &str,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<LedgerRow>> {
        self.read_inline(|c| ledger::row_of(c, tenant, resource_type, id, version))
    }

    async fn version_rows(&self, after: i64, limit: usize) -> StoreResult<(Vec<VersionRow>, i64)> {
        self.with_reader(move |c| ledger::versions(c, after, limit))
            .await
    }

    async fn audit_log_rows(&self, after: i64, limit: usize) -> StoreResult<Vec<AuditLogRow>> {
        self.with_reader(move |c| audit::rows(c, after, limit))
            .await
    }

    async fn save_tree_head(&self, head: &TreeHead) -> StoreResult<()> {
        let pool = self.pool.clone();
        let head = head.clone();
        tokio::task::spawn_blocking(move || pool.with_writer(|w| ledger::save_head(&w.conn, &head)))
            .await
            .map_err(|e| StoreError::Backend(format!("writer task failed: {e}")))?
    }

    async fn tree_heads(&self) -> StoreResult<Vec<TreeHead>> {
        self.with_reader(ledger::heads).await
    }

    async fn latest_tree_head(&self) -> StoreResult<Option<TreeHead>> {
        self.read_inline(ledger::latest_head)
    }

    async fn tree_head_of_size(&self, tree_size: i64) -> StoreResult<Option<TreeHead>> {
        self.read_inline(|c| ledger::head_of_size(c, tree_size))
    }
}

impl Store for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}

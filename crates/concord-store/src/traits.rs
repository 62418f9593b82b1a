//! The traits each backend implements.

use async_trait::async_trait;

use crate::search::{SearchPage, SearchPlan};
use crate::{
    ChangeEvent, CommittedWrite, Criterion, HistoryPage, HistoryQuery, IndexRows, PendingWrite,
    StoreResult, StoredVersion, TenantContext,
};

/// Resource versions: read, history and atomic commits.
#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// The current version (possibly a delete), or `None` if never created.
    async fn read(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> StoreResult<Option<StoredVersion>>;

    /// The current versions of several resources, in the order asked
    /// (`None` where never created): one round trip instead of one per
    /// resource, for a search's page.
    async fn read_many(
        &self,
        ctx: &TenantContext,
        keys: &[(String, String)],
    ) -> StoreResult<Vec<Option<StoredVersion>>> {
        let mut out = Vec::with_capacity(keys.len());
        for (t, id) in keys {
            out.push(self.read(ctx, t, id).await?);
        }
        Ok(out)
    }

    /// One version of a resource, or `None`.
    async fn vread(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredVersion>>;

    /// Versions newest first, paged by cursor (stable while new writes arrive).
    async fn history(&self, ctx: &TenantContext, query: &HistoryQuery) -> StoreResult<HistoryPage>;

    /// Applies all writes in one database transaction, in order: all or nothing.
    /// Each version is written with its history row, index rows, an outbox event
    /// and a ledger entry.
    async fn commit(
        &self,
        ctx: &TenantContext,
        writes: Vec<PendingWrite>,
    ) -> StoreResult<Vec<CommittedWrite>>;

    /// Ids of live resources of a type matching every criterion, at most `limit`.
    async fn find_ids(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        criteria: &[Criterion],
        limit: usize,
    ) -> StoreResult<Vec<String>>;

    /// The search-index and compartment rows stored for a resource's current
    /// version (empty when deleted or never created); for reindex checks and
    /// the conformance suite. Row order is unspecified.
    async fn index_rows(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> StoreResult<IndexRows>;

    /// Live (not deleted) resources per type, sorted by type.
    async fn count_by_type(&self, ctx: &TenantContext) -> StoreResult<Vec<(String, u64)>>;
}

/// The committed change feed (the outbox), for consumers with their own cursor.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Events with a sequence greater than `after`, oldest first, at most `limit`.
    async fn changes_after(
        &self,
        ctx: &TenantContext,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<ChangeEvent>>;
}

/// Search over the index rows of current versions.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// One page of live resources matching the plan, in its order.
    async fn search(&self, ctx: &TenantContext, plan: &SearchPlan) -> StoreResult<SearchPage>;

    /// How many live resources match the plan (sort and page ignored).
    async fn count(&self, ctx: &TenantContext, plan: &SearchPlan) -> StoreResult<u64>;

    /// Current versions of live resources ordered by (type, id), after the
    /// key `after` (from the start when `None`), at most `limit`: for
    /// `concord reindex`.
    async fn scan(
        &self,
        ctx: &TenantContext,
        after: Option<(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredVersion>>;

    /// Replaces the index rows of live resources' current versions, in one
    /// transaction (no new version, no ledger entry: index rows are derived
    /// data). Resources deleted meanwhile are skipped.
    async fn replace_index_rows(
        &self,
        ctx: &TenantContext,
        rows: Vec<(String, String, IndexRows)>,
    ) -> StoreResult<()>;

    /// Appends AuditEvents to the compact audit log ([`crate::audit_log`])
    /// in one transaction, with one ledger leaf for the whole batch. Audit
    /// rows are never updated or deleted. `read`, `vread`, `search` and
    /// `count` of type `AuditEvent` are served from this log.
    async fn append_audit(
        &self,
        ctx: &TenantContext,
        events: std::sync::Arc<[crate::audit_log::AuditAppend]>,
    ) -> StoreResult<()>;

    /// Brings the database's planner statistics up to date after a bulk
    /// load. A cost-based planner that has not seen a tenant's rows (a new
    /// tenant in a shared database, a first import) may estimate one row
    /// per table and pick nested loops that never finish on chains. The
    /// default does nothing: SQLite keeps no statistics here and its
    /// queries are written for its rule-based choices.
    async fn refresh_statistics(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Everything a backend provides.
pub trait Store: ResourceStore + SearchStore + ChangeFeed + crate::LedgerStore {
    /// A short name for logs and the CapabilityStatement ("sqlite", "postgresql").
    fn backend_name(&self) -> &'static str;
}

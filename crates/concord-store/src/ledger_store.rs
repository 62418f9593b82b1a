//! The Merkle log over the ledger, as a backend provides it: ledger rows in
//! leaf order, stored resource versions to recompute them from, and signed
//! tree heads. The log spans every tenant: one tree per database.

use async_trait::async_trait;

use crate::StoreResult;

/// One ledger row: a leaf of the Merkle log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// Position in the log (0-based, no gaps in an intact log).
    pub leaf_index: i64,
    pub tenant: String,
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    pub content_hash: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub entry_hash: Vec<u8>,
}

/// One stored resource version, as `concord verify` re-hashes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub tenant: String,
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    /// The stored JSON text (`None` for a delete).
    pub content: Option<String>,
}

/// A signed tree head: the root of the first `tree_size` leaves, signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    /// Milliseconds since the epoch, UTC.
    pub issued_at: i64,
    /// Ed25519 signature over [`crate::ledger::tree_head_message`].
    pub signature: Vec<u8>,
}

/// Reading the Merkle log and keeping signed tree heads.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Ledger rows with `leaf_index >= from`, in leaf order, at most `limit`.
    async fn ledger_rows(&self, from: i64, limit: usize) -> StoreResult<Vec<LedgerRow>>;

    /// The ledger row of one resource version, if any.
    async fn ledger_row_of(
        &self,
        tenant: &str,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<LedgerRow>>;

    /// Stored resource versions of every tenant, in storage order, after the
    /// cursor `after` (0 for the start); returns the rows and the next cursor.
    async fn version_rows(&self, after: i64, limit: usize) -> StoreResult<(Vec<VersionRow>, i64)>;

    /// Audit-log rows of every tenant with `seq > after`, in sequence
    /// order, at most `limit` (`concord verify` re-hashes each batch).
    async fn audit_log_rows(
        &self,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<crate::audit_log::AuditLogRow>>;

    /// Stores a signed tree head.
    async fn save_tree_head(&self, head: &TreeHead) -> StoreResult<()>;

    /// Every stored tree head, oldest first.
    async fn tree_heads(&self) -> StoreResult<Vec<TreeHead>>;

    /// The newest stored tree head.
    async fn latest_tree_head(&self) -> StoreResult<Option<TreeHead>>;

    /// The newest stored tree head over exactly `tree_size` leaves.
    async fn tree_head_of_size(&self, tree_size: i64) -> StoreResult<Option<TreeHead>>;
}

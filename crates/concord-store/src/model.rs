//! The values that cross the store boundary.

use serde_json::Value;

/// What a write does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A new resource; fails with `AlreadyExists` if the id was ever used.
    Create,
    /// A new version (or the first one, for create-on-update).
    Update,
    /// A logical delete: a new, deleted version; history keeps the old ones.
    Delete,
}

impl WriteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteKind::Create => "create",
            WriteKind::Update => "update",
            WriteKind::Delete => "delete",
        }
    }

    pub fn parse(text: &str) -> Option<WriteKind> {
        match text {
            "create" => Some(WriteKind::Create),
            "update" => Some(WriteKind::Update),
            "delete" => Some(WriteKind::Delete),
            _ => None,
        }
    }
}

/// A check the store makes inside the write transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    None,
    /// The current version must be exactly this (`If-Match`).
    VersionIs(i64),
}

/// One token index value (system, code) for a search parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIndex {
    pub param: String,
    pub system: Option<String>,
    pub code: String,
}

/// The search-index rows of one resource version, written in the same
/// transaction as the version itself. The search layer fills more kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexRows {
    pub tokens: Vec<TokenIndex>,
}

/// One write of a commit.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub resource_type: String,
    pub id: String,
    pub kind: WriteKind,
    pub precondition: Precondition,
    /// The resource for create/update (its `meta.versionId` and `meta.lastUpdated`
    /// are set by the store); `None` for delete.
    pub resource: Option<Value>,
    pub index: IndexRows,
}

/// What became of one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Updated,
    Deleted,
    /// A delete of something already deleted or never there: nothing written.
    NoOp,
}

/// The result of one write in a commit.
#[derive(Debug, Clone)]
pub struct CommittedWrite {
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    pub last_updated: i64,
    pub outcome: WriteOutcome,
    /// The stored JSON text (with meta), for create/update.
    pub content: Option<String>,
}

/// One stored version of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    /// Milliseconds since the epoch, UTC.
    pub last_updated: i64,
    pub kind: WriteKind,
    /// JSON text of the version (with meta); `None` for a delete.
    pub content: Option<String>,
}

impl StoredVersion {
    pub fn is_deleted(&self) -> bool {
        self.kind == WriteKind::Delete
    }
}

/// A history request: system (no type), type, or instance (type and id).
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub resource_type: Option<String>,
    pub id: Option<String>,
    /// Only versions updated at or after this instant (ms).
    pub since: Option<i64>,
    /// Page size.
    pub count: usize,
    /// Opaque position from a previous page's `next_cursor`.
    pub cursor: Option<i64>,
}

/// One entry of a history page, newest first.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub version: StoredVersion,
}

#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Cursor of the next (older) page, if there is one.
    pub next_cursor: Option<i64>,
    /// Number of versions matching the query (all pages).
    pub total: u64,
}

/// A criterion for conditional create/update/delete (the search layer adds more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    Id(String),
    /// Token match on an indexed parameter; `system: None` matches any system,
    /// `Some("")` matches values without a system.
    Token {
        param: String,
        system: Option<String>,
        code: String,
    },
}

/// A committed change, from the outbox, in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    pub sequence: i64,
    pub tenant: String,
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    pub kind: WriteKind,
    pub at: i64,
}

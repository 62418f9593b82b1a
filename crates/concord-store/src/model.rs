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

/// One string index value: `value` normalized by the search layer
/// (lowercase, accents removed, whitespace collapsed) for the default and
/// `:contains` matches, `exact` as written for `:exact`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringIndex {
    pub param: String,
    pub value: String,
    pub exact: String,
}

/// One date index value: the instant range `[low, high]` (ms since the
/// epoch, UTC, both inclusive) a date, dateTime, Period or Timing covers.
/// Open ends are [`DateIndex::MIN`] / [`DateIndex::MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateIndex {
    pub param: String,
    pub low: i64,
    pub high: i64,
}

impl DateIndex {
    /// The open lower end (an unbounded Period start): year -9999.
    pub const MIN: i64 = -377_705_116_800_000;
    /// The open upper end (an unbounded Period end): the end of year 9999.
    pub const MAX: i64 = 253_402_300_799_999;
}

/// One reference index value. A relative reference has `target_type` and
/// `target_id`; an absolute one keeps its `url` too (and type/id when the URL
/// ends in `Type/id`); a canonical or unparseable one has only `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceIndex {
    pub param: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub url: Option<String>,
}

/// One quantity index value. The search layer also writes a second row in
/// UCUM canonical units when it knows the conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityIndex {
    pub param: String,
    pub value: f64,
    pub system: Option<String>,
    pub code: Option<String>,
}

/// One number index value.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberIndex {
    pub param: String,
    pub value: f64,
}

/// One uri index value (as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriIndex {
    pub param: String,
    pub value: String,
}

/// One composite index value: the component values joined by the search
/// layer, and the value of its one number or quantity component (if the
/// composite has exactly one), which prefixes compare.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeIndex {
    pub param: String,
    pub value: String,
    pub number: Option<f64>,
}

/// Full-text words of a resource for `_text` (the narrative) or `_content`
/// (its text, see `concord_search::extract::fulltext`): normalized words separated by single spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullTextIndex {
    pub param: String,
    pub words: String,
}

/// Membership of the resource in a compartment (`Patient/123`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentIndex {
    pub compartment_type: String,
    pub compartment_id: String,
}

/// The search-index rows of one resource version, written in the same
/// transaction as the version itself (and replaced by the next version).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexRows {
    pub tokens: Vec<TokenIndex>,
    pub strings: Vec<StringIndex>,
    pub dates: Vec<DateIndex>,
    pub references: Vec<ReferenceIndex>,
    pub quantities: Vec<QuantityIndex>,
    pub numbers: Vec<NumberIndex>,
    pub uris: Vec<UriIndex>,
    pub composites: Vec<CompositeIndex>,
    pub compartments: Vec<CompartmentIndex>,
    /// At most one row each for `_text` and `_content`.
    pub fulltext: Vec<FullTextIndex>,
}

impl IndexRows {
    /// Total number of rows of every kind.
    pub fn len(&self) -> usize {
        self.tokens.len()
            + self.strings.len()
            + self.dates.len()
            + self.references.len()
            + self.quantities.len()
            + self.numbers.len()
            + self.uris.len()
            + self.composites.len()
            + self.compartments.len()
            + self.fulltext.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The search parameter whose targets a [`TimelineRow`] is kept for.
pub const TIMELINE_REFERENCE: &str = "patient";
/// The date search parameter a [`TimelineRow`] orders by.
pub const TIMELINE_DATE: &str = "date";

/// One row of the patient timeline: a resource that refers to `target_id`
/// through its `patient` search parameter, with the largest `high` of its
/// `date` rows (`newest`; [`i64::MIN`], the "no value" of a descending
/// sort, when it has none). Backends keep these rows in a table ordered by
/// (type, target, newest), so `X?patient=P&_sort=-date&_count=N` reads
/// the patient's N newest resources instead of sorting all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    pub target_id: String,
    pub newest: i64,
}

impl IndexRows {
    /// The timeline rows these index rows imply (one per distinct target
    /// of the `patient` parameter), derived here so that both backends and
    /// their migrations agree on them.
    pub fn timeline(&self) -> Vec<TimelineRow> {
        let newest = self
            .dates
            .iter()
            .filter(|d| d.param == TIMELINE_DATE)
            .map(|d| d.high)
            .max()
            .unwrap_or(i64::MIN);
        let mut targets: Vec<&str> = self
            .references
            .iter()
            .filter(|r| r.param == TIMELINE_REFERENCE)
            .filter_map(|r| r.target_id.as_deref())
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets
            .into_iter()
            .map(|t| TimelineRow {
                target_id: t.to_string(),
                newest,
            })
            .collect()
    }
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

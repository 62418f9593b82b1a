//! Concord's use cases. Every change to clinical data goes through [`Engine`]:
//! validate → persist (version, history, index rows, outbox, ledger in one
//! transaction). Reads go through it too, so later layers (authorization,
//! audit) have one place to stand.
#![forbid(unsafe_code)]

mod access;
pub mod audit;
mod bundle;
mod engine;
mod error;
mod index;
mod lock;
pub use lock::is_signed_status;
pub mod ledger;
pub mod policy;
mod read;
mod references;
mod reindex;
pub use reindex::REINDEX_BATCH;
pub mod search;
mod write;

pub use bundle::{BundleKind, EntryResponse, EntryStatus};
pub use engine::{Engine, DEFAULT_SEARCH_BUDGET};
pub use error::{CoreError, CoreResult};
pub use index::IndexPolicy;
pub use search::{Handling, SearchOutcome, SearchRequest};
pub use write::WriteResult;

/// A new server-assigned id: a UUID version 7 (36 characters, a valid FHIR
/// id). Time-ordered — an id sorts after every id issued before it — so a
/// new resource's index rows go to the end of their b-tree ranges instead
/// of random pages (docs/architecture.md point 24).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The version in an ETag / `If-Match` value: `W/"3"`, `"3"` or `3`.
pub fn parse_etag(tag: &str) -> Option<i64> {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    let t = t.trim_matches('"');
    t.parse().ok().filter(|v| *v > 0)
}

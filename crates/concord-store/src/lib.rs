//! Storage contract for Concord: every backend implements these traits, and
//! every caller passes a [`TenantContext`] so tenant and actor travel with each call.
#![forbid(unsafe_code)]

pub mod access;
pub mod audit_log;
pub mod audit_record;
pub mod auth;
mod context;
mod error;
pub mod ledger;
mod ledger_store;
pub mod merkle;
pub mod meta;
mod model;
pub mod search;
pub mod timestamp;
mod traits;

#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod conformance_auth;

pub use access::{AccessPolicy, Confinement, Denied, WriteAccess};
pub use auth::{AuthStore, ClientRecord, GrantRecord, SigningKeyRecord, UserRecord};
pub use context::{Actor, TenantContext, DEFAULT_TENANT};
pub use error::{StoreError, StoreResult};
pub use ledger_store::{LedgerRow, LedgerStore, TreeHead, VersionRow};
pub use model::{
    ChangeEvent, CommittedWrite, CompartmentIndex, CompositeIndex, Criterion, DateIndex,
    FullTextIndex, HistoryEntry, HistoryPage, HistoryQuery, IndexRows, NumberIndex, PendingWrite,
    Precondition, QuantityIndex, ReferenceIndex, StoredVersion, StringIndex, TimelineRow,
    TokenIndex, UriIndex, WriteKind, WriteOutcome, TIMELINE_DATE, TIMELINE_REFERENCE,
};
pub use traits::{ChangeFeed, ResourceStore, SearchStore, Store};

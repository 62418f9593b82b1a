//! The access policy every store call can carry (in [`crate::TenantContext`]).
//!
//! The store never consults it; `concord-core` does, at its one read path
//! (reads, searches, includes, history) and its one write path (every
//! commit), so no route can skip it. The policy itself (roles, scopes,
//! patient compartments, care team, consent) is implemented above the core
//! (`concord-api`); here is only its shape.

use std::fmt::Debug;

use serde_json::Value;

use crate::search::Condition;

/// A write, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAccess {
    Create,
    Update,
    Delete,
}

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The caller may not even read the target: answer as if it did not exist (404).
    Hidden,
    /// The caller may read it but not do this (403), with a reason safe to show.
    Forbidden(String),
}

/// How a search level is confined.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Confinement {
    /// The types to search instead (only when the level named none, i.e.
    /// every type, and some are off limits).
    pub types: Option<Vec<String>>,
    /// A condition every match must also meet (`None`: no extra condition).
    pub condition: Option<Condition>,
}

/// The caller's access, decided without I/O (everything the decisions need
/// is loaded before the request reaches the core).
pub trait AccessPolicy: Send + Sync + Debug {
    /// Confines one search level over `types` (empty: every type): the
    /// searched type, a chain's targets, a `_has` source, an `_include`.
    /// `Err` (a reason safe to show) when a named type may not be searched.
    fn confine(&self, types: &[String]) -> Result<Confinement, String>;

    /// May the caller read this resource (a current or an old version)?
    fn may_read(&self, resource_type: &str, resource: &Value) -> bool;

    /// May the caller make this write? `current` is the live version (none
    /// for a create), `proposed` the new content (none for a delete).
    fn may_write(
        &self,
        access: WriteAccess,
        resource_type: &str,
        current: Option<&Value>,
        proposed: Option<&Value>,
    ) -> Result<(), Denied>;

    /// Whether totals over unfiltered data (history) may be shown.
    fn sees_everything(&self) -> bool;

    /// Who is acting, for the store context (logs, audit).
    fn actor(&self) -> crate::Actor;
}

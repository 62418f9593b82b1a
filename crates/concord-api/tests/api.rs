//! Concord's FHIR REST API over real HTTP: one test binary, one module per area.
//! Every test spawns the production router (`concord_testkit::TestApp`) over a
//! fresh temporary store.

#[path = "api/common.rs"]
mod common;

#[path = "api/brute/mod.rs"]
mod brute;

#[path = "api/audit.rs"]
mod audit;
#[path = "api/bundles.rs"]
mod bundles;
#[path = "api/concurrency.rs"]
mod concurrency;
#[path = "api/conditional.rs"]
mod conditional;
#[path = "api/content.rs"]
mod content;
#[path = "api/corpus.rs"]
mod corpus;
#[path = "api/crud.rs"]
mod crud;
#[path = "api/headers.rs"]
mod headers;
#[path = "api/history.rs"]
mod history;
#[path = "api/hostile.rs"]
mod hostile;
#[path = "api/locks.rs"]
mod locks;
#[path = "api/metadata.rs"]
mod metadata;
#[path = "api/search_basics.rs"]
mod search_basics;
#[path = "api/search_conformance.rs"]
mod search_conformance;
#[path = "api/search_hostile.rs"]
mod search_hostile;
#[path = "api/search_matched_order.rs"]
mod search_matched_order;
#[path = "api/search_timeline.rs"]
mod search_timeline;
#[path = "api/validation.rs"]
mod validation;

// SMART on FHIR end to end (the authorization server and the bearer guard),
// here so the crate has one test binary.
#[path = "smart/mod.rs"]
mod smart;

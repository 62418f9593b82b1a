//! SMART on FHIR end to end: the authorization server and the bearer guard
//! over a real spawned server (`TestApp::spawn_with_auth`).

#[path = "smart/common.rs"]
mod common;

#[path = "smart/care.rs"]
mod care;
#[path = "smart/consent.rs"]
mod consent;

#[path = "smart/access.rs"]
mod access;
#[path = "smart/audit.rs"]
mod audit;
#[path = "smart/backend.rs"]
mod backend;
#[path = "smart/discovery.rs"]
mod discovery;
#[path = "smart/errors.rs"]
mod errors;
#[path = "smart/flow.rs"]
mod flow;
#[path = "smart/guard.rs"]
mod guard;
#[path = "smart/matrix.rs"]
mod matrix;
#[path = "smart/python.rs"]
mod python;
#[path = "smart/transport.rs"]
mod transport;

//! SMART on FHIR end to end: the authorization server and the bearer guard
//! over a real spawned server (`TestApp::spawn_with_auth`).

mod common;

mod care;
mod consent;

mod access;
mod audit;
mod backend;
mod discovery;
mod errors;
mod flow;
mod guard;
mod matrix;
mod python;
mod transport;

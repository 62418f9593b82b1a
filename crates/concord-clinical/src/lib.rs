//! Clinical workflow logic for the clinician workspace (issue 5).
//!
//! Every function here is pure: it takes plain values or FHIR JSON and returns
//! FHIR JSON (or a [`ClinicalError`] with a readable message). Storing,
//! authorising and auditing is the caller's job (the web pages hand the
//! resources to `concord-core`'s `Engine`, the same write path as the API).
#![forbid(unsafe_code)]

pub mod error;
pub mod icd10;
pub mod inbox;
pub mod notes;
pub mod orders;
pub mod rx;
pub mod schedule;
pub mod tasks;
mod util;

pub use error::ClinicalError;

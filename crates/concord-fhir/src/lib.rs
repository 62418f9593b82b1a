//! FHIR R4 (4.0.1) knowledge for Concord: the resource types, identifiers,
//! and the OperationOutcome builder every layer uses to report problems.
#![forbid(unsafe_code)]

pub mod compartments;
pub mod definitions;
pub mod ids;
pub mod outcome;
pub mod resource_types;

pub use outcome::{Issue, IssueType, Severity};
pub use resource_types::{is_resource_type, RESOURCE_TYPES};

/// The FHIR version this build implements.
pub const FHIR_VERSION: &str = "4.0.1";

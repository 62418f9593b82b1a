//! Validation of FHIR R4 resources (JSON) against the base R4 definitions.
//!
//! [`validate_resource`] walks a resource against the StructureDefinition
//! snapshots compiled into `concord-fhir` and reports every problem at once,
//! each with a FHIRPath-style `expression` such as `Patient.name[0].given[1]`.
#![forbid(unsafe_code)]

mod bindings;
mod datetime;
mod extensions;
pub mod invariants;
mod primitives;
mod references;
mod rules;
mod walker;
mod xhtml;

use concord_fhir::Issue;
use invariants::{FhirPathInvariants, InvariantChecker};
use serde_json::Value;

/// Validates one resource, structure and the R4 FHIRPath invariants, and
/// returns every problem found (errors and warnings). An empty result, or
/// one with only warnings, means the resource may be stored.
pub fn validate_resource(resource: &Value) -> Vec<Issue> {
    static CHECKER: FhirPathInvariants = FhirPathInvariants::new();
    validate_resource_with(resource, &CHECKER)
}

/// As [`validate_resource`], with another invariant checker
/// ([`invariants::NoInvariants`] for structure only, or
/// [`FhirPathInvariants::recording`] to collect evaluation errors); it is
/// called for every element instance visited.
pub fn validate_resource_with(resource: &Value, invariants: &dyn InvariantChecker) -> Vec<Issue> {
    walker::Walker::new(invariants).run(resource)
}

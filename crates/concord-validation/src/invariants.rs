//! The seam for FHIRPath invariants (`ele-1` aside, which the walker checks
//! directly). A later change plugs a FHIRPath engine in here; until then the
//! default checker does nothing.

use concord_fhir::Issue;
use serde_json::{Map, Value};

/// Called once for every object the walker visits (resources, datatypes and
/// backbone elements), after its structure has been checked.
pub trait InvariantChecker {
    /// `type_name` is the StructureDefinition holding the element, `element`
    /// the element's path within it (`""` for the type's root), `expression`
    /// the FHIRPath location of `object` in the resource.
    fn check(
        &self,
        type_name: &str,
        element: &str,
        expression: &str,
        object: &Map<String, Value>,
        issues: &mut Vec<Issue>,
    );
}

/// The default: no FHIRPath invariants are evaluated yet.
pub struct NoInvariants;

impl InvariantChecker for NoInvariants {
    fn check(&self, _: &str, _: &str, _: &str, _: &Map<String, Value>, _: &mut Vec<Issue>) {}
}

//! Type specifiers (`is`, `as`, `ofType`) against System and FHIR types.

use crate::ast::TypeSpec;
use crate::error::{FhirPathError, Result};
use crate::types::Item;
use concord_fhir::definitions::definitions;

const SYSTEM_TYPES: &[&str] = &[
    "Boolean", "String", "Integer", "Long", "Decimal", "Date", "DateTime", "Time", "Quantity",
];

/// A resolved type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeRef {
    System(&'static str),
    Fhir(&'static str),
    /// A qualified name that exists nowhere: matches nothing.
    Nothing,
}

pub fn resolve(spec: &TypeSpec) -> Result<TypeRef> {
    let system = || {
        SYSTEM_TYPES
            .iter()
            .find(|s| **s == spec.name)
            .map(|s| TypeRef::System(s))
    };
    let fhir = || {
        definitions()
            .type_def(&spec.name)
            .map(|t| TypeRef::Fhir(t.name.as_str()))
    };
    match spec.namespace.as_deref() {
        Some("System") => Ok(system().unwrap_or(TypeRef::Nothing)),
        Some("FHIR") => Ok(fhir().unwrap_or(TypeRef::Nothing)),
        Some(ns) => Err(FhirPathError::exec(format!(
            "unknown type namespace '{ns}' in {spec}"
        ))),
        None => fhir()
            .or_else(system)
            .ok_or_else(|| FhirPathError::exec(format!("unknown type '{spec}'"))),
    }
}

/// Does `item` have type `t`? `exact` (as/ofType) matches primitives only
/// by their own type; `is` also accepts derived types (`code` is a `string`).
pub fn matches(item: &Item, t: TypeRef, exact: bool) -> bool {
    match (item, t) {
        (_, TypeRef::Nothing) => false,
        (Item::Node(n), TypeRef::Fhir(name)) => {
            if n.ty.name.is_empty() {
                return false;
            }
            if exact && n.ty.is_primitive() {
                n.ty.name == name
            } else {
                n.ty.derives_from(name)
            }
        }
        (Item::Node(n), TypeRef::System(name)) => {
            n.ty.name.is_empty() && item.type_name().1 == name
        }
        (Item::Quantity(_), TypeRef::Fhir("Quantity")) => true,
        (_, TypeRef::Fhir(_)) => false,
        (_, TypeRef::System(name)) => item.type_name().1 == name,
    }
}

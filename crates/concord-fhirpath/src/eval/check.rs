//! Strict-mode static check: follows simple paths (`Observation.value as
//! Period).unit`) through the R4 definitions and rejects names that no
//! possible type of the path has.

use super::navigate::child_type;
use super::typing::{resolve, TypeRef};
use crate::ast::{Expr, Node, TypeOp};
use crate::error::{FhirPathError, Result};
use crate::types::FhirType;
use concord_fhir::definitions::{definitions, Kind};

/// The possible types of `e` when evaluated on `root`; `None` = unknown.
fn types_of(e: &Expr, root: Option<FhirType>) -> Result<Option<Vec<FhirType>>> {
    match &e.node {
        Node::Member(None, name) => {
            let is_type = definitions()
                .type_def(name)
                .is_some_and(|t| t.kind == Kind::Resource);
            if is_type && name.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Ok(Some(vec![FhirType::named(name)]));
            }
            match root {
                Some(r) => step(&[r], name, e.pos),
                None => Ok(None),
            }
        }
        Node::Member(Some(t), name) => match types_of(t, root)? {
            Some(ts) if !ts.is_empty() => step(&ts, name, e.pos),
            _ => Ok(None),
        },
        Node::Type {
            op: TypeOp::As | TypeOp::OfType,
            spec,
            target,
            ..
        } => {
            if let Some(t) = target {
                types_of(t, root)?;
            }
            Ok(match resolve(spec) {
                Ok(TypeRef::Fhir(n)) => Some(vec![FhirType::named(n)]),
                _ => None,
            })
        }
        _ => Ok(None),
    }
}

/// The types reached by `.name` from any of `from`.
fn step(from: &[FhirType], name: &str, pos: usize) -> Result<Option<Vec<FhirType>>> {
    let mut out = Vec::new();
    for t in from {
        let Some((td, path)) = t.scope else {
            return Ok(None);
        };
        if td.kind == Kind::PrimitiveType {
            if matches!(name, "id" | "extension") {
                return Ok(None);
            }
            continue;
        }
        let Some(node) = td.node(path) else {
            return Ok(None);
        };
        for &i in &node.elements {
            let el = &td.elements[i];
            if el.name == name {
                if el.types.is_empty() {
                    out.push(child_type(td, el, ""));
                }
                for code in &el.types {
                    out.push(child_type(td, el, code));
                }
            }
        }
    }
    if out.is_empty() {
        let names: Vec<&str> = from.iter().map(|t| t.name).collect();
        return Err(FhirPathError::semantic(
            format!("'{name}' is not an element of {}", names.join(" | ")),
            Some(pos),
        ));
    }
    if out
        .iter()
        .any(|t| t.name.is_empty() || t.name == "Resource")
    {
        return Ok(None);
    }
    Ok(Some(out))
}

/// Walks every sub-expression, checking the paths it can type.
pub(crate) fn check(e: &Expr, root: Option<FhirType>) -> Result<()> {
    types_of(e, root)?;
    match &e.node {
        Node::Call { target, args, .. } => {
            if let Some(t) = target {
                check(t, root)?;
            }
            // Arguments run on other foci; only check their own roots.
            args.iter().try_for_each(|a| check(a, None))
        }
        Node::Binary(_, a, b) | Node::Index(a, b) => {
            check(a, root)?;
            check(b, root)
        }
        Node::Unary(_, a) => check(a, root),
        Node::Type {
            target: Some(t), ..
        } => check(t, root),
        Node::Member(Some(t), _) => check(t, root),
        _ => Ok(()),
    }
}

//! Index values of a resource version: every indexed SearchParameter of its
//! type is evaluated once (compiled expressions from [`crate::registry`]) and
//! each result becomes rows of the parameter's kind; compartment membership
//! is derived from the reference rows.
//!
//! Synthetic parameter names carry what the row tables have no column for:
//! `CODE:text` string rows (token display/text, for `:text`),
//! `CODE:of-type` token rows (Identifier type `system` + `code|value`), and
//! `CODE:identifier` token rows (Reference.identifier, for `:identifier`).

mod compartment;
mod composite;
mod date;
pub mod fulltext;
mod quantity;
mod reference;
mod string;
mod token;

use crate::registry::{self, Branch, ParamType, SearchParamDef};
use concord_fhirpath::{EvalContext, FhirPathError, Item};
use concord_store::{IndexRows, UriIndex};
use serde_json::Value;

/// Suffix of the string rows holding token text (`code:text`).
pub const TEXT_SUFFIX: &str = ":text";
/// Suffix of the token rows of Identifier types (`identifier:of-type`).
pub const OF_TYPE_SUFFIX: &str = ":of-type";
/// Suffix of the token rows of Reference.identifier (`subject:identifier`).
pub const IDENTIFIER_SUFFIX: &str = ":identifier";
/// Suffix of the quantity rows in UCUM canonical units
/// (`value-quantity:canonical`), kept apart so a search without a unit
/// compares only the values as recorded.
pub const CANONICAL_SUFFIX: &str = ":canonical";

/// An expression that failed while evaluating against a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractError {
    pub param: String,
    pub expression: String,
    pub message: String,
}

/// The rows of a resource plus any evaluation errors (which only drop the
/// failing parameter's values).
#[derive(Debug, Default)]
pub struct Extraction {
    pub rows: IndexRows,
    pub errors: Vec<ExtractError>,
}

/// The search-index rows of `resource` (evaluation errors are dropped; see
/// [`extract`] to see them).
pub fn index_rows(resource: &Value) -> IndexRows {
    extract(resource).rows
}

/// The search-index rows of `resource` and the evaluation errors.
pub fn extract(resource: &Value) -> Extraction {
    let mut out = Extraction::default();
    let known = evaluate(
        resource,
        |_| true,
        |p, b, result| match result {
            Ok(items) if p.kind == ParamType::Composite => {
                composite::add(p, resource, &items, &mut out)
            }
            Ok(items) => {
                for item in &items {
                    add_item(p, b, item, &mut out.rows);
                }
            }
            Err(e) => out.errors.push(ExtractError {
                param: p.code.to_string(),
                expression: b.expression.source().to_string(),
                message: e.to_string(),
            }),
        },
    );
    let Some(rt) = known else {
        return out;
    };
    fulltext::add(resource, &mut out.rows);
    let named = concord_fhir::compartments::compartments_of(rt);
    compartment::add(&named, rt, resource, &mut out.rows);
    out
}

/// The compartment rows of `resource` alone (an access check's question):
/// only the reference parameters the CompartmentDefinitions name for its
/// type are evaluated, so the answer is [`extract`]'s `compartments` at a
/// fraction of the cost.
pub fn compartment_rows(resource: &Value) -> Vec<concord_store::CompartmentIndex> {
    let Some(rt) = resource.get("resourceType").and_then(Value::as_str) else {
        return Vec::new();
    };
    let named = concord_fhir::compartments::compartments_of(rt);
    let mut rows = IndexRows::default();
    let names_it = |p: &SearchParamDef| {
        p.kind == ParamType::Reference
            && named
                .iter()
                .any(|(_, codes)| codes.iter().any(|c| c == p.code))
    };
    let known = evaluate(resource, names_it, |p, b, result| {
        for item in result.iter().flatten() {
            add_item(p, b, item, &mut rows);
        }
    });
    if known.is_none() {
        return Vec::new();
    }
    compartment::add(&named, rt, resource, &mut rows);
    rows.compartments
}

/// The one walk behind [`extract`] and [`compartment_rows`]: evaluates each
/// branch that may match of every indexed parameter of `resource`'s type
/// that `keep` accepts, and hands each result to `each`. `None` (nothing
/// evaluated) unless `resource` is of a known type.
fn evaluate<'a>(
    resource: &'a Value,
    keep: impl Fn(&SearchParamDef) -> bool,
    mut each: impl FnMut(&'static SearchParamDef, &'static Branch, Result<Vec<Item<'a>>, FhirPathError>),
) -> Option<&'a str> {
    let rt = resource.get("resourceType").and_then(Value::as_str)?;
    let params = registry::for_type(rt)?;
    let ctx = EvalContext::new(resource);
    for p in params
        .params()
        .iter()
        .filter(|p| p.stores_rows() && keep(p))
    {
        for b in p.branches.iter().filter(|b| b.may_match(resource)) {
            each(p, b, b.expression.evaluate_with(&ctx));
        }
    }
    Some(rt)
}

/// Rows of one result item for parameter `p`.
fn add_item(p: &SearchParamDef, b: &Branch, item: &Item<'_>, rows: &mut IndexRows) {
    with_json(item, |ty, v| {
        add_value(p, b.target_type.as_deref(), ty, v, rows)
    });
}

pub(crate) fn add_value(
    p: &SearchParamDef,
    target_type: Option<&str>,
    ty: &str,
    v: &Value,
    rows: &mut IndexRows,
) {
    match p.kind {
        ParamType::Token => token::add(p.code, ty, v, rows),
        ParamType::String => string::add(p.code, ty, v, rows),
        ParamType::Date => date::add(p.code, ty, v, rows),
        ParamType::Reference => reference::add(p, target_type, v, rows),
        ParamType::Quantity => quantity::add_quantity(p.code, ty, v, rows),
        ParamType::Number => quantity::add_number(p.code, v, rows),
        ParamType::Uri => {
            if let Some(s) = v.as_str() {
                push_unique(
                    &mut rows.uris,
                    UriIndex {
                        param: p.code.to_string(),
                        value: s.to_string(),
                    },
                );
            }
        }
        ParamType::Composite | ParamType::Special => {}
    }
}

/// Calls `f` with the item's FHIR type name and JSON (System values are
/// turned into JSON first; nodes are borrowed, never cloned).
pub(crate) fn with_json(item: &Item<'_>, mut f: impl FnMut(&str, &Value)) {
    match item {
        Item::Node(n) => {
            if let Some(v) = n.value {
                f(n.ty.name, v);
            }
        }
        other => {
            let v = other.to_json();
            if !v.is_null() {
                f("", &v);
            }
        }
    }
}

pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, row: T) {
    if !list.contains(&row) {
        list.push(row);
    }
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The elements of a JSON array (or the single value).
pub(crate) fn each(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let (list, one) = match v {
        Some(Value::Array(a)) => (a.as_slice(), None),
        Some(other) => (&[][..], Some(other)),
        None => (&[][..], None),
    };
    list.iter().chain(one)
}

#[cfg(test)]
mod tests;

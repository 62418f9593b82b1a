//! Function table (names and arities, checked at compile time) and dispatch.

mod boundary;
mod conversion;
mod existence;
mod fhir;
mod filtering;
mod math;
mod strings;
mod subsetting;
mod utility;

use crate::ast::{Expr, Node};
use crate::error::{FhirPathError, Result};
use crate::eval::{eval, ops, Env};
use crate::types::Item;

/// `(name, min args, max args)`.
const TABLE: &[(&str, usize, usize)] = &[
    // existence
    ("empty", 0, 0),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("allTrue", 0, 0),
    ("anyTrue", 0, 0),
    ("allFalse", 0, 0),
    ("anyFalse", 0, 0),
    ("subsetOf", 1, 1),
    ("supersetOf", 1, 1),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("isDistinct", 0, 0),
    ("not", 0, 0),
    // filtering and projection
    ("where", 1, 1),
    ("select", 1, 1),
    ("repeat", 1, 1),
    ("aggregate", 1, 2),
    ("sort", 0, 16),
    // subsetting and combining
    ("single", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("skip", 1, 1),
    ("take", 1, 1),
    ("intersect", 1, 1),
    ("exclude", 1, 1),
    ("union", 1, 1),
    ("combine", 1, 1),
    // conversion
    ("iif", 2, 3),
    ("toBoolean", 0, 0),
    ("convertsToBoolean", 0, 0),
    ("toInteger", 0, 0),
    ("convertsToInteger", 0, 0),
    ("toDate", 0, 0),
    ("convertsToDate", 0, 0),
    ("toDateTime", 0, 0),
    ("convertsToDateTime", 0, 0),
    ("toDecimal", 0, 0),
    ("convertsToDecimal", 0, 0),
    ("toQuantity", 0, 1),
    ("convertsToQuantity", 0, 1),
    ("toString", 0, 0),
    ("convertsToString", 0, 0),
    ("toTime", 0, 0),
    ("convertsToTime", 0, 0),
    // strings
    ("indexOf", 1, 1),
    ("lastIndexOf", 1, 1),
    ("substring", 1, 2),
    ("startsWith", 1, 1),
    ("endsWith", 1, 1),
    ("contains", 1, 1),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("replace", 2, 2),
    ("matches", 1, 1),
    ("matchesFull", 1, 1),
    ("replaceMatches", 2, 2),
    ("length", 0, 0),
    ("toChars", 0, 0),
    ("trim", 0, 0),
    ("split", 1, 1),
    ("join", 0, 1),
    ("encode", 1, 1),
    ("decode", 1, 1),
    ("escape", 1, 1),
    ("unescape", 1, 1),
    // math
    ("abs", 0, 0),
    ("ceiling", 0, 0),
    ("exp", 0, 0),
    ("floor", 0, 0),
    ("ln", 0, 0),
    ("log", 1, 1),
    ("power", 1, 1),
    ("round", 0, 1),
    ("sqrt", 0, 0),
    ("truncate", 0, 0),
    // boundaries and precision
    ("lowBoundary", 0, 1),
    ("highBoundary", 0, 1),
    ("precision", 0, 0),
    ("comparable", 1, 1),
    // tree navigation
    ("children", 0, 0),
    ("descendants", 0, 0),
    // utility
    ("trace", 1, 2),
    ("now", 0, 0),
    ("today", 0, 0),
    ("timeOfDay", 0, 0),
    ("type", 0, 0),
    // FHIR
    ("resolve", 0, 0),
    ("extension", 1, 1),
    ("hasExtension", 1, 1),
    ("hasValue", 0, 0),
    ("getValue", 0, 0),
    ("conformsTo", 1, 1),
    ("memberOf", 1, 1),
    ("htmlChecks", 0, 0),
    ("htmlChecks2", 0, 0),
    ("elementDefinition", 0, 0),
    ("slice", 2, 2),
    ("checkModifiers", 1, 1),
    ("subsumes", 1, 1),
    ("subsumedBy", 1, 1),
];

/// Compile-time checks: known functions with valid argument counts.
pub(crate) fn validate(e: &Expr) -> Result<()> {
    match &e.node {
        Node::Call { target, name, args } => {
            let Some((_, min, max)) = TABLE.iter().find(|(n, _, _)| n == name) else {
                return Err(FhirPathError::semantic(
                    format!("unknown function '{name}'"),
                    Some(e.pos),
                ));
            };
            if args.len() < *min || args.len() > *max {
                let expected = if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                };
                return Err(FhirPathError::semantic(
                    format!(
                        "{name}() takes {expected} argument(s) but got {}",
                        args.len()
                    ),
                    Some(e.pos),
                ));
            }
            if let Some(t) = target {
                validate(t)?;
            }
            args.iter().try_for_each(validate)
        }
        Node::Member(Some(t), _) => validate(t),
        Node::Type {
            target: Some(t), ..
        } => validate(t),
        Node::Index(a, b) | Node::Binary(_, a, b) => {
            validate(a)?;
            validate(b)
        }
        Node::Unary(_, a) => validate(a),
        _ => Ok(()),
    }
}

fn is_unordered(e: &Expr) -> bool {
    matches!(&e.node, Node::Call { name, .. } if name == "children" || name == "descendants")
}

/// With `checkOrderedFunctions`: order-dependent functions must not be
/// applied directly to unordered collections.
pub(crate) fn check_ordered(e: &Expr) -> Result<()> {
    match &e.node {
        Node::Call { target, name, args } => {
            if let Some(t) = target {
                if matches!(name.as_str(), "first" | "last" | "tail" | "skip" | "take")
                    && is_unordered(t)
                {
                    return Err(FhirPathError::semantic(
                        format!("{name}() depends on order but its input is unordered"),
                        Some(e.pos),
                    ));
                }
                check_ordered(t)?;
            }
            args.iter().try_for_each(check_ordered)
        }
        Node::Index(a, b) => {
            if is_unordered(a) {
                return Err(FhirPathError::semantic(
                    "the indexer depends on order but its input is unordered",
                    Some(e.pos),
                ));
            }
            check_ordered(a)?;
            check_ordered(b)
        }
        Node::Member(Some(t), _) | Node::Unary(_, t) => check_ordered(t),
        Node::Type {
            target: Some(t), ..
        } => check_ordered(t),
        Node::Binary(_, a, b) => {
            check_ordered(a)?;
            check_ordered(b)
        }
        _ => Ok(()),
    }
}

/// Evaluates argument `i` against `$this` (non-lambda arguments).
pub(crate) fn arg<'a>(args: &[Expr], i: usize, env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    match args.get(i) {
        Some(a) => eval(a, env.this, env),
        None => Ok(Vec::new()),
    }
}

/// Argument `i` as a single System value (`None` when empty or absent).
pub(crate) fn arg_single<'a>(
    args: &[Expr],
    i: usize,
    env: &Env<'a, '_>,
    f: &str,
) -> Result<Option<Item<'a>>> {
    ops::singleton(&arg(args, i, env)?, &format!("argument {} of {f}()", i + 1))
}

pub(crate) fn arg_string(
    args: &[Expr],
    i: usize,
    env: &Env<'_, '_>,
    f: &str,
) -> Result<Option<String>> {
    match arg_single(args, i, env, f)? {
        None => Ok(None),
        Some(Item::String(s)) => Ok(Some(s)),
        Some(other) => Err(FhirPathError::exec(format!(
            "argument {} of {f}() must be a String, not {}",
            i + 1,
            other.type_name().1
        ))),
    }
}

pub(crate) fn arg_int(args: &[Expr], i: usize, env: &Env<'_, '_>, f: &str) -> Result<Option<i64>> {
    match arg_single(args, i, env, f)? {
        None => Ok(None),
        Some(Item::Integer(n)) => Ok(Some(n)),
        Some(other) => Err(FhirPathError::exec(format!(
            "argument {} of {f}() must be an Integer, not {}",
            i + 1,
            other.type_name().1
        ))),
    }
}

/// The input as a single System value (`None` when empty).
pub(crate) fn input_single<'a>(input: &[Item<'a>], f: &str) -> Result<Option<Item<'a>>> {
    ops::singleton(input, &format!("{f}()"))
}

pub(crate) fn boolean<'a>(b: bool) -> Result<Vec<Item<'a>>> {
    Ok(vec![Item::Boolean(b)])
}

pub(crate) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
    pos: usize,
) -> Result<Vec<Item<'a>>> {
    let r = existence::call(name, args, input, env)
        .or_else(|| filtering::call(name, args, input, env))
        .or_else(|| subsetting::call(name, args, input, env))
        .or_else(|| conversion::call(name, args, input, env))
        .or_else(|| strings::call(name, args, input, env))
        .or_else(|| math::call(name, args, input, env))
        .or_else(|| boundary::call(name, args, input, env))
        .or_else(|| utility::call(name, args, input, env))
        .or_else(|| fhir::call(name, args, input, env));
    match r {
        Some(r) => r.map_err(|e| match e {
            FhirPathError::Semantic {
                message,
                position: None,
            } => FhirPathError::Semantic {
                message,
                position: Some(pos),
            },
            other => other,
        }),
        None => Err(FhirPathError::semantic(
            format!("unknown function '{name}'"),
            Some(pos),
        )),
    }
}

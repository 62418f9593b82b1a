//! Equality (`=`), equivalence (`~`) and ordering of items and collections.

use crate::datetime::TemporalKind;
use crate::error::{FhirPathError, Result};
use crate::types::Item;
use rust_decimal::Decimal;
use std::cmp::Ordering;

fn num(i: &Item) -> Option<Decimal> {
    match i {
        Item::Integer(v) => Some(Decimal::from(*v)),
        Item::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Item equality: `Some(bool)`, or `None` when unknown (empty result).
pub fn equal(a: &Item, b: &Item) -> Option<bool> {
    let (sa, sb) = (a.to_system(), b.to_system());
    match (sa, sb) {
        (Some(x), Some(y)) => system_equal(&x, &y),
        (None, None) => match (a, b) {
            (Item::Node(x), Item::Node(y)) => match (x.value, y.value) {
                (Some(vx), Some(vy)) => Some(vx == vy),
                _ => None,
            },
            _ => None,
        },
        _ => {
            // A complex node against a System value is never equal; a
            // primitive without a value compares as empty.
            let valueless = |i: &Item| matches!(i, Item::Node(n) if n.value.is_none());
            if valueless(a) || valueless(b) {
                None
            } else {
                Some(false)
            }
        }
    }
}

fn system_equal(a: &Item, b: &Item) -> Option<bool> {
    match (a, b) {
        (Item::Boolean(x), Item::Boolean(y)) => Some(x == y),
        (Item::String(x), Item::String(y)) => Some(x == y),
        (Item::Integer(x), Item::Integer(y)) => Some(x == y),
        (Item::Temporal(x), Item::Temporal(y)) => {
            let tx = x.kind == TemporalKind::Time;
            let ty = y.kind == TemporalKind::Time;
            if tx != ty {
                return Some(false);
            }
            x.compare(y).map(|o| o == Ordering::Equal)
        }
        (Item::Quantity(x), Item::Quantity(y)) => {
            let v = x.convert_value(y)?;
            Some(v == x.value)
        }
        (Item::TypeInfo { .. }, _) | (_, Item::TypeInfo { .. }) => Some(false),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => Some(x == y),
            _ => Some(false),
        },
    }
}

fn normalise_ws(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn round_equiv(x: Decimal, y: Decimal) -> bool {
    let scale = x.scale().min(y.scale());
    x.round_dp(scale) == y.round_dp(scale)
}

/// Item equivalence (`~`): never empty.
pub fn equivalent(a: &Item, b: &Item) -> bool {
    match (a.to_system(), b.to_system()) {
        (Some(x), Some(y)) => match (&x, &y) {
            (Item::String(s), Item::String(t)) => normalise_ws(s) == normalise_ws(t),
            (Item::Quantity(p), Item::Quantity(q)) => match p.convert_value(q) {
                Some(v) => round_equiv(p.value, v),
                None => false,
            },
            (Item::Temporal(s), Item::Temporal(t)) => {
                s.kind == t.kind && s.compare(t) == Some(Ordering::Equal)
                    || (s.kind != TemporalKind::Time
                        && t.kind != TemporalKind::Time
                        && s.compare(t) == Some(Ordering::Equal))
            }
            _ => match (num(&x), num(&y)) {
                (Some(p), Some(q)) => round_equiv(p, q),
                _ => system_equal(&x, &y).unwrap_or(false),
            },
        },
        (None, None) => match (a, b) {
            (Item::Node(x), Item::Node(y)) => x.value == y.value,
            _ => false,
        },
        _ => false,
    }
}

/// `=` on collections.
pub fn collections_equal(a: &[Item], b: &[Item]) -> Option<bool> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() != b.len() {
        return Some(false);
    }
    let mut unknown = false;
    for (x, y) in a.iter().zip(b) {
        match equal(x, y) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

/// `~` on collections (order-independent).
pub fn collections_equivalent(a: &[Item], b: &[Item]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (j, y) in b.iter().enumerate() {
            if !used[j] && equivalent(x, y) {
                used[j] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

/// Ordering for `<`, `>`, `<=`, `>=`: `Ok(None)` when unknown (different
/// date precisions, incomparable units); an error for incompatible types.
pub fn order(a: &Item, b: &Item) -> Result<Option<Ordering>> {
    let (Some(x), Some(y)) = (a.to_system(), b.to_system()) else {
        return Err(FhirPathError::exec(
            "cannot compare complex values with <, >, <= or >=",
        ));
    };
    match (&x, &y) {
        (Item::String(s), Item::String(t)) => Ok(Some(s.cmp(t))),
        (Item::Temporal(s), Item::Temporal(t)) => {
            if (s.kind == TemporalKind::Time) != (t.kind == TemporalKind::Time) {
                return Err(FhirPathError::exec("cannot compare a time with a date"));
            }
            Ok(s.compare(t))
        }
        (Item::Quantity(p), Item::Quantity(q)) => Ok(p.convert_value(q).map(|v| p.value.cmp(&v))),
        _ => match (num(&x), num(&y)) {
            (Some(p), Some(q)) => Ok(Some(p.cmp(&q))),
            _ => Err(FhirPathError::exec(format!(
                "cannot compare {} with {}",
                x.type_name().1,
                y.type_name().1
            ))),
        },
    }
}

/// True when `needle` equals some item of `hay`.
pub fn contains_item(hay: &[Item], needle: &Item) -> bool {
    hay.iter().any(|h| equal(h, needle) == Some(true))
}

/// Removes duplicates (by `=`), keeping the first occurrence.
pub fn distinct<'a>(items: Vec<Item<'a>>) -> Vec<Item<'a>> {
    let mut out: Vec<Item<'a>> = Vec::with_capacity(items.len());
    for i in items {
        if !contains_item(&out, &i) {
            out.push(i);
        }
    }
    out
}

//! toX() / convertsToX() conversions.

use super::{arg_string, input_single};
use crate::ast::Expr;
use crate::datetime::{Temporal, TemporalKind};
use crate::error::Result;
use crate::eval::Env;
use crate::quantity::{calendar_unit, Quantity};
use crate::types::Item;
use rust_decimal::Decimal;
use std::str::FromStr;

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    let (target, test) = match name.strip_prefix("convertsTo") {
        Some(t) => (t, true),
        None => match name.strip_prefix("to") {
            Some(t) if !matches!(t, "day" | "Chars") => (t, false),
            _ => return None,
        },
    };
    if !matches!(
        target,
        "Boolean" | "Integer" | "Decimal" | "String" | "Date" | "DateTime" | "Time" | "Quantity"
    ) {
        return None;
    }
    Some((|| {
        let Some(item) = input_single(input, name)? else {
            return Ok(Vec::new());
        };
        let unit = if target == "Quantity" {
            arg_string(args, 0, env, name)?
        } else {
            None
        };
        let r = convert(target, &item, unit.as_deref());
        if test {
            Ok(vec![Item::Boolean(r.is_some())])
        } else {
            Ok(r.into_iter().collect())
        }
    })())
}

fn is_int_text(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal_text(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    match d.split_once('.') {
        Some((a, b)) => is_int_text(a) && !b.is_empty() && b.bytes().all(|x| x.is_ascii_digit()),
        None => is_int_text(d),
    }
}

fn convert<'a>(target: &str, item: &Item<'a>, unit: Option<&str>) -> Option<Item<'a>> {
    match target {
        "Boolean" => match item {
            Item::Boolean(b) => Some(Item::Boolean(*b)),
            Item::Integer(0) => Some(Item::Boolean(false)),
            Item::Integer(1) => Some(Item::Boolean(true)),
            Item::Decimal(d) if *d == Decimal::ONE => Some(Item::Boolean(true)),
            Item::Decimal(d) if d.is_zero() => Some(Item::Boolean(false)),
            Item::String(s) => match s.to_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(Item::Boolean(true)),
                "false" | "f" | "no" | "n" | "0" | "0.0" => Some(Item::Boolean(false)),
                _ => None,
            },
            _ => None,
        },
        "Integer" => match item {
            Item::Integer(i) => Some(Item::Integer(*i)),
            Item::Boolean(b) => Some(Item::Integer(i64::from(*b))),
            Item::String(s) if is_int_text(s) => s.parse().ok().map(Item::Integer),
            _ => None,
        },
        "Decimal" => match item {
            Item::Integer(i) => Some(Item::Decimal(Decimal::from(*i))),
            Item::Decimal(d) => Some(Item::Decimal(*d)),
            Item::Boolean(b) => Some(Item::Decimal(if *b { Decimal::ONE } else { Decimal::ZERO })),
            Item::String(s) if is_decimal_text(s) => Decimal::from_str(s).ok().map(Item::Decimal),
            _ => None,
        },
        "String" => Some(Item::String(match item {
            Item::String(s) => s.clone(),
            Item::Boolean(b) => b.to_string(),
            Item::Integer(i) => i.to_string(),
            Item::Decimal(d) => d.to_string(),
            Item::Temporal(t) => t.to_text(),
            Item::Quantity(q) => q.to_text(),
            _ => return None,
        })),
        "Date" => match item {
            Item::Temporal(t) if t.kind != TemporalKind::Time => {
                Some(Item::Temporal(t.date_part()))
            }
            Item::String(s) => Temporal::parse_date(s)
                .or_else(|| Temporal::parse_datetime(s).map(|t| t.date_part()))
                .map(Item::Temporal),
            _ => None,
        },
        "DateTime" => match item {
            Item::Temporal(t) if t.kind != TemporalKind::Time => {
                Some(Item::Temporal(t.as_datetime()))
            }
            Item::String(s) => Temporal::parse_datetime(s).map(Item::Temporal),
            _ => None,
        },
        "Time" => match item {
            Item::Temporal(t) if t.kind == TemporalKind::Time => Some(item.clone()),
            Item::String(s) => Temporal::parse_time(s).map(Item::Temporal),
            _ => None,
        },
        _ => {
            let q = match item {
                Item::Integer(i) => Quantity::new(Decimal::from(*i), "1"),
                Item::Decimal(d) => Quantity::new(*d, "1"),
                Item::Boolean(b) => {
                    Quantity::new(if *b { Decimal::ONE } else { Decimal::ZERO }, "1")
                }
                Item::Quantity(q) => q.clone(),
                Item::String(s) => parse_quantity(s)?,
                _ => return None,
            };
            match unit {
                None => Some(Item::Quantity(q)),
                Some(u) => {
                    let target = Quantity::new(Decimal::ONE, u);
                    target
                        .convert_value(&q)
                        .map(|v| Item::Quantity(Quantity::new(v, u)))
                }
            }
        }
    }
}

/// `5`, `5 'mg'`, `4 days`, `1.5 'wk'` (bare UCUM codes are not accepted).
pub fn parse_quantity(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (num, rest) = match s.find(' ') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    if !is_decimal_text(num) {
        return None;
    }
    let value = Decimal::from_str(num).ok()?;
    if rest.is_empty() {
        return Some(Quantity::new(value, "1"));
    }
    if let Some(u) = rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(Quantity::new(value, u));
    }
    calendar_unit(rest).map(|_| Quantity::new(value, rest))
}

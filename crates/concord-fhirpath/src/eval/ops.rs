//! Arithmetic, string concatenation and date/time arithmetic.

use crate::ast::BinOp;
use crate::datetime::{Temporal, TemporalKind};
use crate::error::{FhirPathError, Result};
use crate::quantity::{calendar_unit, Quantity};
use crate::types::Item;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// The single System value of an operand: `Ok(None)` when empty.
pub fn singleton<'a>(c: &[Item<'a>], what: &str) -> Result<Option<Item<'a>>> {
    match c {
        [] => Ok(None),
        [one] => Ok(one.to_system()),
        _ => Err(FhirPathError::exec(format!(
            "{what} expects a single item but got {}",
            c.len()
        ))),
    }
}

fn dec(i: &Item) -> Option<Decimal> {
    match i {
        Item::Integer(v) => Some(Decimal::from(*v)),
        Item::Decimal(d) => Some(*d),
        _ => None,
    }
}

fn type_err(op: &str, a: &Item, b: &Item) -> FhirPathError {
    FhirPathError::exec(format!(
        "operator {op} cannot be applied to {} and {}",
        a.type_name().1,
        b.type_name().1
    ))
}

/// `+ - * / div mod &` on two collections.
pub fn arithmetic<'a>(op: BinOp, l: &[Item<'a>], r: &[Item<'a>]) -> Result<Vec<Item<'a>>> {
    let sym = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::IntDiv => "div",
        BinOp::Mod => "mod",
        _ => "&",
    };
    if op == BinOp::Concat {
        let a = singleton(l, "&")?;
        let b = singleton(r, "&")?;
        let text = |i: Option<Item>| -> Result<String> {
            match i {
                None => Ok(String::new()),
                Some(Item::String(s)) => Ok(s),
                Some(other) => Err(FhirPathError::exec(format!(
                    "& expects strings, not {}",
                    other.type_name().1
                ))),
            }
        };
        return Ok(vec![Item::String(text(a)? + &text(b)?)]);
    }
    let (Some(a), Some(b)) = (singleton(l, sym)?, singleton(r, sym)?) else {
        return Ok(vec![]);
    };
    Ok(binary(op, sym, &a, &b)?.into_iter().collect())
}

fn binary<'a>(op: BinOp, sym: &str, a: &Item<'a>, b: &Item<'a>) -> Result<Option<Item<'a>>> {
    use Item::*;
    Ok(match (op, a, b) {
        (BinOp::Add, String(x), String(y)) => Some(String(format!("{x}{y}"))),
        (
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::IntDiv | BinOp::Mod,
            Integer(x),
            Integer(y),
        ) => match op {
            BinOp::Add => x.checked_add(*y).map(Integer),
            BinOp::Sub => x.checked_sub(*y).map(Integer),
            BinOp::Mul => x.checked_mul(*y).map(Integer),
            BinOp::IntDiv => x.checked_div(*y).map(Integer),
            _ => x.checked_rem(*y).map(Integer),
        },
        (BinOp::Add | BinOp::Sub, Temporal(t), Quantity(q)) => {
            Some(Temporal(date_add(t, q, op == BinOp::Sub)?))
        }
        (BinOp::Add | BinOp::Sub, Quantity(x), Quantity(y)) => {
            let v = x.convert_value(y).ok_or_else(|| type_err(sym, a, b))?;
            let r = if op == BinOp::Add {
                x.value.checked_add(v)
            } else {
                x.value.checked_sub(v)
            };
            r.map(|value| Quantity(crate::quantity::Quantity::new(value, x.unit.clone())))
        }
        (BinOp::Mul | BinOp::Div, Quantity(x), Quantity(y)) => {
            if op == BinOp::Div && y.value.is_zero() {
                None
            } else {
                x.mul_div(y, op == BinOp::Div).map(Quantity)
            }
        }
        (BinOp::Mul | BinOp::Div, Quantity(x), n) if dec(n).is_some() => {
            let f = dec(n).unwrap_or_default();
            let v = if op == BinOp::Mul {
                x.value.checked_mul(f)
            } else {
                x.value.checked_div(f)
            };
            v.map(|value| Quantity(crate::quantity::Quantity::new(value, x.unit.clone())))
        }
        (BinOp::Mul, n, Quantity(x)) if dec(n).is_some() => {
            let f = dec(n).unwrap_or_default();
            x.value
                .checked_mul(f)
                .map(|value| Quantity(crate::quantity::Quantity::new(value, x.unit.clone())))
        }
        _ => {
            let (Some(x), Some(y)) = (dec(a), dec(b)) else {
                return Err(type_err(sym, a, b));
            };
            match op {
                BinOp::Add => x.checked_add(y).map(Decimal),
                BinOp::Sub => x.checked_sub(y).map(Decimal),
                BinOp::Mul => x.checked_mul(y).map(Decimal),
                BinOp::Div => x
                    .checked_div(y)
                    .map(|d| Decimal(d.normalize_to_scale(x, y))),
                BinOp::IntDiv => x
                    .checked_div(y)
                    .and_then(|d| d.trunc().to_i64())
                    .map(Integer),
                BinOp::Mod => x.checked_rem(y).map(Decimal),
                _ => return Err(type_err(sym, a, b)),
            }
        }
    })
}

trait Scale {
    fn normalize_to_scale(self, a: Decimal, b: Decimal) -> Decimal;
}

impl Scale for Decimal {
    /// Division results drop trailing zeros beyond the operands' scale.
    fn normalize_to_scale(self, a: Decimal, b: Decimal) -> Decimal {
        let keep = a.scale().max(b.scale());
        let n = self.normalize();
        if n.scale() < keep {
            let mut r = n;
            r.rescale(keep);
            r
        } else {
            n
        }
    }
}

/// `temporal ± quantity` with calendar semantics.
pub fn date_add(t: &Temporal, q: &Quantity, subtract: bool) -> Result<Temporal> {
    let unit = match calendar_unit(&q.unit) {
        Some(u) => u,
        None => match q.unit.as_str() {
            "wk" => "week",
            "d" => "day",
            "h" => "hour",
            "min" => "minute",
            "s" => "second",
            "ms" => "millisecond",
            other => {
                return Err(FhirPathError::exec(format!(
                    "cannot add a quantity in '{other}' to a date/time (use a calendar duration)"
                )))
            }
        },
    };
    let v = q
        .value
        .trunc()
        .to_i64()
        .ok_or_else(|| FhirPathError::exec("duration out of range"))?;
    let v = if subtract { -v } else { v };
    let mut r = t.clone();
    let overflow = || FhirPathError::exec("date/time arithmetic out of range");
    if t.kind == TemporalKind::Time && matches!(unit, "year" | "month" | "week" | "day") {
        return Err(FhirPathError::exec(format!("cannot add {unit}s to a time")));
    }
    let ms: i64 = match unit {
        "year" => {
            r.add_months(v.checked_mul(12).ok_or_else(overflow)?)
                .ok_or_else(overflow)?;
            return Ok(r);
        }
        "month" => {
            r.add_months(v).ok_or_else(overflow)?;
            return Ok(r);
        }
        "week" => 7 * 86_400_000,
        "day" => 86_400_000,
        "hour" => 3_600_000,
        "minute" => 60_000,
        "second" => 1000,
        _ => 1,
    };
    r.add_millis(v.checked_mul(ms).ok_or_else(overflow)?)
        .ok_or_else(overflow)?;
    Ok(r)
}

//! lowBoundary, highBoundary, precision, comparable.

use super::{arg_int, arg_single, input_single};
use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::Env;
use crate::types::Item;
use rust_decimal::{Decimal, RoundingStrategy};

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    if !matches!(
        name,
        "lowBoundary" | "highBoundary" | "precision" | "comparable"
    ) {
        return None;
    }
    Some((|| {
        let Some(x) = input_single(input, name)? else {
            return Ok(Vec::new());
        };
        if name == "comparable" {
            return match (&x, arg_single(args, 0, env, name)?) {
                (Item::Quantity(a), Some(Item::Quantity(b))) => {
                    Ok(vec![Item::Boolean(a.comparable(&b))])
                }
                (_, None) => Ok(Vec::new()),
                _ => Err(FhirPathError::exec("comparable() expects Quantities")),
            };
        }
        if name == "precision" {
            let p = match &x {
                Item::Decimal(d) => i64::from(d.scale()),
                Item::Integer(_) => 0,
                Item::Temporal(t) => t.precision_digits(),
                _ => return Ok(Vec::new()),
            };
            return Ok(vec![Item::Integer(p)]);
        }
        let high = name == "highBoundary";
        let digits = arg_int(args, 0, env, name)?;
        let r = match &x {
            Item::Integer(i) => {
                decimal_boundary(Decimal::from(*i), digits, high).map(Item::Decimal)
            }
            Item::Decimal(d) => decimal_boundary(*d, digits, high).map(Item::Decimal),
            Item::Quantity(q) => decimal_boundary(q.value, digits, high).map(|v| {
                let mut q = q.clone();
                q.value = v;
                Item::Quantity(q)
            }),
            Item::Temporal(t) => if high {
                t.high_boundary(digits)
            } else {
                t.low_boundary(digits)
            }
            .map(Item::Temporal),
            _ => None,
        };
        Ok(r.into_iter().collect())
    })())
}

/// The boundary of the interval a decimal stands for (half a unit in the
/// last written digit either side), at `digits` decimal places (default 8).
fn decimal_boundary(d: Decimal, digits: Option<i64>, high: bool) -> Option<Decimal> {
    let p = digits.unwrap_or(8);
    if !(0..=28).contains(&p) {
        return None;
    }
    if d.is_sign_negative() && !d.is_zero() {
        return decimal_boundary(-d, digits, !high).map(|v| -v);
    }
    if d.scale() >= 28 {
        return None;
    }
    let half = Decimal::new(5, d.scale() + 1);
    let p = p as u32;
    let mut r = if high {
        d.checked_add(half)?
            .round_dp_with_strategy(p, RoundingStrategy::MidpointAwayFromZero)
    } else {
        d.checked_sub(half)?
            .round_dp_with_strategy(p, RoundingStrategy::ToZero)
    };
    if r.scale() < p {
        r.rescale(p);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::decimal_boundary;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn b(v: &str, p: Option<i64>, high: bool) -> String {
        decimal_boundary(Decimal::from_str(v).unwrap(), p, high)
            .unwrap()
            .to_string()
    }

    #[test]
    fn boundaries() {
        assert_eq!(b("1.587", None, false), "1.58650000");
        assert_eq!(b("1.587", Some(2), false), "1.58");
        assert_eq!(b("-1.587", Some(2), false), "-1.59");
        assert_eq!(b("-1.587", Some(0), false), "-2");
        assert_eq!(b("1", Some(0), false), "0");
        assert_eq!(b("1", Some(0), true), "2");
        assert_eq!(b("120", Some(2), false), "119.50");
        assert_eq!(b("-0.0034", Some(1), false), "-0.0");
        assert_eq!(b("0.0034", Some(1), true), "0.0");
        assert_eq!(b("-1.587", Some(2), true), "-1.58");
    }
}

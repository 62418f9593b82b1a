//! abs, ceiling, exp, floor, ln, log, power, round, sqrt, truncate.

use super::{arg_int, arg_single, input_single};
use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::Env;
use crate::types::Item;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

const NAMES: &[&str] = &[
    "abs", "ceiling", "exp", "floor", "ln", "log", "power", "round", "sqrt", "truncate",
];

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    if !NAMES.contains(&name) {
        return None;
    }
    Some((|| {
        let Some(x) = input_single(input, name)? else {
            return Ok(Vec::new());
        };
        if let (Item::Quantity(q), "abs") = (&x, name) {
            let mut q = q.clone();
            q.value = q.value.abs();
            return Ok(vec![Item::Quantity(q)]);
        }
        let d = match &x {
            Item::Integer(i) => Decimal::from(*i),
            Item::Decimal(d) => *d,
            other => {
                return Err(FhirPathError::exec(format!(
                    "{name}() expects a number, not {}",
                    other.type_name().1
                )))
            }
        };
        let int = matches!(x, Item::Integer(_));
        let r = match name {
            "abs" => Some(if int {
                Item::Integer(d.abs().to_i64().unwrap_or(0))
            } else {
                Item::Decimal(d.abs())
            }),
            "ceiling" => d.ceil().to_i64().map(Item::Integer),
            "floor" => d.floor().to_i64().map(Item::Integer),
            "truncate" => d.trunc().to_i64().map(Item::Integer),
            "round" => {
                let p = arg_int(args, 0, env, name)?.unwrap_or(0);
                if !(0..=28).contains(&p) {
                    return Err(FhirPathError::exec("round() precision must be 0 to 28"));
                }
                Some(Item::Decimal(d.round_dp_with_strategy(
                    p as u32,
                    RoundingStrategy::MidpointAwayFromZero,
                )))
            }
            "sqrt" => float(d, |f| f.sqrt()),
            "exp" => float(d, f64::exp),
            "ln" => float(d, f64::ln),
            "log" => {
                let base = match arg_single(args, 0, env, name)? {
                    Some(Item::Integer(i)) => i as f64,
                    Some(Item::Decimal(b)) => b.to_f64().unwrap_or(f64::NAN),
                    None => return Ok(Vec::new()),
                    Some(_) => return Err(FhirPathError::exec("log() expects a numeric base")),
                };
                float(d, |f| f.ln() / base.ln())
            }
            "power" => {
                let e = match arg_single(args, 0, env, name)? {
                    Some(e) => e,
                    None => return Ok(Vec::new()),
                };
                match (&x, &e) {
                    (Item::Integer(b), Item::Integer(p)) if *p >= 0 => u32::try_from(*p)
                        .ok()
                        .and_then(|p| b.checked_pow(p))
                        .map(Item::Integer),
                    (_, Item::Integer(_) | Item::Decimal(_)) => {
                        let p = match e {
                            Item::Integer(i) => i as f64,
                            Item::Decimal(p) => p.to_f64().unwrap_or(f64::NAN),
                            _ => f64::NAN,
                        };
                        float(d, |f| f.powf(p))
                    }
                    _ => return Err(FhirPathError::exec("power() expects a numeric exponent")),
                }
            }
            _ => None,
        };
        Ok(r.into_iter().collect())
    })())
}

/// Applies a floating-point function; NaN/infinite results are empty.
fn float(d: Decimal, f: impl Fn(f64) -> f64) -> Option<Item<'static>> {
    let r = f(d.to_f64()?);
    if !r.is_finite() {
        return None;
    }
    let dec = Decimal::from_str(&format!("{r}"))
        .ok()
        .or_else(|| Decimal::from_f64(r))?;
    // Hide binary floating-point noise (1e-15 relative).
    Some(Item::Decimal(dec.round_dp(14).normalize()))
}

//! Quantity rows (Quantity, Age, Duration, Count, Distance, SimpleQuantity,
//! Money) with a second row in UCUM canonical units when the unit is known
//! (under `PARAM:canonical`);
//! number rows (integer and decimal).

use super::{push_unique, str_of, CANONICAL_SUFFIX};
use crate::ucum::{canonical, UCUM};
use concord_store::{IndexRows, NumberIndex, QuantityIndex};
use serde_json::Value;

const CURRENCY: &str = "urn:iso:std:iso:4217";

pub(super) fn add_quantity(param: &str, ty: &str, v: &Value, rows: &mut IndexRows) {
    let Some(value) = v.get("value").and_then(number) else {
        return;
    };
    let (system, code) = if ty == "Money" || v.get("currency").is_some() {
        (Some(CURRENCY), str_of(v, "currency"))
    } else {
        (
            str_of(v, "system"),
            str_of(v, "code").or_else(|| str_of(v, "unit")),
        )
    };
    push(param, value, system, code, rows);
    if system == Some(UCUM) {
        if let Some((cv, cc)) = code.and_then(|c| canonical(value, c)) {
            if Some(cc) != code {
                let canonical_param = format!("{param}{CANONICAL_SUFFIX}");
                push(&canonical_param, cv, system, Some(cc), rows);
            }
        }
    }
}

pub(super) fn add_number(param: &str, v: &Value, rows: &mut IndexRows) {
    if let Some(value) = number(v) {
        push_unique(
            &mut rows.numbers,
            NumberIndex {
                param: param.to_string(),
                value,
            },
        );
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn push(param: &str, value: f64, system: Option<&str>, code: Option<&str>, rows: &mut IndexRows) {
    push_unique(
        &mut rows.quantities,
        QuantityIndex {
            param: param.to_string(),
            value,
            system: system.map(str::to_string),
            code: code.map(str::to_string),
        },
    );
}

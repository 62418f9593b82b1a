//! Date rows: date, dateTime, instant (precision ranges), Period (open ends
//! unbounded) and Timing (each event, and the bounds Period).

use super::{each, push_unique, str_of};
use crate::datetime::parse_range;
use concord_store::{DateIndex, IndexRows};
use serde_json::Value;

pub(super) fn add(param: &str, ty: &str, v: &Value, rows: &mut IndexRows) {
    match v {
        Value::String(s) => {
            if let Some(r) = parse_range(s) {
                push(param, r.low, r.high, rows);
            }
        }
        Value::Object(_) => {
            let shape = match ty {
                "" if v.get("start").is_some() || v.get("end").is_some() => "Period",
                "" if v.get("event").is_some() || v.get("repeat").is_some() => "Timing",
                other => other,
            };
            match shape {
                "Period" => period(param, v, rows),
                "Timing" => {
                    for e in each(v.get("event")).filter_map(Value::as_str) {
                        if let Some(r) = parse_range(e) {
                            push(param, r.low, r.high, rows);
                        }
                    }
                    if let Some(p) = v.get("repeat").and_then(|r| r.get("boundsPeriod")) {
                        period(param, p, rows);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

fn period(param: &str, v: &Value, rows: &mut IndexRows) {
    let start = str_of(v, "start").and_then(parse_range);
    let end = str_of(v, "end").and_then(parse_range);
    if start.is_none() && end.is_none() {
        return;
    }
    push(
        param,
        start.map_or(DateIndex::MIN, |r| r.low),
        end.map_or(DateIndex::MAX, |r| r.high),
        rows,
    );
}

fn push(param: &str, low: i64, high: i64, rows: &mut IndexRows) {
    push_unique(
        &mut rows.dates,
        DateIndex {
            param: param.to_string(),
            low,
            high,
        },
    );
}

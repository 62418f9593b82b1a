//! String rows: primitives, and HumanName / Address expanded to their parts.

use super::{each, push_unique};
use crate::normalize::normalize;
use concord_store::{IndexRows, StringIndex};
use serde_json::Value;

const NAME_PARTS: &[&str] = &["family", "given", "prefix", "suffix", "text"];
const ADDRESS_PARTS: &[&str] = &[
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
    "text",
];

pub(super) fn add(param: &str, ty: &str, v: &Value, rows: &mut IndexRows) {
    match v {
        Value::String(s) => one(param, s, rows),
        Value::Object(_) => {
            let parts = match ty {
                "HumanName" => NAME_PARTS,
                "Address" => ADDRESS_PARTS,
                "" if v.get("family").is_some() || v.get("given").is_some() => NAME_PARTS,
                "" if v.get("line").is_some() || v.get("city").is_some() => ADDRESS_PARTS,
                _ => &["text", "display", "value"],
            };
            for part in parts {
                for s in each(v.get(*part)).filter_map(Value::as_str) {
                    one(param, s, rows);
                }
            }
        }
        _ => {}
    }
}

fn one(param: &str, s: &str, rows: &mut IndexRows) {
    let value = normalize(s);
    if value.is_empty() {
        return;
    }
    push_unique(
        &mut rows.strings,
        StringIndex {
            param: param.to_string(),
            value,
            exact: s.to_string(),
        },
    );
}

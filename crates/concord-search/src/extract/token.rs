//! Token rows: Coding, CodeableConcept, Identifier, ContactPoint, code,
//! boolean and other primitives; display/text as `CODE:text` string rows.

use super::{each, push_unique, str_of, OF_TYPE_SUFFIX, TEXT_SUFFIX};
use crate::normalize::normalize;
use concord_store::{IndexRows, StringIndex, TokenIndex};
use serde_json::Value;

pub(super) fn add(param: &str, ty: &str, v: &Value, rows: &mut IndexRows) {
    match v {
        Value::String(s) => token(param, None, s, rows),
        Value::Bool(b) => token(param, None, if *b { "true" } else { "false" }, rows),
        Value::Number(n) => token(param, None, &n.to_string(), rows),
        Value::Object(_) => object(param, ty, v, rows),
        _ => {}
    }
}

fn object(param: &str, ty: &str, v: &Value, rows: &mut IndexRows) {
    let shape = match ty {
        "" if v.get("coding").is_some() => "CodeableConcept",
        "" if v.get("code").is_some() => "Coding",
        "" if v.get("value").is_some() => "Identifier",
        other => other,
    };
    match shape {
        "CodeableConcept" => {
            for c in each(v.get("coding")) {
                coding(param, c, rows);
            }
            if let Some(t) = str_of(v, "text") {
                text(param, t, rows);
            }
        }
        "Identifier" => {
            let Some(value) = str_of(v, "value") else {
                return;
            };
            token(param, str_of(v, "system"), value, rows);
            if let Some(kind) = v.get("type") {
                for c in each(kind.get("coding")) {
                    if let Some(code) = str_of(c, "code") {
                        push_unique(
                            &mut rows.tokens,
                            TokenIndex {
                                param: format!("{param}{OF_TYPE_SUFFIX}"),
                                system: str_of(c, "system").map(str::to_string),
                                code: format!("{code}|{value}"),
                            },
                        );
                    }
                }
                if let Some(t) = str_of(kind, "text") {
                    text(param, t, rows);
                }
            }
        }
        // The ContactPoint system (phone, email, ...) is not a code system.
        "ContactPoint" => {
            if let Some(value) = str_of(v, "value") {
                token(param, None, value, rows);
            }
        }
        _ => coding(param, v, rows),
    }
}

fn coding(param: &str, c: &Value, rows: &mut IndexRows) {
    if let Some(code) = str_of(c, "code") {
        token(param, str_of(c, "system"), code, rows);
    }
    if let Some(d) = str_of(c, "display") {
        text(param, d, rows);
    }
}

fn token(param: &str, system: Option<&str>, code: &str, rows: &mut IndexRows) {
    push_unique(
        &mut rows.tokens,
        TokenIndex {
            param: param.to_string(),
            system: system.map(str::to_string),
            code: code.to_string(),
        },
    );
}

fn text(param: &str, t: &str, rows: &mut IndexRows) {
    push_unique(
        &mut rows.strings,
        StringIndex {
            param: format!("{param}{TEXT_SUFFIX}"),
            value: normalize(t),
            exact: t.to_string(),
        },
    );
}

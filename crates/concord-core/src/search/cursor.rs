//! Page cursors: the sort values, type and id of the last (or, for a
//! previous page, the first) resource of a page, so the next page starts
//! right after it whatever was written in between. Opaque to clients:
//! base64url of a small JSON document.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use concord_store::search::{PageKey, PageStart, SqlValue};
use serde_json::{json, Value};

use crate::{CoreError, CoreResult};

/// Encodes a page start (`After` → next page, `Before` → previous page).
pub fn encode(start: &PageStart) -> Option<String> {
    let (dir, key) = match start {
        PageStart::First => return None,
        PageStart::After(k) => ("a", k),
        PageStart::Before(k) => ("b", k),
    };
    let sort: Vec<Value> = key
        .sort
        .iter()
        .map(|v| match v {
            SqlValue::Int(i) => json!({ "i": i }),
            SqlValue::Real(r) => json!({ "r": r }),
            SqlValue::Text(t) => json!({ "t": t }),
        })
        .collect();
    let doc = json!({ "d": dir, "k": sort, "t": key.resource_type, "i": key.id });
    Some(URL_SAFE_NO_PAD.encode(doc.to_string()))
}

/// Decodes a cursor; a damaged one is a 400.
pub fn decode(token: &str) -> CoreResult<PageStart> {
    let bad = || CoreError::bad_request("the page cursor is not valid (start from the first page)");
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    let sort = doc
        .get("k")
        .and_then(Value::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|v| {
            if let Some(i) = v.get("i").and_then(Value::as_i64) {
                Some(SqlValue::Int(i))
            } else if let Some(r) = v.get("r").and_then(Value::as_f64) {
                Some(SqlValue::Real(r))
            } else {
                v.get("t")
                    .and_then(Value::as_str)
                    .map(|t| SqlValue::Text(t.to_string()))
            }
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)?;
    let key = PageKey {
        sort,
        resource_type: text("t").ok_or_else(bad)?,
        id: text("i").ok_or_else(bad)?,
    };
    match text("d").as_deref() {
        Some("a") => Ok(PageStart::After(key)),
        Some("b") => Ok(PageStart::Before(key)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_value_kind() {
        let start = PageStart::After(PageKey {
            sort: vec![
                SqlValue::Int(-5),
                SqlValue::Real(0.1),
                SqlValue::Text("smith\u{10FFFF}".into()),
            ],
            resource_type: "Patient".into(),
            id: "a-1".into(),
        });
        let token = encode(&start).unwrap();
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(decode(&token).unwrap(), start);
    }

    #[test]
    fn damaged_cursors_are_bad_requests() {
        for bad in ["", "!!", "e30", "eyJkIjoieCJ9"] {
            assert!(
                matches!(decode(bad), Err(CoreError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}

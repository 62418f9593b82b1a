//! Index rows written with each version. For now the `identifier` token (which
//! conditional operations use); the search layer will extract every
//! SearchParameter here.

use concord_store::{IndexRows, TokenIndex};
use serde_json::Value;

pub fn extract(resource: &Value) -> IndexRows {
    let mut rows = IndexRows::default();
    let identifiers: Vec<&Value> = match resource.get("identifier") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for identifier in identifiers {
        if let Some(code) = identifier.get("value").and_then(Value::as_str) {
            rows.tokens.push(TokenIndex {
                param: "identifier".into(),
                system: identifier
                    .get("system")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                code: code.to_string(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_identifiers_as_tokens() {
        let rows = extract(&json!({"resourceType": "Patient",
            "identifier": [{"system": "urn:a", "value": "1"}, {"value": "2"}, {"system": "urn:x"}]}));
        assert_eq!(rows.tokens.len(), 2);
        assert_eq!(rows.tokens[0].system.as_deref(), Some("urn:a"));
        assert_eq!(rows.tokens[1].system, None);
        let single = extract(&json!({"resourceType": "Bundle", "identifier": {"value": "b"}}));
        assert_eq!(single.tokens[0].code, "b");
    }
}

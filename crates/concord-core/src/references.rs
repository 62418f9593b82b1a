//! Reference rewriting inside Bundles: `urn:uuid:` / fullUrl placeholders and
//! conditional references (`Patient?identifier=…`).

use foldhash::HashMap;

use serde_json::Value;

/// Replaces every string value equal to a key of `map` with the mapped value.
pub fn rewrite(value: &mut Value, map: &HashMap<String, String>) {
    if map.is_empty() {
        return;
    }
    match value {
        Value::String(s) => {
            if let Some(to) = map.get(s.as_str()) {
                *s = to.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, map)),
        Value::Object(obj) => obj.values_mut().for_each(|v| rewrite(v, map)),
        _ => {}
    }
}

/// Collects `reference` values of the form `Type?query` (conditional references).
pub fn conditional_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| conditional_references(v, out)),
        Value::Object(obj) => {
            for (key, v) in obj {
                match (key.as_str(), v) {
                    ("reference", Value::String(r)) => {
                        if let Some((rt, _)) = r.split_once('?') {
                            if concord_fhir::is_resource_type(rt) && !out.contains(r) {
                                out.push(r.clone());
                            }
                        }
                    }
                    _ => conditional_references(v, out),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rewrites_placeholders_everywhere() {
        let mut v = json!({"subject": {"reference": "urn:uuid:1"}, "list": ["urn:uuid:1", "x"]});
        let map: HashMap<String, String> = [("urn:uuid:1".to_string(), "Patient/abc".to_string())]
            .into_iter()
            .collect();
        rewrite(&mut v, &map);
        assert_eq!(v["subject"]["reference"], "Patient/abc");
        assert_eq!(v["list"][0], "Patient/abc");
        assert_eq!(v["list"][1], "x");
    }

    #[test]
    fn finds_conditional_references_once() {
        let v = json!({"a": {"reference": "Patient?identifier=x|1"},
            "b": [{"reference": "Patient?identifier=x|1"}, {"reference": "Patient/1"}],
            "c": {"reference": "http://h/x?y"}});
        let mut out = Vec::new();
        conditional_references(&v, &mut out);
        assert_eq!(out, vec!["Patient?identifier=x|1".to_string()]);
    }
}

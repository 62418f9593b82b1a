//! Summary and mandatory top-level elements per resource type
//! (`defs/summary.json`, from the R4 StructureDefinitions' `isSummary` and
//! `min`), for `_summary` and `_elements`.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

const SUMMARY_JSON: &str = include_str!("../../defs/summary.json");

#[derive(Debug, Default)]
struct Elements {
    summary: Vec<String>,
    mandatory: Vec<String>,
}

fn table() -> &'static HashMap<String, Elements> {
    static T: OnceLock<HashMap<String, Elements>> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = HashMap::new();
        let Ok(doc) = serde_json::from_str::<Value>(SUMMARY_JSON) else {
            return out;
        };
        let list = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(types) = doc.get("types").and_then(Value::as_object) {
            for (name, t) in types {
                out.insert(
                    name.clone(),
                    Elements {
                        summary: list(t.get("summary")),
                        mandatory: list(t.get("mandatory")),
                    },
                );
            }
        }
        out
    })
}

/// Top-level elements marked `isSummary` (choice elements without `[x]`).
pub fn summary_elements(resource_type: &str) -> &'static [String] {
    table()
        .get(resource_type)
        .map(|e| e.summary.as_slice())
        .unwrap_or(&[])
}

/// Top-level elements with `min >= 1`.
pub fn mandatory_elements(resource_type: &str) -> &'static [String] {
    table()
        .get(resource_type)
        .map(|e| e.mandatory.as_slice())
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_summary_and_mandatory_elements() {
        assert!(summary_elements("Patient").iter().any(|e| e == "birthDate"));
        assert!(!summary_elements("Patient").iter().any(|e| e == "photo"));
        assert!(mandatory_elements("Observation")
            .iter()
            .any(|e| e == "code"));
        assert!(summary_elements("NoSuchType").is_empty());
    }
}

//! Index rows written with each version, by policy:
//! - `AllSearchParameters` (default): every SearchParameter of the
//!   resource's type, extracted by `concord-search`;
//! - `Identifiers`: only the `identifier` token rows — faster bulk loads,
//!   but search then finds resources only by `_id`, `_lastUpdated` and
//!   identifier (`concord reindex` fills the rest in later).

use concord_store::{IndexRows, TokenIndex};
use serde_json::Value;

/// Which search-index rows the write path stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IndexPolicy {
    Identifiers,
    #[default]
    AllSearchParameters,
}

pub fn extract(policy: IndexPolicy, resource: &Value) -> IndexRows {
    match policy {
        IndexPolicy::Identifiers => identifier_rows(resource),
        IndexPolicy::AllSearchParameters => concord_search::index_rows(resource),
    }
}

/// `identifier` token rows (system, value), the same rows `concord-search` makes.
fn identifier_rows(resource: &Value) -> IndexRows {
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

    /// Both policies make the same `identifier` rows, so conditional
    /// operations behave the same whichever is configured.
    #[test]
    fn policies_agree_on_identifier_rows() {
        for resource in [
            json!({"resourceType": "Patient", "identifier": [{"system": "urn:a", "value": "1"},
                {"value": "2"}, {"system": "urn:x"}]}),
            json!({"resourceType": "Bundle", "identifier": {"system": "urn:b", "value": "b"}}),
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                "identifier": [{"system": "urn:o", "value": "7"}]}),
        ] {
            let ids = |rows: IndexRows| {
                let mut v: Vec<(Option<String>, String)> = rows
                    .tokens
                    .into_iter()
                    .filter(|t| t.param == "identifier")
                    .map(|t| (t.system, t.code))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(
                ids(extract(IndexPolicy::Identifiers, &resource)),
                ids(extract(IndexPolicy::AllSearchParameters, &resource)),
                "{resource}"
            );
        }
        let only = extract(
            IndexPolicy::Identifiers,
            &json!({"resourceType": "Patient",
            "name": [{"family": "Doe"}], "identifier": [{"value": "1"}]}),
        );
        assert_eq!(only.tokens.len(), 1);
        assert!(only.strings.is_empty());
    }

    #[test]
    fn extracts_identifiers_as_tokens() {
        let rows = extract(
            IndexPolicy::AllSearchParameters,
            &json!({"resourceType": "Patient",
            "identifier": [{"system": "urn:a", "value": "1"}, {"value": "2"}, {"system": "urn:x"}]}),
        );
        let ids: Vec<_> = rows
            .tokens
            .iter()
            .filter(|t| t.param == "identifier")
            .collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].system.as_deref(), Some("urn:a"));
        assert_eq!(ids[1].system, None);
        let single = extract(
            IndexPolicy::AllSearchParameters,
            &json!({"resourceType": "Bundle", "identifier": {"value": "b"}}),
        );
        assert!(single
            .tokens
            .iter()
            .any(|t| t.param == "identifier" && t.code == "b"));
    }

    #[test]
    fn extracts_every_kind() {
        let rows = extract(
            IndexPolicy::AllSearchParameters,
            &json!({"resourceType": "Patient", "id": "p",
            "name": [{"family": "Doe"}], "birthDate": "2000"}),
        );
        assert!(rows
            .strings
            .iter()
            .any(|s| s.param == "family" && s.value == "doe"));
        assert!(rows.dates.iter().any(|d| d.param == "birthdate"));
        assert_eq!(rows.compartments.len(), 1);
    }
}

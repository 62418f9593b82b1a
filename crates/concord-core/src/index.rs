//! Index rows written with each version: every SearchParameter of the
//! resource's type, extracted by `concord-search` (the `identifier` token
//! rows that conditional operations match are among them).

use concord_store::IndexRows;
use serde_json::Value;

pub fn extract(resource: &Value) -> IndexRows {
    concord_search::index_rows(resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_identifiers_as_tokens() {
        let rows = extract(&json!({"resourceType": "Patient",
            "identifier": [{"system": "urn:a", "value": "1"}, {"value": "2"}, {"system": "urn:x"}]}));
        let ids: Vec<_> = rows
            .tokens
            .iter()
            .filter(|t| t.param == "identifier")
            .collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].system.as_deref(), Some("urn:a"));
        assert_eq!(ids[1].system, None);
        let single = extract(&json!({"resourceType": "Bundle", "identifier": {"value": "b"}}));
        assert!(single
            .tokens
            .iter()
            .any(|t| t.param == "identifier" && t.code == "b"));
    }

    #[test]
    fn extracts_every_kind() {
        let rows = extract(&json!({"resourceType": "Patient", "id": "p",
            "name": [{"family": "Doe"}], "birthDate": "2000"}));
        assert!(rows
            .strings
            .iter()
            .any(|s| s.param == "family" && s.value == "doe"));
        assert!(rows.dates.iter().any(|d| d.param == "birthdate"));
        assert_eq!(rows.compartments.len(), 1);
    }
}

//! `_summary` and `_elements`: trimming search results to what the client
//! asked for. Trimmed resources carry the `SUBSETTED` tag.

use concord_core::search::Summary;
use concord_fhir::definitions::{mandatory_elements, summary_elements};
use serde_json::{json, Map, Value};

/// Always kept.
const BASE: &[&str] = &["resourceType", "id", "meta"];

/// Whether [`trim`] returns every resource unchanged: no `_summary` that
/// subsets (`true`, `text`, `data`) and no `_elements`.
pub fn keeps_all(summary: Option<Summary>, elements: &[String]) -> bool {
    matches!(summary, None | Some(Summary::Count) | Some(Summary::False)) && elements.is_empty()
}

/// Applies `_summary` / `_elements` to one resource (no change for none or
/// `_summary=false`).
pub fn trim(resource: Value, summary: Option<Summary>, elements: &[String]) -> Value {
    let Value::Object(map) = resource else {
        return resource;
    };
    let rt = map
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let keep: Box<dyn Fn(&str) -> bool> = match summary {
        Some(Summary::True) => {
            let summary = summary_elements(&rt);
            let mandatory = mandatory_elements(&rt);
            Box::new(move |k: &str| BASE.contains(&k) || has(summary, k) || has(mandatory, k))
        }
        Some(Summary::Text) => {
            let mandatory = mandatory_elements(&rt);
            Box::new(move |k: &str| BASE.contains(&k) || k == "text" || has(mandatory, k))
        }
        Some(Summary::Data) => Box::new(|k: &str| k != "text"),
        _ if !elements.is_empty() => {
            let mandatory = mandatory_elements(&rt);
            let wanted: Vec<String> = elements.to_vec();
            Box::new(move |k: &str| BASE.contains(&k) || has(mandatory, k) || has(&wanted, k))
        }
        _ => return Value::Object(map),
    };
    let before = map.len();
    let mut out: Map<String, Value> = map
        .into_iter()
        .filter(|(k, _)| keep(k.trim_start_matches('_')) || keep(stem(k)))
        .collect();
    if out.len() < before {
        tag_subsetted(&mut out);
    }
    Value::Object(out)
}

fn has(list: &[String], key: &str) -> bool {
    list.iter().any(|e| e == key)
}

/// `valueQuantity` → `value` (choice elements are listed by their stem).
fn stem(key: &str) -> &str {
    let key = key.trim_start_matches('_');
    match key.char_indices().find(|(_, c)| c.is_ascii_uppercase()) {
        Some((i, _)) if i > 0 => &key[..i],
        _ => key,
    }
}

fn tag_subsetted(resource: &mut Map<String, Value>) {
    let meta = resource
        .entry("meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        let tags = meta
            .entry("tag")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(tags) = tags {
            tags.push(json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "SUBSETTED",
                "display": "subsetted"
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> Value {
        json!({"resourceType": "Patient", "id": "p", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
               "name": [{"family": "Doe"}], "photo": [{"url": "http://x"}], "birthDate": "2000", "_birthDate": {"id": "b"}})
    }

    #[test]
    fn summary_true_keeps_summary_elements_and_tags() {
        let out = trim(patient(), Some(Summary::True), &[]);
        assert!(
            out.get("name").is_some()
                && out.get("birthDate").is_some()
                && out.get("_birthDate").is_some()
        );
        assert!(out.get("photo").is_none() && out.get("text").is_none());
        assert_eq!(out["meta"]["tag"][0]["code"], "SUBSETTED");
    }

    #[test]
    fn elements_and_data_and_text() {
        let out = trim(patient(), None, &["name".into()]);
        assert!(out.get("name").is_some() && out.get("birthDate").is_none());
        let out = trim(patient(), Some(Summary::Data), &[]);
        assert!(out.get("text").is_none() && out.get("photo").is_some());
        let out = trim(patient(), Some(Summary::Text), &[]);
        assert!(out.get("text").is_some() && out.get("name").is_none());
        let untouched = trim(patient(), None, &[]);
        assert_eq!(untouched, patient());
    }

    /// `keeps_all` (search entries then copy the stored text) holds exactly
    /// when `trim` changes nothing.
    #[test]
    fn keeps_all_exactly_when_trim_changes_nothing() {
        let summaries = [
            None,
            Some(Summary::True),
            Some(Summary::Text),
            Some(Summary::Data),
            Some(Summary::Count),
            Some(Summary::False),
        ];
        for summary in summaries {
            for elements in [vec![], vec!["name".to_string()]] {
                let unchanged = trim(patient(), summary, &elements) == patient();
                assert_eq!(
                    keeps_all(summary, &elements),
                    unchanged,
                    "{summary:?} {elements:?}"
                );
            }
        }
    }

    #[test]
    fn choice_elements_match_their_stem() {
        let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                         "valueQuantity": {"value": 1}, "note": [{"text": "n"}]});
        let out = trim(obs, Some(Summary::True), &[]);
        assert!(out.get("valueQuantity").is_some() && out.get("note").is_none());
    }
}

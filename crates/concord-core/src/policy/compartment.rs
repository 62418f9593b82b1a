//! Which patients a resource belongs to, and whether it matches a granular
//! scope's filter.

use serde_json::Value;

/// The ids of the Patient compartments `resource` is in (a Patient is in its own).
pub fn patients_of(resource: &Value) -> Vec<String> {
    let mut out: Vec<String> = concord_search::compartment_rows(resource)
        .into_iter()
        .filter(|c| c.compartment_type == "Patient")
        .map(|c| c.compartment_id)
        .collect();
    if resource.get("resourceType").and_then(Value::as_str) == Some("Patient") {
        if let Some(id) = resource.get("id").and_then(Value::as_str) {
            out.push(id.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Token values (`code` and `system|code`) of an element: a code, a Coding,
/// a CodeableConcept, or a list of those.
fn tokens(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| tokens(v, out)),
        Value::Object(map) => {
            if let Some(code) = map.get("code").and_then(Value::as_str) {
                out.push(code.to_string());
                if let Some(system) = map.get("system").and_then(Value::as_str) {
                    out.push(format!("{system}|{code}"));
                }
            }
            if let Some(codings) = map.get("coding") {
                tokens(codings, out);
            }
        }
        _ => {}
    }
}

/// The granular-scope parameters the guard understands.
pub const UNDERSTOOD: [&str; 5] = ["category", "code", "status", "type", "class"];

/// Whether `resource` matches every `param=value` of a granular scope. Only
/// token parameters named like their element (`category`, `code`, `status`,
/// `type`, `class`) are understood; anything else does not match (fail closed).
pub fn matches_filter(resource: &Value, filter: &[(String, String)]) -> bool {
    filter.iter().all(|(param, wanted)| {
        if !UNDERSTOOD.contains(&param.as_str()) {
            return false;
        }
        let mut found = Vec::new();
        if let Some(v) = resource.get(param) {
            tokens(v, &mut found);
        }
        found.iter().any(|t| t == wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compartments_and_filters() {
        let obs = json!({"resourceType": "Observation", "id": "o", "status": "final",
            "subject": {"reference": "Patient/p1"},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
            "code": {"text": "x"}});
        assert_eq!(patients_of(&obs), vec!["p1"]);
        assert_eq!(
            patients_of(&json!({"resourceType": "Patient", "id": "p9"})),
            vec!["p9"]
        );
        assert!(patients_of(&json!({"resourceType": "Practitioner", "id": "d"})).is_empty());
        let f = |p: &str, v: &str| vec![(p.to_string(), v.to_string())];
        assert!(matches_filter(&obs, &f("category", "laboratory")));
        assert!(matches_filter(
            &obs,
            &f(
                "category",
                "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
            )
        ));
        assert!(matches_filter(&obs, &f("status", "final")));
        assert!(!matches_filter(&obs, &f("category", "vital-signs")));
        assert!(!matches_filter(&obs, &f("subject", "Patient/p1")));
    }
}

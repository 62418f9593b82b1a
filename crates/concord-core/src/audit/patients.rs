//! Which patients a resource belongs to, cheaply, for the audit trail: the
//! resource itself for a Patient, else the `Patient/…` references in its
//! top-level elements named by the R4 Patient compartment's parameters
//! (`subject`, `patient`, `performer`, …, whose names match their elements).

use concord_fhir::compartments::compartment_params;
use serde_json::Value;

fn collect(value: &Value, depth: usize, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("reference").and_then(Value::as_str) {
                if let Some(id) = r.strip_prefix("Patient/") {
                    if !id.is_empty() && !id.contains('/') {
                        out.push(id.to_string());
                    }
                }
            }
            if depth > 0 {
                map.values().for_each(|v| collect(v, depth - 1, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, depth, out)),
        _ => {}
    }
}

/// The patient ids of `resource` (sorted, without duplicates).
pub fn patients_of(resource: &Value) -> Vec<String> {
    let Some(rt) = resource.get("resourceType").and_then(Value::as_str) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if rt == "Patient" {
        if let Some(id) = resource.get("id").and_then(Value::as_str) {
            out.push(id.to_string());
        }
    }
    for param in compartment_params("Patient", rt) {
        if let Some(v) = resource.get(param.as_str()) {
            collect(v, 1, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_patient() {
        assert_eq!(
            patients_of(&json!({"resourceType": "Patient", "id": "p1"})),
            vec!["p1"]
        );
        let obs = json!({"resourceType": "Observation", "id": "o",
            "subject": {"reference": "Patient/p2"},
            "performer": [{"reference": "Practitioner/d"}, {"reference": "Patient/p3"}]});
        assert_eq!(patients_of(&obs), vec!["p2", "p3"]);
        let med = json!({"resourceType": "Medication", "id": "m"});
        assert!(patients_of(&med).is_empty());
    }
}

//! Which patients a resource belongs to, cheaply, for the audit trail: the
//! resource itself for a Patient, else the `Patient/…` references in its
//! top-level elements named by the R4 Patient compartment's parameters
//! (`subject`, `patient`, `performer`, …, whose names match their elements).

use rustc_hash::FxHashSet;
use std::fmt;
use std::sync::OnceLock;

use concord_fhir::compartments::compartment_params;
use concord_fhir::RESOURCE_TYPES;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The id a reference names, when it is `Patient/id`, or when `resolve`
/// knows it (a transaction's `urn:uuid:` of a Patient entry).
fn patient_id(reference: &str, resolve: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    match reference.strip_prefix("Patient/") {
        Some(id) if !id.is_empty() && !id.contains('/') => Some(id.to_string()),
        Some(_) => None,
        None => resolve(reference),
    }
}

fn collect(
    value: &Value,
    depth: usize,
    out: &mut Vec<String>,
    resolve: &dyn Fn(&str) -> Option<String>,
) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("reference").and_then(Value::as_str) {
                out.extend(patient_id(r, resolve));
            }
            if depth > 0 {
                map.values()
                    .for_each(|v| collect(v, depth - 1, out, resolve));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, depth, out, resolve)),
        _ => {}
    }
}

/// The element names of every R4 Patient-compartment parameter, any type.
fn patient_elements() -> &'static FxHashSet<&'static str> {
    static NAMES: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        RESOURCE_TYPES
            .iter()
            .flat_map(|t| compartment_params("Patient", t))
            .map(String::as_str)
            .collect()
    })
}

/// What the audit trail reads of a resource — its type, id and the
/// elements that may name a patient — deserialized without building the
/// rest (a transaction's resources are skipped over, not parsed into
/// trees). Anything that is not an object reads as nothing.
#[derive(Debug, Default)]
pub struct PatientFields {
    resource_type: Option<String>,
    id: Option<String>,
    elements: Vec<(String, Value)>,
}

impl PatientFields {
    /// The patient ids (sorted, without duplicates); `resolve` names the
    /// patient of a reference that is not `Patient/…`.
    pub fn patients(&self, resolve: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let Some(rt) = self.resource_type.as_deref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if rt == "Patient" {
            out.extend(self.id.clone());
        }
        for param in compartment_params("Patient", rt) {
            if let Some((_, v)) = self.elements.iter().find(|(k, _)| k == param) {
                collect(v, 1, &mut out, resolve);
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

impl<'de> Deserialize<'de> for PatientFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = PatientFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resource")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PatientFields, A::Error> {
        let mut fields = PatientFields::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "resourceType" => {
                    fields.resource_type = map.next_value::<Value>()?.as_str().map(str::to_string)
                }
                "id" => fields.id = map.next_value::<Value>()?.as_str().map(str::to_string),
                k if patient_elements().contains(k) => {
                    let v = map.next_value::<Value>()?;
                    fields.elements.push((key, v));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PatientFields, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(PatientFields::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<PatientFields, E> {
        Ok(PatientFields::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<PatientFields, E> {
        Ok(PatientFields::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<PatientFields, E> {
        Ok(PatientFields::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<PatientFields, E> {
        Ok(PatientFields::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<PatientFields, E> {
        Ok(PatientFields::default())
    }

    fn visit_unit<E>(self) -> Result<PatientFields, E> {
        Ok(PatientFields::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patients_of(resource: &Value) -> Vec<String> {
        PatientFields::deserialize(resource)
            .expect("reads")
            .patients(&|_| None)
    }

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

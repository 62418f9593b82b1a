//! Small builders for the FHIR datatypes the generator writes often.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json::{Json, ToJson};

pub const SNOMED: &str = "http://snomed.info/sct";
pub const LOINC: &str = "http://loinc.org";
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const NPI: &str = "http://hl7.org/fhir/sid/us-npi";

/// A Coding. Builders return small `Serialize` types, not `Value`s, so that
/// `json!` builds each nested object once instead of copying a `Value`.
#[derive(Serialize, Clone, Copy)]
pub struct Coding<'a> {
    system: &'a str,
    code: &'a str,
    display: &'a str,
}

/// A CodeableConcept with one Coding and its display as `text`.
#[derive(Serialize, Clone, Copy)]
pub struct Concept<'a> {
    coding: [Coding<'a>; 1],
    text: &'a str,
}

/// A Reference (`Type/id`, optionally with a display).
#[derive(Serialize, Clone)]
pub struct Ref {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<String>,
}

/// A UCUM Quantity.
#[derive(Serialize, Clone, Copy)]
pub struct Quantity<'a> {
    value: f64,
    unit: &'a str,
    system: &'static str,
    code: &'a str,
}

pub fn coding<'a>(system: &'a str, code: &'a str, display: &'a str) -> Coding<'a> {
    Coding {
        system,
        code,
        display,
    }
}

pub fn concept<'a>(system: &'a str, code: &'a str, display: &'a str) -> Concept<'a> {
    Concept {
        coding: [coding(system, code, display)],
        text: display,
    }
}

pub fn reference(kind: &str, id: &str) -> Ref {
    Ref {
        reference: format!("{kind}/{id}"),
        display: None,
    }
}

pub fn reference_named(kind: &str, id: &str, display: &str) -> Ref {
    Ref {
        reference: format!("{kind}/{id}"),
        display: Some(display.to_string()),
    }
}

pub fn quantity(value: f64, unit: &str) -> Quantity<'_> {
    Quantity {
        value,
        unit,
        system: UCUM,
        code: unit,
    }
}

/// A transaction entry that PUTs the resource at its id (idempotent reloads).
/// Built by moving, not through `json!` (which would copy the resource).
pub fn put_entry(resource: Value) -> Value {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    let url = format!("{kind}/{id}");
    let mut request = Map::with_capacity(2);
    request.insert("method".into(), Value::String("PUT".into()));
    request.insert("url".into(), Value::String(url));
    let mut entry = Map::with_capacity(2);
    entry.insert("resource".into(), resource);
    entry.insert("request".into(), Value::Object(request));
    Value::Object(entry)
}

pub fn transaction(entries: Vec<Value>) -> Value {
    let mut bundle = Map::with_capacity(3);
    bundle.insert("resourceType".into(), Value::String("Bundle".into()));
    bundle.insert("type".into(), Value::String("transaction".into()));
    bundle.insert("entry".into(), Value::Array(entries));
    Value::Object(bundle)
}

// The same objects as text (the patient records' hot path), with the keys
// in the order the `Serialize` derives above print them.

impl ToJson for Coding<'_> {
    fn write(&self, w: &mut Json) {
        crate::json::jw!(w, {"system": self.system, "code": self.code, "display": self.display});
    }
}

impl ToJson for Concept<'_> {
    fn write(&self, w: &mut Json) {
        crate::json::jw!(w, {"coding": self.coding, "text": self.text});
    }
}

impl ToJson for Ref {
    fn write(&self, w: &mut Json) {
        crate::json::jw!(w, {"reference": self.reference, "display": self.display});
    }
}

impl ToJson for Quantity<'_> {
    fn write(&self, w: &mut Json) {
        crate::json::jw!(w, {"value": self.value, "unit": self.unit, "system": self.system, "code": self.code});
    }
}

/// Rounds to `places` decimals (for values a device would display).
pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// A valid NPI: `prefix` digits (9 in all) and the Luhn check digit computed
/// over the 80840 card-issuer prefix, as CMS's NPI standard specifies.
pub fn npi(body: u64) -> String {
    let digits = format!("{:09}", body % 1_000_000_000);
    let full = format!("80840{digits}");
    let mut sum = 0u32;
    for (i, c) in full.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    let check = (10 - sum % 10) % 10;
    format!("{digits}{check}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn npi_check_digit_matches_the_cms_example() {
        // CMS's worked example: 123456789 → check digit 3.
        assert_eq!(super::npi(123_456_789), "1234567893");
    }
}

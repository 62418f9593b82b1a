//! Small builders for the FHIR datatypes the generator writes often.

use serde_json::{json, Value};

pub const SNOMED: &str = "http://snomed.info/sct";
pub const LOINC: &str = "http://loinc.org";
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const NPI: &str = "http://hl7.org/fhir/sid/us-npi";

pub fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

pub fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [coding(system, code, display)], "text": display})
}

pub fn reference(kind: &str, id: &str) -> Value {
    json!({"reference": format!("{kind}/{id}")})
}

pub fn reference_named(kind: &str, id: &str, display: &str) -> Value {
    json!({"reference": format!("{kind}/{id}"), "display": display})
}

pub fn quantity(value: f64, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": UCUM, "code": unit})
}

/// A transaction entry that PUTs the resource at its id (idempotent reloads).
pub fn put_entry(resource: Value) -> Value {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    let url = format!("{kind}/{id}");
    json!({"resource": resource, "request": {"method": "PUT", "url": url}})
}

pub fn transaction(entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
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

//! The core vital-signs profiles (`defs/profiles.json`): the LOINC coding
//! each one requires in `Observation.code` (e.g. `bodytemp` → 8310-5).

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

const PROFILES_JSON: &str = include_str!("../../defs/profiles.json");

/// A coding a profile requires (from a fixed `Observation.code.coding` slice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredCoding {
    /// The profile's slice name, e.g. `BodyTempCode`.
    pub slice: String,
    pub system: String,
    pub code: String,
}

fn profiles() -> &'static HashMap<String, Vec<RequiredCoding>> {
    static P: OnceLock<HashMap<String, Vec<RequiredCoding>>> = OnceLock::new();
    P.get_or_init(|| parse(PROFILES_JSON))
}

fn parse(text: &str) -> HashMap<String, Vec<RequiredCoding>> {
    let mut out = HashMap::new();
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return out;
    };
    let Some(map) = doc.get("profiles").and_then(Value::as_object) else {
        return out;
    };
    for (url, rows) in map {
        let codes = rows
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let s = |i: usize| r.get(i).and_then(Value::as_str).map(str::to_string);
                Some(RequiredCoding {
                    slice: s(0)?,
                    system: s(1)?,
                    code: s(2)?,
                })
            })
            .collect();
        out.insert(url.clone(), codes);
    }
    out
}

/// The codings `Observation.code` must contain for an Observation claiming
/// the core vital-signs profile `profile_url` (a `|version` suffix is
/// ignored); `None` for any other profile.
pub fn vital_signs_required_codings(profile_url: &str) -> Option<&'static [RequiredCoding]> {
    let url = profile_url.split('|').next().unwrap_or(profile_url);
    profiles().get(url).map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vital_signs_codes() {
        let temp =
            vital_signs_required_codings("http://hl7.org/fhir/StructureDefinition/bodytemp|4.0.1")
                .unwrap();
        assert_eq!(
            (temp[0].system.as_str(), temp[0].code.as_str()),
            ("http://loinc.org", "8310-5")
        );
        assert!(
            vital_signs_required_codings("http://hl7.org/fhir/StructureDefinition/bp").is_some()
        );
        assert!(vital_signs_required_codings("http://example.org/x").is_none());
    }
}

//! Required-binding value set expansions (`defs/valuesets.json`).

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const VALUESETS_JSON: &str = include_str!("../../defs/valuesets.json");

/// One expansion: per code system, its codes. `None` = not checkable locally.
type Expansion = Option<Vec<(String, HashSet<String>)>>;

fn valuesets() -> &'static HashMap<String, Expansion> {
    static VS: OnceLock<HashMap<String, Expansion>> = OnceLock::new();
    VS.get_or_init(|| parse(VALUESETS_JSON))
}

fn parse(text: &str) -> HashMap<String, Expansion> {
    let mut out = HashMap::new();
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return out;
    };
    let Some(map) = doc.get("valuesets").and_then(Value::as_object) else {
        return out;
    };
    for (url, exp) in map {
        let expansion = exp.as_array().map(|systems| {
            systems
                .iter()
                .filter_map(|pair| {
                    let system = pair.get(0)?.as_str()?.to_string();
                    let codes = pair
                        .get(1)?
                        .as_array()?
                        .iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect();
                    Some((system, codes))
                })
                .collect()
        });
        out.insert(url.clone(), expansion);
    }
    out
}

/// Is `code` (optionally from `system`) in the value set `url`?
/// `None` means "not checkable": the value set is unknown to this build or
/// draws on a code system that cannot be expanded locally (UCUM, BCP-47, ...).
/// A version suffix (`|4.0.1`) on `url` is ignored.
pub fn code_in_value_set(url: &str, system: Option<&str>, code: &str) -> Option<bool> {
    let url = url.split('|').next().unwrap_or(url);
    let systems = valuesets().get(url)?.as_ref()?;
    Some(
        systems
            .iter()
            .any(|(s, codes)| system.is_none_or(|want| want == s.as_str()) && codes.contains(code)),
    )
}

/// True when `url` is a known, locally expanded value set.
pub fn value_set_is_checkable(url: &str) -> bool {
    let url = url.split('|').next().unwrap_or(url);
    matches!(valuesets().get(url), Some(Some(_)))
}

/// True when the value set `url` includes codes from `system` (checkable sets only).
pub fn value_set_has_system(url: &str, system: &str) -> Option<bool> {
    let systems = valuesets().get(url)?.as_ref()?;
    Some(systems.iter().any(|(s, _)| s == system))
}

/// The codes of a locally expanded value set, per code system (sorted by
/// system, codes sorted), or `None` when it is unknown or not checkable.
pub fn value_set_codes(url: &str) -> Option<Vec<(String, Vec<String>)>> {
    let url = url.split('|').next().unwrap_or(url);
    let systems = valuesets().get(url)?.as_ref()?;
    let mut out: Vec<(String, Vec<String>)> = systems
        .iter()
        .map(|(s, codes)| {
            let mut codes: Vec<String> = codes.iter().cloned().collect();
            codes.sort();
            (s.clone(), codes)
        })
        .collect();
    out.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_codes() {
        let gender = "http://hl7.org/fhir/ValueSet/administrative-gender";
        assert_eq!(code_in_value_set(gender, None, "female"), Some(true));
        assert_eq!(code_in_value_set(gender, None, "F"), Some(false));
        let sys = "http://hl7.org/fhir/administrative-gender";
        assert_eq!(code_in_value_set(gender, Some(sys), "male"), Some(true));
        assert_eq!(code_in_value_set(gender, Some("x"), "male"), Some(false));
        assert_eq!(value_set_has_system(gender, sys), Some(true));
        let ucum = "http://hl7.org/fhir/ValueSet/ucum-units";
        assert_eq!(code_in_value_set(ucum, None, "mg"), None);
        assert!(!value_set_is_checkable(ucum));
        assert_eq!(
            code_in_value_set("http://example.org/none", None, "x"),
            None
        );
    }

    #[test]
    fn nested_hierarchies_are_expanded() {
        // v3 ActCode-style hierarchies: observation-status has no nesting, but
        // the required `resource-types` set is large and flat; check a deep one.
        let url = "http://hl7.org/fhir/ValueSet/resource-types";
        assert_eq!(code_in_value_set(url, None, "Patient"), Some(true));
    }
}

//! Local codes → standard codes with FHIR `ConceptMap` resources stored in
//! Concord, applied to a mapped inbound message before it is written:
//! Observation.code gets the LOINC coding, Immunization.vaccineCode the CVX
//! coding, when a ConceptMap maps the sent code.
//!
//! A ConceptMap `group` applies when its `target` is LOINC
//! (`http://loinc.org`) or CVX (`http://hl7.org/fhir/sid/cvx`) and its
//! `source` is the coding's system, or, for a coding sent without a known
//! system (a local code), [`local_system`] of the sending application, or
//! absent. Elements match on `code`; targets with equivalence `unmatched`
//! or `disjoint` are ignored. Retired ConceptMaps are ignored. The maps
//! are read only for messages that carry a code without its standard
//! coding.

use concord_core::search::{Handling, SearchRequest};
use concord_core::{CoreError, Engine};
use concord_store::TenantContext;
use serde_json::{json, Value};

pub const LOINC: &str = "http://loinc.org";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";

/// The code system URI of a sending application's local codes
/// (`urn:concord:hl7v2:local:LAB`): letters, digits, `-` and `.` kept,
/// anything else `-`.
pub fn local_system(sending_application: &str) -> String {
    let clean: String = sending_application
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("urn:concord:hl7v2:local:{clean}")
}

/// (resource type, element, target system) of the codes mapped.
const TARGETS: [(&str, &str, &str); 2] = [
    ("Observation", "code", LOINC),
    ("Immunization", "vaccineCode", CVX),
];

fn has_system(cc: &Value, system: &str) -> bool {
    cc.get("coding").and_then(Value::as_array).is_some_and(|c| {
        c.iter()
            .any(|k| k.get("system").and_then(Value::as_str) == Some(system))
    })
}

/// Whether any mapped resource has a code without its standard coding.
fn needs_maps(bundle: &Value) -> bool {
    let Some(entries) = bundle.get("entry").and_then(Value::as_array) else {
        return false;
    };
    entries.iter().any(|e| {
        let r = &e["resource"];
        TARGETS.iter().any(|(rt, el, target)| {
            r.get("resourceType").and_then(Value::as_str) == Some(rt)
                && r.get(*el).is_some_and(|cc| !has_system(cc, target))
        })
    })
}

/// The standard coding a map gives for (`system`, `code`), if any.
fn lookup(
    maps: &[Value],
    target: &str,
    system: Option<&str>,
    local: &str,
    code: &str,
) -> Option<Value> {
    for map in maps {
        if map.get("status").and_then(Value::as_str) == Some("retired") {
            continue;
        }
        let Some(groups) = map.get("group").and_then(Value::as_array) else {
            continue;
        };
        for g in groups {
            if g.get("target").and_then(Value::as_str) != Some(target) {
                continue;
            }
            let source = g.get("source").and_then(Value::as_str);
            let applies = match (system, source) {
                (Some(s), Some(src)) => s == src,
                (None, Some(src)) => src == local,
                (None, None) => true,
                (Some(_), None) => false,
            };
            if !applies {
                continue;
            }
            let Some(elements) = g.get("element").and_then(Value::as_array) else {
                continue;
            };
            for el in elements {
                if el.get("code").and_then(Value::as_str) != Some(code) {
                    continue;
                }
                let Some(targets) = el.get("target").and_then(Value::as_array) else {
                    continue;
                };
                for t in targets {
                    let eq = t.get("equivalence").and_then(Value::as_str);
                    if matches!(eq, Some("unmatched" | "disjoint")) {
                        continue;
                    }
                    if let Some(tc) = t.get("code").and_then(Value::as_str) {
                        let mut coding = json!({"system": target, "code": tc});
                        if let Some(d) = t.get("display").and_then(Value::as_str) {
                            coding["display"] = json!(d);
                        }
                        return Some(coding);
                    }
                }
            }
        }
    }
    None
}

/// Adds the standard codings the given ConceptMaps provide (pure).
pub fn apply_maps(bundle: &mut Value, maps: &[Value], sending_application: &str) -> usize {
    let local = local_system(sending_application);
    let mut added = 0;
    let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) else {
        return 0;
    };
    for e in entries {
        let r = &mut e["resource"];
        let rtype = r
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        for (rt, el, target) in TARGETS {
            if rtype != rt {
                continue;
            }
            let Some(cc) = r.get_mut(el) else {
                continue;
            };
            if has_system(cc, target) {
                continue;
            }
            let found = cc
                .get("coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|k| {
                    let code = k.get("code").and_then(Value::as_str)?;
                    let system = k.get("system").and_then(Value::as_str);
                    lookup(maps, target, system, &local, code)
                });
            if let (Some(coding), Some(list)) =
                (found, cc.get_mut("coding").and_then(Value::as_array_mut))
            {
                list.push(coding);
                added += 1;
            }
        }
    }
    added
}

/// Reads the stored ConceptMaps (only when the message needs them) and
/// applies them to `bundle`; returns how many codings were added.
pub async fn apply_stored_maps(
    engine: &Engine,
    ctx: &TenantContext,
    bundle: &mut Value,
    sending_application: &str,
) -> Result<usize, CoreError> {
    if !needs_maps(bundle) {
        return Ok(0);
    }
    let mut maps = Vec::new();
    let mut params = vec![("_count".to_string(), "1000".to_string())];
    loop {
        let req = SearchRequest {
            resource_type: Some("ConceptMap".into()),
            compartment: None,
            params: params.clone(),
            handling: Handling::Strict,
            base_url: String::new(),
        };
        let page = engine.search(ctx, &req).await?;
        maps.extend(
            page.matches
                .iter()
                .filter_map(|v| v.content.as_deref())
                .filter_map(|c| serde_json::from_str::<Value>(c).ok()),
        );
        match page.next {
            Some(next) => {
                params = vec![
                    ("_count".to_string(), "1000".to_string()),
                    (concord_core::search::CURSOR_PARAM.to_string(), next),
                ];
            }
            None => break,
        }
    }
    Ok(apply_maps(bundle, &maps, sending_application))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_codes_get_the_mapped_standard_coding() {
        let maps = vec![json!({
            "resourceType": "ConceptMap", "status": "active",
            "group": [{"source": "urn:concord:hl7v2:local:LAB", "target": LOINC,
                "element": [{"code": "GLU", "target": [{"code": "2345-7", "display": "Glucose", "equivalence": "equivalent"}]}]}]
        })];
        let mut bundle = json!({"entry": [
            {"resource": {"resourceType": "Observation", "code": {"coding": [{"code": "GLU"}]}}},
            {"resource": {"resourceType": "Observation", "code": {"coding": [{"code": "NA"}]}}},
            {"resource": {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": "1-1"}]}}}
        ]});
        assert!(needs_maps(&bundle));
        assert_eq!(apply_maps(&mut bundle, &maps, "LAB"), 1);
        assert_eq!(
            bundle["entry"][0]["resource"]["code"]["coding"][1]["code"],
            "2345-7"
        );
        assert_eq!(
            bundle["entry"][1]["resource"]["code"]["coding"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // Another sender's local codes are not this map's.
        let mut other = json!({"entry": [{"resource": {"resourceType": "Observation", "code": {"coding": [{"code": "GLU"}]}}}]});
        assert_eq!(apply_maps(&mut other, &maps, "LAB2"), 0);
    }
}

//! Parameters that are the union of others. R4 defines some parameters as
//! the `|` of other parameters' expressions — Observation's `combo-code` is
//! `code` | `component-code`, `combo-code-value-quantity` is
//! `code-value-quantity` over the resource | `component-code-value-quantity`
//! over its components. Their index rows would repeat the parts' rows (a
//! sixth of a Synthea record's rows), so none are stored: search answers
//! such a parameter from its parts' rows (any part matches; for `:not`,
//! `:not-in` and `:missing=true`, every part).
//!
//! Found from the definitions, not listed by hand: a parameter is a union
//! when its expression branches are exactly covered by the branches of
//! other parameters of the same type and kind, each with fewer branches
//! (so parts are never unions of the whole, and there are no cycles), and,
//! for composites, components of the same kinds and expressions. Reference parameters are left
//! alone: chains, includes, `_has` and compartments read their rows by
//! name.

use std::collections::BTreeSet;

use crate::registry::{ParamType, SearchParamDef};

/// A branch as compared between parameters: its expression and the
/// reference target it keeps.
fn branch_keys(p: &SearchParamDef) -> BTreeSet<(String, Option<String>)> {
    p.branches
        .iter()
        .map(|b| {
            (
                b.expression.source().trim().to_string(),
                b.target_type.clone(),
            )
        })
        .collect()
}

/// A composite's components as compared: kind and expression (their
/// definitions differ: `combo-code-value-quantity` names `combo-code`,
/// `code-value-quantity` names `code`, both read `code`).
fn component_keys(p: &SearchParamDef) -> Vec<(ParamType, Option<String>)> {
    p.components
        .iter()
        .map(|c| {
            (
                c.kind,
                c.expression.as_ref().map(|e| e.source().trim().to_string()),
            )
        })
        .collect()
}

/// The parts of every union parameter among `params` (one type's), by
/// position; empty for the others.
pub(crate) fn find(params: &[SearchParamDef]) -> Vec<Vec<&'static str>> {
    let keys: Vec<_> = params.iter().map(branch_keys).collect();
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if p.kind == ParamType::Reference || p.from_resource_row || keys[i].len() < 2 {
                return Vec::new();
            }
            let mut covered = BTreeSet::new();
            let mut parts = Vec::new();
            for (j, q) in params.iter().enumerate() {
                let smaller = !keys[j].is_empty() && keys[j].len() < keys[i].len();
                if j == i || q.kind != p.kind || q.from_resource_row || !smaller {
                    continue;
                }
                if keys[j].is_subset(&keys[i]) && component_keys(q) == component_keys(p) {
                    covered.extend(keys[j].iter().cloned());
                    parts.push(q.code);
                }
            }
            if covered == keys[i] {
                parts
            } else {
                Vec::new()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::registry::{for_type, param};
    use concord_fhir::RESOURCE_TYPES;

    #[test]
    fn observation_combo_parameters_are_unions_of_their_parts() {
        let parts = |code: &str| param("Observation", code).map(|p| p.union_of.clone());
        assert_eq!(parts("combo-code"), Some(vec!["code", "component-code"]));
        assert_eq!(
            parts("combo-code-value-quantity"),
            Some(vec!["code-value-quantity", "component-code-value-quantity"])
        );
        assert_eq!(
            parts("combo-value-quantity"),
            Some(vec!["component-value-quantity", "value-quantity"])
        );
        // Parts are not unions; ordinary parameters have no parts.
        assert_eq!(parts("code"), Some(Vec::new()));
        assert_eq!(parts("component-code"), Some(Vec::new()));
        assert_eq!(parts("subject"), Some(Vec::new()));
    }

    #[test]
    fn the_unions_of_r4_are_observations_six_combos() {
        let mut found = Vec::new();
        for t in RESOURCE_TYPES {
            let Some(tp) = for_type(t) else { continue };
            for p in tp.params().iter().filter(|p| !p.union_of.is_empty()) {
                found.push(format!("{t}.{}", p.code));
            }
        }
        assert_eq!(
            found,
            [
                "Observation.combo-code",
                "Observation.combo-code-value-concept",
                "Observation.combo-code-value-quantity",
                "Observation.combo-data-absent-reason",
                "Observation.combo-value-concept",
                "Observation.combo-value-quantity",
            ]
        );
    }

    #[test]
    fn no_reference_parameter_and_no_part_is_a_union() {
        for t in RESOURCE_TYPES {
            let Some(tp) = for_type(t) else { continue };
            for p in tp.params() {
                if p.union_of.is_empty() {
                    continue;
                }
                assert_ne!(
                    p.kind,
                    crate::registry::ParamType::Reference,
                    "{t} {}",
                    p.code
                );
                for part in &p.union_of {
                    let q = tp.get(part).expect("part exists");
                    assert!(
                        q.union_of.is_empty(),
                        "{t} {}: part {part} is a union",
                        p.code
                    );
                    assert_eq!(q.kind, p.kind, "{t} {} / {part}", p.code);
                }
            }
        }
    }
}

//! Compartment rows from the R4 CompartmentDefinitions: a resource is in
//! `C/id` when one of the compartment's parameters for its type has a local
//! (relative) reference row to `C/id`. `{def}` members (an Encounter in its
//! own Encounter compartment) and a Patient in its own compartment are added
//! from the resource id.

use super::push_unique;
use concord_fhir::compartments::SELF_PARAM;
use concord_store::{CompartmentIndex, IndexRows};
use serde_json::Value;

/// The compartments `resource_type` can be in, with their parameters
/// (`concord_fhir::compartments::compartments_of`).
pub(super) type Named = [(&'static str, &'static [String])];

pub(super) fn add(named: &Named, resource_type: &str, resource: &Value, rows: &mut IndexRows) {
    let own_id = resource.get("id").and_then(Value::as_str);
    let mut found = Vec::new();
    for &(compartment, params) in named {
        for param in params {
            if param == SELF_PARAM {
                if let Some(id) = own_id {
                    found.push((compartment, id.to_string()));
                }
                continue;
            }
            for r in rows.references.iter().filter(|r| {
                &r.param == param
                    && r.url.is_none()
                    && r.target_type.as_deref() == Some(compartment)
            }) {
                if let Some(id) = &r.target_id {
                    found.push((compartment, id.clone()));
                }
            }
        }
    }
    if resource_type == "Patient" {
        if let Some(id) = own_id {
            found.push(("Patient", id.to_string()));
        }
    }
    for (compartment, id) in found {
        push_unique(
            &mut rows.compartments,
            CompartmentIndex {
                compartment_type: compartment.to_string(),
                compartment_id: id,
            },
        );
    }
}

//! `GET /metadata`: a CapabilityStatement describing what this build really does.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use concord_core::search::{offered_params, OfferedParam};
use concord_fhir::{FHIR_VERSION, RESOURCE_TYPES};
use concord_store::timestamp;
use serde_json::{json, Value};
use std::sync::OnceLock;

use crate::response::{base_url, json_response};
use crate::AppState;

/// Interactions offered on every resource type.
const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
];

/// Per type: its search parameters, `_include` and `_revinclude` values.
fn search_parts() -> &'static Vec<(Value, Value, Value)> {
    static PARTS: OnceLock<Vec<(Value, Value, Value)>> = OnceLock::new();
    PARTS.get_or_init(|| {
        let offered: Vec<Vec<OfferedParam>> =
            RESOURCE_TYPES.iter().map(|t| offered_params(t)).collect();
        RESOURCE_TYPES
            .iter()
            .zip(&offered)
            .map(|(t, params)| {
                let search_params: Vec<Value> = params
                    .iter()
                    .map(|p| json!({"name": p.code, "definition": p.url, "type": p.kind}))
                    .collect();
                let mut includes = vec!["*".to_string()];
                includes.extend(
                    params
                        .iter()
                        .filter(|p| p.kind == "reference")
                        .map(|p| format!("{t}:{}", p.code)),
                );
                let mut revincludes = vec!["*".to_string()];
                for (source, source_params) in RESOURCE_TYPES.iter().zip(&offered) {
                    for p in source_params.iter().filter(|p| p.kind == "reference") {
                        if p.targets
                            .iter()
                            .any(|target| target == t || target == "Resource")
                        {
                            revincludes.push(format!("{source}:{}", p.code));
                        }
                    }
                }
                (json!(search_params), json!(includes), json!(revincludes))
            })
            .collect()
    })
}

pub fn capability_statement(base: &str, backend: &str) -> Value {
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .zip(search_parts())
        .map(|(t, (params, includes, revincludes))| {
            let mut r = json!({
                "type": t,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{t}"),
                "interaction": TYPE_INTERACTIONS.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": true,
                "conditionalDelete": "single",
                "referencePolicy": ["literal", "local"],
                "searchInclude": includes,
                "searchRevInclude": revincludes,
                "searchParam": params,
            });
            if *t == "Patient" {
                r["operation"] = json!([{
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"
                }]);
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "id": "concord",
        "status": "active",
        "date": timestamp::format_instant(timestamp::now_millis()),
        "publisher": "Concord",
        "kind": "instance",
        "software": {"name": "Concord", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {
            "description": format!("Concord FHIR R4 server ({backend} storage)"),
            "url": base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Search on every listed parameter (GET, POST _search, system and compartment search), cursor paging; conditional create/update/delete accept any search criteria.",
            "compartment": [
                "http://hl7.org/fhir/CompartmentDefinition/patient",
                "http://hl7.org/fhir/CompartmentDefinition/encounter",
                "http://hl7.org/fhir/CompartmentDefinition/relatedPerson",
                "http://hl7.org/fhir/CompartmentDefinition/practitioner",
                "http://hl7.org/fhir/CompartmentDefinition/device",
            ],
            "resource": resources,
            "interaction": [
                {"code": "transaction"},
                {"code": "batch"},
                {"code": "history-system"},
                {"code": "search-system"},
            ],
        }],
    })
}

pub async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    let mut cs = capability_statement(&base, state.engine.store().backend_name());
    crate::auth::add_security(&state, &base, &mut cs);
    json_response(StatusCode::OK, cs.to_string())
}

//! `GET /metadata`: a CapabilityStatement describing what this build really does.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use concord_fhir::{FHIR_VERSION, RESOURCE_TYPES};
use concord_store::timestamp;
use serde_json::{json, Value};

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
];

pub fn capability_statement(base: &str, backend: &str) -> Value {
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|t| {
            json!({
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
            })
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
            "documentation": "Conditional create/update/delete accept _id and identifier criteria.",
            "resource": resources,
            "interaction": [
                {"code": "transaction"},
                {"code": "batch"},
                {"code": "history-system"},
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

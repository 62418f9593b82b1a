//! Helpers shared by the clinical workflow pages (visit, orders, inbox,
//! schedule, tasks): engine reads/searches/writes with the user's context,
//! the signed-in practitioner, and [`concord_clinical::ClinicalError`] as a
//! readable refusal. The domain logic itself lives in `concord-clinical`.

use concord_clinical::ClinicalError;
use concord_core::{Handling, SearchRequest};
use serde_json::{json, Value};

use crate::error::{WebError, WebResult};
use crate::{Staff, WebState};

/// A stored resource and its version (for `If-Match`).
pub struct Stored {
    pub id: String,
    pub version: i64,
    pub json: Value,
}

fn parse(content: Option<&str>, request_id: &str) -> WebResult<Value> {
    content
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or_else(|| WebError::Internal(request_id.to_string()))
}

/// Reads `Type/id` through the engine (read guard applies).
pub async fn read(state: &WebState, staff: &Staff, ty: &str, id: &str) -> WebResult<Stored> {
    let v = state
        .engine
        .read(&staff.ctx, ty, id)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    Ok(Stored {
        id: v.id.clone(),
        version: v.version,
        json: parse(v.content.as_deref(), &staff.request_id)?,
    })
}

/// A type search through the engine (confined to what the user may see).
pub async fn search(
    state: &WebState,
    staff: &Staff,
    ty: &str,
    params: &[(&str, &str)],
) -> WebResult<Vec<Stored>> {
    let req = SearchRequest {
        resource_type: Some(ty.to_string()),
        compartment: None,
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        handling: Handling::Strict,
        base_url: String::new(),
    };
    let out = state
        .engine
        .search(&staff.ctx, &req)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    out.matches
        .into_iter()
        .map(|v| {
            Ok(Stored {
                json: parse(v.content.as_deref(), &staff.request_id)?,
                id: v.id,
                version: v.version,
            })
        })
        .collect()
}

/// Creates a resource; returns its id.
pub async fn create(state: &WebState, staff: &Staff, body: Value) -> WebResult<String> {
    let ty = body["resourceType"].as_str().unwrap_or("").to_string();
    let w = state
        .engine
        .create(&staff.ctx, &ty, body, None)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    Ok(w.id)
}

/// Updates a resource only if it is still at `version` (else 409).
pub async fn update(
    state: &WebState,
    staff: &Staff,
    id: &str,
    version: i64,
    mut body: Value,
) -> WebResult<()> {
    let ty = body["resourceType"].as_str().unwrap_or("").to_string();
    body["id"] = json!(id);
    if let Some(o) = body.as_object_mut() {
        o.remove("meta");
    }
    state
        .engine
        .update(&staff.ctx, &ty, id, body, Some(version))
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    Ok(())
}

/// One transaction entry: a create (`id: None`) or an update at `version`.
pub struct Entry {
    pub body: Value,
    pub id: Option<String>,
    pub version: Option<i64>,
}

/// Several writes in one FHIR transaction: all or nothing, each update
/// guarded by its version (so a slot cannot be taken twice). Returns the
/// ids in entry order.
pub async fn transaction(
    state: &WebState,
    staff: &Staff,
    entries: Vec<Entry>,
) -> WebResult<Vec<String>> {
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            let ty = e.body["resourceType"].as_str().unwrap_or("").to_string();
            let mut body = e.body;
            if let Some(o) = body.as_object_mut() {
                o.remove("meta");
            }
            match e.id {
                Some(id) => {
                    body["id"] = json!(id);
                    let mut request = json!({ "method": "PUT", "url": format!("{ty}/{id}") });
                    if let Some(v) = e.version {
                        request["ifMatch"] = json!(format!("W/\"{v}\""));
                    }
                    json!({ "resource": body, "request": request })
                }
                None => json!({ "resource": body, "request": { "method": "POST", "url": ty } }),
            }
        })
        .collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries });
    let (_, results) = state
        .engine
        .process_bundle(&staff.ctx, bundle)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    results
        .into_iter()
        .map(|r| {
            r.map(|e| e.id.unwrap_or_default())
                .map_err(|e| WebError::from_core(e, &staff.request_id))
        })
        .collect()
}

/// The signed-in user's `Practitioner/…`, required to author clinical data.
pub fn practitioner(staff: &Staff) -> WebResult<String> {
    staff
        .fhir_user
        .clone()
        .filter(|r| r.starts_with("Practitioner/"))
        .ok_or_else(|| {
            WebError::Forbidden(
                "Your account is not linked to a Practitioner record, so it cannot sign clinical documents or orders.".into(),
            )
        })
}

/// A domain refusal as a 422 with its message.
pub fn refused(e: ClinicalError) -> WebError {
    WebError::Invalid(vec![e.to_string()])
}

/// Now, UTC.
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
}

pub fn now_text() -> String {
    now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A path segment that is a FHIR id (else 404, before any engine call).
pub fn check_id(id: &str) -> WebResult<()> {
    concord_core::Engine::check_id(id).map_err(|_| WebError::NotFound)
}

/// The display text of a CodeableConcept.
pub fn concept_text(c: &Value) -> String {
    c["text"]
        .as_str()
        .or_else(|| c["coding"][0]["display"].as_str())
        .or_else(|| c["coding"][0]["code"].as_str())
        .unwrap_or("")
        .to_string()
}

/// A patient's display name (`family, given`), or the id.
pub fn patient_name(p: &Value) -> String {
    let n = &p["name"][0];
    let given: Vec<&str> = n["given"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    match n["family"].as_str() {
        Some(f) if !given.is_empty() => format!("{f}, {}", given.join(" ")),
        Some(f) => f.to_string(),
        None => n["text"].as_str().unwrap_or("(no name)").to_string(),
    }
}

/// Display names of the given patient ids (those the user may read).
pub async fn patient_names(
    state: &WebState,
    staff: &Staff,
    ids: &[&str],
) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    for id in ids {
        if names.contains_key(*id) || concord_core::Engine::check_id(id).is_err() {
            continue;
        }
        if let Ok(p) = read(state, staff, "Patient", id).await {
            names.insert(id.to_string(), patient_name(&p.json));
        }
    }
    names
}

//! `POST /` with a batch or transaction Bundle.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use concord_core::{BundleKind, CoreResult, EntryResponse};
use concord_fhir::outcome::operation_outcome;
use concord_store::timestamp;
use serde_json::{json, Map, Value};

use crate::body::{read_json, BodyKind};
use crate::headers::{etag, prefer_return, Return};
use crate::request_id::RequestId;
use crate::response::{base_url, json_response};
use crate::{ApiError, AppState};

pub async fn process(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bundle = read_json(
        &headers,
        body,
        state.config.max_body_bytes,
        BodyKind::Resource,
    )
    .await?;
    let ctx = state.request_context(&rid);
    let (kind, results) = state
        .engine
        .process_bundle(&ctx, bundle)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    // Response Bundles carry resources only when asked (they can be large).
    let with_resources = prefer_return(&headers, Return::Minimal) == Return::Representation;
    let base = base_url(&state, &headers);
    let entries: Vec<Value> = results
        .into_iter()
        .map(|r| entry(&base, r, with_resources, &rid.0))
        .collect();
    let bundle_type = match kind {
        BundleKind::Batch => "batch-response",
        BundleKind::Transaction => "transaction-response",
    };
    let response = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": timestamp::format_instant(timestamp::now_millis())},
        "type": bundle_type,
        "entry": entries,
    });
    Ok(json_response(StatusCode::OK, response.to_string()))
}

fn entry(base: &str, result: CoreResult<EntryResponse>, with_resources: bool, rid: &str) -> Value {
    let mut response = Map::new();
    let mut entry = Map::new();
    match result {
        Ok(r) => {
            response.insert("status".into(), json!(r.status.text()));
            if let (Some(id), Some(v)) = (&r.id, r.version) {
                response.insert(
                    "location".into(),
                    json!(format!("{}/{id}/_history/{v}", r.resource_type)),
                );
                response.insert("etag".into(), json!(etag(v)));
                entry.insert(
                    "fullUrl".into(),
                    json!(format!("{base}/{}/{id}", r.resource_type)),
                );
            }
            if let Some(at) = r.last_modified {
                response.insert("lastModified".into(), json!(timestamp::format_instant(at)));
            }
            if !r.warnings.is_empty() {
                response.insert("outcome".into(), operation_outcome(&r.warnings));
            }
            if with_resources {
                if let Some(resource) = r
                    .resource
                    .as_deref()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                {
                    entry.insert("resource".into(), resource);
                }
            }
        }
        Err(e) => {
            let err = ApiError::from_core(e, rid);
            let status = err.status;
            response.insert(
                "status".into(),
                json!(format!(
                    "{} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )),
            );
            response.insert("outcome".into(), operation_outcome(&err.issues));
        }
    }
    entry.insert("response".into(), Value::Object(response));
    Value::Object(entry)
}

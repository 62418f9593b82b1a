//! The HL7 v2 error queue over FHIR (see docs/hl7v2.md):
//!
//! * `GET /$hl7v2-errors`: a searchset Bundle of the failed inbound-message
//!   Tasks (each Task is also readable as `GET /Task/{id}`, its message as
//!   `GET /Binary/{id}`; staff may correct the message with
//!   `PUT /Binary/{id}`);
//! * `POST /Task/{id}/$reprocess`: maps and applies the stored message again;
//!   answers the Task as it now stands (`completed`, or `failed` with the
//!   new error);
//! * `POST /Task/{id}/$resend`: an outbound message that was rejected
//!   (AE/AR) or failed is built again from the current resource, with a
//!   new MSH-10, and queued (409 for an acknowledged or pending one);
//! * `GET /$hl7v2-monitor`: per interface message counts, errors, queue
//!   depth, last ACK (JSON; `concord_interfaces::Monitor`);
//! * `GET /{type}/{id}/$hl7v2-status`: a searchset Bundle of the outbound
//!   records (Tasks) of a ServiceRequest or Immunization, one per endpoint.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use concord_fhir::IssueType;
use concord_interfaces::{
    failed_tasks, reprocess, Hl7Inbound, Hl7Outbound, InboundConfig, ReprocessError, ResendError,
};
use serde_json::{json, Value};

use crate::auth::{break_glass, CurrentPolicy};
use crate::request_id::RequestId;
use crate::response::{base_url, json_response, resource_response};
use crate::{ApiError, AppState};

const QUEUE_LIMIT: usize = 1000;

pub async fn errors(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = state.request_context(&rid);
    let tasks = failed_tasks(&state.engine, &ctx, QUEUE_LIMIT)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let base = base_url(&state, &headers);
    let entries: Vec<Value> = tasks
        .into_iter()
        .map(|t| {
            let id = t.get("id").and_then(Value::as_str).unwrap_or("").to_string();
            json!({"fullUrl": format!("{base}/Task/{id}"), "resource": t, "search": {"mode": "match"}})
        })
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "entry": entries
    });
    Ok(json_response(StatusCode::OK, bundle.to_string()))
}

/// `POST /{type}/{id}/{operation}`: `Task/{id}/$reprocess` and
/// `Patient/{id}/$break-glass`.
pub async fn instance_operation(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    policy: Option<Extension<CurrentPolicy>>,
    Path((rtype, id, operation)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if rtype == "Task" && operation == "$resend" {
        return resend(&state, &rid, &id).await;
    }
    if rtype == "Patient" && operation == "$break-glass" {
        let principal = policy.as_ref().map(|Extension(p)| &p.0.principal);
        return break_glass(&state, &rid, principal, &id, &headers, &body).await;
    }
    if rtype != "Task" || operation != "$reprocess" {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            IssueType::NotSupported,
            format!("unknown operation {operation} on {rtype}"),
        ));
    }
    let ctx = state.request_context(&rid);
    let inbound = inbound(&state);
    match reprocess(&inbound, &ctx, &id).await {
        Ok(_) => {}
        Err(ReprocessError::NotFound) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                IssueType::NotFound,
                format!("Task/{id} is not an inbound HL7 v2 message"),
            ))
        }
        Err(ReprocessError::AlreadyCompleted) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                IssueType::Conflict,
                format!("Task/{id} is completed; it is not reprocessed"),
            ))
        }
        Err(ReprocessError::BadMessage(why)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                IssueType::Invalid,
                format!("the stored message cannot be read: {why}"),
            ))
        }
        Err(ReprocessError::Core(e)) => return Err(ApiError::from_core(e, &rid.0)),
    }
    current_task(&state, &ctx, &rid, &id).await
}

/// The Task as it now stands, after an operation changed it.
async fn current_task(
    state: &AppState,
    ctx: &concord_store::TenantContext,
    rid: &RequestId,
    id: &str,
) -> Result<Response, ApiError> {
    let task = state
        .engine
        .read(ctx, "Task", id)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    Ok(resource_response(
        StatusCode::OK,
        task.content.unwrap_or_default(),
        task.version,
        task.last_updated,
        None,
    ))
}

/// The inbound interface as the API uses it (reprocessing).
pub fn inbound(state: &AppState) -> std::sync::Arc<Hl7Inbound> {
    Hl7Inbound::new(
        state.engine.clone(),
        InboundConfig {
            tenant: state.config.tenant.clone(),
            default_offset: state.config.hl7v2_default_offset.clone(),
            monitor: state.config.hl7v2_monitor.clone(),
        },
    )
}

/// `GET /$hl7v2-monitor`.
pub async fn monitor(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
) -> Result<Response, ApiError> {
    let ctx = state.request_context(&rid);
    let doc = state
        .config
        .hl7v2_monitor
        .snapshot(&state.engine, &ctx)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response())
}

/// `GET /{ctype}/{cid}/{rtype}`: `$hl7v2-status`, else a compartment search.
pub async fn instance_get(
    state: State<AppState>,
    rid: Extension<RequestId>,
    Path((ctype, cid, rtype)): Path<(String, String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if rtype == "$hl7v2-status" {
        return status(state, rid, ctype, cid, headers).await;
    }
    crate::search::compartment_get(state, rid, Path((ctype, cid, rtype)), query, headers).await
}

async fn status(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    rtype: String,
    id: String,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = state.request_context(&rid);
    // 404/410 for an unknown resource, like a read.
    state
        .engine
        .read(&ctx, &rtype, &id)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let records = Hl7Outbound::records_for(&state.engine, &ctx, &format!("{rtype}/{id}"))
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let base = base_url(&state, &headers);
    let entries: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({"fullUrl": format!("{base}/Task/{}", r.id), "resource": r.to_task(), "search": {"mode": "match"}})
        })
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "entry": entries
    });
    Ok(json_response(StatusCode::OK, bundle.to_string()))
}

/// `POST /Task/{id}/$resend`: answers the record Task as it now stands.
async fn resend(state: &AppState, rid: &RequestId, id: &str) -> Result<Response, ApiError> {
    let ctx = state.request_context(rid);
    let config = state.config.hl7v2_monitor.config();
    match Hl7Outbound::resend(&state.engine, &ctx, config, id).await {
        Ok(_) => {}
        Err(ResendError::NotFound) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                IssueType::NotFound,
                format!("Task/{id} is not an outbound HL7 v2 message"),
            ))
        }
        Err(ResendError::Acked) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                IssueType::Conflict,
                format!("Task/{id} was acknowledged (AA); it is never sent again"),
            ))
        }
        Err(ResendError::Pending) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                IssueType::Conflict,
                format!("Task/{id} is queued already"),
            ))
        }
        Err(ResendError::NoEndpoint(name)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                IssueType::NotSupported,
                format!("the endpoint '{name}' of Task/{id} is not configured"),
            ))
        }
        Err(ResendError::Core(e)) => return Err(ApiError::from_core(e, &rid.0)),
    }
    current_task(state, &ctx, rid, id).await
}

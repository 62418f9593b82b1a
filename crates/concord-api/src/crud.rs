//! Instance and type interactions: create, read, vread, update, patch, delete
//! and the conditional forms.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use concord_fhir::outcome::operation_outcome;
use concord_fhir::{Issue, IssueType};
use concord_store::WriteOutcome;

use crate::body::{read_json, BodyKind};
use crate::headers::{
    if_match, if_none_exist, if_none_match, not_modified_since, prefer_return, Return,
};
use crate::request_id::RequestId;
use crate::response::{base_url, resource_response, write_response};
use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

/// The request body as JSON of the given kind, within the configured size limit.
async fn body_json(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    kind: BodyKind,
) -> Result<serde_json::Value, ApiError> {
    read_json(headers, body, state.config.max_body_bytes, kind).await
}

/// The response to a write, shaped by `Prefer` (default: the resource).
fn written(
    state: &AppState,
    headers: &HeaderMap,
    result: concord_core::WriteResult,
    created_status: bool,
) -> Response {
    let prefer = prefer_return(headers, Return::Representation);
    write_response(&base_url(state, headers), result, prefer, created_status)
}

fn fail(rid: &RequestId) -> impl Fn(concord_core::CoreError) -> ApiError + '_ {
    move |e| ApiError::from_core(e, &rid.0)
}

/// Criteria of a conditional interaction (everything but `_format`-style controls).
fn criteria(query: Option<String>) -> Result<String, ApiError> {
    let query = query.unwrap_or_default();
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| !matches!(k.as_ref(), "_format" | "_pretty"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        return Err(ApiError::bad_request(
            "a conditional interaction needs search criteria in the URL",
        ));
    }
    Ok(form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    concord_core::Engine::check_type(&rtype).map_err(fail(&rid))?;
    let resource = body_json(&state, &headers, body, BodyKind::Resource).await?;
    let ctx = state.request_context(&rid);
    let result = state
        .engine
        .create(&ctx, &rtype, resource, if_none_exist(&headers))
        .await
        .map_err(fail(&rid))?;
    Ok(written(&state, &headers, result, true))
}

pub async fn read(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let ctx = state.request_context(&rid);
    let v = state
        .engine
        .read(&ctx, &rtype, &id)
        .await
        .map_err(fail(&rid))?;
    if if_none_match(&headers, v.version) || not_modified_since(&headers, v.last_updated) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(tag) = crate::headers::etag(v.version).parse() {
            r.headers_mut().insert(axum::http::header::ETAG, tag);
        }
        return Ok(r);
    }
    Ok(resource_response(
        StatusCode::OK,
        v.content.unwrap_or_default(),
        v.version,
        v.last_updated,
        None,
    ))
}

pub async fn vread(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id, vid)): Path<(String, String, String)>,
) -> ApiResult {
    let version: i64 = vid
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_request(format!("'{vid}' is not a version id")))?;
    let ctx = state.request_context(&rid);
    let v = state
        .engine
        .vread(&ctx, &rtype, &id, version)
        .await
        .map_err(fail(&rid))?;
    Ok(resource_response(
        StatusCode::OK,
        v.content.unwrap_or_default(),
        v.version,
        v.last_updated,
        None,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    concord_core::Engine::check_type(&rtype).map_err(fail(&rid))?;
    let precondition = if_match(&headers)?;
    let resource = body_json(&state, &headers, body, BodyKind::Resource).await?;
    let ctx = state.request_context(&rid);
    let result = state
        .engine
        .update(&ctx, &rtype, &id, resource, precondition)
        .await
        .map_err(fail(&rid))?;
    Ok(written(&state, &headers, result, true))
}

pub async fn conditional_update(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    concord_core::Engine::check_type(&rtype).map_err(fail(&rid))?;
    let criteria = criteria(query)?;
    let precondition = if_match(&headers)?;
    let resource = body_json(&state, &headers, body, BodyKind::Resource).await?;
    let ctx = state.request_context(&rid);
    let result = state
        .engine
        .conditional_update(&ctx, &rtype, &criteria, resource, precondition)
        .await
        .map_err(fail(&rid))?;
    Ok(written(&state, &headers, result, true))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    concord_core::Engine::check_type(&rtype).map_err(fail(&rid))?;
    let precondition = if_match(&headers)?;
    let document = body_json(&state, &headers, body, BodyKind::JsonPatch).await?;
    let ctx = state.request_context(&rid);
    let result = state
        .engine
        .patch(&ctx, &rtype, &id, &document, precondition)
        .await
        .map_err(fail(&rid))?;
    Ok(written(&state, &headers, result, false))
}

fn delete_response(result: concord_core::WriteResult) -> Response {
    let text = match result.outcome {
        WriteOutcome::NoOp => "nothing to delete".to_string(),
        _ => format!("{}/{} deleted", result.resource_type, result.id),
    };
    let body = operation_outcome(&[Issue::information(IssueType::Informational, text)]).to_string();
    let mut response = crate::response::json_response(StatusCode::OK, body);
    if result.outcome == WriteOutcome::Deleted {
        if let Ok(tag) = crate::headers::etag(result.version).parse() {
            response.headers_mut().insert(axum::http::header::ETAG, tag);
        }
    }
    response
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let precondition = if_match(&headers)?;
    let ctx = state.request_context(&rid);
    let result = state
        .engine
        .delete(&ctx, &rtype, &id, precondition)
        .await
        .map_err(fail(&rid))?;
    Ok(delete_response(result))
}

pub async fn conditional_delete(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    concord_core::Engine::check_type(&rtype).map_err(fail(&rid))?;
    let criteria = criteria(query)?;
    let ctx = state.request_context(&rid);
    let result = state
        .engine
        .conditional_delete(&ctx, &rtype, &criteria)
        .await
        .map_err(fail(&rid))?;
    Ok(delete_response(result))
}

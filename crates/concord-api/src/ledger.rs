//! The ledger's public face: the tree-head public key, the latest (or a
//! fresh) signed tree head, the inclusion proof of a resource version and
//! the consistency proof between two signed tree heads.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use concord_core::ledger::{tree_head_json, MerkleLog, Refused, SIGNED_MESSAGE};
use concord_fhir::IssueType;
use serde_json::json;

use crate::request_id::RequestId;
use crate::response::json_response;
use crate::{ApiError, AppState};

fn log(state: &AppState) -> Result<&MerkleLog, ApiError> {
    state.ledger.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            IssueType::NotSupported,
            "this server has no ledger signing key configured",
        )
    })
}

fn store_error(rid: &RequestId) -> impl Fn(concord_core::CoreError) -> ApiError + '_ {
    move |e| ApiError::from_core(e, &rid.0)
}

/// `GET /.well-known/concord-ledger-key` (and `/$ledger-public-key`).
pub async fn public_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let log = log(&state)?;
    let body = json!({
        "algorithm": "Ed25519",
        "public_key": log.key().public_base64(),
        "encoding": "base64 of the 32-byte raw public key",
        "signed_message": SIGNED_MESSAGE,
        "merkle": "RFC 6962: leaf hash SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right)",
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// `GET /$ledger-tree-head`: the latest signed tree head.
pub async fn latest_head(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
) -> Result<Response, ApiError> {
    let log = log(&state)?;
    let head = match state
        .engine
        .store()
        .latest_tree_head()
        .await
        .map_err(|e| ApiError::from_core(e.into(), &rid.0))?
    {
        Some(h) => h,
        None => log.issue_tree_head().await.map_err(store_error(&rid))?,
    };
    Ok(json_response(
        StatusCode::OK,
        tree_head_json(&head).to_string(),
    ))
}

/// `POST /$ledger-tree-head`: sign a tree head over everything committed now.
pub async fn issue_head(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
) -> Result<Response, ApiError> {
    let head = log(&state)?
        .issue_tree_head()
        .await
        .map_err(store_error(&rid))?;
    Ok(json_response(
        StatusCode::OK,
        tree_head_json(&head).to_string(),
    ))
}

/// `GET /{type}/{id}/_history/{vid}/$ledger-proof`.
pub async fn proof(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id, vid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let version: i64 = vid
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_request(format!("'{vid}' is not a version id")))?;
    concord_core::Engine::check_type(&rtype).map_err(store_error(&rid))?;
    let found = log(&state)?
        .proof(&state.config.tenant, &rtype, &id, version)
        .await
        .map_err(store_error(&rid))?;
    match found {
        Some(p) => Ok(json_response(StatusCode::OK, p.to_string())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            IssueType::NotFound,
            format!("{rtype}/{id}/_history/{version} has no ledger entry"),
        )),
    }
}

/// A tree size from the query: `None` if absent, 400 if not a number.
fn size_param(query: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    query
        .get(name)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("'{name}' must be a tree size (an integer)"))
            })
        })
        .transpose()
}

/// `GET /$ledger-consistency?first=N[&second=M]`: the consistency proof
/// from the signed tree head of N leaves to that of M (default: the latest).
pub async fn consistency(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let log = log(&state)?;
    let first = size_param(&query, "first")?.ok_or_else(|| {
        ApiError::bad_request("'first' (the earlier tree head's size) is required")
    })?;
    let second = size_param(&query, "second")?;
    match log
        .consistency(first, second)
        .await
        .map_err(store_error(&rid))?
    {
        Ok(proof) => Ok(json_response(StatusCode::OK, proof.to_string())),
        Err(Refused::BadSizes(message)) => Err(ApiError::bad_request(message)),
        Err(Refused::NoHead(size)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            IssueType::NotFound,
            format!("no signed tree head of size {size} is stored"),
        )),
    }
}

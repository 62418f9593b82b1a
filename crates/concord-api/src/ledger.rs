//! The ledger's public face: the tree-head public key, the latest (or a
//! fresh) signed tree head, and the inclusion proof of a resource version.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use concord_core::ledger::{tree_head_json, MerkleLog};
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
        "signed_message": "\"concord-tree-head-v1\\n\" || tree_size (u64 BE) || issued_at ms (i64 BE) || root_hash (32 bytes)",
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

//! Break-the-glass over HTTP: `POST /Patient/{id}/$break-glass` (a
//! clinician outside the patient's care team, with a `reason`, gets
//! time-limited access and an alert is filed) and
//! `GET /auth/break-glass/alerts` (security officers and operators list
//! the alerts).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use concord_auth::{AccountKind, Principal, Role, Subject};
use concord_fhir::IssueType;
use serde_json::{json, Value};

use super::form::{no_store_json, Form};
use super::guard::{authenticate, unauthorized};
use crate::request_id::RequestId;
use crate::response::json_response;
use crate::{ApiError, AppState};
use concord_core::policy::is_clinical;

/// The `reason` of a form body or a `Parameters` resource, by its
/// `Content-Type` (the handler and the audit layer read it alike).
pub(crate) fn reason_of(content_type: Option<&HeaderValue>, body: &[u8]) -> Option<String> {
    let form = content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        return Form::parse(body).get("reason");
    }
    let params: Value = serde_json::from_slice(body).ok()?;
    params
        .get("parameter")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some("reason"))
        .and_then(|p| p.get("valueString"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `POST /Patient/{id}/$break-glass`.
pub(crate) async fn break_glass(
    state: &AppState,
    rid: &RequestId,
    principal: Option<&Principal>,
    patient: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let (Some(auth), Some(principal)) = (state.config.auth.server(), principal) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            IssueType::NotSupported,
            "break-the-glass needs authentication to be enabled",
        ));
    };
    let user = match &principal.subject {
        Subject::User {
            id,
            kind: AccountKind::Staff(role),
        } if is_clinical(*role) => id.clone(),
        _ => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                IssueType::Forbidden,
                "only clinical staff (physician, nurse, medical assistant) may break the glass",
            ))
        }
    };
    let Some(reason) =
        reason_of(headers.get(header::CONTENT_TYPE), body).filter(|r| !r.trim().is_empty())
    else {
        return Err(ApiError::bad_request(
            "break-the-glass needs a reason (form field or Parameters 'reason')",
        ));
    };
    // The patient must exist (the server's own read: the caller cannot see it yet).
    let ctx = state.context(&rid.0);
    state
        .engine
        .read(&ctx, "Patient", patient)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let granted = auth
        .break_glass(&user, patient, &reason)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, IssueType::Invalid, e.to_string()))?;
    let out = json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "patient", "valueReference": {"reference": format!("Patient/{patient}")}},
            {"name": "until", "valueInstant": concord_store::timestamp::format_instant(granted.until)},
            {"name": "alert", "valueString": granted.alert_id}
        ]
    });
    Ok(json_response(StatusCode::OK, out.to_string()))
}

/// `GET /auth/break-glass/alerts` (security officers and operators).
pub async fn alerts(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let principal = match authenticate(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let allowed = matches!(
        principal.subject,
        Subject::User {
            kind: AccountKind::Staff(Role::SecurityOfficer),
            ..
        } | Subject::Operator { .. }
    );
    if !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            IssueType::Forbidden,
            "only security officers read break-the-glass alerts",
        )
        .into_response();
    }
    let Some(auth) = state.config.auth.server() else {
        return unauthorized(None, "authentication is not configured");
    };
    match auth.glass_alerts().await {
        Ok(list) => no_store_json(StatusCode::OK, &json!({ "alerts": list })),
        Err(_) => no_store_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": "server_error"}),
        ),
    }
}

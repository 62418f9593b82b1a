//! Search over HTTP: `GET /Type?…`, `POST /Type/_search` (form body),
//! system search (`GET /?…`, `POST /_search`), compartment search
//! (`GET /Patient/123/Observation?…`) and `GET /Patient/123/$everything`.
//! Every result is a `searchset` Bundle with `self`/`first`/`previous`/`next`
//! links; unknown parameters are dropped and reported (lenient) or rejected
//! (`Prefer: handling=strict`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use concord_core::search::Handling;
use concord_core::search::CURSOR_PARAM;
use concord_core::{SearchOutcome, SearchRequest};
use concord_fhir::outcome::operation_outcome;
use concord_store::{timestamp, StoredVersion};
use serde_json::{json, Map, Value};

use crate::elements::{keeps_all, trim};
use crate::headers::prefer_strict;
use crate::request_id::RequestId;
use crate::response::{base_url, json_response};
use crate::{ApiError, AppState};

pub async fn type_get(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = decode(query.as_deref().unwrap_or_default());
    search(state, rid, headers, Some(rtype), None, params).await
}

pub async fn type_post(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = form_params(query.as_deref(), &headers, &body)?;
    search(state, rid, headers, Some(rtype), None, params).await
}

pub async fn system_get(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = decode(query.as_deref().unwrap_or_default());
    search(state, rid, headers, None, None, params).await
}

pub async fn system_post(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = form_params(query.as_deref(), &headers, &body)?;
    search(state, rid, headers, None, None, params).await
}

/// `GET /{compartment type}/{id}/{type}` and `GET /Patient/{id}/$everything`.
pub async fn compartment_get(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((ctype, cid, rtype)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = decode(query.as_deref().unwrap_or_default());
    if rtype == "$everything" {
        if ctype != "Patient" {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                concord_fhir::IssueType::NotSupported,
                format!("$everything is offered on Patient, not {ctype}"),
            ));
        }
        let ctx = state.request_context(&rid);
        let outcome = state
            .engine
            .patient_everything(&ctx, &cid, &params)
            .await
            .map_err(|e| ApiError::from_core(e, &rid.0))?;
        let base = base_url(&state, &headers);
        let path = format!("{base}/Patient/{cid}/$everything");
        let kept: Vec<(String, String)> = params
            .into_iter()
            .filter(|(k, _)| k != CURSOR_PARAM)
            .collect();
        return Ok(bundle(&base, &path, &kept, outcome));
    }
    search(state, rid, headers, Some(rtype), Some((ctype, cid)), params).await
}

fn decode(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// URL parameters plus the `application/x-www-form-urlencoded` body.
fn form_params(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, ApiError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !body.is_empty() && form != Some(true) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            concord_fhir::IssueType::NotSupported,
            "_search takes an application/x-www-form-urlencoded body",
        ));
    }
    let mut params = decode(query.unwrap_or_default());
    params.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    Ok(params)
}

async fn search(
    state: AppState,
    rid: RequestId,
    headers: HeaderMap,
    rtype: Option<String>,
    compartment: Option<(String, String)>,
    params: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let base = base_url(&state, &headers);
    let ctx = state.request_context(&rid);
    let request = SearchRequest {
        resource_type: rtype.clone(),
        compartment: compartment.clone(),
        params,
        handling: if prefer_strict(&headers) {
            Handling::Strict
        } else {
            Handling::Lenient
        },
        base_url: base.clone(),
    };
    let outcome = state
        .engine
        .search(&ctx, &request)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let path = match (&compartment, &rtype) {
        (Some((ct, ci)), Some(t)) => format!("{base}/{ct}/{ci}/{t}"),
        (_, Some(t)) => format!("{base}/{t}"),
        _ => base.clone(),
    };
    let accepted = outcome.query.accepted().to_vec();
    Ok(bundle(&base, &path, &accepted, outcome))
}

/// The `searchset` Bundle of a page.
fn bundle(base: &str, path: &str, params: &[(String, String)], outcome: SearchOutcome) -> Response {
    let link = |cursor: Option<&String>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            s.append_pair(k, v);
        }
        if let Some(c) = cursor {
            s.append_pair(CURSOR_PARAM, c);
        }
        let q = s.finish();
        if q.is_empty() {
            path.to_string()
        } else if path == base {
            format!("{path}/?{q}")
        } else {
            format!("{path}?{q}")
        }
    };
    let mut links = vec![json!({"relation": "self", "url": link(outcome.this_page.as_ref())})];
    if outcome.this_page.is_some() {
        links.push(json!({"relation": "first", "url": link(None)}));
    }
    if let Some(p) = &outcome.previous {
        links.push(json!({"relation": "previous", "url": link(Some(p))}));
    }
    if let Some(n) = &outcome.next {
        links.push(json!({"relation": "next", "url": link(Some(n))}));
    }
    let summary = outcome.query.summary;
    let elements = outcome.query.elements.clone();
    let trimmed = |r| trim(r, summary, &elements);
    let shape: Option<&dyn Fn(Value) -> Value> =
        (!keeps_all(summary, &elements)).then_some(&trimmed);
    let mut entries = Vec::with_capacity(outcome.matches.len() + outcome.included.len() + 1);
    for v in &outcome.matches {
        if let Some(e) = entry(base, v, "match", shape) {
            entries.push(e);
        }
    }
    for v in &outcome.included {
        if let Some(e) = entry(base, v, "include", None) {
            entries.push(e);
        }
    }
    if !outcome.warnings.is_empty() {
        entries.push(
            json!({
                "resource": operation_outcome(&outcome.warnings),
                "search": {"mode": "outcome"}
            })
            .to_string(),
        );
    }
    let mut b = Map::new();
    b.insert("resourceType".into(), json!("Bundle"));
    b.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    b.insert(
        "meta".into(),
        json!({"lastUpdated": timestamp::format_instant(timestamp::now_millis())}),
    );
    b.insert("type".into(), json!("searchset"));
    if let Some(total) = outcome.total {
        b.insert("total".into(), json!(total));
    }
    b.insert("link".into(), Value::Array(links));
    let mut body = Value::Object(b).to_string();
    if !entries.is_empty() {
        // `entry` goes last: the object's closing brace makes way for it.
        body.pop();
        body.push_str(",\"entry\":[");
        body.push_str(&entries.join(","));
        body.push_str("]}");
    }
    json_response(StatusCode::OK, body)
}

/// One entry's JSON text. A resource returned as stored is copied from the
/// stored text (the store wrote it, as JSON): parsing it only to write it
/// out again was about a tenth of a name search. A resource that `shape`
/// changes (`_summary`, `_elements`) is parsed first. `mode` is one of the
/// literals `match` and `include` (nothing to escape).
fn entry(
    base: &str,
    v: &StoredVersion,
    mode: &'static str,
    shape: Option<&dyn Fn(Value) -> Value>,
) -> Option<String> {
    let content = v.content.as_deref()?;
    let shaped;
    let resource = match shape {
        None => content,
        Some(shape) => {
            shaped = shape(serde_json::from_str(content).ok()?).to_string();
            shaped.as_str()
        }
    };
    let full_url = Value::String(format!("{base}/{}/{}", v.resource_type, v.id));
    Some(format!(
        "{{\"fullUrl\":{full_url},\"resource\":{resource},\"search\":{{\"mode\":\"{mode}\"}}}}"
    ))
}

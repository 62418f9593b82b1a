//! History: system (`/_history`), type (`/Patient/_history`) and instance
//! (`/Patient/1/_history`), with `_since`, `_count` and cursor paging.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use concord_store::{timestamp, HistoryQuery, WriteKind};
use serde_json::{json, Map, Value};

use crate::headers::etag;
use crate::request_id::RequestId;
use crate::response::{base_url, json_response};
use crate::{ApiError, AppState};

const DEFAULT_COUNT: usize = 50;
const MAX_COUNT: usize = 1000;

pub async fn system(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    history(state, rid, None, None, query, headers).await
}

pub async fn type_level(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    history(state, rid, Some(rtype), None, query, headers).await
}

pub async fn instance(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((rtype, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    history(state, rid, Some(rtype), Some(id), query, headers).await
}

/// Parses `_since`, `_count`, `_cursor`; other parameters are rejected.
fn parse_query(raw: &str) -> Result<HistoryQuery, ApiError> {
    let mut q = HistoryQuery {
        count: DEFAULT_COUNT,
        ..Default::default()
    };
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        match name.as_ref() {
            "_since" => {
                q.since = Some(timestamp::parse_instant(&value).ok_or_else(|| {
                    ApiError::bad_request(format!("_since '{value}' is not an instant"))
                })?)
            }
            "_count" => {
                let n: usize = value.parse().map_err(|_| {
                    ApiError::bad_request(format!("_count '{value}' is not a whole number"))
                })?;
                q.count = n.clamp(1, MAX_COUNT);
            }
            "_cursor" => {
                q.cursor = Some(
                    value
                        .parse()
                        .map_err(|_| ApiError::bad_request("invalid _cursor"))?,
                )
            }
            "_format" | "_pretty" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "history does not support the parameter '{other}'"
                )))
            }
        }
    }
    Ok(q)
}

async fn history(
    state: AppState,
    rid: RequestId,
    rtype: Option<String>,
    id: Option<String>,
    raw: Option<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let mut query = parse_query(&raw)?;
    query.resource_type = rtype.clone();
    query.id = id.clone();
    let ctx = state.request_context(&rid);
    let sees_everything = ctx.access.as_ref().is_none_or(|a| a.sees_everything());
    let page = state
        .engine
        .history(&ctx, &query)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let base = base_url(&state, &headers);
    let path = match (&rtype, &id) {
        (Some(t), Some(i)) => format!("{base}/{t}/{i}/_history"),
        (Some(t), None) => format!("{base}/{t}/_history"),
        _ => format!("{base}/_history"),
    };
    let link = |cursor: Option<i64>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(since) = query.since {
            s.append_pair("_since", &timestamp::format_instant(since));
        }
        s.append_pair("_count", &query.count.to_string());
        if let Some(c) = cursor {
            s.append_pair("_cursor", &c.to_string());
        }
        format!("{path}?{}", s.finish())
    };
    let mut links = vec![json!({"relation": "self", "url": link(query.cursor)})];
    if let Some(next) = page.next_cursor {
        links.push(json!({"relation": "next", "url": link(Some(next))}));
    }
    let mut entries = Vec::with_capacity(page.entries.len());
    for e in page.entries {
        let v = e.version;
        let mut entry = Map::new();
        entry.insert(
            "fullUrl".into(),
            json!(format!("{base}/{}/{}", v.resource_type, v.id)),
        );
        if let Some(text) = &v.content {
            let resource: Value = serde_json::from_str(text).map_err(|_| {
                ApiError::from_core(
                    concord_core::CoreError::bad_request("stored resource unreadable"),
                    &rid.0,
                )
            })?;
            entry.insert("resource".into(), resource);
        }
        let (method, url, status) = match v.kind {
            WriteKind::Create => ("POST", v.resource_type.clone(), "201 Created"),
            WriteKind::Update if v.version == 1 => (
                "PUT",
                format!("{}/{}", v.resource_type, v.id),
                "201 Created",
            ),
            WriteKind::Update => ("PUT", format!("{}/{}", v.resource_type, v.id), "200 OK"),
            WriteKind::Delete => (
                "DELETE",
                format!("{}/{}", v.resource_type, v.id),
                "204 No Content",
            ),
        };
        entry.insert("request".into(), json!({"method": method, "url": url}));
        entry.insert(
            "response".into(),
            json!({"status": status, "etag": etag(v.version),
                   "lastModified": timestamp::format_instant(v.last_updated)}),
        );
        entries.push(Value::Object(entry));
    }
    let mut bundle = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": timestamp::format_instant(timestamp::now_millis())},
        "type": "history",
        "total": page.total,
        "link": links,
        "entry": entries,
    });
    // The store's total counts versions the caller may not see: leave it out.
    if !sees_everything {
        if let Some(b) = bundle.as_object_mut() {
            b.remove("total");
        }
    }
    Ok(json_response(StatusCode::OK, bundle.to_string()))
}

//! Page data through the engine: reads and searches with the user's
//! confined context (`staff.ctx`), errors mapped to [`WebError`]. Pages
//! use these instead of calling the store — there is no other way in.

use concord_core::search::SearchRequest;
use concord_core::Handling;
use serde_json::Value;

use crate::error::{WebError, WebResult};
use crate::{Staff, WebState};

/// A resource as read, with its version (for `If-Match` on update).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub id: String,
    pub version: i64,
    pub resource: Value,
}

fn parse(content: Option<&str>) -> Option<Value> {
    content.and_then(|t| serde_json::from_str(t).ok())
}

/// Reads one resource (404 when missing, deleted or not visible).
pub async fn read(state: &WebState, staff: &Staff, rtype: &str, id: &str) -> WebResult<Loaded> {
    let v = state
        .engine
        .read(&staff.ctx, rtype, id)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    let resource = parse(v.content.as_deref()).ok_or(WebError::NotFound)?;
    Ok(Loaded {
        id: v.id,
        version: v.version,
        resource,
    })
}

/// A search of one type (parameters as in the FHIR API), the resources
/// the user may read, in the order asked.
pub async fn search(
    state: &WebState,
    staff: &Staff,
    rtype: &str,
    params: &[(&str, String)],
) -> WebResult<Vec<Value>> {
    let req = SearchRequest {
        resource_type: Some(rtype.to_string()),
        compartment: None,
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        handling: Handling::Strict,
        base_url: String::new(),
    };
    let outcome = state
        .engine
        .search(&staff.ctx, &req)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    Ok(outcome
        .matches
        .iter()
        .filter_map(|v| parse(v.content.as_deref()))
        .collect())
}

/// Creates a resource through the one write path (validation, access
/// policy, ledger); returns the new id.
pub async fn create(
    state: &WebState,
    staff: &Staff,
    rtype: &str,
    body: Value,
) -> WebResult<String> {
    let w = state
        .engine
        .create(&staff.ctx, rtype, body, None)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    Ok(w.id)
}

/// Updates a resource, refusing if someone changed it since `version`.
pub async fn update(
    state: &WebState,
    staff: &Staff,
    rtype: &str,
    id: &str,
    body: Value,
    version: Option<i64>,
) -> WebResult<i64> {
    let w = state
        .engine
        .update(&staff.ctx, rtype, id, body, version)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    Ok(w.version)
}

/// Creates several resources in one transaction (all or nothing); returns
/// their ids in order.
pub async fn create_all(
    state: &WebState,
    staff: &Staff,
    resources: Vec<Value>,
) -> WebResult<Vec<String>> {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let rtype = r
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            serde_json::json!({"resource": r, "request": {"method": "POST", "url": rtype}})
        })
        .collect();
    let bundle =
        serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
    let (_, results) = state
        .engine
        .process_bundle(&staff.ctx, bundle)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    let mut ids = Vec::with_capacity(results.len());
    for r in results {
        let r = r.map_err(|e| WebError::from_core(e, &staff.request_id))?;
        ids.push(r.id.unwrap_or_default());
    }
    Ok(ids)
}

/// A list page's search: `rtype` resources of `patient` (plus `extra`
/// parameters such as `_sort`/`_count`), audited as one type search
/// touching that patient.
pub async fn patient_list(
    state: &WebState,
    staff: &Staff,
    rtype: &str,
    patient: &str,
    extra: &[(&str, String)],
) -> WebResult<Vec<Value>> {
    let mut params = vec![("patient", format!("Patient/{patient}"))];
    params.extend(extra.iter().cloned());
    let list = search(state, staff, rtype, &params).await?;
    staff.audit(
        "search-type",
        concord_core::audit::Action::Read,
        Some(rtype.to_string()),
        &[patient],
    );
    Ok(list)
}

/// [`search`] when the user's role may search `rtype` at all; `None`
/// otherwise, so a page can say "not available to your role" for one
/// section instead of refusing the whole page.
pub async fn search_if_allowed(
    state: &WebState,
    staff: &Staff,
    rtype: &str,
    params: &[(&str, String)],
) -> WebResult<Option<Vec<Value>>> {
    if !staff.may('s', rtype) {
        return Ok(None);
    }
    search(state, staff, rtype, params).await.map(Some)
}

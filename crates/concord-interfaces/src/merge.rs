//! ADT^A40 (merge patient): the entries added to the mapped transaction.
//!
//! * the prior (non-surviving) Patient: `active = false`, `link`
//!   `replaced-by` → survivor (read, then updated with If-Match);
//! * every resource in the prior Patient's compartment that references it
//!   (Observations, Encounters, Conditions, …): a new version pointing at
//!   the survivor, with If-Match, so a concurrent change fails the whole
//!   merge rather than being overwritten. Provenance and AuditEvent keep
//!   pointing at the prior record (they record what happened to it);
//!   Tasks and Binaries of the message store are not clinical data.
//!
//! The survivor's `link` `replaces` comes from the mapping. Everything is
//! one transaction with the message's Task: all or nothing. The
//! compartment is found through the search index, so it needs the
//! `serve` default (`--search-index=true`).

use concord_core::search::{Handling, SearchRequest, CURSOR_PARAM};
use concord_core::{CoreError, Engine};
use concord_hl7v2::fhir::Merge;
use concord_hl7v2::ErrorCode;
use concord_store::TenantContext;
use serde_json::{json, Value};

use crate::message_store::Failure;

/// Types that stay with the prior record.
const STAY: [&str; 5] = ["Patient", "Provenance", "AuditEvent", "Task", "Binary"];

/// Replaces references to `from` (`Patient/1`, also absolute
/// `…/Patient/1`) with `to`; returns how many.
fn repoint(value: &mut Value, from: &str, to: &str) -> usize {
    match value {
        Value::Object(map) => {
            let mut n = 0;
            if let Some(Value::String(r)) = map.get("reference") {
                if r == from || r.ends_with(&format!("/{from}")) {
                    map.insert("reference".into(), Value::String(to.to_string()));
                    n += 1;
                }
            }
            for (k, v) in map.iter_mut() {
                if k != "reference" {
                    n += repoint(v, from, to);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(|v| repoint(v, from, to)).sum(),
        _ => 0,
    }
}

fn unknown(merge: &Merge) -> Failure {
    Failure {
        ack_code: "AE".into(),
        error_code: ErrorCode::UnknownKeyIdentifier.code(),
        location: "MRG-1".into(),
        message: format!("unknown prior patient (system {})", merge.prior.system),
    }
}

fn put(rtype: &str, id: &str, version: i64, mut resource: Value) -> Value {
    if let Some(obj) = resource.as_object_mut() {
        let empty = obj
            .get_mut("meta")
            .and_then(Value::as_object_mut)
            .map(|meta| {
                meta.remove("versionId");
                meta.remove("lastUpdated");
                meta.is_empty()
            });
        if empty == Some(true) {
            obj.remove("meta");
        }
    }
    json!({
        "resource": resource,
        "request": {"method": "PUT", "url": format!("{rtype}/{id}"), "ifMatch": format!("W/\"{version}\"")}
    })
}

/// The entries that apply `merge` (see the module docs).
pub async fn merge_entries(
    engine: &Engine,
    ctx: &TenantContext,
    merge: &Merge,
    core_failure: impl Fn(&CoreError) -> Failure,
) -> Result<Vec<Value>, Failure> {
    let ids = engine
        .find_ids(ctx, "Patient", &merge.prior.query(), 2)
        .await
        .map_err(|e| core_failure(&e))?;
    let [prior_id] = ids.as_slice() else {
        return Err(unknown(merge));
    };
    let survivor = format!("urn:uuid:{}", merge.survivor.new_patient_id());
    let current = engine
        .read(ctx, "Patient", prior_id)
        .await
        .map_err(|e| core_failure(&e))?;
    let mut prior: Value = current
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or_else(|| unknown(merge))?;
    if let Some(obj) = prior.as_object_mut() {
        obj.insert("active".into(), json!(false));
        obj.insert(
            "link".into(),
            json!([{"other": {"reference": survivor}, "type": "replaced-by"}]),
        );
    }
    let mut entries = vec![put("Patient", prior_id, current.version, prior)];

    let from = format!("Patient/{prior_id}");
    let mut params = vec![("_count".to_string(), "1000".to_string())];
    loop {
        let req = SearchRequest {
            resource_type: None,
            compartment: Some(("Patient".into(), prior_id.clone())),
            params: params.clone(),
            handling: Handling::Strict,
            base_url: String::new(),
        };
        let page = engine
            .search(ctx, &req)
            .await
            .map_err(|e| core_failure(&e))?;
        for v in &page.matches {
            if STAY.contains(&v.resource_type.as_str()) {
                continue;
            }
            let Some(mut resource) = v
                .content
                .as_deref()
                .and_then(|c| serde_json::from_str::<Value>(c).ok())
            else {
                continue;
            };
            if repoint(&mut resource, &from, &survivor) > 0 {
                entries.push(put(&v.resource_type, &v.id, v.version, resource));
            }
        }
        match page.next {
            Some(next) => {
                params = vec![
                    ("_count".to_string(), "1000".to_string()),
                    (CURSOR_PARAM.to_string(), next),
                ];
            }
            None => break,
        }
    }
    tracing::info!(
        moved = entries.len() - 1,
        "A40: records moved to the surviving patient"
    );
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repoints_relative_and_absolute_references_only() {
        let mut obs = json!({"subject": {"reference": "Patient/1"},
            "performer": [{"reference": "http://x/fhir/Patient/1"}, {"reference": "Patient/10"}],
            "note": [{"text": "Patient/1"}]});
        assert_eq!(repoint(&mut obs, "Patient/1", "urn:uuid:s"), 2);
        assert_eq!(obs["subject"]["reference"], "urn:uuid:s");
        assert_eq!(obs["performer"][1]["reference"], "Patient/10");
        assert_eq!(obs["note"][0]["text"], "Patient/1");
    }
}

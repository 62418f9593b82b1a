//! Signed documents are locked: a `Composition` whose stored current
//! version is `final` or `amended` (signed) may not be updated, patched or
//! deleted — corrections go through an addendum (a new Composition with
//! `relatesTo.code = appends`). The one change allowed is marking it
//! `entered-in-error` (a signed note written on the wrong patient). A PUT
//! that repeats the stored content unchanged (an idempotent reload) is
//! allowed too: it changes nothing that was signed.
//!
//! Applied in the one write path after the write guard, for single writes,
//! batch entries and every write of a transaction, so no route can skip it.
//! The refusal is a 422 with an OperationOutcome issue `business-rule`.

use concord_fhir::{Issue, IssueType};
use concord_store::{PendingWrite, Precondition, TenantContext, WriteKind};
use serde_json::Value;

use crate::{CoreError, CoreResult, Engine};

const LOCKED_TYPE: &str = "Composition";

/// Whether a Composition with this status is signed and therefore locked.
pub fn is_signed_status(status: Option<&str>) -> bool {
    matches!(status, Some("final" | "amended"))
}

/// The content that matters for "unchanged": everything but `meta` and `id`.
fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("meta");
        o.remove("id");
    }
    v
}

/// Why `write` may not replace the signed `current`, if it may not.
fn refusal(write: &PendingWrite, current: &Value) -> Option<String> {
    if !is_signed_status(current.get("status").and_then(Value::as_str)) {
        return None;
    }
    let what = format!("{}/{}", write.resource_type, write.id);
    match (write.kind, write.resource.as_ref()) {
        (WriteKind::Delete, _) => Some(format!(
            "{what} is signed (status '{}') and cannot be deleted; mark it 'entered-in-error' or write an addendum",
            current["status"].as_str().unwrap_or("")
        )),
        (_, Some(next)) => {
            if next.get("status").and_then(Value::as_str) == Some("entered-in-error")
                || comparable(next) == comparable(current)
            {
                None
            } else {
                Some(format!(
                    "{what} is signed (status '{}') and locked: correct it with an addendum (a new Composition with relatesTo.code 'appends'), or set status 'entered-in-error'",
                    current["status"].as_str().unwrap_or("")
                ))
            }
        }
        (_, None) => None,
    }
}

impl Engine {
    /// Refuses writes that change a signed Composition (see the module
    /// docs). A write without `If-Match` is pinned to the version checked
    /// here, so a note signed concurrently cannot be overwritten in the gap
    /// (the loser gets 412 and may retry).
    pub(crate) async fn check_locked(
        &self,
        ctx: &TenantContext,
        writes: &mut [PendingWrite],
    ) -> CoreResult<()> {
        for w in writes.iter_mut() {
            if w.resource_type != LOCKED_TYPE || w.kind == WriteKind::Create {
                continue;
            }
            let Some(stored) = self.store().read(ctx, &w.resource_type, &w.id).await? else {
                continue;
            };
            if stored.is_deleted() {
                continue;
            }
            let Some(current) = stored
                .content
                .as_deref()
                .and_then(|c| serde_json::from_str::<Value>(c).ok())
            else {
                continue;
            };
            if let Some(why) = refusal(w, &current) {
                return Err(CoreError::Invalid(vec![Issue::error(
                    IssueType::BusinessRule,
                    why,
                )
                .at(format!("{LOCKED_TYPE}.status"))]));
            }
            if w.precondition == Precondition::None {
                w.precondition = Precondition::VersionIs(stored.version);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(kind: WriteKind, body: Option<Value>) -> PendingWrite {
        PendingWrite {
            resource_type: "Composition".into(),
            id: "c1".into(),
            kind,
            precondition: Precondition::None,
            resource: body,
            index: Default::default(),
        }
    }

    #[test]
    fn signed_compositions_are_locked_except_entered_in_error() {
        let signed =
            json!({"resourceType": "Composition", "id": "c1", "status": "final", "title": "Note"});
        let draft = json!({"resourceType": "Composition", "id": "c1", "status": "preliminary", "title": "Note"});
        let edited = json!({"resourceType": "Composition", "id": "c1", "status": "final", "title": "Changed"});
        let eie = json!({"resourceType": "Composition", "id": "c1", "status": "entered-in-error", "title": "Note"});
        let reload = json!({"resourceType": "Composition", "id": "c1", "status": "final", "title": "Note", "meta": {"versionId": "9"}});
        assert!(refusal(&write(WriteKind::Update, Some(edited.clone())), &signed).is_some());
        assert!(refusal(&write(WriteKind::Delete, None), &signed).is_some());
        assert!(refusal(&write(WriteKind::Update, Some(eie)), &signed).is_none());
        assert!(refusal(&write(WriteKind::Update, Some(reload)), &signed).is_none());
        assert!(refusal(&write(WriteKind::Update, Some(edited.clone())), &draft).is_none());
        let amended = json!({"resourceType": "Composition", "id": "c1", "status": "amended"});
        assert!(refusal(&write(WriteKind::Update, Some(edited)), &amended).is_some());
    }
}

//! The write path: create, update, patch, delete and their conditional forms.

use concord_fhir::Issue;
use concord_store::{
    PendingWrite, Precondition, StoreError, TenantContext, WriteKind, WriteOutcome,
};
use serde_json::Value;

use crate::index::{self, IndexPolicy};
use crate::{new_id, CoreError, CoreResult, Engine};

/// What one write did.
#[derive(Debug, Clone)]
pub struct WriteResult {
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    pub last_updated: i64,
    /// `NoOp` for a delete of nothing, and for a conditional create that
    /// matched an existing resource (then `content` holds that resource).
    pub outcome: WriteOutcome,
    /// The stored JSON text, for creates and updates.
    pub content: Option<String>,
    /// Validation warnings of the stored resource.
    pub warnings: Vec<Issue>,
}

/// How many times a write without `If-Match` retries a lost optimistic race.
const RACE_RETRIES: usize = 5;

/// A write the engine has checked and is about to commit.
pub(crate) fn pending(
    policy: IndexPolicy,
    kind: WriteKind,
    resource_type: &str,
    id: &str,
    body: Option<Value>,
    if_match: Option<i64>,
) -> PendingWrite {
    let index = body
        .as_ref()
        .map(|b| index::extract(policy, b))
        .unwrap_or_default();
    PendingWrite {
        resource_type: resource_type.to_string(),
        id: id.to_string(),
        kind,
        precondition: if_match.map_or(Precondition::None, Precondition::VersionIs),
        resource: body,
        index,
    }
}

pub(crate) fn set_id(body: &mut Value, id: &str) {
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), Value::String(id.to_string()));
    }
}

/// The one resource type clients may only append to.
const AUDIT_EVENT: &str = "AuditEvent";

impl Engine {
    /// Fails with `ReadOnly` for AuditEvents (patch, delete, conditional writes).
    pub fn check_writable(resource_type: &str) -> CoreResult<()> {
        if resource_type == AUDIT_EVENT {
            Err(CoreError::ReadOnly(resource_type.to_string()))
        } else {
            Ok(())
        }
    }

    /// AuditEvents are append-only: another system's audit source may add
    /// one (IHE ATNA "record audit event": `POST`, or `PUT` to a new id),
    /// but no AuditEvent is ever updated, patched or deleted.
    pub fn check_write(write: &PendingWrite) -> CoreResult<()> {
        if write.resource_type == AUDIT_EVENT && write.kind != WriteKind::Create {
            return Err(CoreError::ReadOnly(write.resource_type.clone()));
        }
        Ok(())
    }

    async fn commit_one(
        &self,
        ctx: &TenantContext,
        write: PendingWrite,
        warnings: Vec<Issue>,
    ) -> CoreResult<WriteResult> {
        Engine::check_write(&write)?;
        self.authorize_writes(ctx, std::slice::from_ref(&write))
            .await?;
        let mut writes = vec![write];
        self.check_locked(ctx, &mut writes).await?;
        let mut done = self.store().commit(ctx, writes).await?;
        self.policy_cache()
            .written(done.iter().map(|w| w.resource_type.as_str()));
        let w = done
            .pop()
            .ok_or_else(|| CoreError::Store(StoreError::Backend("empty commit result".into())))?;
        tracing::debug!(resource_type = %w.resource_type, id = %w.id, version = w.version, "committed");
        Ok(WriteResult {
            resource_type: w.resource_type,
            id: w.id,
            version: w.version,
            last_updated: w.last_updated,
            outcome: w.outcome,
            content: w.content,
            warnings,
        })
    }

    /// Ids matching conditional criteria (at most two: enough to tell 0, 1, many).
    pub(crate) async fn match_criteria(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        query: &str,
    ) -> CoreResult<Vec<String>> {
        self.find_ids(ctx, resource_type, query, 2).await
    }

    /// `POST Type` (with optional `If-None-Exist`). The server assigns the id.
    pub async fn create(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        mut body: Value,
        if_none_exist: Option<&str>,
    ) -> CoreResult<WriteResult> {
        Engine::check_type(resource_type)?;
        let id = new_id();
        set_id(&mut body, &id);
        let warnings = Engine::validate(resource_type, &body)?;
        if let Some(query) = if_none_exist {
            let matches = self.match_criteria(ctx, resource_type, query).await?;
            match matches.as_slice() {
                [] => {}
                [existing] => return self.existing(ctx, resource_type, existing).await,
                _ => {
                    return Err(CoreError::PreconditionFailed(
                        "If-None-Exist criteria match more than one resource".into(),
                    ))
                }
            }
        }
        let write = pending(
            self.index_policy(),
            WriteKind::Create,
            resource_type,
            &id,
            Some(body),
            None,
        );
        self.commit_one(ctx, write, warnings).await
    }

    async fn existing(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> CoreResult<WriteResult> {
        let current = self.read(ctx, resource_type, id).await?;
        Ok(WriteResult {
            resource_type: current.resource_type,
            id: current.id,
            version: current.version,
            last_updated: current.last_updated,
            outcome: WriteOutcome::NoOp,
            content: current.content,
            warnings: Vec::new(),
        })
    }

    /// `PUT Type/id`: update, or create with the client's id.
    pub async fn update(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        body: Value,
        if_match: Option<i64>,
    ) -> CoreResult<WriteResult> {
        Engine::check_type(resource_type)?;
        Engine::check_id(id)?;
        match body.get("id").and_then(Value::as_str) {
            Some(body_id) if body_id == id => {}
            Some(body_id) => {
                return Err(CoreError::BadRequest(vec![Issue::error(
                    concord_fhir::IssueType::Invalid,
                    format!("the body's id '{body_id}' does not match the URL's id '{id}'"),
                )
                .at(format!("{resource_type}.id"))]))
            }
            None => {
                return Err(CoreError::BadRequest(vec![Issue::error(
                    concord_fhir::IssueType::Required,
                    "an update needs the resource id in the body",
                )
                .at(format!("{resource_type}.id"))]))
            }
        }
        let warnings = Engine::validate(resource_type, &body)?;
        // An AuditEvent may only be added under a new id (append-only).
        let kind = if resource_type == AUDIT_EVENT {
            if self.exists_any_version(ctx, resource_type, id).await? {
                return Err(CoreError::ReadOnly(resource_type.to_string()));
            }
            WriteKind::Create
        } else {
            WriteKind::Update
        };
        let write = pending(
            self.index_policy(),
            kind,
            resource_type,
            id,
            Some(body),
            if_match,
        );
        self.commit_one(ctx, write, warnings).await
    }

    /// Whether `type/id` was ever stored (also when deleted).
    async fn exists_any_version(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> CoreResult<bool> {
        match self.read(ctx, resource_type, id).await {
            Ok(_) | Err(CoreError::Gone { .. }) => Ok(true),
            Err(CoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `PUT Type?criteria`: no match creates, one match updates, several → 412.
    pub async fn conditional_update(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        query: &str,
        mut body: Value,
        if_match: Option<i64>,
    ) -> CoreResult<WriteResult> {
        Engine::check_type(resource_type)?;
        Engine::check_writable(resource_type)?;
        let matches = self.match_criteria(ctx, resource_type, query).await?;
        let body_id = body.get("id").and_then(Value::as_str).map(str::to_string);
        let id = match (matches.as_slice(), body_id) {
            ([], Some(id)) => id,
            ([], None) => {
                let id = new_id();
                set_id(&mut body, &id);
                id
            }
            ([found], Some(id)) if *found != id => {
                return Err(CoreError::bad_request(format!(
                    "the body's id '{id}' differs from the matched resource '{found}'"
                )))
            }
            ([found], _) => {
                set_id(&mut body, found);
                found.clone()
            }
            _ => {
                return Err(CoreError::PreconditionFailed(
                    "conditional update criteria match more than one resource".into(),
                ))
            }
        };
        self.update(ctx, resource_type, &id, body, if_match).await
    }

    /// `PATCH Type/id` with a JSON Patch document (RFC 6902).
    pub async fn patch(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        patch: &Value,
        if_match: Option<i64>,
    ) -> CoreResult<WriteResult> {
        Engine::check_type(resource_type)?;
        Engine::check_writable(resource_type)?;
        Engine::check_id(id)?;
        let ops: json_patch::Patch = serde_json::from_value(patch.clone())
            .map_err(|e| CoreError::bad_request(format!("not a JSON Patch document: {e}")))?;
        for attempt in 0..RACE_RETRIES {
            let current = self.read(ctx, resource_type, id).await?;
            if let Some(expected) = if_match {
                if expected != current.version {
                    return Err(CoreError::PreconditionFailed(format!(
                        "{resource_type}/{id} is at version {}, not {expected}",
                        current.version
                    )));
                }
            }
            let text = current.content.as_deref().unwrap_or("{}");
            let mut doc: Value = serde_json::from_str(text)
                .map_err(|e| CoreError::Store(StoreError::Backend(format!("stored JSON: {e}"))))?;
            json_patch::patch(&mut doc, &ops)
                .map_err(|e| CoreError::bad_request(format!("the patch cannot be applied: {e}")))?;
            if doc.get("id").and_then(Value::as_str) != Some(id) {
                return Err(CoreError::bad_request(
                    "a patch may not change the resource id",
                ));
            }
            let warnings = Engine::validate(resource_type, &doc)?;
            let write = pending(
                self.index_policy(),
                WriteKind::Update,
                resource_type,
                id,
                Some(doc),
                Some(current.version),
            );
            match self.commit_one(ctx, write, warnings).await {
                Err(CoreError::PreconditionFailed(_))
                    if if_match.is_none() && attempt + 1 < RACE_RETRIES =>
                {
                    continue
                }
                other => return other,
            }
        }
        Err(CoreError::Conflict(
            "the resource kept changing; try again".into(),
        ))
    }

    /// `DELETE Type/id`: a logical delete; deleting nothing succeeds.
    pub async fn delete(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        if_match: Option<i64>,
    ) -> CoreResult<WriteResult> {
        Engine::check_type(resource_type)?;
        Engine::check_writable(resource_type)?;
        Engine::check_id(id)?;
        let write = pending(
            self.index_policy(),
            WriteKind::Delete,
            resource_type,
            id,
            None,
            if_match,
        );
        self.commit_one(ctx, write, Vec::new()).await
    }

    /// `DELETE Type?criteria`: deletes the one match; several → 412.
    pub async fn conditional_delete(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        query: &str,
    ) -> CoreResult<WriteResult> {
        Engine::check_type(resource_type)?;
        Engine::check_writable(resource_type)?;
        let matches = self.match_criteria(ctx, resource_type, query).await?;
        match matches.as_slice() {
            [] => Ok(WriteResult {
                resource_type: resource_type.to_string(),
                id: String::new(),
                version: 0,
                last_updated: 0,
                outcome: WriteOutcome::NoOp,
                content: None,
                warnings: Vec::new(),
            }),
            [id] => self.delete(ctx, resource_type, id, None).await,
            _ => Err(CoreError::PreconditionFailed(
                "conditional delete criteria match more than one resource".into(),
            )),
        }
    }
}

//! Where the caller's [`AccessPolicy`] (carried by the [`TenantContext`]) is
//! applied: the read guard (reads, searches and their chains, `_has`,
//! includes, history) and the write guard (every commit). Without a policy
//! (the system, operators, a server without authentication) nothing changes.

use concord_store::search::{Condition, SearchPlan};
use concord_store::{Denied, PendingWrite, StoredVersion, TenantContext, WriteAccess, WriteKind};
use serde_json::Value;

use crate::{CoreError, CoreResult, Engine};

/// Whether the caller may read this version. Versions without content
/// (deletes) are shown only to callers who see everything.
pub(crate) fn readable(ctx: &TenantContext, v: &StoredVersion) -> bool {
    let Some(policy) = &ctx.access else {
        return true;
    };
    if policy.sees_everything() {
        return true;
    }
    match v.content.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(resource)) => policy.may_read(&v.resource_type, &resource),
        _ => policy.sees_everything(),
    }
}

/// Confines a lowered search (and every chain, `_has` and nested level in
/// it) to what the caller may read, in the query itself, so totals and
/// pages only ever count readable resources.
pub(crate) fn confine_plan(ctx: &TenantContext, plan: &mut SearchPlan) -> CoreResult<()> {
    if ctx.access.is_none() {
        return Ok(());
    }
    confine_level(ctx, &mut plan.types, &mut plan.conditions)
}

fn confine_level(
    ctx: &TenantContext,
    types: &mut Vec<String>,
    conditions: &mut Vec<Condition>,
) -> CoreResult<()> {
    let Some(policy) = &ctx.access else {
        return Ok(());
    };
    for c in conditions.iter_mut() {
        confine_condition(ctx, c)?;
    }
    let confinement = policy.confine(types).map_err(CoreError::Forbidden)?;
    if let Some(narrowed) = confinement.types {
        if narrowed.is_empty() {
            conditions.push(Condition::Never);
        } else {
            *types = narrowed;
        }
    }
    if let Some(c) = confinement.condition {
        conditions.push(c);
    }
    Ok(())
}

fn confine_condition(ctx: &TenantContext, c: &mut Condition) -> CoreResult<()> {
    match c {
        Condition::Chain {
            target_types,
            inner,
            ..
        } => confine_level(ctx, target_types, inner),
        Condition::Has {
            source_type, inner, ..
        } => {
            let mut types = vec![source_type.clone()];
            confine_level(ctx, &mut types, inner)
        }
        Condition::Any(list) | Condition::All(list) => {
            list.iter_mut().try_for_each(|c| confine_condition(ctx, c))
        }
        Condition::Not(inner) => confine_condition(ctx, inner),
        _ => Ok(()),
    }
}

impl Engine {
    /// The write guard: every write of a commit must be permitted. A target
    /// the caller may not read is answered as not found.
    pub(crate) async fn authorize_writes(
        &self,
        ctx: &TenantContext,
        writes: &[PendingWrite],
    ) -> CoreResult<()> {
        let Some(policy) = &ctx.access else {
            return Ok(());
        };
        for w in writes {
            let current = match self.store().read(ctx, &w.resource_type, &w.id).await? {
                Some(v) if !v.is_deleted() => v
                    .content
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Value>(c).ok()),
                _ => None,
            };
            let access = match (w.kind, &current) {
                (WriteKind::Delete, _) => WriteAccess::Delete,
                (_, Some(_)) => WriteAccess::Update,
                (_, None) => WriteAccess::Create,
            };
            let verdict = policy.may_write(
                access,
                &w.resource_type,
                current.as_ref(),
                w.resource.as_ref(),
            );
            match verdict {
                Ok(()) => {}
                Err(Denied::Hidden) => {
                    return Err(CoreError::NotFound {
                        resource_type: w.resource_type.clone(),
                        id: w.id.clone(),
                    })
                }
                Err(Denied::Forbidden(why)) => return Err(CoreError::Forbidden(why)),
            }
        }
        Ok(())
    }

    /// The read guard for one version: not found unless readable. A deleted
    /// resource is judged by its last content.
    pub(crate) async fn guard_read(
        &self,
        ctx: &TenantContext,
        v: &StoredVersion,
    ) -> CoreResult<()> {
        if ctx.access.is_none() {
            return Ok(());
        }
        let ok = if v.is_deleted() && v.version > 1 {
            match self
                .store()
                .vread(ctx, &v.resource_type, &v.id, v.version - 1)
                .await?
            {
                Some(prev) => readable(ctx, &prev),
                None => false,
            }
        } else {
            readable(ctx, v)
        };
        if ok {
            Ok(())
        } else {
            Err(CoreError::NotFound {
                resource_type: v.resource_type.clone(),
                id: v.id.clone(),
            })
        }
    }
}

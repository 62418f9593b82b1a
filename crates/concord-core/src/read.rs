//! Reads: current version, one version, history.

use concord_store::{HistoryPage, HistoryQuery, StoredVersion, TenantContext};

use crate::access::readable;
use crate::{CoreError, CoreResult, Engine};

impl Engine {
    /// The current version; `NotFound` if never created, `Gone` if deleted.
    pub async fn read(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
    ) -> CoreResult<StoredVersion> {
        Engine::check_type(resource_type)?;
        Engine::check_id(id)?;
        let found = self.store().read(ctx, resource_type, id).await?;
        if let Some(v) = &found {
            self.guard_read(ctx, v).await?;
        }
        match found {
            None => Err(CoreError::NotFound {
                resource_type: resource_type.into(),
                id: id.into(),
            }),
            Some(v) if v.is_deleted() => Err(CoreError::Gone {
                resource_type: resource_type.into(),
                id: id.into(),
                version: v.version,
            }),
            Some(v) => Ok(v),
        }
    }

    /// One version; `Gone` when that version is the delete itself.
    pub async fn vread(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> CoreResult<StoredVersion> {
        Engine::check_type(resource_type)?;
        Engine::check_id(id)?;
        let found = self.store().vread(ctx, resource_type, id, version).await?;
        if let Some(v) = &found {
            self.guard_read(ctx, v).await?;
        }
        match found {
            None => Err(CoreError::NotFound {
                resource_type: resource_type.into(),
                id: format!("{id}/_history/{version}"),
            }),
            Some(v) if v.is_deleted() => Err(CoreError::Gone {
                resource_type: resource_type.into(),
                id: id.into(),
                version,
            }),
            Some(v) => Ok(v),
        }
    }

    /// A page of history (system, type or instance).
    pub async fn history(
        &self,
        ctx: &TenantContext,
        query: &HistoryQuery,
    ) -> CoreResult<HistoryPage> {
        if let Some(rt) = &query.resource_type {
            Engine::check_type(rt)?;
        }
        if let (Some(rt), Some(id)) = (&query.resource_type, &query.id) {
            Engine::check_id(id)?;
            // Instance history follows read: hidden unless the resource is readable.
            if ctx.access.is_some() {
                match self.store().read(ctx, rt, id).await? {
                    Some(v) => self.guard_read(ctx, &v).await?,
                    None => {
                        return Err(CoreError::NotFound {
                            resource_type: rt.clone(),
                            id: id.clone(),
                        })
                    }
                }
            }
        }
        let mut page = self.store().history(ctx, query).await?;
        if ctx.access.is_some() {
            page.entries.retain(|e| readable(ctx, &e.version));
        }
        Ok(page)
    }
}

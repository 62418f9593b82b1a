//! `concord reindex`: recompute the search-index rows of every live
//! resource from its current version (after an upgrade that changes what is
//! indexed, or to fill in rows written under the lean index policy).

use concord_store::TenantContext;

use crate::index;
use crate::{CoreResult, Engine};

/// Resources per store transaction.
pub const REINDEX_BATCH: usize = 500;

impl Engine {
    /// Reindexes every live resource in batches; `progress` gets the running
    /// count after each batch. Returns how many were reindexed.
    pub async fn reindex(
        &self,
        ctx: &TenantContext,
        mut progress: impl FnMut(u64),
    ) -> CoreResult<u64> {
        let mut after: Option<(String, String)> = None;
        let mut done = 0u64;
        loop {
            let batch = self.store().scan(ctx, after.clone(), REINDEX_BATCH).await?;
            let Some(last) = batch.last() else {
                break;
            };
            after = Some((last.resource_type.clone(), last.id.clone()));
            let mut rows = Vec::with_capacity(batch.len());
            for v in &batch {
                let Some(text) = v.content.as_deref() else {
                    continue;
                };
                let Ok(resource) = serde_json::from_str::<serde_json::Value>(text) else {
                    tracing::warn!(resource_type = %v.resource_type, id = %v.id, "stored resource is not JSON; skipped");
                    continue;
                };
                rows.push((
                    v.resource_type.clone(),
                    v.id.clone(),
                    index::extract(self.index_policy(), &resource),
                ));
            }
            done += rows.len() as u64;
            self.store().replace_index_rows(ctx, rows).await?;
            progress(done);
        }
        Ok(done)
    }
}

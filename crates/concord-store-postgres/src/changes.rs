//! `changes_after`: the outbox of one tenant, oldest first.

use concord_store::{ChangeEvent, StoreResult};
use deadpool_postgres::Pool;

use crate::error;
use crate::read::parse_kind;

const CHANGES: &str = "SELECT seq, tenant, type, id, version, kind, at FROM outbox
WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/// Events of `tenant` with a sequence greater than `after`, at most `limit`.
pub(crate) async fn changes_after(
    pool: &Pool,
    tenant: &str,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<ChangeEvent>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client.prepare_cached(CHANGES).await.map_err(error::db)?;
    let rows = client
        .query(&stmt, &[&tenant, &after, &limit])
        .await
        .map_err(error::db)?;
    rows.iter()
        .map(|row| {
            let kind: &str = row.try_get(5).map_err(error::db)?;
            Ok(ChangeEvent {
                sequence: row.try_get(0).map_err(error::db)?,
                tenant: row.try_get(1).map_err(error::db)?,
                resource_type: row.try_get(2).map_err(error::db)?,
                id: row.try_get(3).map_err(error::db)?,
                version: row.try_get(4).map_err(error::db)?,
                kind: parse_kind(kind)?,
                at: row.try_get(6).map_err(error::db)?,
            })
        })
        .collect()
}

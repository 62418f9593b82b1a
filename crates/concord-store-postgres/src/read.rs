//! `read`, `vread` and `count_by_type`, plus row decoding shared with history.

use concord_store::{StoreError, StoreResult, StoredVersion, WriteKind};
use deadpool_postgres::Pool;
use tokio_postgres::Row;

use crate::error;

const READ: &str = "SELECT type, id, version, last_updated, kind, content FROM resources
WHERE tenant = $1 AND type = $2 AND id = $3";

const VREAD: &str = "SELECT type, id, version, last_updated, kind, content FROM resource_history
WHERE tenant = $1 AND type = $2 AND id = $3 AND version = $4";

const COUNT_BY_TYPE: &str = "SELECT type, count(*) FROM resources
WHERE tenant = $1 AND kind <> 'delete' GROUP BY type ORDER BY type";

/// A stored `kind` value as a [`WriteKind`].
pub(crate) fn parse_kind(text: &str) -> StoreResult<WriteKind> {
    WriteKind::parse(text)
        .ok_or_else(|| StoreError::Backend(format!("unknown version kind {text:?} in database")))
}

/// Decodes `type, id, version, last_updated, kind, content` starting at column `at`.
pub(crate) fn version_from_row(row: &Row, at: usize) -> StoreResult<StoredVersion> {
    let kind: &str = row.try_get(at + 4).map_err(error::db)?;
    Ok(StoredVersion {
        resource_type: row.try_get(at).map_err(error::db)?,
        id: row.try_get(at + 1).map_err(error::db)?,
        version: row.try_get(at + 2).map_err(error::db)?,
        last_updated: row.try_get(at + 3).map_err(error::db)?,
        kind: parse_kind(kind)?,
        content: row.try_get(at + 5).map_err(error::db)?,
    })
}

/// The current version of a resource.
pub(crate) async fn read(
    pool: &Pool,
    tenant: &str,
    resource_type: &str,
    id: &str,
) -> StoreResult<Option<StoredVersion>> {
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client.prepare_cached(READ).await.map_err(error::db)?;
    let row = client
        .query_opt(&stmt, &[&tenant, &resource_type, &id])
        .await
        .map_err(error::db)?;
    row.map(|r| version_from_row(&r, 0)).transpose()
}

const READ_MANY: &str = "SELECT r.type, r.id, r.version, r.last_updated, r.kind, r.content
FROM resources r JOIN unnest($2::text[], $3::text[]) AS k(type, id)
ON r.type = k.type AND r.id = k.id WHERE r.tenant = $1";

/// The current versions of several resources, in the order asked, in one
/// query.
pub(crate) async fn read_many(
    pool: &Pool,
    tenant: &str,
    keys: &[(String, String)],
) -> StoreResult<Vec<Option<StoredVersion>>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let types: Vec<&str> = keys.iter().map(|(t, _)| t.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|(_, i)| i.as_str()).collect();
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client.prepare_cached(READ_MANY).await.map_err(error::db)?;
    let rows = client
        .query(&stmt, &[&tenant, &types, &ids])
        .await
        .map_err(error::db)?;
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let v = version_from_row(row, 0)?;
        found.insert((v.resource_type.clone(), v.id.clone()), v);
    }
    Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
}

/// One version of a resource.
pub(crate) async fn vread(
    pool: &Pool,
    tenant: &str,
    resource_type: &str,
    id: &str,
    version: i64,
) -> StoreResult<Option<StoredVersion>> {
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client.prepare_cached(VREAD).await.map_err(error::db)?;
    let row = client
        .query_opt(&stmt, &[&tenant, &resource_type, &id, &version])
        .await
        .map_err(error::db)?;
    row.map(|r| version_from_row(&r, 0)).transpose()
}

/// Live resources per type, sorted by type.
pub(crate) async fn count_by_type(pool: &Pool, tenant: &str) -> StoreResult<Vec<(String, u64)>> {
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client
        .prepare_cached(COUNT_BY_TYPE)
        .await
        .map_err(error::db)?;
    let rows = client.query(&stmt, &[&tenant]).await.map_err(error::db)?;
    rows.iter()
        .map(|row| {
            let count: i64 = row.try_get(1).map_err(error::db)?;
            Ok((
                row.try_get(0).map_err(error::db)?,
                u64::try_from(count).unwrap_or(0),
            ))
        })
        .collect()
}

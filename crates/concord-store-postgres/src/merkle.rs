//! The Merkle log's rows and signed tree heads (see `concord_store::LedgerStore`).

use concord_store::{LedgerRow, StoreResult, TreeHead, VersionRow};
use deadpool_postgres::Pool;
use tokio_postgres::Row;

use crate::error;

const ROW: &str = "SELECT leaf_index, tenant, type, id, version, content_hash, prev_hash,
  entry_hash FROM ledger";

fn ledger_row(r: &Row) -> Result<LedgerRow, tokio_postgres::Error> {
    Ok(LedgerRow {
        leaf_index: r.try_get::<_, Option<i64>>(0)?.unwrap_or(-1),
        tenant: r.try_get(1)?,
        resource_type: r.try_get(2)?,
        id: r.try_get(3)?,
        version: r.try_get(4)?,
        content_hash: r.try_get(5)?,
        prev_hash: r.try_get(6)?,
        entry_hash: r.try_get(7)?,
    })
}

pub(crate) async fn rows(pool: &Pool, from: i64, limit: usize) -> StoreResult<Vec<LedgerRow>> {
    let client = pool.get().await.map_err(error::pool)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client
        .query(
            &format!("{ROW} WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2"),
            &[&from, &limit],
        )
        .await
        .map_err(error::db)?;
    rows.iter()
        .map(|r| ledger_row(r).map_err(error::db))
        .collect()
}

pub(crate) async fn row_of(
    pool: &Pool,
    tenant: &str,
    rt: &str,
    id: &str,
    version: i64,
) -> StoreResult<Option<LedgerRow>> {
    let client = pool.get().await.map_err(error::pool)?;
    let row = client
        .query_opt(
            &format!(
                "{ROW} WHERE tenant = $1 AND type = $2 AND id = $3 AND version = $4
                 ORDER BY leaf_index LIMIT 1"
            ),
            &[&tenant, &rt, &id, &version],
        )
        .await
        .map_err(error::db)?;
    row.map(|r| ledger_row(&r).map_err(error::db)).transpose()
}

pub(crate) async fn versions(
    pool: &Pool,
    after: i64,
    limit: usize,
) -> StoreResult<(Vec<VersionRow>, i64)> {
    let client = pool.get().await.map_err(error::pool)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client
        .query(
            "SELECT seq, tenant, type, id, version, content FROM resource_history
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &limit],
        )
        .await
        .map_err(error::db)?;
    let mut next = after;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        next = r.try_get(0).map_err(error::db)?;
        out.push(VersionRow {
            tenant: r.try_get(1).map_err(error::db)?,
            resource_type: r.try_get(2).map_err(error::db)?,
            id: r.try_get(3).map_err(error::db)?,
            version: r.try_get(4).map_err(error::db)?,
            content: r.try_get(5).map_err(error::db)?,
        });
    }
    Ok((out, next))
}

pub(crate) async fn save_head(pool: &Pool, h: &TreeHead) -> StoreResult<()> {
    let client = pool.get().await.map_err(error::pool)?;
    client
        .execute(
            "INSERT INTO tree_heads (tree_size, root_hash, issued_at, signature)
             VALUES ($1, $2, $3, $4)",
            &[&h.tree_size, &h.root_hash, &h.issued_at, &h.signature],
        )
        .await
        .map_err(error::db)?;
    Ok(())
}

fn head(r: &Row) -> Result<TreeHead, tokio_postgres::Error> {
    Ok(TreeHead {
        tree_size: r.try_get(0)?,
        root_hash: r.try_get(1)?,
        issued_at: r.try_get(2)?,
        signature: r.try_get(3)?,
    })
}

pub(crate) async fn head_of_size(pool: &Pool, tree_size: i64) -> StoreResult<Option<TreeHead>> {
    let client = pool.get().await.map_err(error::pool)?;
    let row = client
        .query_opt(
            "SELECT tree_size, root_hash, issued_at, signature FROM tree_heads
             WHERE tree_size = $1 ORDER BY seq DESC LIMIT 1",
            &[&tree_size],
        )
        .await
        .map_err(error::db)?;
    row.map(|r| head(&r).map_err(error::db)).transpose()
}

pub(crate) async fn heads(pool: &Pool, latest_only: bool) -> StoreResult<Vec<TreeHead>> {
    let client = pool.get().await.map_err(error::pool)?;
    let sql = if latest_only {
        "SELECT tree_size, root_hash, issued_at, signature FROM tree_heads
         ORDER BY seq DESC LIMIT 1"
    } else {
        "SELECT tree_size, root_hash, issued_at, signature FROM tree_heads ORDER BY seq"
    };
    let rows = client.query(sql, &[]).await.map_err(error::db)?;
    rows.iter().map(|r| head(r).map_err(error::db)).collect()
}

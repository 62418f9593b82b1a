//! The Merkle log's rows and signed tree heads (see `concord_store::LedgerStore`).

use concord_store::{LedgerRow, StoreResult, TreeHead, VersionRow};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::backend;

const ROW: &str = "SELECT leaf_index, tenant, type, id, version, content_hash, prev_hash,
  entry_hash FROM ledger";

fn ledger_row(r: &Row<'_>) -> rusqlite::Result<LedgerRow> {
    Ok(LedgerRow {
        leaf_index: r.get::<_, Option<i64>>(0)?.unwrap_or(-1),
        tenant: r.get(1)?,
        resource_type: r.get(2)?,
        id: r.get(3)?,
        version: r.get(4)?,
        content_hash: r.get(5)?,
        prev_hash: r.get(6)?,
        entry_hash: r.get(7)?,
    })
}

pub fn rows(c: &Connection, from: i64, limit: usize) -> StoreResult<Vec<LedgerRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c
        .prepare_cached(&format!(
            "{ROW} WHERE leaf_index >= ?1 ORDER BY leaf_index LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![from, limit], ledger_row)
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn row_of(
    c: &Connection,
    tenant: &str,
    rt: &str,
    id: &str,
    version: i64,
) -> StoreResult<Option<LedgerRow>> {
    c.prepare_cached(&format!(
        "{ROW} WHERE tenant = ?1 AND type = ?2 AND id = ?3 AND version = ?4
         ORDER BY leaf_index LIMIT 1"
    ))
    .map_err(backend)?
    .query_row(params![tenant, rt, id, version], ledger_row)
    .optional()
    .map_err(backend)
}

pub fn versions(c: &Connection, after: i64, limit: usize) -> StoreResult<(Vec<VersionRow>, i64)> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, tenant, type, id, version, content FROM resource_history
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(backend)?;
    let mut next = after;
    let mut out = Vec::new();
    let mut rows = stmt.query(params![after, limit]).map_err(backend)?;
    while let Some(r) = rows.next().map_err(backend)? {
        next = r.get(0).map_err(backend)?;
        out.push(VersionRow {
            tenant: r.get(1).map_err(backend)?,
            resource_type: r.get(2).map_err(backend)?,
            id: r.get(3).map_err(backend)?,
            version: r.get(4).map_err(backend)?,
            content: r.get(5).map_err(backend)?,
        });
    }
    Ok((out, next))
}

pub fn save_head(c: &Connection, h: &TreeHead) -> StoreResult<()> {
    c.execute(
        "INSERT INTO tree_heads (tree_size, root_hash, issued_at, signature)
         VALUES (?1, ?2, ?3, ?4)",
        params![h.tree_size, h.root_hash, h.issued_at, h.signature],
    )
    .map_err(backend)?;
    Ok(())
}

fn head(r: &Row<'_>) -> rusqlite::Result<TreeHead> {
    Ok(TreeHead {
        tree_size: r.get(0)?,
        root_hash: r.get(1)?,
        issued_at: r.get(2)?,
        signature: r.get(3)?,
    })
}

pub fn heads(c: &Connection) -> StoreResult<Vec<TreeHead>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT tree_size, root_hash, issued_at, signature FROM tree_heads ORDER BY seq",
        )
        .map_err(backend)?;
    let rows = stmt.query_map([], head).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn head_of_size(c: &Connection, tree_size: i64) -> StoreResult<Option<TreeHead>> {
    c.prepare_cached(
        "SELECT tree_size, root_hash, issued_at, signature FROM tree_heads
         WHERE tree_size = ?1 ORDER BY seq DESC LIMIT 1",
    )
    .map_err(backend)?
    .query_row([tree_size], head)
    .optional()
    .map_err(backend)
}

pub fn latest_head(c: &Connection) -> StoreResult<Option<TreeHead>> {
    c.query_row(
        "SELECT tree_size, root_hash, issued_at, signature FROM tree_heads
         ORDER BY seq DESC LIMIT 1",
        [],
        head,
    )
    .optional()
    .map_err(backend)
}

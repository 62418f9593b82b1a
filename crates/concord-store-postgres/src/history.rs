//! `history`: versions newest first, paged by an exclusive `seq` cursor.

use concord_store::{HistoryEntry, HistoryPage, HistoryQuery, StoreError, StoreResult};
use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use crate::error;
use crate::read::version_from_row;

type Param<'a> = &'a (dyn ToSql + Sync);

/// One page of history for the query's scope (system, type or instance).
pub(crate) async fn history(
    pool: &Pool,
    tenant: &str,
    query: &HistoryQuery,
) -> StoreResult<HistoryPage> {
    if matches!(query.cursor, Some(c) if c < 1) {
        return Err(StoreError::InvalidCursor);
    }
    // The scope and `since` filters, shared by the page and the total.
    let mut filter = String::from("tenant = $1");
    let mut params: Vec<Param<'_>> = vec![&tenant];
    if let Some(rt) = &query.resource_type {
        params.push(rt);
        filter.push_str(&format!(" AND type = ${}", params.len()));
    } else {
        // System history leaves the audit trail out (read it as AuditEvent).
        filter.push_str(" AND type <> 'AuditEvent'");
    }
    if let Some(id) = &query.id {
        params.push(id);
        filter.push_str(&format!(" AND id = ${}", params.len()));
    }
    if let Some(since) = &query.since {
        params.push(since);
        filter.push_str(&format!(" AND last_updated >= ${}", params.len()));
    }

    let client = pool.get().await.map_err(error::pool)?;
    let total_sql = format!("SELECT count(*) FROM resource_history WHERE {filter}");
    let total_stmt = client.prepare_cached(&total_sql).await.map_err(error::db)?;
    let total: i64 = client
        .query_one(&total_stmt, &params)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(error::db)?;
    let total = u64::try_from(total).unwrap_or(0);
    if query.count == 0 {
        return Ok(HistoryPage {
            entries: Vec::new(),
            next_cursor: None,
            total,
        });
    }

    let mut page_filter = filter;
    if let Some(cursor) = &query.cursor {
        params.push(cursor);
        page_filter.push_str(&format!(" AND seq < ${}", params.len()));
    }
    // One row more than asked tells whether another page exists.
    let fetch = i64::try_from(query.count)
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    params.push(&fetch);
    let page_sql = format!(
        "SELECT seq, type, id, version, last_updated, kind, content FROM resource_history
WHERE {page_filter} ORDER BY seq DESC LIMIT ${}",
        params.len()
    );
    let page_stmt = client.prepare_cached(&page_sql).await.map_err(error::db)?;
    let rows = client.query(&page_stmt, &params).await.map_err(error::db)?;

    let more = rows.len() > query.count;
    let mut entries = Vec::with_capacity(rows.len().min(query.count));
    let mut last_seq = None;
    for row in rows.iter().take(query.count) {
        last_seq = Some(row.try_get::<_, i64>(0).map_err(error::db)?);
        entries.push(HistoryEntry {
            version: version_from_row(row, 1)?,
        });
    }
    Ok(HistoryPage {
        entries,
        next_cursor: if more { last_seq } else { None },
        total,
    })
}

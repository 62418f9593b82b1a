//! Reads: current version, one version, history pages, conditional lookups, counts, changes.

use concord_store::{
    ChangeEvent, Criterion, HistoryEntry, HistoryPage, HistoryQuery, StoreError, StoreResult,
    StoredVersion, WriteKind,
};
use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::error::backend;

fn kind(text: &str) -> Result<WriteKind, rusqlite::Error> {
    WriteKind::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown kind {text}").into(),
        )
    })
}

/// Columns: type, id, version, last_updated, kind, content.
fn stored(r: &Row<'_>) -> Result<StoredVersion, rusqlite::Error> {
    let k: String = r.get(4)?;
    Ok(StoredVersion {
        resource_type: r.get(0)?,
        id: r.get(1)?,
        version: r.get(2)?,
        last_updated: r.get(3)?,
        kind: kind(&k)?,
        content: r.get(5)?,
    })
}

pub fn current(
    c: &Connection,
    tenant: &str,
    rt: &str,
    id: &str,
) -> StoreResult<Option<StoredVersion>> {
    c.prepare_cached(
        "SELECT r.type, r.id, r.version, r.last_updated, r.kind, h.content
         FROM resources r JOIN resource_history h ON h.seq = r.seq
         WHERE r.tenant = ?1 AND r.type = ?2 AND r.id = ?3",
    )
    .map_err(backend)?
    .query_row(params![tenant, rt, id], stored)
    .optional()
    .map_err(backend)
}

pub fn version(
    c: &Connection,
    tenant: &str,
    rt: &str,
    id: &str,
    version: i64,
) -> StoreResult<Option<StoredVersion>> {
    c.prepare_cached(
        "SELECT type, id, version, last_updated, kind, content FROM resource_history
         WHERE tenant = ?1 AND type = ?2 AND id = ?3 AND version = ?4",
    )
    .map_err(backend)?
    .query_row(params![tenant, rt, id, version], stored)
    .optional()
    .map_err(backend)
}

pub fn history(c: &Connection, tenant: &str, q: &HistoryQuery) -> StoreResult<HistoryPage> {
    let mut filter = String::from("tenant = ?");
    let mut args: Vec<Sql> = vec![Sql::Text(tenant.to_string())];
    if let Some(rt) = &q.resource_type {
        filter.push_str(" AND type = ?");
        args.push(Sql::Text(rt.clone()));
    } else {
        // System history leaves the audit trail out (read it as AuditEvent).
        filter.push_str(" AND type <> 'AuditEvent'");
    }
    if let Some(id) = &q.id {
        filter.push_str(" AND id = ?");
        args.push(Sql::Text(id.clone()));
    }
    if let Some(since) = q.since {
        filter.push_str(" AND last_updated >= ?");
        args.push(Sql::Integer(since));
    }
    let total: i64 = c
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM resource_history WHERE {filter}"
        ))
        .map_err(backend)?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))
        .map_err(backend)?;
    if let Some(cursor) = q.cursor {
        if cursor <= 0 {
            return Err(StoreError::InvalidCursor);
        }
        filter.push_str(" AND seq < ?");
        args.push(Sql::Integer(cursor));
    }
    let count = q.count.max(1);
    args.push(Sql::Integer(count as i64 + 1));
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT type, id, version, last_updated, kind, content, seq FROM resource_history
             WHERE {filter} ORDER BY seq DESC LIMIT ?"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((stored(r)?, r.get::<_, i64>(6)?))
        })
        .map_err(backend)?;
    let mut entries = Vec::with_capacity(count);
    let mut next_cursor = None;
    let mut last_seq = 0;
    for row in rows {
        let (version, seq) = row.map_err(backend)?;
        if entries.len() == count {
            next_cursor = Some(last_seq);
            break;
        }
        last_seq = seq;
        entries.push(HistoryEntry { version });
    }
    Ok(HistoryPage {
        entries,
        next_cursor,
        total: total.max(0) as u64,
    })
}

pub fn find_ids(
    c: &Connection,
    tenant: &str,
    rt: &str,
    criteria: &[Criterion],
    limit: usize,
) -> StoreResult<Vec<String>> {
    let mut sql = String::from(
        "SELECT r.id FROM resources r WHERE r.tenant = ? AND r.type = ? AND r.kind <> 'delete'",
    );
    let mut args: Vec<Sql> = vec![Sql::Text(tenant.into()), Sql::Text(rt.into())];
    for criterion in criteria {
        match criterion {
            Criterion::Id(id) => {
                sql.push_str(" AND r.id = ?");
                args.push(Sql::Text(id.clone()));
            }
            Criterion::Token {
                param,
                system,
                code,
            } => {
                // An uncorrelated IN drives the lookup from idx_token_lookup;
                // a correlated EXISTS walked every resource of the type.
                sql.push_str(
                    " AND r.id IN (SELECT t.id FROM idx_token t WHERE t.tenant = ?
                      AND t.type = ? AND t.param = ? AND t.code = ?",
                );
                args.push(Sql::Text(tenant.into()));
                args.push(Sql::Text(rt.into()));
                args.push(Sql::Text(param.clone()));
                args.push(Sql::Text(code.clone()));
                match system.as_deref() {
                    None => {}
                    Some("") => sql.push_str(" AND t.system IS NULL"),
                    Some(s) => {
                        sql.push_str(" AND t.system = ?");
                        args.push(Sql::Text(s.to_string()));
                    }
                }
                sql.push(')');
            }
        }
    }
    sql.push_str(" ORDER BY r.id LIMIT ?");
    args.push(Sql::Integer(limit as i64));
    let mut stmt = c.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

pub fn count_by_type(c: &Connection, tenant: &str) -> StoreResult<Vec<(String, u64)>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT type, COUNT(*) FROM resources WHERE tenant = ?1 AND kind <> 'delete'
             GROUP BY type ORDER BY type",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map([tenant], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

pub fn changes_after(
    c: &Connection,
    tenant: &str,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<ChangeEvent>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, tenant, type, id, version, kind, last_updated FROM resource_history
             WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![tenant, after, limit as i64], |r| {
            let k: String = r.get(5)?;
            Ok(ChangeEvent {
                sequence: r.get(0)?,
                tenant: r.get(1)?,
                resource_type: r.get(2)?,
                id: r.get(3)?,
                version: r.get(4)?,
                kind: kind(&k)?,
                at: r.get(6)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

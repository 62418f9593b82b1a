//! `auth_grants` rows: one-time and short-lived handles, stored by hash.

use concord_store::{GrantRecord, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::insert_error;
use crate::error::backend;

const COLUMNS: &str = "kind, handle_hash, subject, client_id, data, created_at, expires_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<GrantRecord> {
    let data: String = r.get(4)?;
    Ok(GrantRecord {
        kind: r.get(0)?,
        handle_hash: r.get(1)?,
        subject: r.get(2)?,
        client_id: r.get(3)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

pub fn insert(c: &mut Connection, tenant: &str, g: &GrantRecord) -> StoreResult<()> {
    c.execute(
        &format!(
            "INSERT INTO auth_grants (tenant, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            tenant,
            g.kind,
            g.handle_hash,
            g.subject,
            g.client_id,
            g.data.to_string(),
            g.created_at,
            g.expires_at
        ],
    )
    .map_err(|e| insert_error(e, "Grant", &g.kind))?;
    Ok(())
}

pub fn get(
    c: &Connection,
    tenant: &str,
    kind: &str,
    hash: &str,
    now: i64,
) -> StoreResult<Option<GrantRecord>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM auth_grants \
         WHERE tenant = ?1 AND kind = ?2 AND handle_hash = ?3 AND expires_at > ?4"
    ))
    .and_then(|mut s| {
        s.query_row(params![tenant, kind, hash, now], from_row)
            .optional()
    })
    .map_err(backend)
}

pub fn take(
    c: &mut Connection,
    tenant: &str,
    kind: &str,
    hash: &str,
    now: i64,
) -> StoreResult<Option<GrantRecord>> {
    // The single writer connection serialises takers: the DELETE … RETURNING
    // hands the row to exactly one of them.
    let taken = c
        .query_row(
            &format!(
                "DELETE FROM auth_grants WHERE tenant = ?1 AND kind = ?2 AND handle_hash = ?3 \
                 RETURNING {COLUMNS}"
            ),
            params![tenant, kind, hash],
            from_row,
        )
        .optional()
        .map_err(backend)?;
    Ok(taken.filter(|g| g.expires_at > now))
}

pub fn delete_for(
    c: &mut Connection,
    tenant: &str,
    kind: &str,
    subject: &str,
    client_id: Option<&str>,
) -> StoreResult<u64> {
    let n = match client_id {
        Some(client) => c.execute(
            "DELETE FROM auth_grants WHERE tenant = ?1 AND kind = ?2 AND subject = ?3 \
             AND client_id = ?4",
            params![tenant, kind, subject, client],
        ),
        None => c.execute(
            "DELETE FROM auth_grants WHERE tenant = ?1 AND kind = ?2 AND subject = ?3",
            params![tenant, kind, subject],
        ),
    }
    .map_err(backend)?;
    u64::try_from(n).map_err(|e| StoreError::Backend(e.to_string()))
}

pub fn for_subject(
    c: &Connection,
    tenant: &str,
    kind: &str,
    subject: &str,
    now: i64,
) -> StoreResult<Vec<GrantRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM auth_grants WHERE tenant = ?1 AND kind = ?2 AND subject = ?3 \
             AND expires_at > ?4 ORDER BY created_at, handle_hash"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![tenant, kind, subject, now], from_row)
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(rows)
}

pub fn purge(c: &mut Connection, tenant: &str, now: i64) -> StoreResult<u64> {
    let n = c
        .execute(
            "DELETE FROM auth_grants WHERE tenant = ?1 AND expires_at <= ?2",
            params![tenant, now],
        )
        .map_err(backend)?;
    u64::try_from(n).map_err(|e| StoreError::Backend(e.to_string()))
}

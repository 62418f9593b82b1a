//! `auth_clients` rows.

use concord_store::{ClientRecord, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{from_json_list, insert_error, to_json_list};
use crate::error::backend;

const COLUMNS: &str =
    "client_id, name, client_type, secret_hash, redirect_uris, allowed_scopes, jwks, active, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ClientRecord> {
    Ok(ClientRecord {
        client_id: r.get(0)?,
        name: r.get(1)?,
        client_type: r.get(2)?,
        secret_hash: r.get(3)?,
        redirect_uris: from_json_list(&r.get::<_, String>(4)?),
        allowed_scopes: r.get(5)?,
        jwks: r.get(6)?,
        active: r.get(7)?,
        created_at: r.get(8)?,
    })
}

pub fn insert(c: &mut Connection, tenant: &str, cl: &ClientRecord) -> StoreResult<()> {
    c.execute(
        &format!(
            "INSERT INTO auth_clients (tenant, {COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            tenant,
            cl.client_id,
            cl.name,
            cl.client_type,
            cl.secret_hash,
            to_json_list(&cl.redirect_uris),
            cl.allowed_scopes,
            cl.jwks,
            cl.active,
            cl.created_at
        ],
    )
    .map_err(|e| insert_error(e, "Client", &cl.client_id))?;
    Ok(())
}

pub fn update(c: &mut Connection, tenant: &str, cl: &ClientRecord) -> StoreResult<bool> {
    let n = c
        .execute(
            "UPDATE auth_clients SET name = ?3, client_type = ?4, secret_hash = ?5, \
             redirect_uris = ?6, allowed_scopes = ?7, jwks = ?8, active = ?9, created_at = ?10 \
             WHERE tenant = ?1 AND client_id = ?2",
            params![
                tenant,
                cl.client_id,
                cl.name,
                cl.client_type,
                cl.secret_hash,
                to_json_list(&cl.redirect_uris),
                cl.allowed_scopes,
                cl.jwks,
                cl.active,
                cl.created_at
            ],
        )
        .map_err(backend)?;
    Ok(n > 0)
}

pub fn by_id(c: &Connection, tenant: &str, client_id: &str) -> StoreResult<Option<ClientRecord>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM auth_clients WHERE tenant = ?1 AND client_id = ?2"
    ))
    .and_then(|mut s| s.query_row(params![tenant, client_id], from_row).optional())
    .map_err(backend)
}

pub fn list(c: &Connection, tenant: &str) -> StoreResult<Vec<ClientRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM auth_clients WHERE tenant = ?1 ORDER BY client_id"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map([tenant], from_row)
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(rows)
}

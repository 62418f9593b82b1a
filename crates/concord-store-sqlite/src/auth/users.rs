//! `auth_users` rows.

use concord_store::{StoreResult, UserRecord};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{from_json_list, insert_error, to_json_list};
use crate::error::backend;

const COLUMNS: &str = "id, username, kind, role, patients, fhir_user, display_name, \
    password_hash, totp_secret, active, must_change_password, failed_logins, locked_until, \
    created_at, last_login";

fn from_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        kind: r.get(2)?,
        role: r.get(3)?,
        patients: from_json_list(&r.get::<_, String>(4)?),
        fhir_user: r.get(5)?,
        display_name: r.get(6)?,
        password_hash: r.get(7)?,
        totp_secret: r.get(8)?,
        active: r.get(9)?,
        must_change_password: r.get(10)?,
        failed_logins: r.get(11)?,
        locked_until: r.get(12)?,
        created_at: r.get(13)?,
        last_login: r.get(14)?,
    })
}

pub fn insert(c: &mut Connection, tenant: &str, u: &UserRecord) -> StoreResult<()> {
    c.execute(
        &format!(
            "INSERT INTO auth_users (tenant, {COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
        ),
        params![
            tenant,
            u.id,
            u.username,
            u.kind,
            u.role,
            to_json_list(&u.patients),
            u.fhir_user,
            u.display_name,
            u.password_hash,
            u.totp_secret,
            u.active,
            u.must_change_password,
            u.failed_logins,
            u.locked_until,
            u.created_at,
            u.last_login
        ],
    )
    .map_err(|e| insert_error(e, "User", &u.username))?;
    Ok(())
}

pub fn update(c: &mut Connection, tenant: &str, u: &UserRecord) -> StoreResult<bool> {
    let n = c
        .execute(
            "UPDATE auth_users SET username = ?3, kind = ?4, role = ?5, patients = ?6, \
             fhir_user = ?7, display_name = ?8, password_hash = ?9, totp_secret = ?10, \
             active = ?11, must_change_password = ?12, failed_logins = ?13, \
             locked_until = ?14, created_at = ?15, last_login = ?16 \
             WHERE tenant = ?1 AND id = ?2",
            params![
                tenant,
                u.id,
                u.username,
                u.kind,
                u.role,
                to_json_list(&u.patients),
                u.fhir_user,
                u.display_name,
                u.password_hash,
                u.totp_secret,
                u.active,
                u.must_change_password,
                u.failed_logins,
                u.locked_until,
                u.created_at,
                u.last_login
            ],
        )
        .map_err(|e| insert_error(e, "User", &u.username))?;
    Ok(n > 0)
}

/// `key` is a column name chosen by this crate (`id` or `username`).
pub fn by_key(
    c: &Connection,
    tenant: &str,
    key: &'static str,
    value: &str,
) -> StoreResult<Option<UserRecord>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM auth_users WHERE tenant = ?1 AND {key} = ?2"
    ))
    .and_then(|mut s| s.query_row(params![tenant, value], from_row).optional())
    .map_err(backend)
}

pub fn list(c: &Connection, tenant: &str) -> StoreResult<Vec<UserRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM auth_users WHERE tenant = ?1 ORDER BY username"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map([tenant], from_row)
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(rows)
}

pub fn failure(
    c: &mut Connection,
    tenant: &str,
    id: &str,
    threshold: i64,
    lock_until: i64,
) -> StoreResult<i64> {
    c.query_row(
        "UPDATE auth_users SET failed_logins = failed_logins + 1, \
         locked_until = CASE WHEN failed_logins + 1 >= ?3 THEN ?4 ELSE locked_until END \
         WHERE tenant = ?1 AND id = ?2 RETURNING failed_logins",
        params![tenant, id, threshold, lock_until],
        |r| r.get(0),
    )
    .optional()
    .map(|n| n.unwrap_or(0))
    .map_err(backend)
}

pub fn success(c: &mut Connection, tenant: &str, id: &str, at: i64) -> StoreResult<()> {
    c.execute(
        "UPDATE auth_users SET failed_logins = 0, locked_until = NULL, last_login = ?3 \
         WHERE tenant = ?1 AND id = ?2",
        params![tenant, id, at],
    )
    .map_err(backend)?;
    Ok(())
}

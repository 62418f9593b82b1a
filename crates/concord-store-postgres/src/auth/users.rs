//! `auth_users` rows.

use concord_store::{StoreResult, UserRecord};
use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::insert_error;
use crate::error;

const COLUMNS: &str = "id, username, kind, role, patients, fhir_user, display_name, \
    password_hash, totp_secret, active, must_change_password, failed_logins, locked_until, \
    created_at, last_login";

fn from_row(r: &Row) -> StoreResult<UserRecord> {
    let get = |e| error::db(e);
    Ok(UserRecord {
        id: r.try_get(0).map_err(get)?,
        username: r.try_get(1).map_err(get)?,
        kind: r.try_get(2).map_err(get)?,
        role: r.try_get(3).map_err(get)?,
        patients: r.try_get(4).map_err(get)?,
        fhir_user: r.try_get(5).map_err(get)?,
        display_name: r.try_get(6).map_err(get)?,
        password_hash: r.try_get(7).map_err(get)?,
        totp_secret: r.try_get(8).map_err(get)?,
        active: r.try_get(9).map_err(get)?,
        must_change_password: r.try_get(10).map_err(get)?,
        failed_logins: r.try_get(11).map_err(get)?,
        locked_until: r.try_get(12).map_err(get)?,
        created_at: r.try_get(13).map_err(get)?,
        last_login: r.try_get(14).map_err(get)?,
    })
}

pub(crate) async fn insert(pool: &Pool, tenant: &str, u: &UserRecord) -> StoreResult<()> {
    let client = pool.get().await.map_err(error::pool)?;
    client
        .execute(
            &format!(
                "INSERT INTO auth_users (tenant, {COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ),
            &[
                &tenant,
                &u.id,
                &u.username,
                &u.kind,
                &u.role,
                &u.patients,
                &u.fhir_user,
                &u.display_name,
                &u.password_hash,
                &u.totp_secret,
                &u.active,
                &u.must_change_password,
                &u.failed_logins,
                &u.locked_until,
                &u.created_at,
                &u.last_login,
            ],
        )
        .await
        .map_err(|e| insert_error(e, "User", &u.username))?;
    Ok(())
}

pub(crate) async fn update(pool: &Pool, tenant: &str, u: &UserRecord) -> StoreResult<bool> {
    let client = pool.get().await.map_err(error::pool)?;
    let n = client
        .execute(
            "UPDATE auth_users SET username = $3, kind = $4, role = $5, patients = $6, \
             fhir_user = $7, display_name = $8, password_hash = $9, totp_secret = $10, \
             active = $11, must_change_password = $12, failed_logins = $13, \
             locked_until = $14, created_at = $15, last_login = $16 \
             WHERE tenant = $1 AND id = $2",
            &[
                &tenant,
                &u.id,
                &u.username,
                &u.kind,
                &u.role,
                &u.patients,
                &u.fhir_user,
                &u.display_name,
                &u.password_hash,
                &u.totp_secret,
                &u.active,
                &u.must_change_password,
                &u.failed_logins,
                &u.locked_until,
                &u.created_at,
                &u.last_login,
            ],
        )
        .await
        .map_err(|e| insert_error(e, "User", &u.username))?;
    Ok(n > 0)
}

/// `key` is a column name chosen by this crate (`id` or `username`).
pub(crate) async fn by_key(
    pool: &Pool,
    tenant: &str,
    key: &'static str,
    value: &str,
) -> StoreResult<Option<UserRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM auth_users WHERE tenant = $1 AND {key} = $2"
        ))
        .await
        .map_err(error::db)?;
    let row = client
        .query_opt(&stmt, &[&tenant, &value])
        .await
        .map_err(error::db)?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn list(pool: &Pool, tenant: &str) -> StoreResult<Vec<UserRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM auth_users WHERE tenant = $1 ORDER BY username"),
            &[&tenant],
        )
        .await
        .map_err(error::db)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn failure(
    pool: &Pool,
    tenant: &str,
    id: &str,
    threshold: i64,
    lock_until: i64,
) -> StoreResult<i64> {
    let client = pool.get().await.map_err(error::pool)?;
    let row = client
        .query_opt(
            "UPDATE auth_users SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $3 THEN $4 ELSE locked_until END \
             WHERE tenant = $1 AND id = $2 RETURNING failed_logins",
            &[&tenant, &id, &threshold, &lock_until],
        )
        .await
        .map_err(error::db)?;
    match row {
        Some(r) => r.try_get(0).map_err(error::db),
        None => Ok(0),
    }
}

pub(crate) async fn success(pool: &Pool, tenant: &str, id: &str, at: i64) -> StoreResult<()> {
    let client = pool.get().await.map_err(error::pool)?;
    client
        .execute(
            "UPDATE auth_users SET failed_logins = 0, locked_until = NULL, last_login = $3 \
             WHERE tenant = $1 AND id = $2",
            &[&tenant, &id, &at],
        )
        .await
        .map_err(error::db)?;
    Ok(())
}

//! `auth_clients` rows.

use concord_store::{ClientRecord, StoreResult};
use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::insert_error;
use crate::error;

const COLUMNS: &str =
    "client_id, name, client_type, secret_hash, redirect_uris, allowed_scopes, jwks, active, created_at";

fn from_row(r: &Row) -> StoreResult<ClientRecord> {
    let get = |e| error::db(e);
    Ok(ClientRecord {
        client_id: r.try_get(0).map_err(get)?,
        name: r.try_get(1).map_err(get)?,
        client_type: r.try_get(2).map_err(get)?,
        secret_hash: r.try_get(3).map_err(get)?,
        redirect_uris: r.try_get(4).map_err(get)?,
        allowed_scopes: r.try_get(5).map_err(get)?,
        jwks: r.try_get(6).map_err(get)?,
        active: r.try_get(7).map_err(get)?,
        created_at: r.try_get(8).map_err(get)?,
    })
}

pub(crate) async fn insert(pool: &Pool, tenant: &str, c: &ClientRecord) -> StoreResult<()> {
    let client = pool.get().await.map_err(error::pool)?;
    client
        .execute(
            &format!(
                "INSERT INTO auth_clients (tenant, {COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &tenant,
                &c.client_id,
                &c.name,
                &c.client_type,
                &c.secret_hash,
                &c.redirect_uris,
                &c.allowed_scopes,
                &c.jwks,
                &c.active,
                &c.created_at,
            ],
        )
        .await
        .map_err(|e| insert_error(e, "Client", &c.client_id))?;
    Ok(())
}

pub(crate) async fn update(pool: &Pool, tenant: &str, c: &ClientRecord) -> StoreResult<bool> {
    let client = pool.get().await.map_err(error::pool)?;
    let n = client
        .execute(
            "UPDATE auth_clients SET name = $3, client_type = $4, secret_hash = $5, \
             redirect_uris = $6, allowed_scopes = $7, jwks = $8, active = $9, created_at = $10 \
             WHERE tenant = $1 AND client_id = $2",
            &[
                &tenant,
                &c.client_id,
                &c.name,
                &c.client_type,
                &c.secret_hash,
                &c.redirect_uris,
                &c.allowed_scopes,
                &c.jwks,
                &c.active,
                &c.created_at,
            ],
        )
        .await
        .map_err(error::db)?;
    Ok(n > 0)
}

pub(crate) async fn by_id(
    pool: &Pool,
    tenant: &str,
    client_id: &str,
) -> StoreResult<Option<ClientRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM auth_clients WHERE tenant = $1 AND client_id = $2"),
            &[&tenant, &client_id],
        )
        .await
        .map_err(error::db)?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn list(pool: &Pool, tenant: &str) -> StoreResult<Vec<ClientRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM auth_clients WHERE tenant = $1 ORDER BY client_id"),
            &[&tenant],
        )
        .await
        .map_err(error::db)?;
    rows.iter().map(from_row).collect()
}

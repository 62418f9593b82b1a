//! `auth_grants` rows: one-time and short-lived handles, stored by hash.

use concord_store::{GrantRecord, StoreResult};
use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::insert_error;
use crate::error;

const COLUMNS: &str = "kind, handle_hash, subject, client_id, data::text, created_at, expires_at";

fn from_row(r: &Row) -> StoreResult<GrantRecord> {
    let get = |e| error::db(e);
    let data: String = r.try_get(4).map_err(get)?;
    Ok(GrantRecord {
        kind: r.try_get(0).map_err(get)?,
        handle_hash: r.try_get(1).map_err(get)?,
        subject: r.try_get(2).map_err(get)?,
        client_id: r.try_get(3).map_err(get)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        created_at: r.try_get(5).map_err(get)?,
        expires_at: r.try_get(6).map_err(get)?,
    })
}

pub(crate) async fn insert(pool: &Pool, tenant: &str, g: &GrantRecord) -> StoreResult<()> {
    let client = pool.get().await.map_err(error::pool)?;
    client
        .execute(
            "INSERT INTO auth_grants \
             (tenant, kind, handle_hash, subject, client_id, data, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, ($6::text)::jsonb, $7, $8)",
            &[
                &tenant,
                &g.kind,
                &g.handle_hash,
                &g.subject,
                &g.client_id,
                &g.data.to_string(),
                &g.created_at,
                &g.expires_at,
            ],
        )
        .await
        .map_err(|e| insert_error(e, "Grant", &g.kind))?;
    Ok(())
}

pub(crate) async fn get(
    pool: &Pool,
    tenant: &str,
    kind: &str,
    hash: &str,
    now: i64,
) -> StoreResult<Option<GrantRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM auth_grants \
                 WHERE tenant = $1 AND kind = $2 AND handle_hash = $3 AND expires_at > $4"
            ),
            &[&tenant, &kind, &hash, &now],
        )
        .await
        .map_err(error::db)?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn take(
    pool: &Pool,
    tenant: &str,
    kind: &str,
    hash: &str,
    now: i64,
) -> StoreResult<Option<GrantRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    // A DELETE … RETURNING removes the row for exactly one of concurrent takers.
    let row = client
        .query_opt(
            &format!(
                "DELETE FROM auth_grants WHERE tenant = $1 AND kind = $2 AND handle_hash = $3 \
                 RETURNING {COLUMNS}"
            ),
            &[&tenant, &kind, &hash],
        )
        .await
        .map_err(error::db)?;
    let taken = row.as_ref().map(from_row).transpose()?;
    Ok(taken.filter(|g| g.expires_at > now))
}

pub(crate) async fn delete_for(
    pool: &Pool,
    tenant: &str,
    kind: &str,
    subject: &str,
    client_id: Option<&str>,
) -> StoreResult<u64> {
    let client = pool.get().await.map_err(error::pool)?;
    let n = match client_id {
        Some(c) => {
            client
                .execute(
                    "DELETE FROM auth_grants WHERE tenant = $1 AND kind = $2 AND subject = $3 \
                     AND client_id = $4",
                    &[&tenant, &kind, &subject, &c],
                )
                .await
        }
        None => {
            client
                .execute(
                    "DELETE FROM auth_grants WHERE tenant = $1 AND kind = $2 AND subject = $3",
                    &[&tenant, &kind, &subject],
                )
                .await
        }
    }
    .map_err(error::db)?;
    Ok(n)
}

pub(crate) async fn for_subject(
    pool: &Pool,
    tenant: &str,
    kind: &str,
    subject: &str,
    now: i64,
) -> StoreResult<Vec<GrantRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM auth_grants WHERE tenant = $1 AND kind = $2 \
                 AND subject = $3 AND expires_at > $4 ORDER BY created_at, handle_hash"
            ),
            &[&tenant, &kind, &subject, &now],
        )
        .await
        .map_err(error::db)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn purge(pool: &Pool, tenant: &str, now: i64) -> StoreResult<u64> {
    let client = pool.get().await.map_err(error::pool)?;
    let n = client
        .execute(
            "DELETE FROM auth_grants WHERE tenant = $1 AND expires_at <= $2",
            &[&tenant, &now],
        )
        .await
        .map_err(error::db)?;
    Ok(n)
}

//! `auth_signing_keys` rows.

use concord_store::{SigningKeyRecord, StoreResult};
use deadpool_postgres::Pool;

use crate::error;

pub(crate) async fn insert(pool: &Pool, tenant: &str, k: &SigningKeyRecord) -> StoreResult<bool> {
    let client = pool.get().await.map_err(error::pool)?;
    let n = client
        .execute(
            "INSERT INTO auth_signing_keys (tenant, kid, alg, private_der, public_jwk, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, kid) DO NOTHING",
            &[&tenant, &k.kid, &k.alg, &k.private_der, &k.public_jwk, &k.created_at],
        )
        .await
        .map_err(error::db)?;
    Ok(n > 0)
}

pub(crate) async fn list(pool: &Pool, tenant: &str) -> StoreResult<Vec<SigningKeyRecord>> {
    let client = pool.get().await.map_err(error::pool)?;
    let rows = client
        .query(
            "SELECT kid, alg, private_der, public_jwk, created_at FROM auth_signing_keys \
             WHERE tenant = $1 ORDER BY created_at DESC, kid DESC",
            &[&tenant],
        )
        .await
        .map_err(error::db)?;
    rows.iter()
        .map(|r| {
            Ok(SigningKeyRecord {
                kid: r.try_get(0).map_err(error::db)?,
                alg: r.try_get(1).map_err(error::db)?,
                private_der: r.try_get(2).map_err(error::db)?,
                public_jwk: r.try_get(3).map_err(error::db)?,
                created_at: r.try_get(4).map_err(error::db)?,
            })
        })
        .collect()
}

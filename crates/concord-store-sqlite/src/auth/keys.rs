//! `auth_signing_keys` rows.

use concord_store::{SigningKeyRecord, StoreResult};
use rusqlite::{params, Connection};

use crate::error::backend;

pub fn insert(c: &mut Connection, tenant: &str, k: &SigningKeyRecord) -> StoreResult<bool> {
    let n = c
        .execute(
            "INSERT INTO auth_signing_keys (tenant, kid, alg, private_der, public_jwk, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant, kid) DO NOTHING",
            params![tenant, k.kid, k.alg, k.private_der, k.public_jwk, k.created_at],
        )
        .map_err(backend)?;
    Ok(n > 0)
}

pub fn list(c: &Connection, tenant: &str) -> StoreResult<Vec<SigningKeyRecord>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT kid, alg, private_der, public_jwk, created_at FROM auth_signing_keys \
             WHERE tenant = ?1 ORDER BY created_at DESC, kid DESC",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map([tenant], |r| {
            Ok(SigningKeyRecord {
                kid: r.get(0)?,
                alg: r.get(1)?,
                private_der: r.get(2)?,
                public_jwk: r.get(3)?,
                created_at: r.get(4)?,
            })
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(rows)
}

//! Search-index rows of a resource's current version: cleared and rewritten
//! on every write, inside the commit transaction.

use concord_store::TokenIndex;
use deadpool_postgres::Transaction;

/// Deletes every index and compartment row of one resource, in one statement.
const CLEAR: &str = "WITH
    s AS (DELETE FROM idx_string WHERE tenant = $1 AND type = $2 AND id = $3),
    d AS (DELETE FROM idx_date WHERE tenant = $1 AND type = $2 AND id = $3),
    r AS (DELETE FROM idx_reference WHERE tenant = $1 AND type = $2 AND id = $3),
    q AS (DELETE FROM idx_quantity WHERE tenant = $1 AND type = $2 AND id = $3),
    n AS (DELETE FROM idx_number WHERE tenant = $1 AND type = $2 AND id = $3),
    u AS (DELETE FROM idx_uri WHERE tenant = $1 AND type = $2 AND id = $3),
    c AS (DELETE FROM idx_composite WHERE tenant = $1 AND type = $2 AND id = $3),
    m AS (DELETE FROM compartment WHERE tenant = $1 AND type = $2 AND id = $3)
DELETE FROM idx_token WHERE tenant = $1 AND type = $2 AND id = $3";

const INSERT_TOKENS: &str = "INSERT INTO idx_token (tenant, type, id, param, system, code)
SELECT $1, $2, $3, u.param, u.system, u.code
FROM unnest($4::text[], $5::text[], $6::text[]) AS u(param, system, code)";

/// Removes the index rows of one resource.
pub(crate) async fn clear(
    tx: &Transaction<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
) -> Result<(), tokio_postgres::Error> {
    let stmt = tx.prepare_cached(CLEAR).await?;
    tx.execute(&stmt, &[&tenant, &resource_type, &id]).await?;
    Ok(())
}

/// Writes the token rows of one resource.
pub(crate) async fn insert_tokens(
    tx: &Transaction<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
    tokens: &[TokenIndex],
) -> Result<(), tokio_postgres::Error> {
    if tokens.is_empty() {
        return Ok(());
    }
    let params: Vec<&str> = tokens.iter().map(|t| t.param.as_str()).collect();
    let systems: Vec<Option<&str>> = tokens.iter().map(|t| t.system.as_deref()).collect();
    let codes: Vec<&str> = tokens.iter().map(|t| t.code.as_str()).collect();
    let stmt = tx.prepare_cached(INSERT_TOKENS).await?;
    tx.execute(
        &stmt,
        &[&tenant, &resource_type, &id, &params, &systems, &codes],
    )
    .await?;
    Ok(())
}

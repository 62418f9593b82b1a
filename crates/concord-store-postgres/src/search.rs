//! Search pages, counts, the reindex scan and index-row replacement.

use concord_store::search::{PageStart, SearchHit, SearchPage, SearchPlan, SortKind, SqlValue};
use std::time::Duration;

use concord_store::{IndexRows, StoreError, StoreResult, StoredVersion};
use concord_store_sql::{count_sql, driver_estimate_sql, search_sql_with, Sql, BROAD_DRIVER};
use deadpool_postgres::Pool;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::dialect::Postgres;
use crate::error;
use crate::read::version_from_row;

fn bound(sql: &Sql) -> Vec<Box<dyn ToSql + Sync + Send>> {
    sql.params
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                SqlValue::Int(i) => Box::new(*i),
                SqlValue::Real(r) => Box::new(*r),
                SqlValue::Text(t) => Box::new(t.clone()),
            }
        })
        .collect()
}

/// Runs `sql`; with a `budget`, inside a transaction whose
/// `statement_timeout` is the budget (PostgreSQL cancels the statement
/// past it: SQLSTATE 57014 → [`StoreError::TooCostly`]). The transaction
/// rolls back when dropped on an error, so the connection goes back to the
/// pool clean.
async fn query_within(pool: &Pool, sql: &Sql, budget: Option<Duration>) -> StoreResult<Vec<Row>> {
    let mut client = pool.get().await.map_err(error::pool)?;
    let stmt = client.prepare_cached(&sql.text).await.map_err(error::db)?;
    let params = bound(sql);
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let Some(budget) = budget else {
        return client.query(&stmt, &refs).await.map_err(error::db);
    };
    let tx = client.transaction().await.map_err(error::db)?;
    // At least 1 ms: a statement_timeout of 0 means no limit.
    let ms = budget.as_millis().clamp(1, u128::from(u32::MAX));
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {ms}"))
        .await
        .map_err(error::db)?;
    let rows = tx.query(&stmt, &refs).await.map_err(|e| {
        if e.code() == Some(&SqlState::QUERY_CANCELED) {
            StoreError::TooCostly(budget)
        } else {
            error::db(e)
        }
    })?;
    tx.commit().await.map_err(error::db)?;
    Ok(rows)
}

pub(crate) async fn search(
    pool: &Pool,
    tenant: &str,
    plan: &SearchPlan,
) -> StoreResult<SearchPage> {
    let scan = match driver_estimate_sql(&Postgres, tenant, plan, BROAD_DRIVER) {
        Some(estimate) => {
            let n: i64 = match query_within(pool, &estimate, plan.budget).await?.first() {
                Some(row) => row.try_get(0).map_err(error::db)?,
                None => 0,
            };
            n >= BROAD_DRIVER as i64
        }
        None => false,
    };
    let sql = search_sql_with(&Postgres, tenant, plan, scan);
    let rows = query_within(pool, &sql, plan.budget).await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let mut sort = Vec::with_capacity(plan.sort.len());
        for (n, s) in plan.sort.iter().enumerate() {
            let at = n + 2;
            sort.push(match s.kind() {
                SortKind::Int => SqlValue::Int(row.try_get(at).map_err(error::db)?),
                SortKind::Real => SqlValue::Real(row.try_get(at).map_err(error::db)?),
                SortKind::Text => SqlValue::Text(row.try_get(at).map_err(error::db)?),
            });
        }
        hits.push(SearchHit {
            resource_type: row.try_get(0).map_err(error::db)?,
            id: row.try_get(1).map_err(error::db)?,
            sort,
        });
    }
    let more = hits.len() > plan.count;
    hits.truncate(plan.count);
    if matches!(plan.start, PageStart::Before(_)) {
        hits.reverse();
    }
    Ok(SearchPage { hits, more })
}

/// The tables search plans read (see [`concord_store::SearchStore::refresh_statistics`]).
const SEARCH_TABLES: &str = "resources, idx_token, idx_string, idx_date, idx_reference, \
    idx_quantity, idx_number, idx_uri, idx_composite, idx_fulltext, compartment, patient_timeline";

pub(crate) async fn analyze(pool: &Pool) -> StoreResult<()> {
    let client = pool.get().await.map_err(error::pool)?;
    client
        .batch_execute(&format!("ANALYZE {SEARCH_TABLES}"))
        .await
        .map_err(error::db)
}

pub(crate) async fn count(pool: &Pool, tenant: &str, plan: &SearchPlan) -> StoreResult<u64> {
    let sql = count_sql(&Postgres, tenant, plan);
    let rows = query_within(pool, &sql, plan.budget).await?;
    let n: i64 = match rows.first() {
        Some(row) => row.try_get(0).map_err(error::db)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) async fn scan(
    pool: &Pool,
    tenant: &str,
    after: Option<(String, String)>,
    limit: usize,
) -> StoreResult<Vec<StoredVersion>> {
    let (t, i) = after.unwrap_or_default();
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client
        .prepare_cached(
            "SELECT type, id, version, last_updated, kind, content FROM resources
             WHERE tenant = $1 AND kind <> 'delete'
               AND (type COLLATE \"C\", id COLLATE \"C\") > ($2 COLLATE \"C\", $3 COLLATE \"C\")
             ORDER BY type COLLATE \"C\", id COLLATE \"C\" LIMIT $4",
        )
        .await
        .map_err(error::db)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client
        .query(&stmt, &[&tenant, &t, &i, &limit])
        .await
        .map_err(error::db)?;
    rows.iter().map(|r| version_from_row(r, 0)).collect()
}

pub(crate) async fn replace_index_rows(
    pool: &Pool,
    tenant: &str,
    rows: &[(String, String, IndexRows)],
) -> StoreResult<()> {
    let mut client = pool.get().await.map_err(error::pool)?;
    let tx = client.transaction().await.map_err(error::db)?;
    for (resource_type, id, rows) in rows {
        let live = tx
            .query_opt(
                "SELECT 1 FROM resources WHERE tenant = $1 AND type = $2 AND id = $3
                 AND kind <> 'delete' FOR UPDATE",
                &[&tenant, resource_type, id],
            )
            .await
            .map_err(error::db)?;
        if live.is_some() {
            crate::index::clear(&tx, tenant, resource_type, id)
                .await
                .map_err(error::db)?;
            crate::index::insert(&tx, tenant, resource_type, id, rows)
                .await
                .map_err(error::db)?;
        }
    }
    tx.commit().await.map_err(error::db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs a live server (`CONCORD_TEST_POSTGRES_URL`); skips loudly without.
    #[tokio::test]
    async fn a_query_past_its_budget_is_cancelled_and_the_connection_stays_usable() {
        let Ok(url) = std::env::var("CONCORD_TEST_POSTGRES_URL") else {
            eprintln!("\n*** SKIPPED: CONCORD_TEST_POSTGRES_URL not set ***\n");
            return;
        };
        let store = crate::PostgresStore::connect(&url).await.expect("connects");
        let sql = |text: &str| Sql {
            text: text.into(),
            params: Vec::new(),
        };
        let slow = query_within(
            &store.pool,
            &sql("SELECT pg_sleep(5)"),
            Some(Duration::from_millis(50)),
        )
        .await;
        assert!(
            matches!(slow, Err(StoreError::TooCostly(d)) if d == Duration::from_millis(50)),
            "{slow:?}"
        );
        // Within budget, and without one, queries run; the pool's
        // connections were not left inside the cancelled transaction.
        for budget in [Some(Duration::from_secs(5)), None] {
            for _ in 0..4 {
                let rows = query_within(&store.pool, &sql("SELECT 1::bigint"), budget)
                    .await
                    .expect("runs");
                assert_eq!(rows[0].get::<_, i64>(0), 1);
            }
        }
    }
}

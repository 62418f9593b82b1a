//! Search pages, counts, the reindex scan and index-row replacement.

use concord_store::search::{SearchHit, SearchPage, SearchPlan, SqlValue};
use std::time::{Duration, Instant};

use concord_store::{IndexRows, StoreError, StoreResult, StoredVersion};
use concord_store_sql::{count_sql, driver_estimate_sql, search_sql_with, Sql, BROAD_DRIVER};
use rusqlite::types::{Value as SqliteValue, ValueRef};
use rusqlite::{params, params_from_iter, Connection, Transaction};

use crate::dialect::Sqlite;
use crate::error::backend;

fn bound(sql: &Sql) -> impl Iterator<Item = SqliteValue> + '_ {
    sql.params.iter().map(|v| match v {
        SqlValue::Int(i) => SqliteValue::Integer(*i),
        SqlValue::Real(r) => SqliteValue::Real(*r),
        SqlValue::Text(t) => SqliteValue::Text(t.clone()),
    })
}

fn value(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(r) => SqlValue::Real(r),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Null | ValueRef::Blob(_) => SqlValue::Text(String::new()),
    }
}

/// SQLite virtual-machine steps between looks at the clock while a
/// budgeted query runs (a few microseconds of work).
const STEPS_PER_CHECK: i32 = 1_000;

/// Runs `f` with `budget` as a deadline: past it, SQLite's progress
/// handler interrupts the running statement and the call fails with
/// [`StoreError::TooCostly`].
fn within_budget<T>(
    c: &Connection,
    budget: Option<Duration>,
    f: impl FnOnce() -> StoreResult<T>,
) -> StoreResult<T> {
    let Some(budget) = budget else {
        return f();
    };
    let deadline = Instant::now() + budget;
    c.progress_handler(STEPS_PER_CHECK, Some(move || Instant::now() >= deadline));
    let result = f();
    c.progress_handler(0, None::<fn() -> bool>);
    match result {
        Err(StoreError::Backend(_)) if Instant::now() >= deadline => {
            Err(StoreError::TooCostly(budget))
        }
        other => other,
    }
}

pub fn search(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<SearchPage> {
    within_budget(c, plan.budget, || search_now(c, tenant, plan))
}

fn search_now(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<SearchPage> {
    let scan = match driver_estimate_sql(&Sqlite, tenant, plan, BROAD_DRIVER) {
        Some(estimate) => {
            let mut stmt = c.prepare_cached(&estimate.text).map_err(backend)?;
            let n: i64 = stmt
                .query_row(params_from_iter(bound(&estimate)), |r| r.get(0))
                .map_err(backend)?;
            n >= BROAD_DRIVER as i64
        }
        None => false,
    };
    let sql = search_sql_with(&Sqlite, tenant, plan, scan);
    let mut stmt = c.prepare_cached(&sql.text).map_err(backend)?;
    let keys = plan.sort.len();
    let rows = stmt
        .query_map(params_from_iter(bound(&sql)), |r| {
            Ok(SearchHit {
                resource_type: r.get(0)?,
                id: r.get(1)?,
                sort: (0..keys)
                    .map(|n| r.get_ref(n + 2).map(value))
                    .collect::<Result<_, _>>()?,
            })
        })
        .map_err(backend)?;
    let mut hits = rows.collect::<Result<Vec<_>, _>>().map_err(backend)?;
    Ok(page(plan, &mut hits))
}

/// Trims the look-ahead row and puts a backwards page in order.
pub(crate) fn page(plan: &SearchPlan, hits: &mut Vec<SearchHit>) -> SearchPage {
    let more = hits.len() > plan.count;
    hits.truncate(plan.count);
    if matches!(plan.start, concord_store::search::PageStart::Before(_)) {
        hits.reverse();
    }
    SearchPage {
        hits: std::mem::take(hits),
        more,
    }
}

pub fn count(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<u64> {
    within_budget(c, plan.budget, || count_now(c, tenant, plan))
}

fn count_now(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<u64> {
    let sql = count_sql(&Sqlite, tenant, plan);
    let mut stmt = c.prepare_cached(&sql.text).map_err(backend)?;
    let n: i64 = stmt
        .query_row(params_from_iter(bound(&sql)), |r| r.get(0))
        .map_err(backend)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub fn scan(
    c: &Connection,
    tenant: &str,
    after: Option<&(String, String)>,
    limit: usize,
) -> StoreResult<Vec<StoredVersion>> {
    let (t, i) = after.cloned().unwrap_or_default();
    let mut stmt = c
        .prepare_cached(
            "SELECT r.type, r.id, r.version, r.last_updated, r.kind, h.content
             FROM resources r JOIN resource_history h ON h.seq = r.seq
             WHERE r.tenant = ?1 AND r.kind <> 'delete' AND (r.type, r.id) > (?2, ?3)
             ORDER BY r.type, r.id LIMIT ?4",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![tenant, t, i, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                let kind: String = r.get(4)?;
                Ok(StoredVersion {
                    resource_type: r.get(0)?,
                    id: r.get(1)?,
                    version: r.get(2)?,
                    last_updated: r.get(3)?,
                    kind: concord_store::WriteKind::parse(&kind)
                        .unwrap_or(concord_store::WriteKind::Update),
                    content: r.get(5)?,
                })
            },
        )
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

pub fn replace_index_rows(
    tx: &Transaction<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
    rows: &IndexRows,
) -> StoreResult<()> {
    let rid: Option<i64> = tx
        .query_row(
            "SELECT rid FROM resources WHERE tenant = ?1 AND type = ?2 AND id = ?3 AND kind <> 'delete'",
            params![tenant, resource_type, id],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(backend)?;
    let Some(rid) = rid else {
        return Ok(());
    };
    crate::commit::clear_index_rows(tx, rid)?;
    crate::index::write(tx, tenant, resource_type, id, rid, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNT_TO_50M: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT COUNT(*) FROM c";

    fn run(c: &Connection) -> StoreResult<i64> {
        c.query_row(COUNT_TO_50M, [], |r| r.get(0)).map_err(backend)
    }

    #[test]
    fn a_query_past_its_budget_is_interrupted_and_the_connection_stays_usable() {
        let c = Connection::open_in_memory().expect("opens");
        let budget = Duration::from_millis(50);
        let slow = within_budget(&c, Some(budget), || run(&c));
        assert!(
            matches!(slow, Err(StoreError::TooCostly(d)) if d == budget),
            "{slow:?}"
        );
        // The handler is gone afterwards, and a query within budget runs.
        let quick = within_budget(&c, Some(Duration::from_secs(60)), || {
            c.query_row("SELECT 41 + 1", [], |r| r.get::<_, i64>(0))
                .map_err(backend)
        });
        assert_eq!(quick.expect("runs"), 42);
        // An error that is not the budget's stays what it was.
        let wrong = within_budget(&c, Some(Duration::from_secs(60)), || {
            c.query_row("SELECT * FROM no_such_table", [], |r| r.get::<_, i64>(0))
                .map_err(backend)
        });
        assert!(matches!(wrong, Err(StoreError::Backend(_))), "{wrong:?}");
    }
}

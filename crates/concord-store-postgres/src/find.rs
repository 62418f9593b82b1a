//! `find_ids`: ids of live resources matching every criterion.

use concord_store::{Criterion, StoreResult};
use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use crate::error;

type Param<'a> = &'a (dyn ToSql + Sync);

/// Ids (sorted) of live resources of `resource_type` matching all `criteria`.
pub(crate) async fn find_ids(
    pool: &Pool,
    tenant: &str,
    resource_type: &str,
    criteria: &[Criterion],
    limit: usize,
) -> StoreResult<Vec<String>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "SELECT r.id FROM resources r WHERE r.tenant = $1 AND r.type = $2 AND r.kind <> 'delete'",
    );
    let mut params: Vec<Param<'_>> = vec![&tenant, &resource_type];
    for criterion in criteria {
        match criterion {
            Criterion::Id(id) => {
                params.push(id);
                sql.push_str(&format!(" AND r.id = ${}", params.len()));
            }
            Criterion::Token {
                param,
                system,
                code,
            } => {
                params.push(param);
                let p = params.len();
                params.push(code);
                let c = params.len();
                let system_match = match system {
                    None => String::new(),
                    Some(s) if s.is_empty() => " AND (t.system IS NULL OR t.system = '')".into(),
                    Some(s) => {
                        params.push(s);
                        format!(" AND t.system = ${}", params.len())
                    }
                };
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM idx_token t WHERE t.tenant = r.tenant \
                     AND t.type = r.type AND t.id = r.id AND t.param = ${p} AND t.code = ${c}{system_match})"
                ));
            }
        }
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    params.push(&limit);
    sql.push_str(&format!(" ORDER BY r.id LIMIT ${}", params.len()));

    let client = pool.get().await.map_err(error::pool)?;
    // Not cached: the text varies with the criteria, so a cache would grow unbounded.
    let rows = client.query(&sql, &params).await.map_err(error::db)?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(error::db))
        .collect()
}

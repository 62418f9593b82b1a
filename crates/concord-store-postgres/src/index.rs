//! Search-index rows of a resource's current version: cleared and rewritten
//! on every write, inside the commit transaction.

use concord_store::IndexRows;
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
    m AS (DELETE FROM compartment WHERE tenant = $1 AND type = $2 AND id = $3),
    f AS (DELETE FROM idx_fulltext WHERE tenant = $1 AND type = $2 AND id = $3),
    l AS (DELETE FROM patient_timeline WHERE tenant = $1 AND type = $2 AND id = $3)
DELETE FROM idx_token WHERE tenant = $1 AND type = $2 AND id = $3";

/// One statement writes every kind of row: each CTE inserts from parallel
/// arrays (empty arrays insert nothing).
const INSERT_ALL: &str = "WITH
    t AS (INSERT INTO idx_token (tenant, type, id, param, system, code)
        SELECT $1, $2, $3, u.p, u.s, u.c FROM unnest($4::text[], $5::text[], $6::text[]) AS u(p, s, c)),
    s AS (INSERT INTO idx_string (tenant, type, id, param, value_norm, value_exact)
        SELECT $1, $2, $3, u.p, u.v, u.e FROM unnest($7::text[], $8::text[], $9::text[]) AS u(p, v, e)),
    d AS (INSERT INTO idx_date (tenant, type, id, param, low, high)
        SELECT $1, $2, $3, u.p, u.l, u.h FROM unnest($10::text[], $11::int8[], $12::int8[]) AS u(p, l, h)),
    r AS (INSERT INTO idx_reference (tenant, type, id, param, target_type, target_id, url)
        SELECT $1, $2, $3, u.p, u.t, u.i, u.u
        FROM unnest($13::text[], $14::text[], $15::text[], $16::text[]) AS u(p, t, i, u)),
    q AS (INSERT INTO idx_quantity (tenant, type, id, param, value, system, code)
        SELECT $1, $2, $3, u.p, u.v::numeric, u.s, u.c
        FROM unnest($17::text[], $18::float8[], $19::text[], $20::text[]) AS u(p, v, s, c)),
    n AS (INSERT INTO idx_number (tenant, type, id, param, value)
        SELECT $1, $2, $3, u.p, u.v::numeric FROM unnest($21::text[], $22::float8[]) AS u(p, v)),
    ur AS (INSERT INTO idx_uri (tenant, type, id, param, value)
        SELECT $1, $2, $3, u.p, u.v FROM unnest($23::text[], $24::text[]) AS u(p, v)),
    co AS (INSERT INTO idx_composite (tenant, type, id, param, value, number)
        SELECT $1, $2, $3, u.p, u.v, u.n::numeric
        FROM unnest($25::text[], $26::text[], $31::float8[]) AS u(p, v, n)),
    l AS (INSERT INTO patient_timeline (tenant, type, id, target_id, newest)
        SELECT $1, $2, $3, u.t, u.n FROM unnest($29::text[], $30::int8[]) AS u(t, n))
INSERT INTO compartment (tenant, compartment_type, compartment_id, type, id)
    SELECT $1, u.ct, u.ci, $2, $3 FROM unnest($27::text[], $28::text[]) AS u(ct, ci)";

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

/// Writes every index and compartment row of one resource, in one statement.
pub(crate) async fn insert(
    tx: &Transaction<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
    rows: &IndexRows,
) -> Result<(), tokio_postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    fn s(v: &str) -> &str {
        v
    }
    fn o(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
    let t_param: Vec<&str> = rows.tokens.iter().map(|t| s(&t.param)).collect();
    let t_system: Vec<Option<&str>> = rows.tokens.iter().map(|t| o(&t.system)).collect();
    let t_code: Vec<&str> = rows.tokens.iter().map(|t| s(&t.code)).collect();
    let s_param: Vec<&str> = rows.strings.iter().map(|x| s(&x.param)).collect();
    let s_value: Vec<&str> = rows.strings.iter().map(|x| s(&x.value)).collect();
    let s_exact: Vec<&str> = rows.strings.iter().map(|x| s(&x.exact)).collect();
    let d_param: Vec<&str> = rows.dates.iter().map(|x| s(&x.param)).collect();
    let d_low: Vec<i64> = rows.dates.iter().map(|x| x.low).collect();
    let d_high: Vec<i64> = rows.dates.iter().map(|x| x.high).collect();
    let r_param: Vec<&str> = rows.references.iter().map(|x| s(&x.param)).collect();
    let r_type: Vec<Option<&str>> = rows.references.iter().map(|x| o(&x.target_type)).collect();
    let r_id: Vec<Option<&str>> = rows.references.iter().map(|x| o(&x.target_id)).collect();
    let r_url: Vec<Option<&str>> = rows.references.iter().map(|x| o(&x.url)).collect();
    let q_param: Vec<&str> = rows.quantities.iter().map(|x| s(&x.param)).collect();
    let q_value: Vec<f64> = rows.quantities.iter().map(|x| x.value).collect();
    let q_system: Vec<Option<&str>> = rows.quantities.iter().map(|x| o(&x.system)).collect();
    let q_code: Vec<Option<&str>> = rows.quantities.iter().map(|x| o(&x.code)).collect();
    let n_param: Vec<&str> = rows.numbers.iter().map(|x| s(&x.param)).collect();
    let n_value: Vec<f64> = rows.numbers.iter().map(|x| x.value).collect();
    let u_param: Vec<&str> = rows.uris.iter().map(|x| s(&x.param)).collect();
    let u_value: Vec<&str> = rows.uris.iter().map(|x| s(&x.value)).collect();
    let c_param: Vec<&str> = rows.composites.iter().map(|x| s(&x.param)).collect();
    let c_value: Vec<&str> = rows.composites.iter().map(|x| s(&x.value)).collect();
    let c_number: Vec<Option<f64>> = rows.composites.iter().map(|x| x.number).collect();
    let m_type: Vec<&str> = rows
        .compartments
        .iter()
        .map(|x| s(&x.compartment_type))
        .collect();
    let m_id: Vec<&str> = rows
        .compartments
        .iter()
        .map(|x| s(&x.compartment_id))
        .collect();
    let timeline = rows.timeline();
    let l_target: Vec<&str> = timeline.iter().map(|x| s(&x.target_id)).collect();
    let l_newest: Vec<i64> = timeline.iter().map(|x| x.newest).collect();
    let stmt = tx.prepare_cached(INSERT_ALL).await?;
    tx.execute(
        &stmt,
        &[
            &tenant,
            &resource_type,
            &id,
            &t_param,
            &t_system,
            &t_code,
            &s_param,
            &s_value,
            &s_exact,
            &d_param,
            &d_low,
            &d_high,
            &r_param,
            &r_type,
            &r_id,
            &r_url,
            &q_param,
            &q_value,
            &q_system,
            &q_code,
            &n_param,
            &n_value,
            &u_param,
            &u_value,
            &c_param,
            &c_value,
            &m_type,
            &m_id,
            &l_target,
            &l_newest,
            &c_number,
        ],
    )
    .await?;
    if !rows.fulltext.is_empty() {
        let words = |p: &str| {
            rows.fulltext
                .iter()
                .find(|f| f.param == p)
                .map_or("", |f| f.words.as_str())
        };
        let stmt = tx
            .prepare_cached(
                "INSERT INTO idx_fulltext (tenant, type, id, narrative, content)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &tenant,
                &resource_type,
                &id,
                &words("_text"),
                &words("_content"),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The rows stored for `(tenant, type, id)`.
pub(crate) async fn read(
    pool: &deadpool_postgres::Pool,
    tenant: &str,
    resource_type: &str,
    id: &str,
) -> concord_store::StoreResult<IndexRows> {
    use crate::error;
    use concord_store::{
        CompartmentIndex, CompositeIndex, DateIndex, NumberIndex, QuantityIndex, ReferenceIndex,
        StringIndex, TokenIndex, UriIndex,
    };
    const W: &str = "WHERE tenant = $1 AND type = $2 AND id = $3";
    let client = pool.get().await.map_err(error::pool)?;
    let key: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&tenant, &resource_type, &id];
    let q = |sql: String| {
        let client = &client;
        async move { client.query(&sql, &key).await.map_err(error::db) }
    };
    let g =
        |r: &tokio_postgres::Row, i: usize| -> Result<Option<String>, concord_store::StoreError> {
            r.try_get(i).map_err(error::db)
        };
    let s = |r: &tokio_postgres::Row, i: usize| -> Result<String, concord_store::StoreError> {
        r.try_get(i).map_err(error::db)
    };
    let i64_at = |r: &tokio_postgres::Row, i: usize| -> Result<i64, concord_store::StoreError> {
        r.try_get(i).map_err(error::db)
    };
    let f64_at = |r: &tokio_postgres::Row, i: usize| -> Result<f64, concord_store::StoreError> {
        r.try_get(i).map_err(error::db)
    };
    let mut out = IndexRows::default();
    for r in q(format!("SELECT param, system, code FROM idx_token {W}")).await? {
        out.tokens.push(TokenIndex {
            param: s(&r, 0)?,
            system: g(&r, 1)?,
            code: s(&r, 2)?,
        });
    }
    for r in q(format!(
        "SELECT param, value_norm, value_exact FROM idx_string {W}"
    ))
    .await?
    {
        out.strings.push(StringIndex {
            param: s(&r, 0)?,
            value: s(&r, 1)?,
            exact: s(&r, 2)?,
        });
    }
    for r in q(format!("SELECT param, low, high FROM idx_date {W}")).await? {
        out.dates.push(DateIndex {
            param: s(&r, 0)?,
            low: i64_at(&r, 1)?,
            high: i64_at(&r, 2)?,
        });
    }
    for r in q(format!(
        "SELECT param, target_type, target_id, url FROM idx_reference {W}"
    ))
    .await?
    {
        out.references.push(ReferenceIndex {
            param: s(&r, 0)?,
            target_type: g(&r, 1)?,
            target_id: g(&r, 2)?,
            url: g(&r, 3)?,
        });
    }
    for r in q(format!(
        "SELECT param, value::float8, system, code FROM idx_quantity {W}"
    ))
    .await?
    {
        out.quantities.push(QuantityIndex {
            param: s(&r, 0)?,
            value: f64_at(&r, 1)?,
            system: g(&r, 2)?,
            code: g(&r, 3)?,
        });
    }
    for r in q(format!("SELECT param, value::float8 FROM idx_number {W}")).await? {
        out.numbers.push(NumberIndex {
            param: s(&r, 0)?,
            value: f64_at(&r, 1)?,
        });
    }
    for r in q(format!("SELECT param, value FROM idx_uri {W}")).await? {
        out.uris.push(UriIndex {
            param: s(&r, 0)?,
            value: s(&r, 1)?,
        });
    }
    for r in q(format!(
        "SELECT param, value, number::float8 FROM idx_composite {W}"
    ))
    .await?
    {
        out.composites.push(CompositeIndex {
            param: s(&r, 0)?,
            value: s(&r, 1)?,
            number: r.try_get(2).map_err(error::db)?,
        });
    }
    for r in q(format!(
        "SELECT compartment_type, compartment_id FROM compartment {W}"
    ))
    .await?
    {
        out.compartments.push(CompartmentIndex {
            compartment_type: s(&r, 0)?,
            compartment_id: s(&r, 1)?,
        });
    }
    for r in q(format!("SELECT narrative, content FROM idx_fulltext {W}")).await? {
        for (param, at) in [("_text", 0), ("_content", 1)] {
            let words = s(&r, at)?;
            if !words.is_empty() {
                out.fulltext.push(concord_store::FullTextIndex {
                    param: param.into(),
                    words,
                });
            }
        }
    }
    Ok(out)
}

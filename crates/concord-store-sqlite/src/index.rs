//! Search-index and compartment rows of a resource's current version,
//! written inside the commit transaction (the old rows were deleted first).

use concord_store::{IndexRows, StoreResult};
use rusqlite::{params, Transaction};

use crate::error::backend;

/// Writes every row of `rows` for `(tenant, type, id)`.
pub fn write(
    tx: &Transaction<'_>,
    tenant: &str,
    rt: &str,
    id: &str,
    rid: i64,
    rows: &IndexRows,
) -> StoreResult<()> {
    if !rows.tokens.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO idx_token (tenant, type, id, param, system, code, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?;
        for t in &rows.tokens {
            s.execute(params![tenant, rt, id, t.param, t.system, t.code, rid])
                .map_err(backend)?;
        }
    }
    if !rows.strings.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO idx_string (tenant, type, id, param, value_norm, value_exact, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?;
        for v in &rows.strings {
            s.execute(params![tenant, rt, id, v.param, v.value, v.exact, rid])
                .map_err(backend)?;
        }
    }
    if !rows.dates.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO idx_date (tenant, type, id, param, low, high, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?;
        for d in &rows.dates {
            s.execute(params![tenant, rt, id, d.param, d.low, d.high, rid])
                .map_err(backend)?;
        }
    }
    if !rows.references.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO idx_reference (tenant, type, id, param, target_type, target_id, url, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(backend)?;
        for r in &rows.references {
            s.execute(params![
                tenant,
                rt,
                id,
                r.param,
                r.target_type,
                r.target_id,
                r.url,
                rid
            ])
            .map_err(backend)?;
        }
    }
    if !rows.quantities.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO idx_quantity (tenant, type, id, param, value, system, code, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(backend)?;
        for q in &rows.quantities {
            s.execute(params![
                tenant, rt, id, q.param, q.value, q.system, q.code, rid
            ])
            .map_err(backend)?;
        }
    }
    if !rows.numbers.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO idx_number (tenant, type, id, param, value, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        for n in &rows.numbers {
            s.execute(params![tenant, rt, id, n.param, n.value, rid])
                .map_err(backend)?;
        }
    }
    simple(
        tx,
        "idx_uri",
        (tenant, rt, id, rid),
        rows.uris.iter().map(|u| (&u.param, &u.value)),
    )?;
    simple(
        tx,
        "idx_composite",
        (tenant, rt, id, rid),
        rows.composites.iter().map(|c| (&c.param, &c.value)),
    )?;
    if !rows.compartments.is_empty() {
        let mut s = tx
            .prepare_cached(
                "INSERT INTO compartment (tenant, compartment_type, compartment_id, type, id, rid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        for c in &rows.compartments {
            s.execute(params![
                tenant,
                c.compartment_type,
                c.compartment_id,
                rt,
                id,
                rid
            ])
            .map_err(backend)?;
        }
    }
    if !rows.fulltext.is_empty() {
        let words = |p: &str| {
            rows.fulltext
                .iter()
                .find(|f| f.param == p)
                .map_or("", |f| f.words.as_str())
        };
        tx.prepare_cached(
            "INSERT INTO fulltext (rowid, tenant, type, id, narrative, content)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?
        .execute(params![
            rid,
            tenant,
            rt,
            id,
            words("_text"),
            words("_content")
        ])
        .map_err(backend)?;
    }
    Ok(())
}

/// Rows of a `(param, value)` table.
fn simple<'a>(
    tx: &Transaction<'_>,
    table: &str,
    (tenant, rt, id, rid): (&str, &str, &str, i64),
    rows: impl Iterator<Item = (&'a String, &'a String)>,
) -> StoreResult<()> {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return Ok(());
    }
    let mut s = tx
        .prepare_cached(&format!(
            "INSERT INTO {table} (tenant, type, id, param, value, rid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))
        .map_err(backend)?;
    for (param, value) in rows {
        s.execute(params![tenant, rt, id, param, value, rid])
            .map_err(backend)?;
    }
    Ok(())
}

/// The rows stored for `(tenant, type, id)`.
pub fn read(c: &rusqlite::Connection, tenant: &str, rt: &str, id: &str) -> StoreResult<IndexRows> {
    use concord_store::{
        CompartmentIndex, CompositeIndex, DateIndex, NumberIndex, QuantityIndex, ReferenceIndex,
        StringIndex, TokenIndex, UriIndex,
    };
    fn rows<T>(
        c: &rusqlite::Connection,
        sql: &str,
        key: (&str, &str, &str),
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut s = c.prepare_cached(sql).map_err(backend)?;
        let out = s
            .query_map(params![key.0, key.1, key.2], f)
            .map_err(backend)?
            .collect::<rusqlite::Result<Vec<T>>>()
            .map_err(backend)?;
        Ok(out)
    }
    let k = (tenant, rt, id);
    const W: &str = "WHERE tenant = ?1 AND type = ?2 AND id = ?3";
    Ok(IndexRows {
        tokens: rows(
            c,
            &format!("SELECT param, system, code FROM idx_token {W}"),
            k,
            |r| {
                Ok(TokenIndex {
                    param: r.get(0)?,
                    system: r.get(1)?,
                    code: r.get(2)?,
                })
            },
        )?,
        strings: rows(
            c,
            &format!("SELECT param, value_norm, value_exact FROM idx_string {W}"),
            k,
            |r| {
                Ok(StringIndex {
                    param: r.get(0)?,
                    value: r.get(1)?,
                    exact: r.get(2)?,
                })
            },
        )?,
        dates: rows(
            c,
            &format!("SELECT param, low, high FROM idx_date {W}"),
            k,
            |r| {
                Ok(DateIndex {
                    param: r.get(0)?,
                    low: r.get(1)?,
                    high: r.get(2)?,
                })
            },
        )?,
        references: rows(
            c,
            &format!("SELECT param, target_type, target_id, url FROM idx_reference {W}"),
            k,
            |r| {
                Ok(ReferenceIndex {
                    param: r.get(0)?,
                    target_type: r.get(1)?,
                    target_id: r.get(2)?,
                    url: r.get(3)?,
                })
            },
        )?,
        quantities: rows(
            c,
            &format!("SELECT param, value, system, code FROM idx_quantity {W}"),
            k,
            |r| {
                Ok(QuantityIndex {
                    param: r.get(0)?,
                    value: r.get(1)?,
                    system: r.get(2)?,
                    code: r.get(3)?,
                })
            },
        )?,
        numbers: rows(
            c,
            &format!("SELECT param, value FROM idx_number {W}"),
            k,
            |r| {
                Ok(NumberIndex {
                    param: r.get(0)?,
                    value: r.get(1)?,
                })
            },
        )?,
        uris: rows(
            c,
            &format!("SELECT param, value FROM idx_uri {W}"),
            k,
            |r| {
                Ok(UriIndex {
                    param: r.get(0)?,
                    value: r.get(1)?,
                })
            },
        )?,
        composites: rows(
            c,
            &format!("SELECT param, value FROM idx_composite {W}"),
            k,
            |r| {
                Ok(CompositeIndex {
                    param: r.get(0)?,
                    value: r.get(1)?,
                })
            },
        )?,
        compartments: rows(
            c,
            &format!("SELECT compartment_type, compartment_id FROM compartment {W}"),
            k,
            |r| {
                Ok(CompartmentIndex {
                    compartment_type: r.get(0)?,
                    compartment_id: r.get(1)?,
                })
            },
        )?,
        fulltext: rows(
            c,
            &format!("SELECT narrative, content FROM fulltext {W}"),
            k,
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?
        .into_iter()
        .flat_map(|(narrative, content)| {
            [("_text", narrative), ("_content", content)]
                .into_iter()
                .filter(|(_, words)| !words.is_empty())
                .map(|(param, words)| concord_store::FullTextIndex {
                    param: param.into(),
                    words,
                })
        })
        .collect(),
    })
}

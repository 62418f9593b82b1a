//! Search-index and compartment rows of a resource's current version,
//! written inside the commit transaction (the old rows were deleted first).
//!
//! Each index table is one `WITHOUT ROWID` b-tree keyed by `(rid, param,
//! ord)` (migration 0008): `ord` numbers the resource's distinct rows of the
//! table. Identical rows are written once (search asks whether a row
//! exists, so a duplicate never changes a result).

use std::collections::HashSet;

use concord_store::{IndexRows, StoreResult};
use rusqlite::{params, types::ToSql, Transaction};

use crate::error::backend;

/// The statement inserting one row of an index table: the owner's six
/// values (`?1`…`?6`), then the table's own columns, written out once at
/// compile time.
macro_rules! insert_sql {
    ($table:literal, $columns:literal, $placeholders:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (rid, param, ord, tenant, type, id, ",
            $columns,
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ",
            $placeholders,
            ")"
        )
    };
}

/// The owner of the rows.
struct Owner<'a> {
    rid: i64,
    tenant: &'a str,
    rt: &'a str,
    id: &'a str,
}

/// Writes every row of `rows` for `(tenant, type, id)`, key `rid`.
pub fn write(
    tx: &Transaction<'_>,
    tenant: &str,
    rt: &str,
    id: &str,
    rid: i64,
    rows: &IndexRows,
) -> StoreResult<()> {
    let o = Owner {
        rid,
        tenant,
        rt,
        id,
    };
    let tokens = distinct(rows.tokens.iter(), |t| {
        (t.param.as_str(), t.system.as_deref(), t.code.as_str())
    });
    insert(
        tx,
        &o,
        insert_sql!("idx_token", "system, code", "?7, ?8"),
        &tokens,
        |t| (&t.param, vec![&t.system, &t.code]),
    )?;
    let strings = distinct(rows.strings.iter(), |s| {
        (s.param.as_str(), s.value.as_str(), s.exact.as_str())
    });
    insert(
        tx,
        &o,
        insert_sql!("idx_string", "value_norm, value_exact", "?7, ?8"),
        &strings,
        |s| (&s.param, vec![&s.value, &s.exact]),
    )?;
    let dates = distinct(rows.dates.iter(), |d| (d.param.as_str(), d.low, d.high));
    insert(
        tx,
        &o,
        insert_sql!("idx_date", "low, high", "?7, ?8"),
        &dates,
        |d| (&d.param, vec![&d.low, &d.high]),
    )?;
    let references = distinct(rows.references.iter(), |r| {
        (
            r.param.as_str(),
            r.target_type.as_deref(),
            r.target_id.as_deref(),
            r.url.as_deref(),
        )
    });
    insert(
        tx,
        &o,
        insert_sql!("idx_reference", "target_type, target_id, url", "?7, ?8, ?9"),
        &references,
        |r| (&r.param, vec![&r.target_type, &r.target_id, &r.url]),
    )?;
    let quantities = distinct(rows.quantities.iter(), |q| {
        (
            q.param.as_str(),
            q.value.to_bits(),
            q.system.as_deref(),
            q.code.as_deref(),
        )
    });
    insert(
        tx,
        &o,
        insert_sql!("idx_quantity", "value, system, code", "?7, ?8, ?9"),
        &quantities,
        |q| (&q.param, vec![&q.value, &q.system, &q.code]),
    )?;
    let numbers = distinct(rows.numbers.iter(), |n| {
        (n.param.as_str(), n.value.to_bits())
    });
    insert(
        tx,
        &o,
        insert_sql!("idx_number", "value", "?7"),
        &numbers,
        |n| (&n.param, vec![&n.value]),
    )?;
    let uris = distinct(rows.uris.iter(), |u| (u.param.as_str(), u.value.as_str()));
    insert(tx, &o, insert_sql!("idx_uri", "value", "?7"), &uris, |u| {
        (&u.param, vec![&u.value])
    })?;
    let composites = distinct(rows.composites.iter(), |c| {
        (c.param.as_str(), c.value.as_str())
    });
    insert(
        tx,
        &o,
        insert_sql!("idx_composite", "value, number", "?7, ?8"),
        &composites,
        |c| (&c.param, vec![&c.value, &c.number]),
    )?;
    let compartments = distinct(rows.compartments.iter(), |c| {
        (c.compartment_type.as_str(), c.compartment_id.as_str())
    });
    insert_compartments(tx, &o, &compartments)?;
    insert_timeline(tx, &o, &rows.timeline())?;
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

/// The rows of `items` whose `key` was not seen before, in their order
/// (a linear scan for the usual handful of rows, a hash set beyond).
fn distinct<'a, T, K: std::hash::Hash + Eq>(
    items: impl ExactSizeIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    const LINEAR: usize = 16;
    let mut keys: Vec<K> = Vec::with_capacity(items.len().min(LINEAR));
    let mut seen: HashSet<K> = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let k = key(item);
        let new = if out.len() < LINEAR {
            if keys.contains(&k) {
                false
            } else {
                keys.push(k);
                true
            }
        } else {
            if seen.is_empty() {
                seen.extend(keys.drain(..));
            }
            seen.insert(k)
        };
        if new {
            out.push(item);
        }
    }
    out
}

/// Runs the index table's `sql` (see `insert_sql!`) for each of `rows`;
/// `values` gives a row's parameter and values. One row per statement: a
/// multi-row `INSERT` needs a statement journal (it could fail half done),
/// which cost more than the statements it saved.
fn insert<'a, T>(
    tx: &Transaction<'_>,
    o: &Owner<'_>,
    sql: &'static str,
    rows: &[&'a T],
    values: impl Fn(&'a T) -> (&'a String, Vec<&'a dyn ToSql>),
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut s = tx.prepare_cached(sql).map_err(backend)?;
    for (ord, row) in (0_i64..).zip(rows) {
        let (param, rest) = values(row);
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(6 + rest.len());
        args.extend_from_slice(&[&o.rid, param, &ord, &o.tenant, &o.rt, &o.id]);
        args.extend(rest);
        s.execute(args.as_slice()).map_err(backend)?;
    }
    Ok(())
}

fn insert_compartments(
    tx: &Transaction<'_>,
    o: &Owner<'_>,
    rows: &[&concord_store::CompartmentIndex],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut s = tx
        .prepare_cached(
            "INSERT INTO compartment (rid, compartment_type, compartment_id, tenant, type, id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for c in rows {
        s.execute(params![
            o.rid,
            c.compartment_type,
            c.compartment_id,
            o.tenant,
            o.rt,
            o.id
        ])
        .map_err(backend)?;
    }
    Ok(())
}

fn insert_timeline(
    tx: &Transaction<'_>,
    o: &Owner<'_>,
    rows: &[concord_store::TimelineRow],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut s = tx
        .prepare_cached(
            "INSERT INTO patient_timeline (rid, target_id, tenant, type, id, newest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for t in rows {
        s.execute(params![o.rid, t.target_id, o.tenant, o.rt, o.id, t.newest])
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
    // By the owner key (the tables' primary keys start with it).
    const W: &str =
        "WHERE rid = (SELECT rid FROM resources WHERE tenant = ?1 AND type = ?2 AND id = ?3)";
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
            &format!("SELECT param, value, number FROM idx_composite {W}"),
            k,
            |r| {
                Ok(CompositeIndex {
                    param: r.get(0)?,
                    value: r.get(1)?,
                    number: r.get(2)?,
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
            "SELECT narrative, content FROM fulltext WHERE rowid =
             (SELECT rid FROM resources WHERE tenant = ?1 AND type = ?2 AND id = ?3)",
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

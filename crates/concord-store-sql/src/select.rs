//! The page query and the count query of a plan.

use concord_store::audit_log::AUDIT_TYPE;
use concord_store::search::{
    IndexTable, PageKey, PageStart, RowTest, SearchPlan, SortBy, SortKind, SortSpec, SqlValue,
};

use crate::builder::{and, Builder};
use crate::conditions::Level;
use crate::tables::{column, table};
use crate::{Dialect, Sql};

/// The columns of each result row: type, id, then one per sort key. At most
/// `plan.count + 1` rows come back (the extra one says another page follows);
/// for [`PageStart::Before`] they come in reverse order.
pub fn search_sql(dialect: &dyn Dialect, tenant: &str, plan: &SearchPlan) -> Sql {
    search_sql_with(dialect, tenant, plan, false)
}

/// [`search_sql`]; with `scan`, no top-level condition drives: resources are
/// read in page order and every condition is probed per row (for a driver
/// [`driver_estimate_sql`] found broad).
pub fn search_sql_with(dialect: &dyn Dialect, tenant: &str, plan: &SearchPlan, scan: bool) -> Sql {
    if let Some(target) = crate::timeline::walk_target(plan) {
        return timeline_sql(dialect, tenant, plan, target);
    }
    if let Some((at, param, test)) = crate::matched::walk_at(plan).filter(|_| !scan) {
        return matched_sql(dialect, tenant, plan, at, param, test);
    }
    let mut b = Builder::new(dialect, tenant);
    b.scan = scan;
    let filter = base_where(&mut b, plan);
    let keys: Vec<String> = plan.sort.iter().map(|s| sort_expr(&mut b, s)).collect();
    // Without sort keys the page is read straight off `resources` in
    // (type, id) order; sort keys are computed columns, so the page is then
    // filtered and ordered one level out.
    let wrapped = !plan.sort.is_empty();
    let (t, i) = if wrapped {
        ("s.t", "s.i")
    } else {
        ("r.type", "r.id")
    };
    let mut order: Vec<(String, bool)> = plan
        .sort
        .iter()
        .enumerate()
        .map(|(n, s)| (ordered(dialect, s.kind(), &format!("s.k{n}")), s.descending))
        .collect();
    order.push((dialect.text_ordered(t), false));
    order.push((dialect.text_ordered(i), false));
    let (start, order_by, limit) = page_clauses(&mut b, plan, &order);
    let mut page_where: Vec<String> = start.into_iter().collect();
    let text = if wrapped {
        let mut cols = vec!["r.type AS t".to_string(), "r.id AS i".to_string()];
        cols.extend(keys.iter().enumerate().map(|(n, k)| format!("{k} AS k{n}")));
        format!(
            "SELECT s.* FROM (SELECT {} FROM resources r WHERE {filter}) s WHERE {} ORDER BY {} LIMIT {limit}",
            cols.join(", "),
            and(page_where),
            order_by.join(", ")
        )
    } else {
        page_where.insert(0, filter);
        format!(
            "SELECT r.type AS t, r.id AS i FROM resources r WHERE {} ORDER BY {} LIMIT {limit}",
            and(page_where),
            order_by.join(", ")
        )
    };
    Sql {
        text,
        params: b.params,
    }
}

/// What every walk starts from: a builder whose conditions are all probed
/// per row, and the walked table's (`alias`) tenant and type tests.
fn walk_start<'d>(
    dialect: &'d dyn Dialect,
    tenant: &str,
    plan: &SearchPlan,
    alias: &str,
) -> (Builder<'d>, Vec<String>) {
    let mut b = Builder::new(dialect, tenant);
    b.scan = true;
    let mut w = vec![format!("{alias}.tenant = {}", b.tenant())];
    if let Some(f) = b.type_filter(&format!("{alias}.type"), &plan.types) {
        w.push(f);
    }
    (b, w)
}

/// The page read off the patient timeline, newest first (see
/// [`crate::timeline`]): the timeline row drives, the resource and every
/// condition are probed per row, and the walk stops at the page's end.
fn timeline_sql(dialect: &dyn Dialect, tenant: &str, plan: &SearchPlan, target: &str) -> Sql {
    let (mut b, mut w) = walk_start(dialect, tenant, plan, "l");
    w.push(format!("l.target_id = {}", b.text(target)));
    if let Some(low) = crate::timeline::newest_at_least(plan) {
        w.push(format!("l.newest >= {}", b.bind(SqlValue::Int(low))));
    }
    w.push(dialect.row_of_resource("l", "r"));
    w.push(base_where(&mut b, plan));
    let order = vec![
        ("l.newest".to_string(), true),
        (dialect.text_ordered("l.type"), false),
        (dialect.text_ordered("l.id"), false),
    ];
    let (start, order_by, limit) = page_clauses(&mut b, plan, &order);
    w.extend(start);
    // CROSS JOIN keeps SQLite's planner from reordering the loops (the
    // timeline must be the outer one); PostgreSQL plans it as a plain join.
    Sql {
        text: format!(
            "SELECT l.type AS t, l.id AS i, l.newest AS k0 FROM patient_timeline l CROSS JOIN resources r WHERE {} ORDER BY {} LIMIT {limit}",
            and(w),
            order_by.join(", ")
        ),
        params: b.params,
    }
}

/// The page read off the string index in matched-value order (see
/// [`crate::matched`]): the walked row drives (only the resource's smallest
/// matched value counts, and `DISTINCT` drops a resource's identical
/// rows), the resource and every other condition are probed per row, and
/// the walk stops at the page's end.
fn matched_sql(
    dialect: &dyn Dialect,
    tenant: &str,
    plan: &SearchPlan,
    at: usize,
    param: &str,
    test: &RowTest,
) -> Sql {
    let (mut b, mut w) = walk_start(dialect, tenant, plan, "w");
    w.push(format!("w.param = {}", b.text(param)));
    w.push(b.row_test(IndexTable::String, "w", test));
    let smallest = b.row_test(IndexTable::String, "d", test);
    w.push(format!(
        "w.value_norm = (SELECT MIN(d.value_norm) FROM {} d WHERE {} AND d.param = w.param AND {smallest})",
        table(IndexTable::String),
        dialect.row_of_resource("d", "w")
    ));
    // The walked condition holds for every walked row; the rest are probed.
    let mut rest = plan.clone();
    rest.conditions.remove(at);
    // Index rows exist only for live resources' current versions (a delete
    // clears them; reindex skips deleted resources), and the walked rows
    // carry tenant, type and id: when nothing else is asked of the resource
    // the walk reads no `resources` row — two random page reads fewer per
    // row of the page (AuditEvents, kept in the audit log, always probe).
    let needs_resource = !rest.conditions.is_empty()
        || plan.types.is_empty()
        || plan.types.iter().any(|t| t == AUDIT_TYPE);
    if needs_resource {
        w.push(dialect.row_of_resource("w", "r"));
        w.push(base_where(&mut b, &rest));
    }
    let order = vec![
        (dialect.text_ordered("w.value_norm"), false),
        (dialect.text_ordered("w.type"), false),
        (dialect.text_ordered("w.id"), false),
    ];
    let (start, _, limit) = page_clauses(&mut b, plan, &order);
    w.extend(start);
    // ORDER BY names the output columns: with DISTINCT, PostgreSQL orders
    // only by what is selected.
    let backwards = matches!(plan.start, PageStart::Before(_));
    let direction = if backwards { "DESC" } else { "ASC" };
    Sql {
        text: format!(
            "SELECT DISTINCT {} AS t, {} AS i, {} AS k0 FROM {} w{} WHERE {} ORDER BY k0 {direction}, t {direction}, i {direction} LIMIT {limit}",
            order[1].0,
            order[2].0,
            order[0].0,
            table(IndexTable::String),
            if needs_resource { " CROSS JOIN resources r" } else { "" },
            and(w),
        ),
        params: b.params,
    }
}

/// What places a page in `order` (`(expression, descending)` terms): the
/// keyset predicate after/before the page key (none on a first page), the
/// `ORDER BY` terms (turned round for a previous page) and the bound
/// `LIMIT` (the page and one look-ahead row that says another follows).
fn page_clauses(
    b: &mut Builder<'_>,
    plan: &SearchPlan,
    order: &[(String, bool)],
) -> (Option<String>, Vec<String>, String) {
    let backwards = matches!(plan.start, PageStart::Before(_));
    let start = match &plan.start {
        PageStart::First => None,
        PageStart::After(key) => Some(keyset(b, plan, order, key, false)),
        PageStart::Before(key) => Some(keyset(b, plan, order, key, true)),
    };
    let order_by = order
        .iter()
        .map(|(e, desc)| format!("{e} {}", if *desc != backwards { "DESC" } else { "ASC" }))
        .collect();
    let limit = b.bind(SqlValue::Int(
        i64::try_from(plan.count)
            .unwrap_or(i64::MAX)
            .saturating_add(1),
    ));
    (start, order_by, limit)
}

/// When the plan's driving condition is a plain token that may match much
/// of a type and other conditions could narrow instead: `SELECT COUNT(*)`
/// of at most `limit` of its index rows. At `limit`, reading resources in
/// page order and probing finds a page sooner than building the list.
pub fn driver_estimate_sql(
    dialect: &dyn Dialect,
    tenant: &str,
    plan: &SearchPlan,
    limit: usize,
) -> Option<Sql> {
    if crate::timeline::walk_target(plan).is_some() {
        return None;
    }
    let at = crate::conditions::driver(&plan.conditions)?;
    let condition = &plan.conditions[at];
    let alone_ok = crate::conditions::date_range(condition);
    if (plan.conditions.len() < 2 && !alone_ok) || !crate::conditions::maybe_broad(condition) {
        return None;
    }
    let rows = crate::conditions::driving_rows(condition);
    if rows.is_empty() {
        return None;
    }
    let mut b = Builder::new(dialect, tenant);
    let limit = b.bind(SqlValue::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    // One count per listed row condition (an `Any` lists several): their
    // sum bounds the driver's list.
    let counts: Vec<String> = rows
        .into_iter()
        .filter_map(|row| {
            let concord_store::search::Condition::Row {
                table: t,
                param,
                test,
                ..
            } = row
            else {
                return None;
            };
            let i = b.alias("e");
            let w = b.row_where(&i, *t, &plan.types, param, test);
            Some(format!(
                "(SELECT COUNT(*) FROM (SELECT 1 FROM {} {i} WHERE {} LIMIT {limit}) {i}c)",
                table(*t),
                and(w)
            ))
        })
        .collect();
    Some(Sql {
        text: format!("SELECT {}", counts.join(" + ")),
        params: b.params,
    })
}

/// `SELECT COUNT(*)` of the plan's matches.
pub fn count_sql(dialect: &dyn Dialect, tenant: &str, plan: &SearchPlan) -> Sql {
    let mut b = Builder::new(dialect, tenant);
    let filter = base_where(&mut b, plan);
    Sql {
        text: format!("SELECT COUNT(*) FROM resources r WHERE {filter}"),
        params: b.params,
    }
}

/// Past this many types, a search that a condition drives tests the type
/// of each candidate instead of seeking every listed type on the `(tenant,
/// type, id)` key: the driver's rows carry their types, and the seeks for
/// R4's 66 Patient-compartment types cost more than the rest of a
/// `$everything` page (measured at 1,000,000 resources: 0.72 → 0.28 ms).
pub(crate) const SEEK_TYPES: usize = 8;

fn base_where(b: &mut Builder<'_>, plan: &SearchPlan) -> String {
    let mut w = vec![format!("r.tenant = {}", b.tenant())];
    let driven = !b.scan && crate::conditions::driver(&plan.conditions).is_some();
    let type_col = if driven && plan.types.len() > SEEK_TYPES {
        b.dialect.unindexed("r.type")
    } else {
        "r.type".to_string()
    };
    if let Some(f) = b.type_filter(&type_col, &plan.types) {
        w.push(f);
    }
    w.push("r.kind <> 'delete'".to_string());
    let level = Level {
        type_col: "r.type".into(),
        id_col: "r.id".into(),
        types: &plan.types,
        res: Some("r".into()),
    };
    w.extend(b.conditions(&level, &plan.conditions));
    and(w)
}

/// A sort key's value for resources row `r`; a missing value becomes the
/// spec's sentinel so it sorts last.
fn sort_expr(b: &mut Builder<'_>, s: &SortSpec) -> String {
    let d = b.dialect;
    let raw = match &s.by {
        SortBy::Id => return "r.id".to_string(),
        SortBy::LastUpdated => return "r.last_updated".to_string(),
        SortBy::Matched { param, test } => {
            let i = b.alias("k");
            let param = b.text(param);
            let matched = b.row_test(IndexTable::String, &i, test);
            format!(
                "(SELECT MIN({i}.value_norm) FROM {} {i} WHERE {} AND {i}.param = {param} AND {matched})",
                table(IndexTable::String),
                d.row_of_resource(&i, "r")
            )
        }
        SortBy::Index {
            table: t,
            param,
            column: asc,
            column_desc,
            preferred,
        } => {
            let (agg, c) = if s.descending {
                ("MAX", *column_desc)
            } else {
                ("MIN", *asc)
            };
            let mut one = |param: &str| {
                let i = b.alias("k");
                let param = b.text(param);
                format!(
                    "(SELECT {agg}({i}.{}) FROM {} {i} WHERE {} AND {i}.param = {param})",
                    column(c),
                    table(*t),
                    d.row_of_resource(&i, "r")
                )
            };
            match preferred {
                Some(p) => {
                    let first = one(p);
                    format!("COALESCE({first}, {})", one(param))
                }
                None => one(param),
            }
        }
    };
    let raw = if s.kind() == SortKind::Real {
        d.real_expr(&raw)
    } else {
        raw
    };
    format!("COALESCE({raw}, {})", literal(&s.missing_value()))
}

fn ordered(d: &dyn Dialect, kind: SortKind, expr: &str) -> String {
    match kind {
        SortKind::Text => d.text_ordered(expr),
        _ => expr.to_string(),
    }
}

fn literal(v: &SqlValue) -> String {
    match v {
        SqlValue::Int(i) => i.to_string(),
        SqlValue::Real(r) => format!("{r:e}"),
        SqlValue::Text(t) => format!("'{}'", t.replace('\'', "''")),
    }
}

/// Rows strictly after `key` in the page order (before it, for a previous
/// page): `k0 > v0 OR (k0 = v0 AND k1 > v1) OR …`, each `>` turned round for
/// descending keys.
fn keyset(
    b: &mut Builder<'_>,
    plan: &SearchPlan,
    order: &[(String, bool)],
    key: &PageKey,
    backwards: bool,
) -> String {
    let mut values: Vec<SqlValue> = key.sort.clone();
    values.resize(plan.sort.len(), SqlValue::Int(0));
    values.push(SqlValue::Text(key.resource_type.clone()));
    values.push(SqlValue::Text(key.id.clone()));
    let phs: Vec<String> = values
        .into_iter()
        .enumerate()
        .map(|(n, v)| {
            let ph = b.bind(v);
            let kind = plan
                .sort
                .get(n)
                .map(SortSpec::kind)
                .unwrap_or(SortKind::Text);
            ordered(b.dialect, kind, &ph)
        })
        .collect();
    let mut alternatives = Vec::new();
    for n in 0..order.len() {
        let mut parts: Vec<String> = (0..n)
            .map(|m| format!("{} = {}", order[m].0, phs[m]))
            .collect();
        let greater = order[n].1 == backwards;
        parts.push(format!(
            "{} {} {}",
            order[n].0,
            if greater { ">" } else { "<" },
            phs[n]
        ));
        alternatives.push(format!("({})", parts.join(" AND ")));
    }
    format!("({})", alternatives.join(" OR "))
}

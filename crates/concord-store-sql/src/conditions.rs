//! Conditions as predicates on one level's resources row (the searched
//! type, a chain's target, a `_has` source). Each index condition is a
//! membership test against an index-table subquery, so the database can
//! drive the search from the most selective index.

use concord_store::search::{CmpOp, Column, Condition, IndexTable, RowTest, SqlValue};

use crate::builder::{and, Builder};
use crate::tables::{column, is_numeric, table};

/// The resources row a condition tests: its type and id expressions and the
/// types it may have (empty: any).
pub(crate) struct Level<'a> {
    pub(crate) type_col: String,
    pub(crate) id_col: String,
    pub(crate) types: &'a [String],
    /// The `resources` alias when the level is a resources row itself (its
    /// index rows can then be probed per row).
    pub(crate) res: Option<String>,
}

/// How well a condition can drive a search (lower: fewer rows expected).
fn selectivity(c: &Condition) -> u8 {
    match c {
        Condition::Id(_) => 0,
        Condition::Compartment { .. } => 1,
        Condition::Row {
            table: IndexTable::Reference,
            negate: false,
            ..
        } => 1,
        Condition::Row {
            table: IndexTable::Token,
            param,
            negate: false,
            ..
        } if param.starts_with("identifier") => 1,
        Condition::FullText { words, .. } if !words.is_empty() => 2,
        Condition::Row {
            table: IndexTable::String,
            negate: false,
            ..
        } => 3,
        Condition::Chain { .. }
        | Condition::Has { .. }
        | Condition::ReferencedBy { .. }
        | Condition::References { .. } => 4,
        // A date range closed at both ends on its start (`birthdate=1970-03-14`)
        // is walked on the index like a token; whether it is broad (a
        // year of a large type) is estimated first, as for a common code.
        Condition::Row {
            table: IndexTable::Date,
            negate: false,
            test,
            ..
        } if closed_range(test) => 5,
        // Other ranges (dates, quantities, numbers) usually hold for much of a
        // type: scanning in key order and probing finds a page sooner than
        // building their whole list.
        Condition::Row {
            table: IndexTable::Date | IndexTable::Quantity | IndexTable::Number,
            ..
        } => NO_DRIVER,
        Condition::Row { negate: false, .. } => 5,
        // Any of several (a union parameter's parts): drives by the union of
        // its parts' lists when each part can drive, as well as its worst.
        Condition::Any(parts) if !parts.is_empty() => parts
            .iter()
            .map(|p| part_driver(p).map_or(NO_DRIVER, selectivity))
            .max()
            .unwrap_or(NO_DRIVER),
        _ => NO_DRIVER,
    }
}

/// `level` is among the (type, id) of any of the `(type column, id column,
/// FROM … WHERE …)` selects (their `UNION ALL`).
fn member_of_any(level: &Level<'_>, selects: &[(String, String, String)]) -> String {
    let one_type = level.types.len() == 1;
    let listed: Vec<String> = selects
        .iter()
        .map(|(type_col, id_col, from)| {
            if one_type {
                format!("SELECT {id_col} {from}")
            } else {
                format!("SELECT {type_col}, {id_col} {from}")
            }
        })
        .collect();
    let member = if one_type {
        level.id_col.clone()
    } else {
        format!("({}, {})", level.type_col, level.id_col)
    };
    format!("{member} IN ({})", listed.join(" UNION ALL "))
}

/// The row conditions whose index lists a driving condition reads: the
/// row itself, or one per part of an `Any`.
pub(crate) fn driving_rows(c: &Condition) -> Vec<&Condition> {
    match c {
        Condition::Any(parts) => parts.iter().filter_map(part_driver).collect(),
        Condition::Row { .. } => vec![c],
        _ => Vec::new(),
    }
}

/// What lists the resources of one part of a driving [`Condition::Any`]:
/// a plain index row condition, or the best one of an `All` (the rest of
/// the part is probed with the whole `Any`).
fn part_driver(c: &Condition) -> Option<&Condition> {
    let row = |c: &Condition| matches!(c, Condition::Row { negate: false, .. });
    match c {
        Condition::Row { .. } if row(c) => Some(c),
        Condition::All(list) => driver(list).map(|i| &list[i]).filter(|d| row(d)),
        _ => None,
    }
}

const NO_DRIVER: u8 = 9;

/// Compartment ids bound one placeholder each up to this many; a longer
/// list (a care team) is bound as one JSON array ([`crate::Dialect::in_json_texts`]).
const LISTED_IDS: usize = 64;

/// Whether a row test bounds the `low` column on both sides (so an index
/// on `(…, param, low, …)` reads only the range).
fn closed_range(test: &RowTest) -> bool {
    let parts = match test {
        // Several values (`birthdate=a,b`): each must be closed.
        RowTest::Or(alternatives) => {
            return !alternatives.is_empty() && alternatives.iter().all(closed_range)
        }
        RowTest::And(parts) => parts,
        _ => return false,
    };
    let bound = |ops: &[CmpOp]| {
        parts
            .iter()
            .any(|p| matches!(p, RowTest::Cmp(Column::Low, op, _) if ops.contains(op)))
    };
    bound(&[CmpOp::Ge, CmpOp::Gt]) && bound(&[CmpOp::Le, CmpOp::Lt])
}

/// Whether a driver is a closed date range (estimated even when it is the
/// only condition: the alternative, reading in page order, is always there).
pub(crate) fn date_range(c: &Condition) -> bool {
    matches!(c, Condition::Row { table: IndexTable::Date, negate: false, test, .. } if closed_range(test))
}

/// The condition that drives a level, if any.
pub(crate) fn driver(conditions: &[Condition]) -> Option<usize> {
    conditions
        .iter()
        .enumerate()
        .map(|(i, c)| (selectivity(c), i))
        .min()
        .filter(|(rank, _)| *rank < NO_DRIVER)
        .map(|(_, i)| i)
}

/// Whether a driver of this kind may hold for much of a type (a plain
/// token such as a common code): worth an estimate before it drives.
pub(crate) fn maybe_broad(c: &Condition) -> bool {
    selectivity(c) == 5
}

impl Builder<'_> {
    /// The predicates of a level's conditions. On a resources row the most
    /// selective condition drives (a membership list the database walks);
    /// the other index conditions are probed per candidate row through the
    /// owner key, so their (possibly large) lists are never built.
    pub(crate) fn conditions(
        &mut self,
        level: &Level<'_>,
        conditions: &[Condition],
    ) -> Vec<String> {
        let Some(res) = level.res.clone() else {
            return conditions
                .iter()
                .map(|c| self.condition(level, c))
                .collect();
        };
        let driver = if self.scan && res == "r" {
            None
        } else {
            driver(conditions)
        };
        conditions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if Some(i) == driver {
                    self.drive(level, &res, c)
                } else {
                    self.probe(level, &res, c)
                }
            })
            .collect()
    }

    /// The driving condition as a membership list. A driving `Any` lists
    /// the union of its parts' index rows in one `IN (… UNION ALL …)` (so
    /// the database seeks each listed resource instead of testing every
    /// resource of the type against several lists) and is then probed
    /// whole (a part that is an `All` listed only by its best condition).
    fn drive(&mut self, level: &Level<'_>, res: &str, c: &Condition) -> String {
        let Condition::Any(parts) = c else {
            return self.condition(level, c);
        };
        let mut selects = Vec::new();
        for part in parts.iter().filter_map(part_driver) {
            let Condition::Row {
                table: t,
                param,
                test,
                ..
            } = part
            else {
                continue;
            };
            let i = self.alias("i");
            let w = self.row_where(&i, *t, level.types, param, test);
            selects.push((
                format!("{i}.type"),
                format!("{i}.id"),
                format!("FROM {} {i} WHERE {}", table(*t), and(w)),
            ));
        }
        format!(
            "{} AND {}",
            member_of_any(level, &selects),
            self.probe(level, res, c)
        )
    }

    /// A condition tested for one resources row `res` through its index rows.
    fn probe(&mut self, level: &Level<'_>, res: &str, c: &Condition) -> String {
        let d = self.dialect;
        match c {
            Condition::Row {
                table: t,
                param,
                test,
                negate,
            } => {
                let i = self.alias("p");
                let param = self.text(param);
                let test = self.row_test(*t, &i, test);
                let exists = format!(
                    "EXISTS (SELECT 1 FROM {} {i} WHERE {} AND {i}.param = {param} AND {test})",
                    table(*t),
                    d.row_of_resource(&i, res)
                );
                negated(exists, *negate)
            }
            Condition::Present {
                table: t,
                param,
                present,
            } => {
                let i = self.alias("p");
                let param = self.text(param);
                let exists = format!(
                    "EXISTS (SELECT 1 FROM {} {i} WHERE {} AND {i}.param = {param})",
                    table(*t),
                    d.row_of_resource(&i, res)
                );
                negated(exists, !present)
            }
            Condition::Any(list) if !list.is_empty() => {
                let parts = self.probe_any(level, res, list);
                format!("({})", parts.join(" OR "))
            }
            Condition::All(list) if !list.is_empty() => {
                let parts: Vec<String> = list.iter().map(|c| self.probe(level, res, c)).collect();
                format!("({})", parts.join(" AND "))
            }
            Condition::Not(inner) => format!("NOT ({})", self.probe(level, res, inner)),
            // Membership by the row's own compartment rows (the owner
            // index), not by building the list of every member: an access
            // policy's "in one of these compartments, or in none" would
            // otherwise list every resource of the type in any patient's.
            Condition::Compartment {
                compartment_type,
                compartment_id,
            } => {
                let c = self.alias("p");
                let (ct, ci) = (self.text(compartment_type), self.text(compartment_id));
                format!(
                    "EXISTS (SELECT 1 FROM compartment {c} WHERE {} AND {c}.compartment_type = {ct} AND {c}.compartment_id = {ci})",
                    d.row_of_resource(&c, res)
                )
            }
            Condition::InCompartmentOfType { compartment_type } => {
                let c = self.alias("p");
                let ct = self.text(compartment_type);
                format!(
                    "EXISTS (SELECT 1 FROM compartment {c} WHERE {} AND {c}.compartment_type = {ct})",
                    d.row_of_resource(&c, res)
                )
            }
            other => self.condition(level, other),
        }
    }

    /// The alternatives of an `Any` probed for one resources row. Several
    /// compartments of one type (an access policy's care team: up to
    /// thousands of patients) become one probe of the row's own compartment
    /// rows against the list of ids, instead of one probe per compartment.
    fn probe_any(&mut self, level: &Level<'_>, res: &str, list: &[Condition]) -> Vec<String> {
        let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
        for c in list {
            if let Condition::Compartment {
                compartment_type,
                compartment_id,
            } = c
            {
                match groups.iter_mut().find(|(t, _)| t == compartment_type) {
                    Some((_, ids)) => ids.push(compartment_id.clone()),
                    None => groups.push((compartment_type, vec![compartment_id.clone()])),
                }
            }
        }
        let mut parts = Vec::new();
        let mut merged = Vec::new();
        for c in list {
            match c {
                Condition::Compartment {
                    compartment_type, ..
                } => {
                    let Some(at) = groups.iter().position(|(t, _)| t == compartment_type) else {
                        continue;
                    };
                    let (t, ids) = groups.remove(at);
                    if ids.len() < 2 {
                        parts.push(self.probe(level, res, c));
                        continue;
                    }
                    let d = self.dialect;
                    let a = self.alias("p");
                    let ct = self.text(t);
                    // The list is tested per compartment row of the resource
                    // (a few rows), not looked up in the index once per id.
                    let id = d.unindexed(&format!("{a}.compartment_id"));
                    let member = if ids.len() > LISTED_IDS {
                        let list = self.text(&serde_json::Value::from(ids).to_string());
                        d.in_json_texts(&id, &list)
                    } else {
                        format!("{id} IN ({})", self.text_list(&ids))
                    };
                    merged.push(format!(
                        "EXISTS (SELECT 1 FROM compartment {a} WHERE {} AND {a}.compartment_type = {ct} AND {member})",
                        d.row_of_resource(&a, res)
                    ));
                }
                other => parts.push(self.probe(level, res, other)),
            }
        }
        merged.extend(parts);
        merged
    }

    fn condition(&mut self, level: &Level<'_>, c: &Condition) -> String {
        match c {
            Condition::Id(ids) if ids.is_empty() => "1 = 0".to_string(),
            Condition::Id(ids) => format!("{} IN ({})", level.id_col, self.text_list(ids)),
            Condition::LastUpdated(test) => {
                let col = level.id_col.replace(".id", ".last_updated");
                self.test(&|_| col.clone(), &|_| false, test)
            }
            Condition::Row {
                table: t,
                param,
                test,
                negate,
            } => {
                let i = self.alias("i");
                let w = self.row_where(&i, *t, level.types, param, test);
                let member = self.member(level, &i, table(*t), w);
                negated(member, *negate)
            }
            Condition::Present {
                table: t,
                param,
                present,
            } => {
                let i = self.alias("i");
                let w = self.index_where(&i, *t, level.types, param);
                negated(self.member(level, &i, table(*t), w), !present)
            }
            Condition::Chain {
                param,
                target_types,
                inner,
            } => {
                let r = self.alias("ref");
                let mut w = self.index_where(&r, IndexTable::Reference, level.types, param);
                // The reference must point at one of the chain's target types:
                // with a single target type the membership test below compares
                // ids only, so `target:Procedure.…` would otherwise follow a
                // reference to `MolecularSequence/x` when `Procedure/x` matches.
                if let Some(f) = self.type_filter(&format!("{r}.target_type"), target_types) {
                    w.push(f);
                }
                let target = Level {
                    type_col: format!("{r}.target_type"),
                    id_col: format!("{r}.target_id"),
                    types: target_types,
                    res: None,
                };
                w.push(self.level_member(&target, inner));
                self.member(level, &r, "idx_reference", w)
            }
            Condition::Has {
                source_type,
                param,
                inner,
            } => {
                let r = self.alias("ref");
                let sources = [source_type.clone()];
                let mut w = if self.dialect.links_by_rid() {
                    // The sources' reference rows by their owner key.
                    let rids = self.rids_matching(&sources, inner);
                    vec![
                        format!("{r}.rid IN ({rids})"),
                        format!("{r}.param = {}", self.text(param)),
                    ]
                } else {
                    let mut w = self.index_where(&r, IndexTable::Reference, &sources, param);
                    let source = Level {
                        type_col: format!("{r}.type"),
                        id_col: format!("{r}.id"),
                        types: &sources,
                        res: None,
                    };
                    w.push(self.level_member(&source, inner));
                    w
                };
                if let Some(f) = self.type_filter(&format!("{r}.target_type"), level.types) {
                    w.push(f);
                }
                let targets = Level {
                    type_col: level.type_col.clone(),
                    id_col: level.id_col.clone(),
                    types: level.types,
                    res: None,
                };
                self.member_cols(
                    &targets,
                    &format!("{r}.target_type"),
                    &format!("{r}.target_id"),
                    &format!("FROM idx_reference {r} WHERE {}", and(w)),
                )
            }
            Condition::ReferencedBy { param, sources } => {
                let r = self.alias("ref");
                let mut w = Vec::new();
                if let Some(p) = param {
                    w.push(format!("{r}.param = {}", self.text(p)));
                }
                if let Some(f) = self.type_filter(&format!("{r}.target_type"), level.types) {
                    w.push(f);
                }
                w.push(self.owned_by_any(&r, sources));
                self.member_cols(
                    level,
                    &format!("{r}.target_type"),
                    &format!("{r}.target_id"),
                    &format!("FROM idx_reference {r} WHERE {}", and(w)),
                )
            }
            Condition::References { param, targets } => {
                let r = self.alias("ref");
                let mut w = vec![format!("{r}.tenant = {}", self.tenant())];
                if let Some(f) = self.type_filter(&format!("{r}.type"), level.types) {
                    w.push(f);
                }
                if let Some(p) = param {
                    w.push(format!("{r}.param = {}", self.text(p)));
                }
                w.push(self.targets_any(&r, targets));
                self.member(level, &r, "idx_reference", w)
            }
            Condition::FullText { narrative, words } => {
                let d = self.dialect;
                let (from, f, predicate) = d.fulltext(*narrative, words, &mut |s| self.text(&s));
                let mut w = vec![format!("{f}.tenant = {}", self.tenant())];
                if let Some(t) = self.type_filter(&format!("{f}.type"), level.types) {
                    w.push(t);
                }
                w.push(predicate);
                self.member_cols(
                    level,
                    &format!("{f}.type"),
                    &format!("{f}.id"),
                    &format!("FROM {from} WHERE {}", and(w)),
                )
            }
            Condition::Not(inner) => format!("NOT ({})", self.condition(level, inner)),
            Condition::Compartment {
                compartment_type,
                compartment_id,
            } => {
                let c = self.alias("c");
                let mut w = vec![
                    format!("{c}.tenant = {}", self.tenant()),
                    format!("{c}.compartment_type = {}", self.text(compartment_type)),
                    format!("{c}.compartment_id = {}", self.text(compartment_id)),
                ];
                // One compartment's rows are few: past a handful of types,
                // filter them rather than seek each type.
                let type_col = if level.types.len() > crate::select::SEEK_TYPES {
                    self.dialect.unindexed(&format!("{c}.type"))
                } else {
                    format!("{c}.type")
                };
                if let Some(f) = self.type_filter(&type_col, level.types) {
                    w.push(f);
                }
                self.member(level, &c, "compartment", w)
            }
            Condition::InCompartmentOfType { compartment_type } => {
                let c = self.alias("c");
                let mut w = vec![
                    format!("{c}.tenant = {}", self.tenant()),
                    format!("{c}.compartment_type = {}", self.text(compartment_type)),
                ];
                if let Some(f) = self.type_filter(&format!("{c}.type"), level.types) {
                    w.push(f);
                }
                self.member(level, &c, "compartment", w)
            }
            Condition::Types(types) if types.is_empty() => "1 = 0".to_string(),
            Condition::Types(types) => {
                format!("{} IN ({})", level.type_col, self.text_list(types))
            }
            Condition::Any(list) if list.is_empty() => "1 = 0".to_string(),
            Condition::Any(list) => {
                let parts: Vec<String> = list.iter().map(|c| self.condition(level, c)).collect();
                format!("({})", parts.join(" OR "))
            }
            Condition::All(list) if list.is_empty() => "1 = 1".to_string(),
            Condition::All(list) => {
                let parts: Vec<String> = list.iter().map(|c| self.condition(level, c)).collect();
                format!("({})", parts.join(" AND "))
            }
            Condition::Never => "1 = 0".to_string(),
            Condition::Always => "1 = 1".to_string(),
        }
    }

    /// `alias.tenant = ? AND alias.type … AND alias.param = ?`.
    fn index_where(
        &mut self,
        alias: &str,
        _t: IndexTable,
        types: &[String],
        param: &str,
    ) -> Vec<String> {
        let mut w = vec![format!("{alias}.tenant = {}", self.tenant())];
        if let Some(f) = self.type_filter(&format!("{alias}.type"), types) {
            w.push(f);
        }
        w.push(format!("{alias}.param = {}", self.text(param)));
        w
    }

    /// [`Builder::index_where`] and the row test: the index rows of `param`
    /// in table `t` (alias `alias`) that pass `test`.
    pub(crate) fn row_where(
        &mut self,
        alias: &str,
        t: IndexTable,
        types: &[String],
        param: &str,
        test: &RowTest,
    ) -> Vec<String> {
        let mut w = self.index_where(alias, t, types, param);
        w.push(self.row_test(t, alias, test));
        w
    }

    /// `level` is among the (type, id) of the rows of `tbl alias WHERE w`.
    fn member(&mut self, level: &Level<'_>, alias: &str, tbl: &str, w: Vec<String>) -> String {
        self.member_cols(
            level,
            &format!("{alias}.type"),
            &format!("{alias}.id"),
            &format!("FROM {tbl} {alias} WHERE {}", and(w)),
        )
    }

    fn member_cols(
        &mut self,
        level: &Level<'_>,
        type_col: &str,
        id_col: &str,
        from: &str,
    ) -> String {
        member_of_any(
            level,
            &[(type_col.to_string(), id_col.to_string(), from.to_string())],
        )
    }

    /// `level` is a live resource of its types meeting every condition.
    fn level_member(&mut self, level: &Level<'_>, inner: &[Condition]) -> String {
        // One plain index condition: the index rows alone say it (rows
        // exist only for live resources).
        if let [Condition::Row {
            table: t,
            param,
            test,
            negate: false,
        }] = inner
        {
            if !level.types.is_empty() {
                let i = self.alias("i");
                let w = self.row_where(&i, *t, level.types, param, test);
                return self.member(level, &i, table(*t), w);
            }
        }
        let r = self.alias("r");
        let inner_level = Level {
            type_col: format!("{r}.type"),
            id_col: format!("{r}.id"),
            types: level.types,
            res: Some(r.clone()),
        };
        let mut w = vec![format!("{r}.tenant = {}", self.tenant())];
        if let Some(f) = self.type_filter(&format!("{r}.type"), level.types) {
            w.push(f);
        }
        w.push(format!("{r}.kind <> 'delete'"));
        w.extend(self.conditions(&inner_level, inner));
        self.member(level, &r, "resources", w)
    }

    /// `SELECT rid` of the live resources of `types` meeting every condition
    /// (dialects that link index rows by `rid`).
    fn rids_matching(&mut self, types: &[String], inner: &[Condition]) -> String {
        if let [Condition::Row {
            table: t,
            param,
            test,
            negate: false,
        }] = inner
        {
            let i = self.alias("i");
            let w = self.row_where(&i, *t, types, param, test);
            return format!("SELECT {i}.rid FROM {} {i} WHERE {}", table(*t), and(w));
        }
        let r = self.alias("r");
        let level = Level {
            type_col: format!("{r}.type"),
            id_col: format!("{r}.id"),
            types,
            res: Some(r.clone()),
        };
        let mut w = vec![format!("{r}.tenant = {}", self.tenant())];
        if let Some(f) = self.type_filter(&format!("{r}.type"), types) {
            w.push(f);
        }
        w.push(format!("{r}.kind <> 'delete'"));
        w.extend(self.conditions(&level, inner));
        format!("SELECT {r}.rid FROM resources {r} WHERE {}", and(w))
    }

    /// Index row `r` belongs to one of `owners` (grouped by type).
    fn owned_by_any(&mut self, r: &str, owners: &[(String, String)]) -> String {
        let groups = group_by_type(owners);
        if groups.is_empty() {
            return "1 = 0".to_string();
        }
        let d = self.dialect;
        let bound: Vec<(String, String)> = groups
            .iter()
            .map(|(t, ids)| (self.text(t), self.text_list(ids)))
            .collect();
        d.rows_owned_by(r, &bound)
    }

    /// Reference row `r` points at one of `targets` (grouped by type).
    fn targets_any(&mut self, r: &str, targets: &[(String, String)]) -> String {
        let groups = group_by_type(targets);
        if groups.is_empty() {
            return "1 = 0".to_string();
        }
        let parts: Vec<String> = groups
            .iter()
            .map(|(t, ids)| {
                format!(
                    "({r}.target_type = {} AND {r}.target_id IN ({}))",
                    self.text(t),
                    self.text_list(ids)
                )
            })
            .collect();
        format!("({})", parts.join(" OR "))
    }

    pub(crate) fn row_test(&mut self, t: IndexTable, alias: &str, test: &RowTest) -> String {
        let col = |c: Column| format!("{alias}.{}", column(c));
        let numeric = |c: Column| is_numeric(t, c);
        self.test(&col, &numeric, test)
    }

    fn test(
        &mut self,
        col: &dyn Fn(Column) -> String,
        numeric: &dyn Fn(Column) -> bool,
        test: &RowTest,
    ) -> String {
        let d = self.dialect;
        match test {
            RowTest::Cmp(c, op, v) => {
                let ph = self.bind(v.clone());
                let rhs = if numeric(*c) && matches!(v, SqlValue::Real(_)) {
                    d.real_param(&ph)
                } else {
                    ph
                };
                format!("{} {} {rhs}", col(*c), op_text(*op))
            }
            RowTest::IsNull(c) => format!("{} IS NULL", col(*c)),
            RowTest::StartsWith(c, prefix) => {
                d.starts_with(&col(*c), prefix, &mut |s| self.text(&s))
            }
            RowTest::Contains(c, needle) => {
                let ph = self.text(needle);
                d.contains(&col(*c), &ph)
            }
            RowTest::Like(c, parts) => d.like(&col(*c), parts, &mut |s| self.text(&s)),
            RowTest::In(_, values) if values.is_empty() => "1 = 0".to_string(),
            RowTest::In(c, values) => {
                let list: Vec<String> = values.iter().map(|v| self.bind(v.clone())).collect();
                format!("{} IN ({})", col(*c), list.join(", "))
            }
            RowTest::And(list) if list.is_empty() => "1 = 1".to_string(),
            RowTest::And(list) => {
                let parts: Vec<String> = list.iter().map(|t| self.test(col, numeric, t)).collect();
                format!("({})", parts.join(" AND "))
            }
            RowTest::Or(list) if list.is_empty() => "1 = 0".to_string(),
            RowTest::Or(list) => {
                let parts: Vec<String> = list.iter().map(|t| self.test(col, numeric, t)).collect();
                format!("({})", parts.join(" OR "))
            }
            RowTest::Not(inner) => format!("NOT ({})", self.test(col, numeric, inner)),
        }
    }
}

fn negated(sql: String, negate: bool) -> String {
    if negate {
        format!("NOT ({sql})")
    } else {
        sql
    }
}

fn op_text(op: concord_store::search::CmpOp) -> &'static str {
    use concord_store::search::CmpOp::*;
    match op {
        Eq => "=",
        Ne => "<>",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
    }
}

/// `(type, [ids])` in first-seen order of type.
fn group_by_type(keys: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (t, id) in keys {
        match groups.iter_mut().find(|(g, _)| g == t) {
            Some((_, ids)) => ids.push(id.clone()),
            None => groups.push((t.clone(), vec![id.clone()])),
        }
    }
    groups
}

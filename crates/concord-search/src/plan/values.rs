//! One parameter filter (its OR-ed values) → one condition. The matching
//! rules follow the R4 search page (http://hl7.org/fhir/R4/search.html):
//!
//! - date: the value's range is `[low, high]`, the search value's `[sl, sh]`
//!   (both from their precision). eq: inside; ne: not inside; gt: `high > sh`;
//!   lt: `low < sl`; ge: gt or eq; le: lt or eq; sa: `low > sh`;
//!   eb: `high < sl`; ap: overlaps the search range widened by a tenth of its
//!   distance from now.
//! - number/quantity: eq/ne use the value's implicit precision range
//!   `[lo, hi)`; gt/lt/ge/le/sa/eb compare with the number as written;
//!   ap is within 10% of it. Quantities with a UCUM unit also match in
//!   canonical units.
//! - string: starts with (normalized); `:exact` equal as written;
//!   `:contains` substring (normalized).

use concord_fhir::{Issue, IssueType};
use concord_store::search::{CmpOp, Column, Condition, IndexTable, LikePart, RowTest, SqlValue};

use super::{not_supported, table_of, PlanContext};
use crate::extract::{CANONICAL_SUFFIX, IDENTIFIER_SUFFIX, OF_TYPE_SUFFIX, TEXT_SUFFIX};
use crate::normalize::normalize;
use crate::query::{
    DateValue, Modifier, NumberValue, ParamFilter, Prefix, QuantityValue, ReferenceValue,
    SearchValue, TokenSystem, TokenValue,
};
use crate::registry::ParamType;
use crate::ucum::{canonical, UCUM};

pub(super) fn param_condition(
    p: &ParamFilter,
    rt: Option<&str>,
    cx: &PlanContext,
) -> Result<Condition, Issue> {
    if let Some(def) = rt.and_then(|t| crate::registry::param(t, &p.code)) {
        if !def.union_of.is_empty() {
            return union_condition(p, &def.union_of, rt, cx);
        }
    }
    if p.kind == ParamType::Composite {
        let def = rt.and_then(|t| crate::registry::param(t, &p.code));
        if let Some(def) = def.filter(|d| d.splits_into_components()) {
            return split_composite_condition(p, def, rt, cx);
        }
    }
    if p.modifier == Some(Modifier::Missing) {
        let missing = matches!(p.values.first(), Some(SearchValue::Missing(true)));
        return match p.code.as_str() {
            // Every resource has an id and a last-updated instant.
            "_id" | "_lastUpdated" => Ok(if missing {
                Condition::Never
            } else {
                Condition::Always
            }),
            "_text" | "_content" => {
                let any_text = Condition::FullText {
                    narrative: p.code == "_text",
                    words: Vec::new(),
                };
                Ok(if missing {
                    Condition::Not(Box::new(any_text))
                } else {
                    any_text
                })
            }
            // A reference given only by identifier is a value too.
            _ if p.kind == ParamType::Reference => {
                let any = Condition::Any(vec![
                    Condition::Present {
                        table: IndexTable::Reference,
                        param: p.code.clone(),
                        present: true,
                    },
                    Condition::Present {
                        table: IndexTable::Token,
                        param: format!("{}{IDENTIFIER_SUFFIX}", p.code),
                        present: true,
                    },
                ]);
                Ok(if missing {
                    Condition::Not(Box::new(any))
                } else {
                    any
                })
            }
            _ => Ok(Condition::Present {
                table: table_of(p.kind).ok_or_else(|| not_supported(p, ":missing"))?,
                param: p.code.clone(),
                present: !missing,
            }),
        };
    }
    match p.code.as_str() {
        "_id" => return id_condition(p),
        "_lastUpdated" => {
            let tests = p
                .values
                .iter()
                .map(|v| match v {
                    SearchValue::Date(d) => Ok(date_test(d, cx.now)),
                    _ => Err(not_supported(p, "this value")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Condition::LastUpdated(RowTest::Or(tests)));
        }
        _ => {}
    }
    let (param, table_kind, negate) = match (&p.kind, &p.modifier) {
        (ParamType::Token, Some(Modifier::Text)) => {
            (format!("{}{TEXT_SUFFIX}", p.code), ParamType::String, false)
        }
        (ParamType::Token, Some(Modifier::OfType)) => (
            format!("{}{OF_TYPE_SUFFIX}", p.code),
            ParamType::Token,
            false,
        ),
        (ParamType::Reference, Some(Modifier::Identifier)) => (
            format!("{}{IDENTIFIER_SUFFIX}", p.code),
            ParamType::Token,
            false,
        ),
        (ParamType::Token, Some(Modifier::Not | Modifier::NotIn)) => {
            (p.code.clone(), ParamType::Token, true)
        }
        (ParamType::Special, None) if matches!(p.code.as_str(), "_text" | "_content") => {
            return Ok(fulltext_condition(p));
        }
        (ParamType::Special, _) => {
            return Err(Issue::error(
                IssueType::NotSupported,
                format!("the special parameter {} is not supported", p.code),
            ))
        }
        (ParamType::Quantity, None) => return quantity_condition(p),
        (ParamType::Composite, None) => return composite_condition(p),
        (ParamType::Composite, Some(_)) => {
            return Err(not_supported(p, "this modifier on a composite"))
        }
        (kind, _) => (p.code.clone(), *kind, false),
    };
    let table = table_of(table_kind).ok_or_else(|| not_supported(p, "this parameter"))?;
    let tests = p
        .values
        .iter()
        .map(|v| value_test(p, v, cx))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Condition::Row {
        table,
        param,
        test: RowTest::Or(tests),
        negate,
    })
}

/// `_text` / `_content`: any value (OR) whose words all appear.
fn fulltext_condition(p: &ParamFilter) -> Condition {
    let narrative = p.code == "_text";
    Condition::Any(
        p.values
            .iter()
            .map(|v| {
                let term = match v {
                    SearchValue::String(s) => s.as_str(),
                    _ => "",
                };
                let words = crate::extract::fulltext::words(term);
                if words.is_empty() {
                    Condition::Never
                } else {
                    Condition::FullText { narrative, words }
                }
            })
            .collect(),
    )
}

/// A union parameter (Observation `combo-code` = `code` | `component-code`,
/// see `union_params`) from its parts' rows: a resource matches when one
/// part does — except for the forms that ask for no matching value
/// (`:not`, `:not-in`, `:missing=true`), which every part must give.
fn union_condition(
    p: &ParamFilter,
    parts: &[&str],
    rt: Option<&str>,
    cx: &PlanContext,
) -> Result<Condition, Issue> {
    let conditions = parts
        .iter()
        .map(|part| {
            let mut one = p.clone();
            one.code = (*part).to_string();
            param_condition(&one, rt, cx)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let none_wanted = match p.modifier {
        Some(Modifier::Not | Modifier::NotIn) => true,
        Some(Modifier::Missing) => matches!(p.values.first(), Some(SearchValue::Missing(true))),
        _ => false,
    };
    Ok(if none_wanted {
        Condition::All(conditions)
    } else {
        Condition::Any(conditions)
    })
}

fn id_condition(p: &ParamFilter) -> Result<Condition, Issue> {
    let ids = p
        .values
        .iter()
        .map(|v| match v {
            SearchValue::Token(TokenValue {
                code: Some(code), ..
            }) => Ok(code.clone()),
            SearchValue::String(s) => Ok(s.clone()),
            _ => Err(Issue::error(IssueType::Invalid, "_id needs ids")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    match p.modifier {
        None => Ok(Condition::Id(ids)),
        Some(_) => Err(not_supported(p, "a modifier on _id")),
    }
}

fn value_test(p: &ParamFilter, v: &SearchValue, cx: &PlanContext) -> Result<RowTest, Issue> {
    Ok(match v {
        SearchValue::String(s) => match (&p.kind, &p.modifier) {
            (_, Some(Modifier::Exact)) => RowTest::Cmp(Column::ValueExact, CmpOp::Eq, text(s)),
            (_, Some(Modifier::Contains)) => RowTest::Contains(Column::ValueNorm, normalize(s)),
            _ => RowTest::StartsWith(Column::ValueNorm, normalize(s)),
        },
        SearchValue::Token(t) => token_test(t),
        SearchValue::OfType {
            system,
            code,
            value,
        } => RowTest::And(vec![
            RowTest::Cmp(Column::System, CmpOp::Eq, text(system)),
            RowTest::Cmp(Column::Code, CmpOp::Eq, text(&format!("{code}|{value}"))),
        ]),
        SearchValue::Uri(url) if matches!(p.modifier, Some(Modifier::In | Modifier::NotIn)) => {
            value_set_test(p, url)?
        }
        SearchValue::Uri(u) => match p.modifier {
            Some(Modifier::Below) => RowTest::StartsWith(Column::Value, u.clone()),
            Some(Modifier::Above) => RowTest::In(
                Column::Value,
                uri_ancestors(u).into_iter().map(SqlValue::Text).collect(),
            ),
            None => RowTest::Cmp(Column::Value, CmpOp::Eq, text(u)),
            Some(_) => return Err(not_supported(p, "this modifier")),
        },
        SearchValue::Date(d) => date_test(d, cx.now),
        SearchValue::Number(n) => number_test(Column::Value, n.prefix, n),
        SearchValue::Quantity(q) => quantity_tests(q).0,
        SearchValue::Reference(r) => reference_test(r, p, cx),
        SearchValue::Composite(_) => return Err(not_supported(p, "a composite value here")),
        SearchValue::Missing(_) => return Err(not_supported(p, ":missing here")),
    })
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

fn token_test(t: &TokenValue) -> RowTest {
    let mut parts = Vec::new();
    if let Some(code) = &t.code {
        parts.push(RowTest::Cmp(Column::Code, CmpOp::Eq, text(code)));
    }
    match &t.system {
        TokenSystem::Any => {}
        TokenSystem::None => parts.push(RowTest::IsNull(Column::System)),
        TokenSystem::Is(s) => parts.push(RowTest::Cmp(Column::System, CmpOp::Eq, text(s))),
    }
    RowTest::And(parts)
}

/// `:in` / `:not-in`: the (system, code) pairs of a locally expanded value set.
fn value_set_test(p: &ParamFilter, url: &str) -> Result<RowTest, Issue> {
    let Some(systems) = concord_fhir::definitions::value_set_codes(url) else {
        return Err(Issue::error(
            IssueType::NotSupported,
            format!(
                "{}: the value set '{url}' is not known to this server (only the R4 \
                 required-binding value sets are expanded locally)",
                p.code
            ),
        ));
    };
    Ok(RowTest::Or(
        systems
            .into_iter()
            .map(|(system, codes)| {
                RowTest::And(vec![
                    RowTest::Cmp(Column::System, CmpOp::Eq, SqlValue::Text(system)),
                    RowTest::In(
                        Column::Code,
                        codes.into_iter().map(SqlValue::Text).collect(),
                    ),
                ])
            })
            .collect(),
    ))
}

/// `http://a/b/c` → `http://a/b/c`, `http://a/b`, `http://a` (the uris a
/// value `:above` it may have).
fn uri_ancestors(u: &str) -> Vec<String> {
    let mut out = vec![u.to_string()];
    let start = u.find("://").map(|i| i + 3).unwrap_or(0);
    let mut cut = u.len();
    while let Some(i) = u[..cut].rfind('/') {
        if i < start {
            break;
        }
        out.push(u[..i].to_string());
        cut = i;
    }
    out
}

fn int(v: i64) -> SqlValue {
    SqlValue::Int(v)
}

fn date_test(d: &DateValue, now: i64) -> RowTest {
    let (sl, sh) = (d.range.low, d.range.high);
    // `low <= sh` follows from `high <= sh` (a row's low never exceeds its
    // high); said outright, it closes the index range on `low`.
    let inside = || {
        RowTest::And(vec![
            RowTest::Cmp(Column::Low, CmpOp::Ge, int(sl)),
            RowTest::Cmp(Column::Low, CmpOp::Le, int(sh)),
            RowTest::Cmp(Column::High, CmpOp::Le, int(sh)),
        ])
    };
    match d.prefix {
        Prefix::Eq => inside(),
        Prefix::Ne => RowTest::Not(Box::new(inside())),
        Prefix::Gt => RowTest::Cmp(Column::High, CmpOp::Gt, int(sh)),
        Prefix::Lt => RowTest::Cmp(Column::Low, CmpOp::Lt, int(sl)),
        Prefix::Ge => RowTest::Or(vec![
            RowTest::Cmp(Column::High, CmpOp::Gt, int(sh)),
            inside(),
        ]),
        Prefix::Le => RowTest::Or(vec![
            RowTest::Cmp(Column::Low, CmpOp::Lt, int(sl)),
            inside(),
        ]),
        Prefix::Sa => RowTest::Cmp(Column::Low, CmpOp::Gt, int(sh)),
        Prefix::Eb => RowTest::Cmp(Column::High, CmpOp::Lt, int(sl)),
        Prefix::Ap => {
            let margin = (now - sl).abs() / 10;
            RowTest::And(vec![
                RowTest::Cmp(Column::Low, CmpOp::Le, int(sh.saturating_add(margin))),
                RowTest::Cmp(Column::High, CmpOp::Ge, int(sl.saturating_sub(margin))),
            ])
        }
    }
}

fn real(v: f64) -> SqlValue {
    SqlValue::Real(v)
}

fn number_test(col: Column, prefix: Prefix, n: &NumberValue) -> RowTest {
    let in_range = || {
        RowTest::And(vec![
            RowTest::Cmp(col, CmpOp::Ge, real(n.low)),
            RowTest::Cmp(col, CmpOp::Lt, real(n.high)),
        ])
    };
    match prefix {
        Prefix::Eq => in_range(),
        Prefix::Ne => RowTest::Not(Box::new(in_range())),
        Prefix::Gt | Prefix::Sa => RowTest::Cmp(col, CmpOp::Gt, real(n.value)),
        Prefix::Lt | Prefix::Eb => RowTest::Cmp(col, CmpOp::Lt, real(n.value)),
        Prefix::Ge => RowTest::Cmp(col, CmpOp::Ge, real(n.value)),
        Prefix::Le => RowTest::Cmp(col, CmpOp::Le, real(n.value)),
        Prefix::Ap => {
            let margin = (n.value * 0.1).abs();
            RowTest::And(vec![
                RowTest::Cmp(col, CmpOp::Ge, real(n.value - margin)),
                RowTest::Cmp(col, CmpOp::Le, real(n.value + margin)),
            ])
        }
    }
}

/// A quantity value as written (against the rows as recorded) and, when
/// its unit converts, in UCUM canonical units (against the `:canonical` rows).
fn quantity_tests(q: &QuantityValue) -> (RowTest, Option<RowTest>) {
    let mut unit = Vec::new();
    if let Some(code) = &q.code {
        unit.push(RowTest::Cmp(Column::Code, CmpOp::Eq, text(code)));
    }
    if let Some(system) = &q.system {
        unit.push(RowTest::Cmp(Column::System, CmpOp::Eq, text(system)));
    }
    let mut as_written = unit;
    as_written.push(number_test(Column::Value, q.prefix, &q.number));
    let as_written = RowTest::And(as_written);
    let converted = in_canonical_units(q).map(|(n, canon)| {
        RowTest::And(vec![
            RowTest::Cmp(Column::System, CmpOp::Eq, text(UCUM)),
            RowTest::Cmp(Column::Code, CmpOp::Eq, text(canon)),
            number_test(Column::Value, q.prefix, &n),
        ])
    });
    (as_written, converted)
}

/// The search quantity's number in UCUM canonical units, and that unit,
/// when it has a UCUM (or no) system and a unit code that converts.
fn in_canonical_units(q: &QuantityValue) -> Option<(NumberValue, &'static str)> {
    let ucum = q.system.as_deref().is_none_or(|s| s == UCUM);
    let code = q.code.as_deref().filter(|_| ucum)?;
    let (value, canon) = canonical(q.number.value, code)?;
    let (low, _) = canonical(q.number.low, code)?;
    let (high, _) = canonical(q.number.high, code)?;
    let n = NumberValue {
        prefix: q.prefix,
        value,
        low,
        high,
        text: String::new(),
    };
    Some((n, canon))
}

/// Quantity values: each as written, or in canonical units.
fn quantity_condition(p: &ParamFilter) -> Result<Condition, Issue> {
    let mut written = Vec::new();
    let mut canonical_tests = Vec::new();
    for v in &p.values {
        let SearchValue::Quantity(q) = v else {
            return Err(not_supported(p, "this value"));
        };
        let (w, c) = quantity_tests(q);
        written.push(w);
        canonical_tests.extend(c);
    }
    Ok(written_or_canonical(
        IndexTable::Quantity,
        p,
        written,
        canonical_tests,
    ))
}

/// The values as written against `PARAM`'s rows, or (those with a unit
/// that converts) in UCUM canonical units against `PARAM:canonical`'s.
fn written_or_canonical(
    table: IndexTable,
    p: &ParamFilter,
    written: Vec<RowTest>,
    canonical: Vec<RowTest>,
) -> Condition {
    let as_written = Condition::Row {
        table,
        param: p.code.clone(),
        test: RowTest::Or(written),
        negate: false,
    };
    if canonical.is_empty() {
        return as_written;
    }
    Condition::Any(vec![
        as_written,
        Condition::Row {
            table,
            param: format!("{}{CANONICAL_SUFFIX}", p.code),
            test: RowTest::Or(canonical),
            negate: false,
        },
    ])
}

fn reference_test(r: &ReferenceValue, p: &ParamFilter, cx: &PlanContext) -> RowTest {
    let type_modifier = match &p.modifier {
        Some(Modifier::Type(t)) => Some(t.clone()),
        _ => None,
    };
    let local = |ty: Option<String>, id: &str| {
        let mut parts = vec![RowTest::Cmp(Column::TargetId, CmpOp::Eq, text(id))];
        if let Some(t) = ty.or(type_modifier.clone()) {
            parts.push(RowTest::Cmp(
                Column::TargetType,
                CmpOp::Eq,
                SqlValue::Text(t),
            ));
        }
        RowTest::And(parts)
    };
    match r {
        ReferenceValue::Local {
            resource_type, id, ..
        } => local(resource_type.clone(), id),
        ReferenceValue::Url(url) => {
            let base = cx.base_url.trim_end_matches('/');
            let under_base = url
                .strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.split_once('/'))
                .filter(|(t, id)| concord_fhir::is_resource_type(t) && !id.contains('/'));
            match under_base {
                Some((t, id)) if !base.is_empty() => local(Some(t.to_string()), id),
                _ => RowTest::Cmp(Column::Url, CmpOp::Eq, text(url)),
            }
        }
    }
}

/// A composite stored as its components (see
/// `SearchParamDef::splits_into_components`): each value is the AND of its
/// component conditions on the same resource; `:missing=false` means every
/// component has a value.
fn split_composite_condition(
    p: &ParamFilter,
    def: &crate::registry::SearchParamDef,
    rt: Option<&str>,
    cx: &PlanContext,
) -> Result<Condition, Issue> {
    match &p.modifier {
        None => {}
        Some(Modifier::Missing) => {
            let missing = matches!(p.values.first(), Some(SearchValue::Missing(true)));
            let all = def
                .components
                .iter()
                .map(|c| {
                    Ok(Condition::Present {
                        table: table_of(c.kind).ok_or_else(|| not_supported(p, ":missing"))?,
                        param: c.code.clone(),
                        present: true,
                    })
                })
                .collect::<Result<Vec<_>, Issue>>()?;
            let all = Condition::All(all);
            return Ok(if missing {
                Condition::Not(Box::new(all))
            } else {
                all
            });
        }
        Some(_) => return Err(not_supported(p, "this modifier on a composite")),
    }
    let mut alternatives = Vec::new();
    for v in &p.values {
        let SearchValue::Composite(parts) = v else {
            return Err(not_supported(p, "this value"));
        };
        let mut all = Vec::new();
        for (component, part) in def.components.iter().zip(parts) {
            let single = ParamFilter {
                code: component.code.clone(),
                kind: component.kind,
                modifier: None,
                values: vec![part.clone()],
            };
            all.push(param_condition(&single, rt, cx)?);
        }
        alternatives.push(Condition::All(all));
    }
    Ok(if alternatives.len() == 1 {
        alternatives.remove(0)
    } else {
        Condition::Any(alternatives)
    })
}

/// Composite values over repeating elements, stored as their components'
/// text joined by `$` (and, when the composite has one number or quantity
/// component, that value beside it): each value as written, or with its
/// quantity in UCUM canonical units against the `:canonical` rows.
fn composite_condition(p: &ParamFilter) -> Result<Condition, Issue> {
    let mut written = Vec::new();
    let mut canonical_tests = Vec::new();
    for v in &p.values {
        let SearchValue::Composite(parts) = v else {
            return Err(not_supported(p, "this value"));
        };
        written.push(composite_test(p, parts, false)?);
        canonical_tests.extend(composite_canonical_test(p, parts)?);
    }
    Ok(written_or_canonical(
        IndexTable::Composite,
        p,
        written,
        canonical_tests,
    ))
}

/// The position of the value's only number or quantity part (the
/// composite's numeric component: its value is in the `number` column).
fn numeric_part(parts: &[SearchValue]) -> Option<usize> {
    let mut numeric = parts
        .iter()
        .enumerate()
        .filter(|(_, v)| matches!(v, SearchValue::Quantity(_) | SearchValue::Number(_)));
    match (numeric.next(), numeric.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The canonical-units test of a composite value whose quantity part has a
/// unit that converts (none otherwise).
fn composite_canonical_test(
    p: &ParamFilter,
    parts: &[SearchValue],
) -> Result<Option<RowTest>, Issue> {
    let converts = numeric_part(parts).is_some_and(
        |i| matches!(&parts[i], SearchValue::Quantity(q) if in_canonical_units(q).is_some()),
    );
    if !converts {
        return Ok(None);
    }
    composite_test(p, parts, true).map(Some)
}

/// One composite value against a row: the text pattern of its parts (a
/// quantity part without a unit matches any unit) and, for the numeric part,
/// the number rules above on the `number` column — as written, or in
/// canonical units when `canonical`.
fn composite_test(
    p: &ParamFilter,
    parts: &[SearchValue],
    canonical: bool,
) -> Result<RowTest, Issue> {
    let numeric = numeric_part(parts);
    let mut pattern = Vec::new();
    let mut number = None;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            pattern.push(LikePart::Literal("$".into()));
        }
        match part {
            SearchValue::Quantity(q) if numeric == Some(i) => {
                let (n, system, code) = match in_canonical_units(q).filter(|_| canonical) {
                    Some((n, canon)) => (n, Some(UCUM), Some(canon)),
                    None => (q.number.clone(), q.system.as_deref(), q.code.as_deref()),
                };
                pattern.push(LikePart::AnyRun);
                pattern.push(LikePart::Literal("|".into()));
                pattern.push(system.map_or(LikePart::AnyRun, |s| LikePart::Literal(s.into())));
                pattern.push(LikePart::Literal("|".into()));
                pattern.push(code.map_or(LikePart::AnyRun, |c| LikePart::Literal(c.into())));
                number = Some(number_test(Column::Number, q.prefix, &n));
            }
            SearchValue::Number(n) if numeric == Some(i) => {
                pattern.push(LikePart::AnyRun);
                number = Some(number_test(Column::Number, n.prefix, n));
            }
            SearchValue::Token(t) => pattern.push(LikePart::Literal(match (&t.system, &t.code) {
                (TokenSystem::Is(s), Some(c)) => format!("{s}|{c}"),
                (_, Some(c)) => c.clone(),
                _ => return Err(not_supported(p, "a token component without a code")),
            })),
            SearchValue::String(s) => pattern.push(LikePart::Literal(normalize(s))),
            SearchValue::Reference(ReferenceValue::Local {
                resource_type, id, ..
            }) => pattern.push(LikePart::Literal(match resource_type {
                Some(t) => format!("{t}/{id}"),
                None => id.clone(),
            })),
            SearchValue::Reference(ReferenceValue::Url(u)) | SearchValue::Uri(u) => {
                pattern.push(LikePart::Literal(u.clone()))
            }
            SearchValue::Date(d) if d.prefix == Prefix::Eq => {
                pattern.push(LikePart::Literal(d.text.clone()))
            }
            SearchValue::Number(n) if n.prefix == Prefix::Eq => {
                pattern.push(LikePart::Literal(n.text.clone()))
            }
            SearchValue::Quantity(q) if q.prefix == Prefix::Eq => {
                pattern.push(LikePart::Literal(format!("{}|", q.number.value)));
                pattern.push(
                    q.system
                        .as_ref()
                        .map_or(LikePart::AnyRun, |s| LikePart::Literal(s.clone())),
                );
                pattern.push(LikePart::Literal("|".into()));
                pattern.push(
                    q.code
                        .as_ref()
                        .map_or(LikePart::AnyRun, |c| LikePart::Literal(c.clone())),
                );
            }
            SearchValue::Date(_) | SearchValue::Number(_) | SearchValue::Quantity(_) => {
                return Err(not_supported(
                    p,
                    "a prefix on a date component, or on a composite with two numeric components",
                ))
            }
            _ => return Err(not_supported(p, "this composite component")),
        }
    }
    let like = RowTest::Like(Column::Value, pattern);
    Ok(match number {
        Some(n) => RowTest::And(vec![like, n]),
        None => like,
    })
}

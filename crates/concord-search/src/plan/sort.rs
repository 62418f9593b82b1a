//! `_sort` keys → sorts over the index tables. A resource with several
//! values sorts by its smallest ascending and its largest descending
//! (dates: earliest start ascending, latest end descending).

use concord_fhir::{Issue, IssueType};
use concord_store::search::{Column, Condition, IndexTable, RowTest, SortBy, SortSpec};

use super::table_of;
use crate::query::SortKey;
use crate::registry::{self, ParamType};

pub fn sort_specs(types: &[String], keys: &[SortKey]) -> Result<Vec<SortSpec>, Issue> {
    keys.iter()
        .map(|k| {
            Ok(SortSpec {
                by: sort_by(types, &k.param)?,
                descending: k.descending,
            })
        })
        .collect()
}

/// The order of a search without `_sort`: by the matched value when a
/// condition on one type is a single starts-with string value
/// (`Patient?name=smi`, `Observation?code:text=gluc`) — what a person
/// scanning a list of names expects, and an order the string index yields
/// directly, so a first page reads only its own rows; otherwise none (type
/// and id). Several values (`name=a,b`), `:exact` and `:contains` keep the
/// id order.
pub fn default_order(types: &[String], conditions: &[Condition]) -> Vec<SortSpec> {
    if types.len() != 1 {
        return Vec::new();
    }
    conditions
        .iter()
        .find_map(|c| match c {
            Condition::Row {
                table: IndexTable::String,
                param,
                test: test @ RowTest::Or(values),
                negate: false,
            } if matches!(
                values.as_slice(),
                [RowTest::StartsWith(Column::ValueNorm, _)]
            ) =>
            {
                Some(SortSpec {
                    by: SortBy::Matched {
                        param: param.clone(),
                        test: test.clone(),
                    },
                    descending: false,
                })
            }
            _ => None,
        })
        .into_iter()
        .collect()
}

fn sort_by(types: &[String], param: &str) -> Result<SortBy, Issue> {
    match param {
        "_id" => return Ok(SortBy::Id),
        "_lastUpdated" => return Ok(SortBy::LastUpdated),
        _ => {}
    }
    let def = match types {
        [one] => registry::param(one, param),
        _ => registry::common(param),
    };
    let Some(def) = def else {
        return Err(Issue::error(
            IssueType::NotSupported,
            format!("_sort: unknown parameter '{param}'"),
        ));
    };
    if !def.union_of.is_empty() {
        return Err(Issue::error(
            IssueType::NotSupported,
            format!(
                "_sort: '{param}' is the union of {}; sort by one of them",
                def.union_of.join(", ")
            ),
        ));
    }
    let (column, column_desc) = match def.kind {
        ParamType::String => (Column::ValueNorm, Column::ValueNorm),
        ParamType::Date => (Column::Low, Column::High),
        ParamType::Token => (Column::Code, Column::Code),
        ParamType::Number | ParamType::Quantity | ParamType::Uri => (Column::Value, Column::Value),
        ParamType::Reference => (Column::TargetId, Column::TargetId),
        ParamType::Composite | ParamType::Special => {
            return Err(Issue::error(
                IssueType::NotSupported,
                format!(
                    "_sort: '{param}' is a {} parameter and cannot sort",
                    def.kind.as_str()
                ),
            ))
        }
    };
    let table = table_of(def.kind).ok_or_else(|| {
        Issue::error(
            IssueType::NotSupported,
            format!("_sort: '{param}' cannot sort"),
        )
    })?;
    // Quantities sort by magnitude: in canonical units where they convert.
    let preferred = (def.kind == ParamType::Quantity)
        .then(|| format!("{param}{}", crate::extract::CANONICAL_SUFFIX));
    Ok(SortBy::Index {
        table,
        param: param.to_string(),
        column,
        column_desc,
        preferred,
    })
}

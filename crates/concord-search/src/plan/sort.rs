//! `_sort` keys → sorts over the index tables. A resource with several
//! values sorts by its smallest ascending and its largest descending
//! (dates: earliest start ascending, latest end descending).

use concord_fhir::{Issue, IssueType};
use concord_store::search::{Column, SortBy, SortSpec};

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

//! A parsed [`SearchQuery`] → the store's [`SearchPlan`]: each filter
//! becomes conditions over the index tables written by [`crate::extract`],
//! each `_sort` key a sort over them. The matching rules of every
//! parameter type live here, once, for both backends.

mod sort;
mod values;

use concord_fhir::{Issue, IssueType};
use concord_store::search::{Condition, IndexTable, PageStart, SearchPlan};

use crate::query::{Filter, ParamFilter, SearchQuery};
use crate::registry::ParamType;

use sort::default_order;
pub use sort::sort_specs;

/// What lowering needs from outside the query.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The server's base URL: absolute references under it are local.
    pub base_url: String,
    /// Now, ms since the epoch (for `ap` on dates).
    pub now: i64,
}

/// The index table of a parameter type.
pub fn table_of(kind: ParamType) -> Option<IndexTable> {
    Some(match kind {
        ParamType::Token => IndexTable::Token,
        ParamType::String => IndexTable::String,
        ParamType::Date => IndexTable::Date,
        ParamType::Reference => IndexTable::Reference,
        ParamType::Quantity => IndexTable::Quantity,
        ParamType::Number => IndexTable::Number,
        ParamType::Uri => IndexTable::Uri,
        ParamType::Composite => IndexTable::Composite,
        ParamType::Special => return None,
    })
}

/// The plan of `query`'s filters and sort (first page of `count`).
pub fn lower(
    query: &SearchQuery,
    count: usize,
    cx: &PlanContext,
) -> Result<SearchPlan, Vec<Issue>> {
    let types = query.search_types();
    let mut problems = Vec::new();
    let mut conditions = Vec::new();
    let rt = match types.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    for f in &query.filters {
        match condition_in(f, rt, cx) {
            // Top-level ANDs flatten, so each part can drive the query.
            Ok(Condition::All(parts)) => conditions.extend(parts),
            Ok(c) => conditions.push(c),
            Err(issue) => problems.push(issue),
        }
    }
    let sort = match sort_specs(&types, &query.sort) {
        Ok(_) if query.sort.is_empty() => default_order(&types, &conditions),
        Ok(s) => s,
        Err(issue) => {
            problems.push(issue);
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SearchPlan {
        types,
        conditions,
        sort,
        count,
        start: PageStart::First,
        budget: None,
    })
}

/// The condition of one filter.
pub fn condition(f: &Filter, cx: &PlanContext) -> Result<Condition, Issue> {
    condition_in(f, None, cx)
}

/// The condition of one filter on resources of type `rt` (when known).
fn condition_in(f: &Filter, rt: Option<&str>, cx: &PlanContext) -> Result<Condition, Issue> {
    match f {
        Filter::Param(p) => values::param_condition(p, rt, cx),
        Filter::Chain {
            param,
            target_types,
            inner,
        } => Ok(Condition::Chain {
            param: param.clone(),
            target_types: target_types.clone(),
            inner: vec![condition_in(
                inner,
                match target_types.as_slice() {
                    [one] => Some(one.as_str()),
                    _ => None,
                },
                cx,
            )?],
        }),
        Filter::Has {
            resource_type,
            param,
            inner,
        } => Ok(Condition::Has {
            source_type: resource_type.clone(),
            param: param.clone(),
            inner: vec![condition_in(inner, Some(resource_type), cx)?],
        }),
    }
}

pub(crate) fn not_supported(p: &ParamFilter, what: &str) -> Issue {
    Issue::error(
        IssueType::NotSupported,
        format!("{}: {what} is not supported", p.code),
    )
}

#[cfg(test)]
mod tests;

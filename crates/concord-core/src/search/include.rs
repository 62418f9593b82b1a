//! `_include` and `_revinclude` (with `:iterate`): resources the matches
//! reference, and resources that reference the matches.

use std::collections::HashSet;

use concord_search::query::SearchQuery;
use concord_store::search::{Condition, SearchPlan};
use concord_store::{StoredVersion, TenantContext};

use crate::access::readable;
use crate::{CoreResult, Engine};

/// Most included resources per page.
pub const MAX_INCLUDED: usize = 1000;
/// Most rounds of `:iterate`.
pub const MAX_ITERATIONS: usize = 4;

fn key(v: &StoredVersion) -> (String, String) {
    (v.resource_type.clone(), v.id.clone())
}

impl Engine {
    pub(super) async fn includes(
        &self,
        ctx: &TenantContext,
        query: &SearchQuery,
        matches: &[StoredVersion],
    ) -> CoreResult<Vec<StoredVersion>> {
        if query.includes.is_empty() && query.revincludes.is_empty() {
            return Ok(Vec::new());
        }
        let mut seen: HashSet<(String, String)> = matches.iter().map(key).collect();
        let mut included = Vec::new();
        let mut frontier: Vec<(String, String)> = matches.iter().map(key).collect();
        for round in 0..=MAX_ITERATIONS {
            if frontier.is_empty() || included.len() >= MAX_INCLUDED {
                break;
            }
            let mut found = Vec::new();
            for inc in query.includes.iter().filter(|i| round == 0 || i.iterate) {
                let sources = of_type(&frontier, inc.source_type.as_deref());
                if sources.is_empty() {
                    continue;
                }
                let plan = plan_for(
                    inc.target_type.iter().cloned().collect(),
                    Condition::ReferencedBy {
                        param: inc.param.clone(),
                        sources,
                    },
                    self.search_budget(),
                );
                found.extend(self.store().search(ctx, &plan).await?.hits);
            }
            for inc in query.revincludes.iter().filter(|i| round == 0 || i.iterate) {
                let targets = of_type(&frontier, inc.target_type.as_deref());
                if targets.is_empty() {
                    continue;
                }
                let plan = plan_for(
                    inc.source_type.iter().cloned().collect(),
                    Condition::References {
                        param: inc.param.clone(),
                        targets,
                    },
                    self.search_budget(),
                );
                found.extend(self.store().search(ctx, &plan).await?.hits);
            }
            frontier.clear();
            for hit in found {
                let k = (hit.resource_type.clone(), hit.id.clone());
                if included.len() < MAX_INCLUDED && seen.insert(k.clone()) {
                    if let Some(v) = self.store().read(ctx, &k.0, &k.1).await? {
                        // Included resources pass the same read decision as reads.
                        if !v.is_deleted() && readable(ctx, &v) {
                            included.push(v);
                            frontier.push(k);
                        }
                    }
                }
            }
        }
        Ok(included)
    }
}

/// One include round's query, under the engine's search time budget.
fn plan_for(
    types: Vec<String>,
    condition: Condition,
    budget: Option<std::time::Duration>,
) -> SearchPlan {
    let mut plan = SearchPlan::new(types, MAX_INCLUDED);
    plan.conditions.push(condition);
    plan.budget = budget;
    plan
}

/// The keys of `resource_type` (all when `None`).
fn of_type(keys: &[(String, String)], resource_type: Option<&str>) -> Vec<(String, String)> {
    keys.iter()
        .filter(|(t, _)| resource_type.is_none_or(|want| want == t))
        .cloned()
        .collect()
}

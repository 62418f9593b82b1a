//! Search: a query string → a page of matches, included resources, a total
//! and cursors for the neighbouring pages. Type, system and compartment
//! searches, `Patient/$everything`, and the criteria of conditional
//! operations all run through here.

pub mod cursor;
mod everything;
mod include;

use concord_fhir::compartments::compartment_params;
use concord_fhir::{Issue, IssueType};
use concord_search::plan::{self, PlanContext};
use concord_search::query::{parse_pairs, SearchQuery, Total};
pub use concord_search::query::{Handling, Summary};
use concord_store::search::{Condition, PageStart, SearchHit, SearchPlan};
use concord_store::{timestamp, StoredVersion, TenantContext};

use crate::access::{confine_plan, readable};
use crate::{CoreError, CoreResult, Engine};

/// Page size when `_count` is not given.
pub const DEFAULT_COUNT: usize = 20;
/// The largest page served (a larger `_count` is lowered to it).
pub const MAX_COUNT: usize = 1000;
/// The query parameter that carries a page cursor.
pub const CURSOR_PARAM: &str = "_cursor";

/// A search to run.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// `None` for a system search.
    pub resource_type: Option<String>,
    /// `(Patient, 123)` for `GET /Patient/123/Observation`.
    pub compartment: Option<(String, String)>,
    /// Decoded query parameters, in order (URL query or `_search` form body).
    pub params: Vec<(String, String)>,
    pub handling: Handling,
    /// The server's base URL (absolute references under it are local).
    pub base_url: String,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// The parsed query (its accepted parameters make the links).
    pub query: SearchQuery,
    pub matches: Vec<StoredVersion>,
    /// `_include` / `_revinclude` results (and `$everything`'s referenced
    /// resources), without the matches.
    pub included: Vec<StoredVersion>,
    pub total: Option<u64>,
    /// Cursor of this page (`None` on the first).
    pub this_page: Option<String>,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// Parameters dropped under lenient handling.
    pub warnings: Vec<Issue>,
}

impl Engine {
    /// Runs a type, system or compartment search.
    pub async fn search(
        &self,
        ctx: &TenantContext,
        req: &SearchRequest,
    ) -> CoreResult<SearchOutcome> {
        if let Some(rt) = &req.resource_type {
            Engine::check_type(rt)?;
        }
        let (params, start) = take_cursor(&req.params)?;
        let query = parse_pairs(req.resource_type.as_deref(), &params, req.handling)
            .map_err(CoreError::BadRequest)?;
        let count = page_size(&query, DEFAULT_COUNT);
        let mut plan =
            plan::lower(&query, count, &context(&req.base_url)).map_err(CoreError::BadRequest)?;
        if let Some((ctype, cid)) = &req.compartment {
            plan.conditions
                .push(compartment(ctype, cid, req.resource_type.as_deref())?);
        }
        plan.start = start;
        confine_plan(ctx, &mut plan)?;
        self.run(ctx, query, plan).await
    }

    /// Runs a lowered plan: page, total, cursors, includes.
    async fn run(
        &self,
        ctx: &TenantContext,
        query: SearchQuery,
        mut plan: SearchPlan,
    ) -> CoreResult<SearchOutcome> {
        plan.budget = self.search_budget();
        let warnings = query.warnings.clone();
        let wants_count = matches!(query.total, Some(Total::Accurate | Total::Estimate))
            || query.summary == Some(Summary::Count)
            || plan.count == 0;
        if plan.count == 0 || query.summary == Some(Summary::Count) {
            let total = self.store().count(ctx, &plan).await?;
            return Ok(SearchOutcome {
                query,
                matches: Vec::new(),
                included: Vec::new(),
                total: Some(total),
                this_page: None,
                next: None,
                previous: None,
                warnings,
            });
        }
        let page = self.store().search(ctx, &plan).await?;
        let forward = !matches!(plan.start, PageStart::Before(_));
        let first_page = plan.start == PageStart::First;
        let (has_next, has_previous) = if forward {
            (page.more, !first_page)
        } else {
            (true, page.more)
        };
        let next = has_next
            .then(|| page.hits.last().map(|h| PageStart::After(h.key())))
            .flatten();
        let previous = has_previous
            .then(|| page.hits.first().map(|h| PageStart::Before(h.key())))
            .flatten();
        let total = if wants_count {
            Some(self.store().count(ctx, &plan).await?)
        } else if query.total.is_none() && first_page && !page.more {
            Some(page.hits.len() as u64)
        } else {
            None
        };
        let matches = self.load(ctx, &page.hits).await?;
        let included = self.includes(ctx, &query, &matches).await?;
        Ok(SearchOutcome {
            query,
            matches,
            included,
            total,
            this_page: cursor::encode(&plan.start),
            next: next.as_ref().and_then(cursor::encode),
            previous: previous.as_ref().and_then(cursor::encode),
            warnings,
        })
    }

    /// The current versions of the hits, in order (a resource deleted since
    /// the page was chosen is left out).
    async fn load(
        &self,
        ctx: &TenantContext,
        hits: &[SearchHit],
    ) -> CoreResult<Vec<StoredVersion>> {
        let keys: Vec<(String, String)> = hits
            .iter()
            .map(|h| (h.resource_type.clone(), h.id.clone()))
            .collect();
        let read = self.store().read_many(ctx, &keys).await?;
        Ok(read
            .into_iter()
            .flatten()
            .filter(|v| !v.is_deleted() && readable(ctx, v))
            .collect())
    }

    /// Ids of live resources matching a conditional operation's criteria
    /// (any search parameters; at most `limit`).
    pub async fn find_ids(
        &self,
        ctx: &TenantContext,
        resource_type: &str,
        query: &str,
        limit: usize,
    ) -> CoreResult<Vec<String>> {
        Engine::check_type(resource_type)?;
        let parsed = concord_search::parse(Some(resource_type), query, Handling::Strict)
            .map_err(CoreError::BadRequest)?;
        if parsed.filters.is_empty() {
            return Err(CoreError::bad_request(
                "conditional operation without criteria",
            ));
        }
        let mut plan = plan::lower(&parsed, limit, &context("")).map_err(CoreError::BadRequest)?;
        plan.budget = self.search_budget();
        confine_plan(ctx, &mut plan)?;
        let page = self.store().search(ctx, &plan).await?;
        Ok(page.hits.into_iter().map(|h| h.id).collect())
    }
}

fn context(base_url: &str) -> PlanContext {
    PlanContext {
        base_url: base_url.to_string(),
        now: timestamp::now_millis(),
    }
}

/// `_count` within bounds (`_summary=count` asks for no entries).
fn page_size(query: &SearchQuery, default: usize) -> usize {
    if query.summary == Some(Summary::Count) {
        return 0;
    }
    query
        .count
        .map(|c| (c as usize).min(MAX_COUNT))
        .unwrap_or(default)
}

/// Splits the page cursor off the parameters.
fn take_cursor(params: &[(String, String)]) -> CoreResult<(Vec<(String, String)>, PageStart)> {
    let mut start = PageStart::First;
    let mut rest = Vec::with_capacity(params.len());
    for (k, v) in params {
        if k == CURSOR_PARAM {
            start = cursor::decode(v)?;
        } else {
            rest.push((k.clone(), v.clone()));
        }
    }
    Ok((rest, start))
}

/// The condition "member of compartment `ctype/cid`", after checking the
/// searched type can be in it.
fn compartment(ctype: &str, cid: &str, resource_type: Option<&str>) -> CoreResult<Condition> {
    Engine::check_type(ctype)?;
    Engine::check_id(cid)?;
    if let Some(rt) = resource_type {
        if compartment_params(ctype, rt).is_empty() && rt != ctype {
            return Err(CoreError::BadRequest(vec![Issue::error(
                IssueType::NotSupported,
                format!("{rt} resources are not in the {ctype} compartment"),
            )]));
        }
    }
    Ok(Condition::Compartment {
        compartment_type: ctype.to_string(),
        compartment_id: cid.to_string(),
    })
}

/// A search parameter offered for a type, for the CapabilityStatement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedParam {
    pub code: String,
    pub url: String,
    pub kind: String,
    /// Target types (reference parameters).
    pub targets: Vec<String>,
}

/// Every search parameter of `resource_type` this server searches on (of
/// the special ones, `_text` and `_content`).
pub fn offered_params(resource_type: &str) -> Vec<OfferedParam> {
    let Some(params) = concord_search::registry::for_type(resource_type) else {
        return Vec::new();
    };
    params
        .params()
        .iter()
        .filter(|p| {
            let fulltext = matches!(p.code, "_text" | "_content");
            fulltext
                || (p.kind != concord_search::ParamType::Special
                    && (p.is_indexed() || p.from_resource_row))
        })
        .map(|p| OfferedParam {
            code: p.code.to_string(),
            url: p.url.to_string(),
            kind: p.kind.as_str().to_string(),
            targets: p.targets.to_vec(),
        })
        .collect()
}

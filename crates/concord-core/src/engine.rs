//! The engine: the one entry point for use cases over a store.

use std::sync::Arc;
use std::time::Duration;

use concord_fhir::outcome::operation_outcome;
use concord_fhir::{is_resource_type, Issue, IssueType};
use concord_store::Store;
use serde_json::Value;

use crate::index::IndexPolicy;
use crate::policy::cache::PolicyCache;
use crate::{CoreError, CoreResult};

/// Holds the store; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    index: IndexPolicy,
    /// Care teams and consent rules kept between requests.
    policy_cache: Arc<PolicyCache>,
    /// How long one search query may run (see [`Engine::with_search_budget`]).
    search_budget: Option<Duration>,
}

/// The search time budget unless configured otherwise.
pub const DEFAULT_SEARCH_BUDGET: Duration = Duration::from_secs(30);

impl Engine {
    /// An engine that stores the `identifier` index rows (see [`IndexPolicy`]).
    pub fn new(store: Arc<dyn Store>) -> Engine {
        Engine {
            store,
            index: IndexPolicy::default(),
            policy_cache: Arc::default(),
            search_budget: Some(DEFAULT_SEARCH_BUDGET),
        }
    }

    /// The same engine with another search time budget: a search, count,
    /// include or conditional-criteria query running longer is stopped by
    /// the database and answered with a `too-costly` OperationOutcome (400),
    /// so one hostile or careless query cannot hold a connection and a core
    /// for minutes. `None`: no limit.
    pub fn with_search_budget(mut self, budget: Option<Duration>) -> Engine {
        self.search_budget = budget;
        self
    }

    pub fn search_budget(&self) -> Option<Duration> {
        self.search_budget
    }

    /// The same engine with another index policy.
    pub fn with_index_policy(mut self, index: IndexPolicy) -> Engine {
        self.index = index;
        self
    }

    pub fn index_policy(&self) -> IndexPolicy {
        self.index
    }

    pub(crate) fn policy_cache(&self) -> &PolicyCache {
        &self.policy_cache
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Fails with `UnknownType` unless `resource_type` is an R4 resource type.
    pub fn check_type(resource_type: &str) -> CoreResult<()> {
        if is_resource_type(resource_type) {
            Ok(())
        } else {
            Err(CoreError::UnknownType(resource_type.to_string()))
        }
    }

    /// Fails with `BadRequest` unless `id` is a valid FHIR id.
    pub fn check_id(id: &str) -> CoreResult<()> {
        if concord_fhir::ids::is_valid_id(id) {
            Ok(())
        } else {
            Err(CoreError::BadRequest(vec![Issue::error(
                IssueType::Value,
                "ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'",
            )
            .at("id")]))
        }
    }

    /// Checks a resource body for `resource_type`: resourceType agrees, then
    /// full validation. Returns the warnings of a valid resource.
    pub fn validate(resource_type: &str, body: &Value) -> CoreResult<Vec<Issue>> {
        let Some(obj) = body.as_object() else {
            return Err(CoreError::bad_request("the body must be a JSON object"));
        };
        match obj.get("resourceType").and_then(Value::as_str) {
            Some(t) if t == resource_type => {}
            Some(t) => {
                return Err(CoreError::BadRequest(vec![Issue::error(
                    IssueType::Invalid,
                    format!("resourceType '{t}' does not match the URL's type '{resource_type}'"),
                )
                .at("resourceType")]))
            }
            None => {
                return Err(CoreError::BadRequest(vec![Issue::error(
                    IssueType::Required,
                    "resourceType is missing",
                )
                .at("resourceType")]))
            }
        }
        let issues = concord_validation::validate_resource(body);
        if concord_fhir::outcome::has_failures(&issues) {
            Err(CoreError::Invalid(issues))
        } else {
            Ok(issues)
        }
    }

    /// The OperationOutcome for a list of issues.
    pub fn outcome(issues: &[Issue]) -> Value {
        operation_outcome(issues)
    }
}

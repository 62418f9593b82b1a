//! Validation of FHIR R4 resources (JSON) against the base R4 definitions.
#![forbid(unsafe_code)]

use concord_fhir::{is_resource_type, Issue, IssueType};
use serde_json::Value;

/// Validates one resource and returns every problem found (errors and warnings).
/// An empty result, or one with only warnings, means the resource may be stored.
pub fn validate_resource(resource: &Value) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(obj) = resource.as_object() else {
        issues.push(Issue::error(
            IssueType::Structure,
            "a resource must be a JSON object",
        ));
        return issues;
    };
    match obj.get("resourceType").and_then(Value::as_str) {
        Some(t) if is_resource_type(t) => {}
        Some(t) => issues.push(
            Issue::error(
                IssueType::NotSupported,
                format!("unknown resource type '{t}'"),
            )
            .at("resourceType"),
        ),
        None => issues
            .push(Issue::error(IssueType::Required, "resourceType is missing").at("resourceType")),
    }
    issues
}

//! Result parameters: `_include`, `_revinclude`, `_sort`, `_count`,
//! `_total`, `_summary`, `_elements`, `_type`, `_format`, `_pretty`.

use super::model::*;
use super::{invalid, unknown, Problem};
use crate::registry::{self, ParamType};
use concord_fhir::{is_resource_type, Issue, IssueType};

const CONTROLS: &[&str] = &[
    "_include",
    "_include:iterate",
    "_include:recurse",
    "_revinclude",
    "_revinclude:iterate",
    "_revinclude:recurse",
    "_sort",
    "_count",
    "_total",
    "_summary",
    "_elements",
    "_format",
    "_pretty",
];

pub(super) fn is_control(name: &str) -> bool {
    CONTROLS.contains(&name)
}

/// `_type=A,B`: only for a system search.
pub(super) fn types(resource_type: Option<&str>, value: &str) -> Result<Vec<String>, Issue> {
    if resource_type.is_some() {
        return Err(Issue::error(
            IssueType::Invalid,
            "_type is only allowed in a system search",
        ));
    }
    value
        .split(',')
        .map(|t| {
            if is_resource_type(t) {
                Ok(t.to_string())
            } else {
                Err(Issue::error(
                    IssueType::Invalid,
                    format!("_type: unknown resource type '{t}'"),
                ))
            }
        })
        .collect()
}

pub(super) fn apply(q: &mut SearchQuery, name: &str, value: &str) -> Result<(), Problem> {
    match name {
        "_count" => {
            q.count = Some(value.parse().map_err(|_| {
                invalid(format!(
                    "_count must be a non-negative integer, not '{value}'"
                ))
            })?)
        }
        "_total" => {
            q.total = Some(match value {
                "none" => Total::None,
                "estimate" => Total::Estimate,
                "accurate" => Total::Accurate,
                _ => {
                    return Err(invalid(format!(
                        "_total must be none, estimate or accurate, not '{value}'"
                    )))
                }
            })
        }
        "_summary" => {
            q.summary = Some(match value {
                "true" => Summary::True,
                "text" => Summary::Text,
                "data" => Summary::Data,
                "count" => Summary::Count,
                "false" => Summary::False,
                _ => {
                    return Err(invalid(format!(
                        "_summary must be true, text, data, count or false, not '{value}'"
                    )))
                }
            })
        }
        "_elements" => {
            for e in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if !e
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                {
                    return Err(invalid(format!("_elements: '{e}' is not an element name")));
                }
                q.elements.push(e.to_string());
            }
        }
        "_format" => q.format = Some(value.to_string()),
        "_pretty" => {
            q.pretty = Some(match value {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(invalid(format!(
                        "_pretty must be true or false, not '{value}'"
                    )))
                }
            })
        }
        "_sort" => sort(q, value)?,
        _ => {
            let reverse = name.starts_with("_revinclude");
            let iterate = name.contains(':');
            let inc = include(q, value, reverse, iterate)?;
            if reverse {
                q.revincludes.push(inc);
            } else {
                q.includes.push(inc);
            }
        }
    }
    Ok(())
}

fn sort(q: &mut SearchQuery, value: &str) -> Result<(), Problem> {
    let types = q.search_types();
    for key in value.split(',').filter(|k| !k.is_empty()) {
        let (descending, code) = match key.strip_prefix('-') {
            Some(c) => (true, c),
            None => (false, key),
        };
        let known = if types.is_empty() {
            registry::common(code).is_some()
        } else {
            types.iter().all(|t| {
                registry::param(t, code)
                    .is_some_and(|p| !matches!(p.kind, ParamType::Composite | ParamType::Special))
            })
        };
        if !known {
            return Err(unknown(format!("_sort: unknown search parameter '{code}'")));
        }
        q.sort.push(SortKey {
            param: code.to_string(),
            descending,
        });
    }
    Ok(())
}

fn include(q: &SearchQuery, value: &str, reverse: bool, iterate: bool) -> Result<Include, Problem> {
    let what = if reverse { "_revinclude" } else { "_include" };
    if value == "*" {
        return Ok(Include {
            source_type: None,
            param: None,
            target_type: None,
            iterate,
        });
    }
    let mut parts = value.split(':');
    let (Some(source), Some(code)) = (parts.next(), parts.next()) else {
        return Err(invalid(format!(
            "{what} takes Type:parameter[:Target] or *, not '{value}'"
        )));
    };
    let target = parts.next();
    if parts.next().is_some() {
        return Err(invalid(format!("{what}: too many parts in '{value}'")));
    }
    if !is_resource_type(source) {
        return Err(invalid(format!("{what}: unknown resource type '{source}'")));
    }
    if !reverse && !iterate {
        let types = q.search_types();
        if !types.is_empty() && !types.iter().any(|t| t == source) {
            return Err(invalid(format!(
                "{what}: '{source}' is not a searched type (use {what}:iterate)"
            )));
        }
    }
    let param = if code == "*" {
        None
    } else {
        let p = registry::param(source, code)
            .filter(|p| p.kind == ParamType::Reference)
            .ok_or_else(|| {
                unknown(format!(
                    "{what}: '{source}' has no reference parameter '{code}'"
                ))
            })?;
        if let Some(t) = target {
            if !is_resource_type(t) || !(p.targets.is_empty() || p.targets.iter().any(|x| x == t)) {
                return Err(invalid(format!(
                    "{what}: '{t}' is not a target of '{source}:{code}'"
                )));
            }
        }
        Some(code.to_string())
    };
    Ok(Include {
        source_type: Some(source.to_string()),
        param,
        target_type: target.map(str::to_string),
        iterate,
    })
}

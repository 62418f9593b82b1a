//! Search query strings → a typed [`SearchQuery`] (no SQL here: the store
//! backends build their queries from this form).
//!
//! `parse(Some("Observation"), "patient=Patient/1&code=http://loinc.org|1234-5,9999-9", Handling::Lenient)`
//! gives two AND-ed filters, the second with two OR-ed token values.

mod control;
mod model;
mod name;
mod render;
mod values;

#[cfg(test)]
mod tests;

pub use model::*;
pub use values::{split_unescaped, unescape};

use concord_fhir::{Issue, IssueType};

/// What to do with unknown or unsupported parameters (`Prefer: handling=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Reject the search (HTTP 400).
    Strict,
    /// Drop the parameter and report it as a warning.
    Lenient,
}

/// Most values one parameter may OR together.
pub const MAX_OR_VALUES: usize = 1000;
/// Most links of a chain (`a.b.c…`) or nested `_has`.
pub const MAX_CHAIN_DEPTH: usize = 4;
/// Most parameters in one query.
pub const MAX_PARAMETERS: usize = 200;

/// Parses a search query string (`application/x-www-form-urlencoded`, as
/// in the URL or a `POST _search` body) for a type search
/// (`Some(resource_type)`) or a system search (`None`).
pub fn parse(
    resource_type: Option<&str>,
    query: &str,
    handling: Handling,
) -> Result<SearchQuery, Vec<Issue>> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    parse_pairs(resource_type, &pairs, handling)
}

/// Parses already-decoded `(name, value)` pairs.
pub fn parse_pairs(
    resource_type: Option<&str>,
    pairs: &[(String, String)],
    handling: Handling,
) -> Result<SearchQuery, Vec<Issue>> {
    let mut q = SearchQuery {
        resource_type: resource_type.map(str::to_string),
        ..SearchQuery::default()
    };
    let mut errors = Vec::new();
    if let Some(rt) = resource_type {
        if crate::registry::for_type(rt).is_none() {
            return Err(vec![Issue::error(
                IssueType::NotSupported,
                format!("unknown resource type '{rt}'"),
            )]);
        }
    }
    if pairs.len() > MAX_PARAMETERS {
        return Err(vec![Issue::error(
            IssueType::TooCostly,
            format!(
                "too many parameters ({}; at most {MAX_PARAMETERS})",
                pairs.len()
            ),
        )]);
    }
    // `_type` first: it decides which parameters a system search knows.
    for (name, value) in pairs.iter().filter(|(n, _)| n == "_type") {
        match control::types(resource_type, value) {
            Ok(types) => {
                q.types.extend(types);
                q.canonical.push((name.clone(), value.clone()));
            }
            Err(e) => errors.push(e),
        }
    }
    for (name, value) in pairs.iter().filter(|(n, _)| n != "_type") {
        let outcome = if name.starts_with('_') && control::is_control(name) {
            control::apply(&mut q, name, value)
        } else {
            name::filter(&q.search_types(), name, value).map(|f| {
                if let Some(f) = f {
                    q.filters.push(f);
                }
            })
        };
        match outcome {
            Ok(()) => {
                if !value.is_empty() {
                    q.canonical.push((name.clone(), value.clone()));
                }
            }
            Err(Problem::Unknown(issue)) => match handling {
                Handling::Strict => errors.push(issue),
                Handling::Lenient => q
                    .warnings
                    .push(Issue::warning(issue.code, issue.diagnostics)),
            },
            Err(Problem::Invalid(issue)) => errors.push(issue),
        }
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(errors)
    }
}

/// Why a parameter was not accepted.
#[derive(Debug)]
pub(crate) enum Problem {
    /// Unknown or unsupported parameter: depends on [`Handling`].
    Unknown(Issue),
    /// A bad value, modifier or limit: always an error.
    Invalid(Issue),
}

pub(crate) fn invalid(msg: impl Into<String>) -> Problem {
    Problem::Invalid(Issue::error(IssueType::Invalid, msg))
}

pub(crate) fn unknown(msg: impl Into<String>) -> Problem {
    Problem::Unknown(Issue::error(IssueType::NotSupported, msg))
}

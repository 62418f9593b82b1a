//! Parameter names: `code`, `code:modifier`, chains (`subject:Patient.name`)
//! and reverse chains (`_has:Observation:patient:code`), resolved against
//! the registry of the searched type(s).

use super::model::*;
use super::values::values;
use super::{invalid, unknown, Problem, MAX_CHAIN_DEPTH};
use crate::registry::{self, ParamType, SearchParamDef};
use concord_fhir::is_resource_type;

/// Parses one `name=value` pair into a filter (`None` for an empty value).
pub(super) fn filter(types: &[String], name: &str, value: &str) -> Result<Option<Filter>, Problem> {
    if value.is_empty() {
        return Ok(None);
    }
    parse(types, name, value, 0).map(Some)
}

fn parse(types: &[String], name: &str, value: &str, depth: usize) -> Result<Filter, Problem> {
    if depth > MAX_CHAIN_DEPTH {
        return Err(invalid(format!(
            "'{name}': chains and _has may nest at most {MAX_CHAIN_DEPTH} levels"
        )));
    }
    if let Some(rest) = name.strip_prefix("_has:") {
        return has(types, name, rest, value, depth);
    }
    match name.split_once('.') {
        Some((head, rest)) => chain(types, name, head, rest, value, depth),
        None => param(types, name, value),
    }
}

/// Looks a parameter code up in every searched type; it must exist (with
/// one kind) in each, or be a common parameter for a system search.
fn lookup(types: &[String], code: &str) -> Result<&'static SearchParamDef, Problem> {
    let not_found = || {
        let within = if types.is_empty() {
            "all resource types".to_string()
        } else {
            types.join(", ")
        };
        unknown(format!("unknown search parameter '{code}' for {within}"))
    };
    if types.is_empty() {
        return registry::common(code).ok_or_else(not_found);
    }
    let mut found: Option<&'static SearchParamDef> = None;
    for t in types {
        let p = registry::param(t, code).ok_or_else(not_found)?;
        if found.is_some_and(|f| f.kind != p.kind) {
            return Err(invalid(format!(
                "parameter '{code}' has different types across {}",
                types.join(", ")
            )));
        }
        found = Some(p);
    }
    found.ok_or_else(not_found)
}

fn param(types: &[String], name: &str, value: &str) -> Result<Filter, Problem> {
    let (code, modifier) = match name.split_once(':') {
        Some((c, m)) => (c, Some(m)),
        None => (name, None),
    };
    let p = lookup(types, code)?;
    if p.kind == ParamType::Special {
        return Err(unknown(format!(
            "search parameter '{code}' (special) is not supported"
        )));
    }
    let modifier = modifier.map(|m| parse_modifier(p, m)).transpose()?;
    let values = values(p, modifier.as_ref(), value)?;
    Ok(Filter::Param(ParamFilter {
        code: code.to_string(),
        kind: p.kind,
        modifier,
        values,
    }))
}

fn parse_modifier(p: &SearchParamDef, m: &str) -> Result<Modifier, Problem> {
    use ParamType as T;
    let modifier = match m {
        "missing" => Modifier::Missing,
        "exact" => Modifier::Exact,
        "contains" => Modifier::Contains,
        "text" => Modifier::Text,
        "not" => Modifier::Not,
        "above" => Modifier::Above,
        "below" => Modifier::Below,
        "in" => Modifier::In,
        "not-in" => Modifier::NotIn,
        "of-type" => Modifier::OfType,
        "identifier" => Modifier::Identifier,
        t if is_resource_type(t) => Modifier::Type(t.to_string()),
        _ => return Err(invalid(format!("unknown modifier ':{m}' on '{}'", p.code))),
    };
    let ok = match (&modifier, p.kind) {
        (Modifier::Missing, _) => true,
        (Modifier::Exact | Modifier::Contains, T::String) => true,
        (Modifier::Contains | Modifier::Above | Modifier::Below, T::Uri) => true,
        (
            Modifier::Text
            | Modifier::Not
            | Modifier::Above
            | Modifier::Below
            | Modifier::In
            | Modifier::NotIn,
            T::Token,
        ) => true,
        (Modifier::OfType, T::Token) => p.code == "identifier",
        (Modifier::Identifier | Modifier::Above | Modifier::Below, T::Reference) => true,
        (Modifier::Type(t), T::Reference) => {
            p.targets.is_empty() || p.targets.iter().any(|x| x == t)
        }
        _ => false,
    };
    if ok {
        Ok(modifier)
    } else {
        Err(invalid(format!(
            "modifier ':{m}' is not allowed on '{}' ({})",
            p.code,
            p.kind.as_str()
        )))
    }
}

fn chain(
    types: &[String],
    name: &str,
    head: &str,
    rest: &str,
    value: &str,
    depth: usize,
) -> Result<Filter, Problem> {
    let (code, type_mod) = match head.split_once(':') {
        Some((c, t)) => (c, Some(t)),
        None => (head, None),
    };
    let p = lookup(types, code)?;
    if p.kind != ParamType::Reference {
        return Err(invalid(format!(
            "'{name}': only reference parameters can be chained, '{code}' is {}",
            p.kind.as_str()
        )));
    }
    let next_code = rest.split(['.', ':']).next().unwrap_or(rest).to_string();
    let candidates: Vec<String> = match type_mod {
        Some(t) => {
            if !is_resource_type(t) || !(p.targets.is_empty() || p.targets.iter().any(|x| x == t)) {
                return Err(invalid(format!(
                    "'{name}': '{t}' is not a target of '{code}'"
                )));
            }
            vec![t.to_string()]
        }
        None => p.targets.to_vec(),
    };
    let target_types: Vec<String> = if next_code == "_has" {
        candidates
    } else {
        candidates
            .into_iter()
            .filter(|t| registry::param(t, &next_code).is_some())
            .collect()
    };
    if target_types.is_empty() {
        return Err(unknown(format!(
            "'{name}': no target of '{code}' has a parameter '{next_code}'"
        )));
    }
    // Resolve the rest against each target separately (kinds may differ
    // only if the inner lookup rejects it).
    let inner = parse(&target_types, rest, value, depth + 1)?;
    Ok(Filter::Chain {
        param: code.to_string(),
        target_types,
        inner: Box::new(inner),
    })
}

fn has(
    types: &[String],
    name: &str,
    rest: &str,
    value: &str,
    depth: usize,
) -> Result<Filter, Problem> {
    let mut parts = rest.splitn(3, ':');
    let (Some(source), Some(refparam), Some(inner_name)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!(
            "'{name}': _has takes _has:Type:reference-parameter:parameter"
        )));
    };
    if !is_resource_type(source) {
        return Err(invalid(format!(
            "'{name}': unknown resource type '{source}'"
        )));
    }
    let source_types = vec![source.to_string()];
    let p = lookup(&source_types, refparam)?;
    if p.kind != ParamType::Reference {
        return Err(invalid(format!(
            "'{name}': '{source}.{refparam}' is not a reference parameter"
        )));
    }
    if !p.targets.is_empty() && !types.is_empty() && !types.iter().all(|t| p.targets.contains(t)) {
        return Err(invalid(format!(
            "'{name}': '{source}.{refparam}' does not refer to {}",
            types.join(", ")
        )));
    }
    let inner = parse(&source_types, inner_name, value, depth + 1)?;
    Ok(Filter::Has {
        resource_type: source.to_string(),
        param: refparam.to_string(),
        inner: Box::new(inner),
    })
}

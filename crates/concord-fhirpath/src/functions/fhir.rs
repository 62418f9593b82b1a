//! FHIR additions: resolve, extension, hasValue, getValue, conformsTo,
//! memberOf, htmlChecks; elementDefinition/slice/... are reported as
//! unsupported.

use super::{arg_string, boolean};
use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::navigate::member;
use crate::eval::Env;
use crate::types::{FhirNode, Item};
use concord_fhir::definitions::{code_in_value_set, definitions};
use serde_json::Value;

const SD_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    Some(match name {
        "extension" => extension(args, input, env),
        "hasExtension" => extension(args, input, env).map(|e| vec![Item::Boolean(!e.is_empty())]),
        "hasValue" => boolean(matches!(
            input,
            [Item::Node(n)] if n.is_primitive() && n.value.is_some()
        )),
        "getValue" => Ok(match input {
            [Item::Node(n)] if n.is_primitive() => input[0].to_system().into_iter().collect(),
            _ => Vec::new(),
        }),
        "resolve" => Ok(input.iter().filter_map(|i| resolve(i, env)).collect()),
        "conformsTo" => conforms_to(args, input, env),
        "memberOf" => member_of(args, input, env),
        "htmlChecks" | "htmlChecks2" => boolean(true),
        "elementDefinition" | "slice" | "checkModifiers" | "subsumes" | "subsumedBy" => Err(
            FhirPathError::exec(format!("{name}() is not supported by this engine")),
        ),
        _ => return None,
    })
}

fn extension<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let Some(url) = arg_string(args, 0, env, "extension")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in input {
        if let Item::Node(n) = item {
            for e in member(n, "extension", false)? {
                if let Item::Node(en) = &e {
                    if en.value.and_then(|v| v.get("url")).and_then(Value::as_str) == Some(&url) {
                        out.push(e);
                    }
                }
            }
        }
    }
    Ok(out)
}

fn reference_text<'a>(item: &Item<'a>) -> Option<&'a str> {
    let Item::Node(n) = item else { return None };
    match n.value? {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("reference").and_then(Value::as_str),
        _ => None,
    }
}

fn resolve<'a>(item: &Item<'a>, env: &Env<'a, '_>) -> Option<Item<'a>> {
    let r = reference_text(item)?;
    let node = |v: &'a Value| Some(Item::Node(FhirNode::resource(v)));
    if let Some(id) = r.strip_prefix('#') {
        let res = env.ctx.resource()?;
        if id.is_empty() {
            return node(res);
        }
        let contained = res.get("contained")?.as_array()?;
        return contained
            .iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
            .and_then(node);
    }
    let matches_ref = |v: &Value| -> bool {
        let (Some(t), Some(id)) = (
            v.get("resourceType").and_then(Value::as_str),
            v.get("id").and_then(Value::as_str),
        ) else {
            return false;
        };
        let local = format!("{t}/{id}");
        r == local || r.ends_with(&format!("/{local}"))
    };
    for root in [env.ctx.root_resource(), env.ctx.resource()]
        .into_iter()
        .flatten()
    {
        if let Some(entries) = root.get("entry").and_then(Value::as_array) {
            for e in entries {
                let Some(res) = e.get("resource") else {
                    continue;
                };
                if e.get("fullUrl").and_then(Value::as_str) == Some(r) || matches_ref(res) {
                    return node(res);
                }
            }
        }
        if matches_ref(root) {
            return node(root);
        }
    }
    None
}

fn conforms_to<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let Some(url) = arg_string(args, 0, env, "conformsTo")? else {
        return Ok(Vec::new());
    };
    let name = url
        .strip_prefix(SD_PREFIX)
        .and_then(|n| definitions().type_def(n).map(|t| t.name.as_str()))
        .ok_or_else(|| {
            FhirPathError::exec(format!(
                "conformsTo(): unknown profile '{url}' (only base StructureDefinitions are known)"
            ))
        })?;
    Ok(input
        .iter()
        .map(|i| Item::Boolean(matches!(i, Item::Node(n) if n.ty.derives_from(name))))
        .collect())
}

fn member_of<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let Some(url) = arg_string(args, 0, env, "memberOf")? else {
        return Ok(Vec::new());
    };
    let url = url.split('|').next().unwrap_or(&url).to_string();
    let mut out = Vec::new();
    for item in input {
        let codings: Vec<(Option<&str>, &str)> = match item {
            Item::String(s) => vec![(None, s.as_str())],
            Item::Node(n) => match n.value {
                Some(Value::String(s)) => vec![(None, s.as_str())],
                Some(Value::Object(o)) => {
                    let one = |c: &'a Value| -> Option<(Option<&'a str>, &'a str)> {
                        Some((
                            c.get("system").and_then(Value::as_str),
                            c.get("code")?.as_str()?,
                        ))
                    };
                    match o.get("coding").and_then(Value::as_array) {
                        Some(cs) => cs.iter().filter_map(one).collect(),
                        None => n.value.and_then(one).into_iter().collect(),
                    }
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut known = false;
        let mut hit = false;
        for (system, code) in codings {
            if let Some(b) = code_in_value_set(&url, system, code) {
                known = true;
                hit |= b;
            }
        }
        if known {
            out.push(Item::Boolean(hit));
        }
    }
    Ok(out)
}

//! Tree navigation over JSON with R4 type information: member access
//! (choice elements, primitive `_name` extensions), `children()`,
//! `descendants()`.

use crate::error::{FhirPathError, Result};
use crate::types::{FhirNode, FhirType, Item};
use concord_fhir::definitions::{ElementDef, TypeDef};
use serde_json::{Map, Value};

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The type of the children found under `el` (typed `code`) in `td`.
pub(crate) fn child_type(
    td: &'static TypeDef,
    el: &'static ElementDef,
    code: &'static str,
) -> FhirType {
    if td.nodes.contains_key(&el.path) {
        return FhirType {
            name: if code.is_empty() {
                "BackboneElement"
            } else {
                code
            },
            scope: Some((td, el.path.as_str())),
        };
    }
    if let Some(cref) = &el.content_reference {
        let cref = cref.trim_start_matches('#');
        let cref = match cref.split_once('.') {
            Some((head, rest)) if head == td.name => rest,
            _ => cref,
        };
        if let Some(target) = td.element(cref) {
            return FhirType {
                name: "BackboneElement",
                scope: Some((td, target.path.as_str())),
            };
        }
    }
    FhirType::named(code)
}

/// Pushes the nodes of a JSON property (value and `_name` sibling).
fn collect<'a>(
    out: &mut Vec<Item<'a>>,
    value: Option<&'a Value>,
    ext: Option<&'a Value>,
    ty: FhirType,
) {
    let typed = |v: Option<&'a Value>| -> FhirType {
        match v {
            Some(obj @ Value::Object(m)) if m.contains_key("resourceType") => {
                let t = FhirType::of_resource(obj);
                if t.name.is_empty() {
                    ty
                } else {
                    t
                }
            }
            _ => ty,
        }
    };
    match value {
        Some(Value::Array(arr)) => {
            let exts = ext.and_then(Value::as_array);
            for (i, v) in arr.iter().enumerate() {
                let e = exts.and_then(|a| a.get(i)).filter(|e| !e.is_null());
                let v = Some(v).filter(|v| !v.is_null());
                if v.is_none() && e.is_none() {
                    continue;
                }
                out.push(Item::Node(FhirNode {
                    value: v,
                    ext: e,
                    ty: typed(v),
                }));
            }
            // `_name` may be longer than `name`.
            if let Some(exts) = exts {
                for e in exts.iter().skip(arr.len()).filter(|e| !e.is_null()) {
                    out.push(Item::Node(FhirNode {
                        value: None,
                        ext: Some(e),
                        ty,
                    }));
                }
            }
        }
        Some(Value::Null) | None => match ext {
            Some(Value::Array(exts)) => {
                for e in exts.iter().filter(|e| !e.is_null()) {
                    out.push(Item::Node(FhirNode {
                        value: None,
                        ext: Some(e),
                        ty,
                    }));
                }
            }
            Some(e @ Value::Object(_)) => out.push(Item::Node(FhirNode {
                value: None,
                ext: Some(e),
                ty,
            })),
            _ => {}
        },
        Some(v) => out.push(Item::Node(FhirNode {
            value: Some(v),
            ext: ext.filter(|e| e.is_object()),
            ty: typed(Some(v)),
        })),
    }
}

fn prop<'a>(obj: &'a Map<String, Value>, name: &str) -> (Option<&'a Value>, Option<&'a Value>) {
    (obj.get(name), underscored(obj, name))
}

/// `obj["_" + name]` without building the key: objects are small, most
/// have no `_` properties, and navigation asks for every member it visits.
fn underscored<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.strip_prefix('_') == Some(name))
        .map(|(_, v)| v)
}

/// `node.name`. `strict` turns names that are not elements of a known type
/// into semantic errors; a choice variant name (`valueQuantity`) is always
/// an error (FHIRPath addresses choices by their base name).
pub fn member<'a>(n: &FhirNode<'a>, name: &str, strict: bool) -> Result<Vec<Item<'a>>> {
    let mut out = Vec::new();
    if n.is_primitive() {
        if let Some(Value::Object(ext)) = n.ext {
            let ty = match name {
                "extension" => FhirType::named("Extension"),
                "id" => FhirType::named("string"),
                _ => FhirType::UNKNOWN,
            };
            collect(&mut out, ext.get(name), None, ty);
        } else if strict && !matches!(name, "extension" | "id") && !n.ty.name.is_empty() {
            return Err(FhirPathError::semantic(
                format!("'{name}' is not an element of {}", n.ty.name),
                None,
            ));
        }
        return Ok(out);
    }
    let Some(Value::Object(obj)) = n.value else {
        return Ok(out);
    };
    if let Some((td, path)) = n.ty.scope {
        if let Some((el, code)) = td.child(path, name) {
            if el.is_choice && name != el.name {
                return Err(FhirPathError::semantic(
                    format!(
                        "'{name}' names one type of the choice element '{}[x]'; use '{}' (with ofType()/as if needed)",
                        el.name, el.name
                    ),
                    None,
                ));
            }
            let (v, e) = prop(obj, name);
            // Resource.id is typed System.String in the definitions; FHIR says `id`.
            let ty = if name == "id" && path.is_empty() && n.ty.is_resource() {
                FhirType::named("id")
            } else {
                child_type(td, el, code)
            };
            collect(&mut out, v, e, ty);
            return Ok(out);
        }
        if let Some(node) = td.node(path) {
            for &i in &node.elements {
                let el = &td.elements[i];
                if el.is_choice && el.name == name {
                    for t in &el.types {
                        let key = format!("{name}{}", capitalise(t));
                        let (v, e) = prop(obj, &key);
                        if v.is_some() || e.is_some() {
                            collect(&mut out, v, e, FhirType::named(t));
                            return Ok(out);
                        }
                    }
                    return Ok(out);
                }
            }
        }
        if strict {
            return Err(FhirPathError::semantic(
                format!("'{name}' is not an element of {}", n.ty.name),
                None,
            ));
        }
    }
    // Untyped (or unknown element): plain JSON, with a choice-name scan.
    let (v, e) = prop(obj, name);
    if v.is_some() || e.is_some() {
        collect(&mut out, v, e, FhirType::UNKNOWN);
        return Ok(out);
    }
    if n.ty.scope.is_some() {
        return Ok(out);
    }
    for (k, v) in obj {
        if let Some(rest) = k.strip_prefix(name) {
            if rest.starts_with(|c: char| c.is_ascii_uppercase()) {
                let mut ty = FhirType::named(rest);
                if ty.name.is_empty() {
                    let mut lower = rest.to_string();
                    lower[..1].make_ascii_lowercase();
                    ty = FhirType::named(&lower);
                }
                collect(&mut out, Some(v), underscored(obj, k), ty);
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// The direct children of a node, in document order.
pub fn children<'a>(n: &FhirNode<'a>) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    if n.is_primitive() {
        if let Some(Value::Object(ext)) = n.ext {
            collect(&mut out, ext.get("id"), None, FhirType::named("string"));
            collect(
                &mut out,
                ext.get("extension"),
                None,
                FhirType::named("Extension"),
            );
        }
        return out;
    }
    let Some(Value::Object(obj)) = n.value else {
        return out;
    };
    for (k, v) in obj {
        if k == "resourceType" {
            continue;
        }
        let (key, value, ext) = match k.strip_prefix('_') {
            Some(base) if obj.contains_key(base) => continue,
            Some(base) => (base, None, Some(v)),
            None => (k.as_str(), Some(v), underscored(obj, k)),
        };
        let ty =
            n.ty.scope
                .and_then(|(td, path)| {
                    td.child(path, key)
                        .map(|(el, code)| child_type(td, el, code))
                })
                .unwrap_or(FhirType::UNKNOWN);
        collect(&mut out, value, ext, ty);
    }
    out
}

/// Every node below the inputs (not the inputs themselves), depth-first.
pub fn descendants<'a>(input: &[Item<'a>]) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    let mut stack: Vec<(Item<'a>, bool)> = input.iter().rev().map(|i| (i.clone(), true)).collect();
    while let Some((item, is_input)) = stack.pop() {
        if let Item::Node(n) = &item {
            for k in children(n).into_iter().rev() {
                stack.push((k, false));
            }
        }
        if !is_input {
            out.push(item);
        }
    }
    out
}

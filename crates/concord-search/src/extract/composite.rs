//! Composite rows: for each node of the composite's expression, the
//! components are evaluated with that node as the focus, each value rendered
//! as text, and every combination joined with `$` (the query syntax):
//! token `system|code` (and bare `code`), quantity `value|system|code`
//! (as written and UCUM canonical), string normalized, reference `Type/id`,
//! date/number/uri as written. At most [`MAX_COMBINATIONS`] per node.

use super::{add_value, with_json, ExtractError, Extraction};
use crate::registry::{ParamType, SearchParamDef};
use concord_fhirpath::{EvalContext, Item};
use concord_store::{CompositeIndex, IndexRows};
use serde_json::Value;

pub const MAX_COMBINATIONS: usize = 64;

pub(super) fn add(p: &SearchParamDef, resource: &Value, nodes: &[Item<'_>], out: &mut Extraction) {
    for node in nodes {
        let ctx = EvalContext::new(resource).with_focus(vec![node.clone()]);
        let mut combos: Vec<String> = vec![String::new()];
        for (i, c) in p.components.iter().enumerate() {
            let Some(expr) = &c.expression else {
                combos.clear();
                break;
            };
            let items = match expr.evaluate_with(&ctx) {
                Ok(items) => items,
                Err(e) => {
                    out.errors.push(ExtractError {
                        param: p.code.to_string(),
                        expression: expr.source().to_string(),
                        message: e.to_string(),
                    });
                    combos.clear();
                    break;
                }
            };
            let texts = component_texts(c.kind, &items);
            let mut next = Vec::new();
            for prefix in &combos {
                for t in &texts {
                    if next.len() < MAX_COMBINATIONS {
                        next.push(if i == 0 {
                            t.clone()
                        } else {
                            format!("{prefix}${t}")
                        });
                    }
                }
            }
            combos = next;
        }
        for value in combos {
            let row = CompositeIndex {
                param: p.code.to_string(),
                value,
            };
            if !out.rows.composites.contains(&row) {
                out.rows.composites.push(row);
            }
        }
    }
}

/// The text forms of one component's values.
fn component_texts(kind: ParamType, items: &[Item<'_>]) -> Vec<String> {
    let probe = SearchParamDef {
        code: "",
        kind,
        url: "",
        targets: &[],
        branches: Vec::new(),
        components: Vec::new(),
        from_resource_row: false,
    };
    let mut rows = IndexRows::default();
    let mut raw = Vec::new();
    for item in items {
        with_json(item, |ty, v| {
            add_value(&probe, None, ty, v, &mut rows);
            if let Some(s) = v.as_str() {
                raw.push(s.to_string());
            } else if let Value::Number(n) = v {
                raw.push(n.to_string());
            }
        });
    }
    let mut out = Vec::new();
    match kind {
        ParamType::Token => {
            for t in rows.tokens.iter().filter(|t| t.param.is_empty()) {
                if let Some(s) = &t.system {
                    out.push(format!("{s}|{}", t.code));
                }
                out.push(t.code.clone());
            }
        }
        ParamType::Quantity => {
            for q in &rows.quantities {
                out.push(format!(
                    "{}|{}|{}",
                    q.value,
                    q.system.as_deref().unwrap_or(""),
                    q.code.as_deref().unwrap_or("")
                ));
            }
        }
        ParamType::String => out.extend(rows.strings.into_iter().map(|s| s.value)),
        ParamType::Reference => {
            for r in &rows.references {
                match (&r.target_type, &r.target_id, &r.url) {
                    (_, _, Some(url)) => out.push(url.clone()),
                    (Some(t), Some(id), None) => out.push(format!("{t}/{id}")),
                    (None, Some(id), None) => out.push(id.clone()),
                    _ => {}
                }
            }
        }
        ParamType::Date | ParamType::Number | ParamType::Uri => out = raw,
        ParamType::Composite | ParamType::Special => {}
    }
    out
}

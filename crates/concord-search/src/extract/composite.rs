//! Composite rows: for each node of the composite's expression, the
//! components are evaluated with that node as the focus, each value rendered
//! as text, and every combination joined with `$` (the query syntax):
//! token `system|code` (and bare `code`), quantity `value|system|code`
//! (as written and UCUM canonical), string normalized, reference `Type/id`,
//! date/number/uri as written. At most [`MAX_COMBINATIONS`] per node.
//! A row whose quantity is in UCUM canonical units goes under
//! `PARAM:canonical`; the value of the composite's one number or quantity
//! component is stored beside the text for prefix comparisons.

use super::{add_value, with_json, ExtractError, Extraction, CANONICAL_SUFFIX};
use crate::registry::{ParamType, SearchParamDef};
use concord_fhirpath::{EvalContext, Item};
use concord_store::{CompositeIndex, IndexRows};
use serde_json::Value;

pub const MAX_COMBINATIONS: usize = 64;

/// One combination of component values built so far.
#[derive(Clone, Default)]
struct Combo {
    text: String,
    number: Option<f64>,
    canonical: bool,
}

pub(super) fn add(p: &SearchParamDef, resource: &Value, nodes: &[Item<'_>], out: &mut Extraction) {
    let numeric = p.numeric_component();
    for node in nodes {
        let ctx = EvalContext::new(resource).with_focus(vec![node.clone()]);
        let mut combos = vec![Combo::default()];
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
            let values = component_values(c.kind, &items);
            let mut next = Vec::new();
            for prefix in &combos {
                for v in &values {
                    if next.len() < MAX_COMBINATIONS {
                        next.push(Combo {
                            text: if i == 0 {
                                v.text.clone()
                            } else {
                                format!("{}${}", prefix.text, v.text)
                            },
                            number: if numeric == Some(i) {
                                v.number
                            } else {
                                prefix.number
                            },
                            canonical: prefix.canonical || v.canonical,
                        });
                    }
                }
            }
            combos = next;
        }
        for combo in combos {
            let row = CompositeIndex {
                param: if combo.canonical {
                    format!("{}{CANONICAL_SUFFIX}", p.code)
                } else {
                    p.code.to_string()
                },
                value: combo.text,
                number: combo.number,
            };
            if !out.rows.composites.contains(&row) {
                out.rows.composites.push(row);
            }
        }
    }
}

/// The text forms of one component's values, with the number of a number or
/// quantity value; quantities in UCUM canonical units are marked (their rows
/// go under `PARAM:canonical`, as plain quantity rows do).
fn component_values(kind: ParamType, items: &[Item<'_>]) -> Vec<Combo> {
    let probe = SearchParamDef {
        code: "",
        kind,
        url: "",
        targets: &[],
        branches: Vec::new(),
        components: Vec::new(),
        from_resource_row: false,
        union_of: Vec::new(),
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
    let plain = |text: String| Combo {
        text,
        ..Combo::default()
    };
    let mut out = Vec::new();
    match kind {
        ParamType::Token => {
            for t in rows.tokens.iter().filter(|t| t.param.is_empty()) {
                if let Some(s) = &t.system {
                    out.push(plain(format!("{s}|{}", t.code)));
                }
                out.push(plain(t.code.clone()));
            }
        }
        ParamType::Quantity => {
            for q in &rows.quantities {
                out.push(Combo {
                    text: format!(
                        "{}|{}|{}",
                        q.value,
                        q.system.as_deref().unwrap_or(""),
                        q.code.as_deref().unwrap_or("")
                    ),
                    number: Some(q.value),
                    canonical: q.param == CANONICAL_SUFFIX,
                });
            }
        }
        ParamType::String => out.extend(rows.strings.into_iter().map(|s| plain(s.value))),
        ParamType::Reference => {
            for r in &rows.references {
                match (&r.target_type, &r.target_id, &r.url) {
                    (_, _, Some(url)) => out.push(plain(url.clone())),
                    (Some(t), Some(id), None) => out.push(plain(format!("{t}/{id}"))),
                    (None, Some(id), None) => out.push(plain(id.clone())),
                    _ => {}
                }
            }
        }
        ParamType::Number => {
            for text in raw {
                let number = text.parse::<f64>().ok().filter(|n| n.is_finite());
                out.push(Combo {
                    text,
                    number,
                    canonical: false,
                });
            }
        }
        ParamType::Date | ParamType::Uri => out = raw.into_iter().map(plain).collect(),
        ParamType::Composite | ParamType::Special => {}
    }
    out
}

//! Typed values of a search parameter in one resource: the parameter's
//! FHIRPath expression (from the R4 definitions, via the registry) evaluated
//! by `concord_fhirpath`, and each resulting node read by its FHIR type.
//! Written from the R4 search page, independently of `concord_search`'s
//! index extraction.

use concord_fhirpath::{EvalContext, Item};
use concord_search::registry::{ParamType, SearchParamDef};
use serde_json::Value;

use super::dates::{parse_range, Range};

/// A token: system and code (either may be absent), and the human text that
/// `:text` searches (Coding.display, CodeableConcept.text, Identifier.type.text).
#[derive(Debug, Clone, Default)]
pub struct Tok {
    pub system: Option<String>,
    pub code: Option<String>,
    /// For `:of-type`: the Identifier.type codings.
    pub id_type: Vec<(Option<String>, Option<String>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub toks: Vec<Tok>,
    pub texts: Vec<String>,
}

/// A reference as written: relative `Type/id`, absolute URL, bare id with a
/// type, canonical/uri, or only a logical identifier.
#[derive(Debug, Clone, Default)]
pub struct RefVal {
    pub rtype: Option<String>,
    pub id: Option<String>,
    /// The literal reference when it is absolute (or a canonical).
    pub url: Option<String>,
    pub identifier: Option<(Option<String>, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct QtyVal {
    pub value: f64,
    pub system: Option<String>,
    pub code: Option<String>,
    pub unit: Option<String>,
}

/// The FHIR type of an item and its JSON value.
pub fn typed(item: &Item<'_>) -> (String, Value) {
    match item {
        Item::Node(n) => (
            n.ty.name.to_string(),
            n.value.cloned().unwrap_or(Value::Null),
        ),
        Item::Temporal(_) => ("dateTime".into(), item.to_json()),
        Item::Boolean(_) => ("boolean".into(), item.to_json()),
        Item::Integer(_) => ("integer".into(), item.to_json()),
        Item::Decimal(_) => ("decimal".into(), item.to_json()),
        Item::String(_) => ("string".into(), item.to_json()),
        Item::Quantity(q) => (
            "Quantity".into(),
            serde_json::json!({"value": item_number(q.value.to_string()), "code": q.unit, "system": "http://unitsofmeasure.org"}),
        ),
        Item::TypeInfo { .. } => (String::new(), Value::Null),
    }
}

fn item_number(s: String) -> Value {
    serde_json::from_str(&s).unwrap_or(Value::Null)
}

/// Every (type, JSON) the parameter's expression yields for `res`, with the
/// target type of a stripped `.where(resolve() is T)` filter.
pub fn param_items(def: &SearchParamDef, res: &Value) -> Vec<(String, Value, Option<String>)> {
    let mut out = Vec::new();
    if def.code == "_id" {
        if let Some(id) = res.get("id") {
            out.push(("id".into(), id.clone(), None));
        }
        return out;
    }
    if def.code == "_lastUpdated" {
        if let Some(v) = res.pointer("/meta/lastUpdated") {
            out.push(("instant".into(), v.clone(), None));
        }
        return out;
    }
    for branch in &def.branches {
        let Ok(items) = branch.expression.evaluate(res) else {
            continue;
        };
        for item in &items {
            let (ty, v) = typed(item);
            if !v.is_null() {
                out.push((ty, v, branch.target_type.clone()));
            }
        }
    }
    out
}

/// The component values of a composite parameter: one Vec per node, each
/// with the items of every component.
pub fn composite_items(def: &SearchParamDef, res: &Value) -> Vec<Vec<Vec<(String, Value)>>> {
    let mut out = Vec::new();
    for branch in &def.branches {
        let Ok(nodes) = branch.expression.evaluate(res) else {
            continue;
        };
        for node in nodes {
            let mut comps = Vec::new();
            for c in &def.components {
                let mut vals = Vec::new();
                if let Some(expr) = &c.expression {
                    let ctx = EvalContext::new(res).with_focus(vec![node.clone()]);
                    if let Ok(items) = expr.evaluate_with(&ctx) {
                        for i in &items {
                            let (t, v) = typed(i);
                            if !v.is_null() {
                                vals.push((t, v));
                            }
                        }
                    }
                }
                comps.push(vals);
            }
            out.push(comps);
        }
    }
    out
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn strs(v: &Value, k: &str) -> Vec<String> {
    match v.get(k) {
        Some(Value::String(x)) => vec![x.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(x) => Some(x.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// String values: primitives as written; every string part of HumanName and
/// Address.
pub fn strings(ty: &str, v: &Value) -> Vec<String> {
    match ty {
        "HumanName" => ["family", "given", "prefix", "suffix", "text"]
            .iter()
            .flat_map(|k| strs(v, k))
            .collect(),
        "Address" => [
            "line",
            "city",
            "district",
            "state",
            "postalCode",
            "country",
            "text",
        ]
        .iter()
        .flat_map(|k| strs(v, k))
        .collect(),
        _ => match v {
            Value::String(x) => vec![x.clone()],
            _ => Vec::new(),
        },
    }
}

fn coding_tok(c: &Value) -> Tok {
    Tok {
        system: s(c, "system"),
        code: s(c, "code"),
        id_type: Vec::new(),
    }
}

/// Token values of one item.
pub fn tokens(ty: &str, v: &Value, out: &mut Tokens) {
    let shape = if ty.is_empty() || ty == "Element" {
        if v.get("coding").is_some() {
            "CodeableConcept"
        } else if v.get("code").is_some() {
            "Coding"
        } else {
            ""
        }
    } else {
        ty
    };
    match shape {
        "Coding" => {
            out.toks.push(coding_tok(v));
            out.texts.extend(s(v, "display"));
        }
        "CodeableConcept" => {
            for c in v
                .get("coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.toks.push(coding_tok(c));
                out.texts.extend(s(c, "display"));
            }
            out.texts.extend(s(v, "text"));
        }
        "Identifier" => {
            let types = v
                .pointer("/type/coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| (s(c, "system"), s(c, "code")))
                .collect();
            out.toks.push(Tok {
                system: s(v, "system"),
                code: s(v, "value"),
                id_type: types,
            });
            if let Some(t) = v.get("type") {
                out.texts.extend(s(t, "text"));
            }
        }
        "ContactPoint" => out.toks.push(Tok {
            system: None,
            code: s(v, "value"),
            id_type: Vec::new(),
        }),
        _ => {
            if let Some(text) = scalar_text(v) {
                out.toks.push(Tok {
                    system: None,
                    code: Some(text),
                    id_type: Vec::new(),
                });
            }
        }
    }
}

/// Date ranges of one item: date/dateTime/instant by precision; Period from
/// start to end (open ends unbounded); Timing events and bounds.
pub fn dates(ty: &str, v: &Value) -> Vec<Range> {
    match (ty, v) {
        ("Period", _) => {
            let low = s(v, "start").and_then(|t| parse_range(&t)).map(|r| r.low);
            let high = s(v, "end").and_then(|t| parse_range(&t)).map(|r| r.high);
            if low.is_none() && high.is_none() {
                return Vec::new();
            }
            vec![Range {
                low: low.unwrap_or(i64::MIN),
                high: high.unwrap_or(i64::MAX),
            }]
        }
        ("Timing", _) => {
            let mut out: Vec<Range> = strs(v, "event")
                .iter()
                .filter_map(|t| parse_range(t))
                .collect();
            if let Some(p) = v.pointer("/repeat/boundsPeriod") {
                out.extend(dates("Period", p));
            }
            out
        }
        (_, Value::String(t)) => parse_range(t).into_iter().collect(),
        _ => Vec::new(),
    }
}

pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(x) => x.parse().ok(),
        _ => None,
    }
}

const QUANTITY_TYPES: &[&str] = &[
    "Quantity",
    "Age",
    "Duration",
    "Count",
    "Distance",
    "SimpleQuantity",
    "MoneyQuantity",
];

pub fn quantity(ty: &str, v: &Value) -> Option<QtyVal> {
    if ty == "Money" {
        return Some(QtyVal {
            value: number(v.get("value")?)?,
            system: Some("urn:iso:std:iso:4217".into()),
            code: s(v, "currency"),
            unit: None,
        });
    }
    if QUANTITY_TYPES.contains(&ty) || (ty.is_empty() && v.get("value").is_some()) {
        return Some(QtyVal {
            value: number(v.get("value")?)?,
            system: s(v, "system"),
            code: s(v, "code"),
            unit: s(v, "unit"),
        });
    }
    None
}

/// `Type/id`, `Type/id/_history/n` and absolute URLs ending in `Type/id`.
pub fn split_reference(r: &str) -> (Option<String>, Option<String>) {
    let r = match r.find("/_history/") {
        Some(at) => &r[..at],
        None => r,
    };
    let parts: Vec<&str> = r.rsplitn(3, '/').collect();
    if parts.len() >= 2 && concord_fhir::is_resource_type(parts[1]) && !parts[0].is_empty() {
        return (Some(parts[1].to_string()), Some(parts[0].to_string()));
    }
    (None, None)
}

pub fn references(ty: &str, v: &Value, target_filter: Option<&str>) -> Vec<RefVal> {
    let mut out = Vec::new();
    match (ty, v) {
        ("Reference", _) | ("", Value::Object(_)) => {
            let identifier = v.get("identifier").map(|i| (s(i, "system"), s(i, "value")));
            let mut rv = RefVal {
                identifier,
                ..Default::default()
            };
            if let Some(r) = s(v, "reference") {
                if r.starts_with('#') {
                    // contained: not a reference to a stored resource
                } else if r.contains("://") || r.starts_with("urn:") {
                    let (t, id) = split_reference(&r);
                    rv.rtype = t;
                    rv.id = id;
                    rv.url = Some(r);
                } else {
                    let (t, id) = split_reference(&r);
                    if t.is_some() {
                        rv.rtype = t;
                        rv.id = id;
                    } else if !r.contains('/') {
                        rv.id = Some(r);
                        rv.rtype = s(v, "type");
                    }
                }
            }
            if rv.rtype.is_none() {
                rv.rtype = s(v, "type");
            }
            if let Some(t) = target_filter {
                if rv.rtype.as_deref() != Some(t) {
                    return out;
                }
            }
            if rv.id.is_some() || rv.url.is_some() || rv.identifier.is_some() {
                out.push(rv);
            }
        }
        (_, Value::String(u)) => out.push(RefVal {
            url: Some(u.clone()),
            ..Default::default()
        }),
        _ => {}
    }
    out
}

/// True when the item yields a value of the parameter's type (for `:missing`).
pub fn has_value(kind: ParamType, ty: &str, v: &Value) -> bool {
    match kind {
        ParamType::String => !strings(ty, v).is_empty(),
        ParamType::Token => {
            let mut t = Tokens::default();
            tokens(ty, v, &mut t);
            t.toks
                .iter()
                .any(|t| t.code.is_some() || t.system.is_some())
        }
        ParamType::Date => !dates(ty, v).is_empty(),
        ParamType::Number => number(v).is_some(),
        ParamType::Quantity => quantity(ty, v).is_some(),
        ParamType::Reference => references(ty, v, None)
            .iter()
            .any(|r| r.id.is_some() || r.url.is_some()),
        ParamType::Uri => v.is_string(),
        ParamType::Composite | ParamType::Special => !v.is_null(),
    }
}

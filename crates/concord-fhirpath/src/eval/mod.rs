//! The evaluator: walks the syntax tree over collections of items.

pub(crate) mod check;
pub(crate) mod compare;
pub(crate) mod navigate;
pub(crate) mod ops;
pub(crate) mod typing;

use crate::ast::{BinOp, Expr, Literal, Node, TypeOp, UnOp};
use crate::datetime::Temporal;
use crate::error::{FhirPathError, Result};
use crate::functions;
use crate::types::{FhirNode, FhirType, Item};
use concord_fhir::definitions::{definitions, Kind};
use serde_json::Value;
use std::collections::HashMap;

/// What an expression is evaluated against: `%resource`, `%rootResource`,
/// `%context` (also the initial focus), user variables and options.
pub struct EvalContext<'a> {
    resource: Option<&'a Value>,
    root_resource: Option<&'a Value>,
    context: Vec<Item<'a>>,
    variables: HashMap<String, Vec<Item<'a>>>,
    strict: bool,
    check_ordered: bool,
    now: Option<Temporal>,
}

impl<'a> EvalContext<'a> {
    /// Evaluates against `resource`: it is `%resource`, `%rootResource`,
    /// `%context` and the focus.
    pub fn new(resource: &'a Value) -> Self {
        let node = Item::Node(FhirNode::resource(resource));
        EvalContext {
            resource: Some(resource),
            root_resource: Some(resource),
            context: vec![node],
            variables: HashMap::new(),
            strict: false,
            check_ordered: false,
            now: None,
        }
    }

    /// No input at all: the focus is empty (for expressions on literals).
    pub fn empty() -> Self {
        EvalContext {
            resource: None,
            root_resource: None,
            context: Vec::new(),
            variables: HashMap::new(),
            strict: false,
            check_ordered: false,
            now: None,
        }
    }

    /// Sets `%rootResource` (the container, e.g. a Bundle) when it differs
    /// from `%resource`.
    pub fn with_root_resource(mut self, root: &'a Value) -> Self {
        self.root_resource = Some(root);
        self
    }

    /// Sets `%context` and the focus to a node of the resource, typed as
    /// `fhir_type` (e.g. `HumanName`, or `Patient.contact` for a backbone
    /// element).
    pub fn with_context_node(mut self, node: &'a Value, fhir_type: &str) -> Self {
        let ty = match fhir_type.split_once('.') {
            Some(_) => concord_fhir::definitions::element_by_path(fhir_type)
                .and_then(|(el, code)| {
                    let root = fhir_type.split('.').next()?;
                    let td = definitions().type_def(root)?;
                    if td.nodes.contains_key(&el.path) {
                        Some(FhirType {
                            name: "BackboneElement",
                            scope: Some((td, el.path.as_str())),
                        })
                    } else {
                        Some(FhirType::named(code))
                    }
                })
                .unwrap_or(FhirType::UNKNOWN),
            None => FhirType::named(fhir_type),
        };
        self.context = vec![Item::Node(FhirNode {
            value: Some(node),
            ext: None,
            ty,
        })];
        self
    }

    /// Sets `%context` and the focus to arbitrary items.
    pub fn with_focus(mut self, items: Vec<Item<'a>>) -> Self {
        self.context = items;
        self
    }

    /// Defines `%name`.
    pub fn with_variable(mut self, name: impl Into<String>, value: Vec<Item<'a>>) -> Self {
        self.variables.insert(name.into(), value);
        self
    }

    /// Strict mode: names that are not elements of the node's type are
    /// semantic errors (instead of empty).
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }

    /// Reject order-dependent functions (`first()`, `skip()`, `[n]`, ...)
    /// applied directly to unordered results (`children()`, `descendants()`).
    pub fn check_ordered_functions(mut self, on: bool) -> Self {
        self.check_ordered = on;
        self
    }

    /// Fixes `now()`/`today()`/`timeOfDay()` (otherwise the system clock, UTC).
    pub fn with_now(mut self, now: Temporal) -> Self {
        self.now = Some(now);
        self
    }

    pub(crate) fn is_strict(&self) -> bool {
        self.strict
    }

    pub(crate) fn checks_order(&self) -> bool {
        self.check_ordered
    }

    pub(crate) fn now(&self) -> Temporal {
        self.now.clone().unwrap_or_else(Temporal::now_utc)
    }

    pub(crate) fn resource(&self) -> Option<&'a Value> {
        self.resource
    }

    pub(crate) fn root_resource(&self) -> Option<&'a Value> {
        self.root_resource
    }

    pub(crate) fn focus(&self) -> &[Item<'a>] {
        &self.context
    }
}

/// The dynamic scope of one evaluation step.
pub(crate) struct Env<'a, 'e> {
    pub ctx: &'e EvalContext<'a>,
    /// `$this` (the focus for function arguments).
    pub this: &'e [Item<'a>],
    pub index: Option<i64>,
    pub total: Option<&'e [Item<'a>]>,
}

impl<'a> Env<'a, '_> {
    /// The scope for one iteration of a function argument such as `where()`.
    pub fn lambda<'f>(&'f self, item: &'f [Item<'a>], index: usize) -> Env<'a, 'f> {
        Env {
            ctx: self.ctx,
            this: item,
            index: Some(index as i64),
            total: self.total,
        }
    }
}

fn with_pos(e: FhirPathError, pos: usize) -> FhirPathError {
    match e {
        FhirPathError::Semantic {
            message,
            position: None,
        } => FhirPathError::Semantic {
            message,
            position: Some(pos),
        },
        other => other,
    }
}

pub(crate) fn literal(l: &Literal) -> Item<'static> {
    match l {
        Literal::Boolean(b) => Item::Boolean(*b),
        Literal::String(s) => Item::String(s.clone()),
        Literal::Integer(i) => Item::Integer(*i),
        Literal::Decimal(d) => Item::Decimal(*d),
        Literal::Date(t) | Literal::DateTime(t) | Literal::Time(t) => Item::Temporal(t.clone()),
        Literal::Quantity(q) => Item::Quantity(q.clone()),
    }
}

/// Singleton evaluation of a collection as a Boolean.
pub(crate) fn to_bool(c: &[Item], what: &str) -> Result<Option<bool>> {
    match c {
        [] => Ok(None),
        [one] => match one.to_system() {
            Some(Item::Boolean(b)) => Ok(Some(b)),
            Some(_) => Ok(Some(true)),
            None => Ok(if matches!(one, Item::Node(n) if n.value.is_none()) {
                None
            } else {
                Some(true)
            }),
        },
        _ => Err(FhirPathError::exec(format!(
            "{what} expects a single Boolean but got {} items",
            c.len()
        ))),
    }
}

fn boolean(b: Option<bool>) -> Vec<Item<'static>> {
    b.map(|b| vec![Item::Boolean(b)]).unwrap_or_default()
}

fn is_resource_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && definitions()
            .type_def(name)
            .is_some_and(|t| t.kind == Kind::Resource)
}

pub(crate) fn eval<'a>(e: &Expr, input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    match &e.node {
        Node::Literal(l) => Ok(vec![literal(l)]),
        Node::Empty => Ok(Vec::new()),
        Node::This => Ok(env.this.to_vec()),
        Node::IndexVar => Ok(env.index.map(Item::Integer).into_iter().collect()),
        Node::Total => Ok(env.total.map(<[Item]>::to_vec).unwrap_or_default()),
        Node::Env(name) => variable(name, env),
        Node::Member(None, name) => term_member(name, input, env).map_err(|x| with_pos(x, e.pos)),
        Node::Member(Some(t), name) => {
            let base = eval(t, input, env)?;
            let mut out = Vec::new();
            for item in &base {
                member_of(item, name, env.ctx.is_strict(), &mut out)
                    .map_err(|x| with_pos(x, e.pos))?;
            }
            Ok(out)
        }
        Node::Call { target, name, args } => {
            let base = match target {
                Some(t) => eval(t, input, env)?,
                None => input.to_vec(),
            };
            functions::call(name, args, &base, env, e.pos)
        }
        Node::Type {
            target,
            op,
            spec,
            function,
        } => {
            let base = match target {
                Some(t) => eval(t, input, env)?,
                None => input.to_vec(),
            };
            let t = typing::resolve(spec)?;
            match op {
                TypeOp::Is => match base.as_slice() {
                    [] => Ok(Vec::new()),
                    [one] => Ok(vec![Item::Boolean(typing::matches(one, t, false))]),
                    _ => Err(FhirPathError::exec(format!(
                        "'is {spec}' expects a single item but got {}",
                        base.len()
                    ))),
                },
                TypeOp::As if *function && base.len() > 1 => Err(FhirPathError::exec(format!(
                    "as({spec}) expects a single item but got {}",
                    base.len()
                ))),
                TypeOp::As | TypeOp::OfType => Ok(base
                    .into_iter()
                    .filter(|i| typing::matches(i, t, true))
                    .collect()),
            }
        }
        Node::Index(target, idx) => {
            let base = eval(target, input, env)?;
            let i = eval(idx, env.this, env)?;
            match ops::singleton(&i, "indexer")? {
                None => Ok(Vec::new()),
                Some(Item::Integer(n)) => Ok(usize::try_from(n)
                    .ok()
                    .and_then(|n| base.into_iter().nth(n))
                    .into_iter()
                    .collect()),
                Some(_) => Err(FhirPathError::exec("the indexer expects an Integer")),
            }
        }
        Node::Unary(op, a) => {
            let v = eval(a, input, env)?;
            let Some(item) = ops::singleton(&v, "unary operator")? else {
                return Ok(Vec::new());
            };
            let r = match (op, item) {
                (UnOp::Plus, i @ (Item::Integer(_) | Item::Decimal(_) | Item::Quantity(_))) => i,
                (UnOp::Minus, Item::Integer(i)) => match i.checked_neg() {
                    Some(n) => Item::Integer(n),
                    None => return Ok(Vec::new()),
                },
                (UnOp::Minus, Item::Decimal(d)) => Item::Decimal(if d.is_zero() { d } else { -d }),
                (UnOp::Minus, Item::Quantity(mut q)) => {
                    q.value = -q.value;
                    Item::Quantity(q)
                }
                (_, other) => {
                    return Err(FhirPathError::exec(format!(
                        "unary {} cannot be applied to {}",
                        if *op == UnOp::Minus { '-' } else { '+' },
                        other.type_name().1
                    )))
                }
            };
            Ok(vec![r])
        }
        Node::Binary(op, l, r) => binary(*op, l, r, input, env),
    }
}

fn binary<'a>(
    op: BinOp,
    l: &Expr,
    r: &Expr,
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Result<Vec<Item<'a>>> {
    match op {
        BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies => {
            let a = to_bool(&eval(l, input, env)?, "boolean operator")?;
            match (op, a) {
                (BinOp::And, Some(false)) => return Ok(boolean(Some(false))),
                (BinOp::Or, Some(true)) => return Ok(boolean(Some(true))),
                (BinOp::Implies, Some(false)) => return Ok(boolean(Some(true))),
                _ => {}
            }
            let b = to_bool(&eval(r, input, env)?, "boolean operator")?;
            let v = match op {
                BinOp::And => match (a, b) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
                BinOp::Or => match (a, b) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
                BinOp::Xor => match (a, b) {
                    (Some(x), Some(y)) => Some(x != y),
                    _ => None,
                },
                _ => match (a, b) {
                    (Some(true), b) => b,
                    (None, Some(true)) => Some(true),
                    _ => None,
                },
            };
            Ok(boolean(v))
        }
        _ => {
            let a = eval(l, input, env)?;
            let b = eval(r, input, env)?;
            apply(op, a, b)
        }
    }
}

/// A non-logical binary operator on evaluated operands.
pub(crate) fn apply<'a>(op: BinOp, a: Vec<Item<'a>>, b: Vec<Item<'a>>) -> Result<Vec<Item<'a>>> {
    match op {
        BinOp::Eq => Ok(boolean(compare::collections_equal(&a, &b))),
        BinOp::Ne => Ok(boolean(compare::collections_equal(&a, &b).map(|v| !v))),
        BinOp::Equiv => Ok(boolean(Some(compare::collections_equivalent(&a, &b)))),
        BinOp::NotEquiv => Ok(boolean(Some(!compare::collections_equivalent(&a, &b)))),
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            let x = ops::singleton(&a, "comparison")?;
            let y = ops::singleton(&b, "comparison")?;
            let (Some(x), Some(y)) = (x, y) else {
                return Ok(Vec::new());
            };
            let o = compare::order(&x, &y)?;
            Ok(boolean(o.map(|o| match op {
                BinOp::Lt => o.is_lt(),
                BinOp::Gt => o.is_gt(),
                BinOp::Le => o.is_le(),
                _ => o.is_ge(),
            })))
        }
        BinOp::Union => {
            let mut all = a;
            all.extend(b);
            Ok(compare::distinct(all))
        }
        BinOp::In | BinOp::Contains => {
            let (needle, hay) = if op == BinOp::In { (a, b) } else { (b, a) };
            match needle.as_slice() {
                [] => Ok(Vec::new()),
                [one] => Ok(boolean(Some(compare::contains_item(&hay, one)))),
                _ => Err(FhirPathError::exec(format!(
                    "membership expects a single item but got {}",
                    needle.len()
                ))),
            }
        }
        _ => ops::arithmetic(op, &a, &b),
    }
}

fn member_of<'a>(item: &Item<'a>, name: &str, strict: bool, out: &mut Vec<Item<'a>>) -> Result<()> {
    match item {
        Item::Node(n) => out.extend(navigate::member(n, name, strict)?),
        Item::TypeInfo {
            namespace,
            name: tn,
        } => match name {
            "namespace" => out.push(Item::String((*namespace).to_string())),
            "name" => out.push(Item::String(tn.clone())),
            _ => {}
        },
        Item::Quantity(q) => match name {
            "value" => out.push(Item::Decimal(q.value)),
            "unit" | "code" => out.push(Item::String(q.unit.clone())),
            _ => {}
        },
        _ => {}
    }
    Ok(())
}

/// An identifier at the start of a path: a resource type name filters the
/// focus; anything else is a member of the focus.
fn term_member<'a>(name: &str, input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let strict = env.ctx.is_strict();
    let mut out = Vec::new();
    let type_name = is_resource_type_name(name);
    for item in input {
        if let Item::Node(n) = item {
            // A type name of the focus itself (`HumanName.given` on a HumanName).
            if !type_name
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && !n.ty.name.is_empty()
                && n.ty.derives_from(name)
            {
                out.push(item.clone());
                continue;
            }
            if type_name && n.ty.is_resource() {
                if n.ty.derives_from(name) {
                    out.push(item.clone());
                } else if strict {
                    return Err(FhirPathError::semantic(
                        format!("'{name}' does not match the context type {}", n.ty.name),
                        None,
                    ));
                }
                continue;
            }
        }
        member_of(item, name, strict, &mut out)?;
    }
    Ok(out)
}

fn variable<'a>(name: &str, env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let s = |v: &str| Ok(vec![Item::String(v.to_string())]);
    match name {
        "resource" => Ok(env
            .ctx
            .resource()
            .map(|r| Item::Node(FhirNode::resource(r)))
            .into_iter()
            .collect()),
        "rootResource" => Ok(env
            .ctx
            .root_resource()
            .map(|r| Item::Node(FhirNode::resource(r)))
            .into_iter()
            .collect()),
        "context" => Ok(env.ctx.focus().to_vec()),
        "ucum" => s("http://unitsofmeasure.org"),
        "sct" => s("http://snomed.info/sct"),
        "loinc" => s("http://loinc.org"),
        _ => {
            if let Some(v) = env.ctx.variables.get(name) {
                return Ok(v.clone());
            }
            if let Some(rest) = name.strip_prefix("vs-") {
                return s(&format!("http://hl7.org/fhir/ValueSet/{rest}"));
            }
            if let Some(rest) = name.strip_prefix("ext-") {
                return s(&format!("http://hl7.org/fhir/StructureDefinition/{rest}"));
            }
            Err(FhirPathError::exec(format!(
                "undefined environment variable %{name}"
            )))
        }
    }
}

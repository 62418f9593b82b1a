//! StructureDefinition snapshots (`defs/types.json`) with per-node lookup
//! maps precomputed at load: JSON property name → element (and, for choice
//! elements, the chosen type).

use serde_json::Value;
// FxHash: the maps hold the fixed R4 definitions and are looked up for every
// JSON property written or navigated; SipHash was ~5% of an ingest's CPU.
use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

const TYPES_JSON: &str = include_str!("../../defs/types.json");
const CONSTRAINTS_JSON: &str = include_str!("../../defs/constraints.json");

/// The element type code used for nested resources (`contained`, `Bundle.entry.resource`).
pub const ELEMENT_TYPE_RESOURCE: &str = "Resource";

/// StructureDefinition kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PrimitiveType,
    ComplexType,
    Resource,
}

/// One FHIRPath invariant of an element (`ElementDefinition.constraint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// e.g. `que-12`, `per-1`, `ele-1`.
    pub key: String,
    /// `Error` or `Warning` (the spec's `constraint.severity`).
    pub severity: crate::Severity,
    /// The human description, for the issue message.
    pub human: String,
    /// The FHIRPath expression, evaluated with the element as focus.
    pub expression: String,
}

/// One snapshot element of a type.
#[derive(Debug, Clone)]
pub struct ElementDef {
    /// Path relative to the type, e.g. `name.given` or `value[x]`.
    pub path: String,
    /// Last path segment without `[x]`, e.g. `value` for `value[x]`.
    pub name: String,
    pub min: u32,
    /// `None` = unbounded (`*`).
    pub max: Option<u32>,
    /// Type codes (`string`, `HumanName`, `BackboneElement`, ...).
    pub types: Vec<String>,
    /// Relative path of the element whose definition this one reuses.
    pub content_reference: Option<String>,
    /// ValueSet URL of a required binding.
    pub required_binding: Option<String>,
    /// Allowed Reference/canonical target types.
    pub target_types: Vec<String>,
    pub is_choice: bool,
    /// Invariants declared on this element by its type (see [`ElementDef::constraints`]).
    pub constraints: Vec<Constraint>,
}

impl ElementDef {
    /// The invariants declared on this element. Inherited ones are not
    /// repeated: the element's datatype contributes its
    /// [`TypeDef::root_constraints`] (and those of its `base` chain, e.g.
    /// `ele-1` from `Element`, `ext-1` from `Extension`).
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// True when the element may repeat (max > 1 or `*`): JSON arrays.
    pub fn is_array(&self) -> bool {
        self.max != Some(1) && self.max != Some(0)
    }
}

/// A JSON property resolved within a node: the element and the type it carries.
#[derive(Debug, Clone, Copy)]
pub struct ChildRef {
    /// Index into [`TypeDef::elements`].
    pub element: usize,
    /// Index into the element's `types` (the choice variant; 0 otherwise).
    pub type_index: usize,
}

/// The children of one element (or of the type's root).
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// JSON property name → element. Choice elements appear once per variant.
    pub children: HashMap<String, ChildRef>,
    /// Elements of this node with `min > 0`.
    pub required: Vec<usize>,
    /// Every element of this node, in snapshot order.
    pub elements: Vec<usize>,
}

/// A primitive, complex type or resource definition.
#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub kind: Kind,
    pub is_abstract: bool,
    pub base: Option<String>,
    /// For primitives: the value regex from the spec.
    pub regex: Option<String>,
    pub elements: Vec<ElementDef>,
    /// Relative element path (`""` for the root) → node.
    pub nodes: HashMap<String, Node>,
    by_path: HashMap<String, usize>,
    root_constraints: Vec<Constraint>,
}

impl TypeDef {
    /// Invariants on the type's root element declared by this type (e.g.
    /// `dom-2`..`dom-6` on `DomainResource`, `ext-1` on `Extension`,
    /// `ele-1` on `Element`); follow [`TypeDef::base`] for inherited ones.
    pub fn root_constraints(&self) -> &[Constraint] {
        &self.root_constraints
    }

    /// The invariants of the element at a relative path (`""` for the root).
    pub fn constraints(&self, path: &str) -> &[Constraint] {
        if path.is_empty() {
            return &self.root_constraints;
        }
        self.element(path).map_or(&[], |e| e.constraints.as_slice())
    }

    /// The element at a relative path such as `name.given` or `value[x]`.
    pub fn element(&self, path: &str) -> Option<&ElementDef> {
        self.by_path.get(path).map(|&i| &self.elements[i])
    }

    /// The node for an element path (`""` for the type's root).
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Resolves a JSON property (`valueQuantity`, `given`) within a node.
    pub fn child(&self, node_path: &str, key: &str) -> Option<(&ElementDef, &str)> {
        let c = self.nodes.get(node_path)?.children.get(key)?;
        let el = &self.elements[c.element];
        Some((el, el.types.get(c.type_index).map_or("", String::as_str)))
    }
}

/// All loaded type definitions.
#[derive(Debug, Default)]
pub struct Definitions {
    types: HashMap<String, TypeDef>,
}

impl Definitions {
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// The definition of a concrete resource type.
    pub fn resource(&self, name: &str) -> Option<&TypeDef> {
        self.types
            .get(name)
            .filter(|t| t.kind == Kind::Resource && !t.is_abstract)
    }

    pub fn is_primitive(&self, name: &str) -> bool {
        self.types
            .get(name)
            .is_some_and(|t| t.kind == Kind::PrimitiveType)
    }

    /// Names of every loaded type.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    /// See [`super::element_by_path`].
    pub fn element_by_path<'a>(&'a self, path: &str) -> Option<(&'a ElementDef, &'a str)> {
        let mut segs = path.split('.');
        let mut ty = self.types.get(segs.next()?)?;
        let mut node = String::new();
        let mut found: Option<(&ElementDef, &str)> = None;
        for seg in segs {
            if let Some((el, t)) = found {
                // Step into the previous element: its own children, a content
                // reference, or its datatype.
                if ty.nodes.contains_key(&el.path) {
                    node = el.path.clone();
                } else if let Some(cref) = &el.content_reference {
                    node = cref.clone();
                } else {
                    ty = self.types.get(t)?;
                    node.clear();
                }
            }
            let key = seg.strip_suffix("[x]").unwrap_or(seg);
            found = match ty.child(&node, key) {
                Some(hit) => Some(hit),
                None => {
                    let p = if node.is_empty() {
                        seg.to_string()
                    } else {
                        format!("{node}.{seg}")
                    };
                    let el = ty.element(&p)?;
                    Some((el, el.types.first().map_or("", String::as_str)))
                }
            };
        }
        found
    }
}

/// The shared, lazily parsed definitions.
pub fn definitions() -> &'static Definitions {
    static DEFS: OnceLock<Definitions> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut defs = parse(TYPES_JSON);
        add_constraints(&mut defs, CONSTRAINTS_JSON);
        defs
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_element(row: &Value) -> Option<ElementDef> {
    let path = row.get(0)?.as_str()?.to_string();
    let last = path.rsplit('.').next().unwrap_or(&path);
    let is_choice = last.ends_with("[x]");
    let name = last.trim_end_matches("[x]").to_string();
    let max = row.get(2)?.as_i64()?;
    Some(ElementDef {
        name,
        min: u32::try_from(row.get(1)?.as_u64()?).ok()?,
        max: u32::try_from(max).ok(),
        types: strings(row.get(3)),
        content_reference: row.get(4).and_then(Value::as_str).map(str::to_string),
        required_binding: row.get(5).and_then(Value::as_str).map(str::to_string),
        target_types: strings(row.get(6)),
        is_choice,
        path,
        constraints: Vec::new(),
    })
}

fn build_type(name: &str, v: &Value) -> Option<TypeDef> {
    let kind = match v.get("kind")?.as_str()? {
        "primitive-type" => Kind::PrimitiveType,
        "complex-type" => Kind::ComplexType,
        "resource" => Kind::Resource,
        _ => return None,
    };
    let elements: Vec<ElementDef> = v
        .get("elements")?
        .as_array()?
        .iter()
        .filter_map(parse_element)
        .collect();
    let mut nodes: HashMap<String, Node> = HashMap::default();
    let mut by_path = HashMap::default();
    for (i, el) in elements.iter().enumerate() {
        by_path.insert(el.path.clone(), i);
        let parent = el.path.rsplit_once('.').map_or("", |(p, _)| p);
        let node = nodes.entry(parent.to_string()).or_default();
        node.elements.push(i);
        if el.min > 0 {
            node.required.push(i);
        }
        if el.is_choice {
            for (ti, t) in el.types.iter().enumerate() {
                let key = format!("{}{}", el.name, capitalise(t));
                node.children.insert(
                    key,
                    ChildRef {
                        element: i,
                        type_index: ti,
                    },
                );
            }
        } else {
            node.children.insert(
                el.name.clone(),
                ChildRef {
                    element: i,
                    type_index: 0,
                },
            );
        }
    }
    Some(TypeDef {
        name: name.to_string(),
        kind,
        is_abstract: v.get("abstract").and_then(Value::as_bool).unwrap_or(false),
        base: v.get("base").and_then(Value::as_str).map(str::to_string),
        regex: v.get("regex").and_then(Value::as_str).map(str::to_string),
        elements,
        nodes,
        by_path,
        root_constraints: Vec::new(),
    })
}

fn parse_constraint(row: &Value) -> Option<(String, Constraint)> {
    let text = |i: usize| row.get(i).and_then(Value::as_str).map(str::to_string);
    let severity = match row.get(2)?.as_str()? {
        "warning" => crate::Severity::Warning,
        _ => crate::Severity::Error,
    };
    Some((
        text(0)?,
        Constraint {
            key: text(1)?,
            severity,
            human: text(3).unwrap_or_default(),
            expression: text(4).unwrap_or_default(),
        },
    ))
}

/// Attaches `defs/constraints.json` rows to their elements.
fn add_constraints(defs: &mut Definitions, text: &str) {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Some(types) = doc.get("constraints").and_then(Value::as_object) else {
        return;
    };
    for (name, rows) in types {
        let Some(ty) = defs.types.get_mut(name) else {
            continue;
        };
        for (path, c) in rows
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(parse_constraint)
        {
            if path.is_empty() {
                ty.root_constraints.push(c);
            } else if let Some(&i) = ty.by_path.get(&path) {
                ty.elements[i].constraints.push(c);
            }
        }
    }
}

fn parse(text: &str) -> Definitions {
    let mut defs = Definitions::default();
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return defs;
    };
    if let Some(types) = doc.get("types").and_then(Value::as_object) {
        for (name, v) in types {
            if let Some(t) = build_type(name, v) {
                defs.types.insert(name.clone(), t);
            }
        }
    }
    defs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::element_by_path;

    #[test]
    fn loads_every_resource_type() {
        let d = definitions();
        for t in crate::RESOURCE_TYPES {
            assert!(d.resource(t).is_some(), "{t}");
        }
        assert!(d.resource("DomainResource").is_none());
        assert!(d.is_primitive("dateTime"));
        assert!(d
            .type_def("dateTime")
            .and_then(|t| t.regex.as_ref())
            .is_some());
    }

    #[test]
    fn resolves_paths_and_choices() {
        let (el, ty) = element_by_path("Observation.valueQuantity").unwrap();
        assert_eq!((el.path.as_str(), ty), ("value[x]", "Quantity"));
        let (el, ty) = element_by_path("Observation.valueQuantity.value").unwrap();
        assert_eq!((el.path.as_str(), ty), ("value", "decimal"));
        let (el, ty) = element_by_path("Patient.name.given").unwrap();
        assert_eq!((el.path.as_str(), ty, el.max), ("given", "string", None));
        let (el, _) = element_by_path("Questionnaire.item.item.linkId").unwrap();
        assert_eq!(el.path, "item.linkId");
        let (el, _) = element_by_path("Patient.gender").unwrap();
        assert_eq!(
            el.required_binding.as_deref(),
            Some("http://hl7.org/fhir/ValueSet/administrative-gender")
        );
        assert!(element_by_path("Patient.foo").is_none());
        assert!(element_by_path("Observation.valueFoo").is_none());
    }

    #[test]
    fn carries_constraints() {
        let d = definitions();
        let q = d.resource("Questionnaire").unwrap();
        let item = q.element("item").unwrap();
        let que12 = item
            .constraints()
            .iter()
            .find(|c| c.key == "que-12")
            .unwrap();
        assert_eq!(que12.severity, crate::Severity::Error);
        assert!(que12.expression.contains("enableBehavior"));
        assert!(q.constraints("").iter().any(|c| c.key == "que-2"));
        let (period_start, _) = element_by_path("Period.start").unwrap();
        assert!(period_start.constraints().is_empty());
        let period = d.type_def("Period").unwrap();
        assert!(period.root_constraints().iter().any(|c| c.key == "per-1"));
        let dom = d.type_def("DomainResource").unwrap();
        assert!(dom
            .root_constraints()
            .iter()
            .any(|c| c.key == "dom-6" && c.severity == crate::Severity::Warning));
        let element = d.type_def("Element").unwrap();
        assert!(element.root_constraints().iter().any(|c| c.key == "ele-1"));
        let ras = d.resource("RiskAssessment").unwrap();
        assert!(ras
            .constraints("prediction")
            .iter()
            .any(|c| c.key == "ras-2"));
    }

    #[test]
    fn loads_quickly() {
        let start = std::time::Instant::now();
        let d = parse(TYPES_JSON);
        assert!(d.types.len() > 200);
        // Generous bound: debug builds are several times slower than release.
        assert!(start.elapsed().as_millis() < 2000);
    }
}

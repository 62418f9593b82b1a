//! Result items: FHIR nodes (JSON with their R4 type) and System values.

use crate::datetime::{Temporal, TemporalKind};
use crate::quantity::Quantity;
use concord_fhir::definitions::{definitions, Kind, TypeDef};
use rust_decimal::Decimal;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// The FHIR type of a JSON node and where its children are defined.
#[derive(Clone, Copy)]
pub struct FhirType {
    /// The FHIR type code (`string`, `HumanName`, `Patient`,
    /// `BackboneElement`), or `""` when unknown.
    pub name: &'static str,
    /// The type definition and element path whose children this node has.
    pub(crate) scope: Option<(&'static TypeDef, &'static str)>,
}

impl fmt::Debug for FhirType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            Some((td, path)) if !path.is_empty() => write!(f, "{}({}.{path})", self.name, td.name),
            _ => write!(f, "{}", self.name),
        }
    }
}

impl FhirType {
    pub const UNKNOWN: FhirType = FhirType {
        name: "",
        scope: None,
    };

    /// The type named by a FHIR type code (`HumanName`, `string`).
    pub fn named(code: &str) -> FhirType {
        match definitions().type_def(code) {
            Some(td) => FhirType {
                name: td.name.as_str(),
                scope: Some((td, "")),
            },
            None => FhirType::UNKNOWN,
        }
    }

    /// The type of a node holding the children of `path` within `td`: the
    /// type itself for `""` (a datatype or resource instance), otherwise a
    /// `BackboneElement` scoped to that element (`Patient` + `contact`). No
    /// lookups: for callers that already hold the definitions.
    pub fn element(td: &'static TypeDef, path: &'static str) -> FhirType {
        FhirType {
            name: if path.is_empty() {
                td.name.as_str()
            } else {
                "BackboneElement"
            },
            scope: Some((td, path)),
        }
    }

    /// The type of a JSON object from its `resourceType`.
    pub fn of_resource(v: &Value) -> FhirType {
        v.get("resourceType")
            .and_then(Value::as_str)
            .map_or(FhirType::UNKNOWN, FhirType::named)
    }

    pub fn is_primitive(&self) -> bool {
        self.scope
            .is_some_and(|(td, _)| td.kind == Kind::PrimitiveType)
    }

    pub fn is_resource(&self) -> bool {
        self.scope
            .is_some_and(|(td, p)| td.kind == Kind::Resource && p.is_empty())
    }

    /// True when this type is `name` or derives from it.
    pub fn derives_from(&self, name: &str) -> bool {
        let defs = definitions();
        let mut cur = Some(self.name);
        let mut guard = 0;
        while let Some(n) = cur {
            if n == name {
                return true;
            }
            guard += 1;
            if guard > 20 {
                break;
            }
            cur = defs
                .type_def(n)
                .and_then(|t| t.base.as_deref())
                .map(|b| b.rsplit('/').next().unwrap_or(b));
        }
        false
    }
}

/// A JSON node of the resource with its FHIR type. Primitive elements carry
/// their value and the `_name` object (id/extension) separately; either may
/// be absent.
#[derive(Debug, Clone)]
pub struct FhirNode<'a> {
    pub value: Option<&'a Value>,
    pub ext: Option<&'a Value>,
    pub ty: FhirType,
}

impl<'a> FhirNode<'a> {
    pub fn resource(v: &'a Value) -> FhirNode<'a> {
        FhirNode {
            value: Some(v),
            ext: None,
            ty: FhirType::of_resource(v),
        }
    }

    /// Primitive: a known primitive type, or an untyped JSON scalar.
    pub fn is_primitive(&self) -> bool {
        if self.ty.is_primitive() {
            return true;
        }
        if self.ty.name.is_empty() {
            return !matches!(self.value, Some(Value::Object(_)) | Some(Value::Array(_)));
        }
        false
    }
}

/// One element of a FHIRPath collection.
#[derive(Debug, Clone)]
pub enum Item<'a> {
    Boolean(bool),
    Integer(i64),
    Decimal(Decimal),
    String(String),
    /// A Date, DateTime or Time (see [`Temporal::kind`]).
    Temporal(Temporal),
    Quantity(Quantity),
    /// A node of the input resource.
    Node(FhirNode<'a>),
    /// The result of `type()`.
    TypeInfo {
        namespace: &'static str,
        name: String,
    },
}

/// Parses a JSON number's text as a decimal (exact, via `arbitrary_precision`).
pub fn json_decimal(n: &serde_json::Number) -> Option<Decimal> {
    let s = n.to_string();
    Decimal::from_str(&s)
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

const QUANTITY_TYPES: &[&str] = &[
    "Quantity",
    "Age",
    "Duration",
    "Distance",
    "Count",
    "SimpleQuantity",
    "MoneyQuantity",
];

impl<'a> Item<'a> {
    /// The System value of a primitive node (or a FHIR Quantity), or the
    /// item itself when it already is a System value. `None` for complex
    /// nodes and primitives without a value.
    pub fn to_system(&self) -> Option<Item<'a>> {
        let Item::Node(n) = self else {
            return Some(self.clone());
        };
        let v = n.value?;
        let ty = n.ty.name;
        if QUANTITY_TYPES.contains(&ty) {
            return node_quantity(v).map(Item::Quantity);
        }
        match v {
            Value::Bool(b) => Some(Item::Boolean(*b)),
            Value::Number(num) => {
                if matches!(ty, "decimal") {
                    return json_decimal(num).map(Item::Decimal);
                }
                if let Some(i) = num.as_i64() {
                    if ty != "decimal" {
                        return Some(Item::Integer(i));
                    }
                }
                json_decimal(num).map(|d| {
                    if d.scale() == 0 && ty.is_empty() {
                        i64::try_from(d).map_or(Item::Decimal(d), Item::Integer)
                    } else {
                        Item::Decimal(d)
                    }
                })
            }
            Value::String(s) => {
                Some(match ty {
                    "date" => Temporal::parse_date(s)
                        .map_or_else(|| Item::String(s.clone()), Item::Temporal),
                    "dateTime" | "instant" => Temporal::parse_datetime(s)
                        .map_or_else(|| Item::String(s.clone()), Item::Temporal),
                    "time" => Temporal::parse_time(s)
                        .map_or_else(|| Item::String(s.clone()), Item::Temporal),
                    "integer" | "unsignedInt" | "positiveInt" => s
                        .parse()
                        .map_or_else(|_| Item::String(s.clone()), Item::Integer),
                    "decimal" => {
                        Decimal::from_str(s).map_or_else(|_| Item::String(s.clone()), Item::Decimal)
                    }
                    _ => Item::String(s.clone()),
                })
            }
            _ => None,
        }
    }

    /// `(namespace, name)` of the item's type.
    pub fn type_name(&self) -> (&'static str, String) {
        let sys = |n: &str| ("System", n.to_string());
        match self {
            Item::Boolean(_) => sys("Boolean"),
            Item::Integer(_) => sys("Integer"),
            Item::Decimal(_) => sys("Decimal"),
            Item::String(_) => sys("String"),
            Item::Temporal(t) => sys(match t.kind {
                TemporalKind::Date => "Date",
                TemporalKind::DateTime => "DateTime",
                TemporalKind::Time => "Time",
            }),
            Item::Quantity(_) => sys("Quantity"),
            Item::TypeInfo { .. } => sys("TypeInfo"),
            Item::Node(n) => {
                if n.ty.name.is_empty() {
                    match n.to_system_kind() {
                        Some(k) => sys(k),
                        None => ("FHIR", "Element".to_string()),
                    }
                } else {
                    ("FHIR", n.ty.name.to_string())
                }
            }
        }
    }

    /// The item as plain JSON (the CLI form): primitives as JSON values,
    /// dates and times as strings without `@`, quantities as
    /// `{"value": …, "unit": …}`, nodes as their JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Item::Boolean(b) => Value::Bool(*b),
            Item::Integer(i) => Value::from(*i),
            Item::Decimal(d) => decimal_json(d),
            Item::String(s) => Value::String(s.clone()),
            Item::Temporal(t) => Value::String(t.to_text()),
            Item::Quantity(q) => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), decimal_json(&q.value));
                m.insert("unit".into(), Value::String(q.unit.clone()));
                Value::Object(m)
            }
            Item::Node(n) => n.value.cloned().unwrap_or(Value::Null),
            Item::TypeInfo { namespace, name } => {
                let mut m = serde_json::Map::new();
                m.insert("namespace".into(), Value::String((*namespace).into()));
                m.insert("name".into(), Value::String(name.clone()));
                Value::Object(m)
            }
        }
    }

    /// The FHIRPath literal-like text form (strings raw, dates with `@`,
    /// quantities as `1 'mg'`); complex nodes as compact JSON.
    pub fn to_text(&self) -> String {
        match self.to_system() {
            Some(Item::Boolean(b)) => b.to_string(),
            Some(Item::Integer(i)) => i.to_string(),
            Some(Item::Decimal(d)) => d.to_string(),
            Some(Item::String(s)) => s,
            Some(Item::Temporal(t)) => {
                if t.kind == TemporalKind::Time {
                    format!("@T{}", t.to_text())
                } else {
                    format!("@{}", t.to_text())
                }
            }
            Some(Item::Quantity(q)) => q.to_text(),
            _ => self.to_json().to_string(),
        }
    }
}

impl FhirNode<'_> {
    fn to_system_kind(&self) -> Option<&'static str> {
        match self.value? {
            Value::Bool(_) => Some("Boolean"),
            Value::Number(n) if n.as_i64().is_some() => Some("Integer"),
            Value::Number(_) => Some("Decimal"),
            Value::String(_) => Some("String"),
            _ => None,
        }
    }
}

/// A decimal as a JSON number keeping its written scale.
pub fn decimal_json(d: &Decimal) -> Value {
    serde_json::from_str::<Value>(&d.to_string()).unwrap_or(Value::Null)
}

/// A FHIR Quantity object as a System Quantity (UCUM code preferred).
pub fn node_quantity(v: &Value) -> Option<Quantity> {
    let value = match v.get("value")? {
        Value::Number(n) => json_decimal(n)?,
        _ => return None,
    };
    let system = v.get("system").and_then(Value::as_str);
    let code = v.get("code").and_then(Value::as_str);
    let unit = v.get("unit").and_then(Value::as_str);
    let u = match (system, code) {
        (Some("http://unitsofmeasure.org"), Some(c)) => c,
        _ => unit.or(code).unwrap_or("1"),
    };
    Some(Quantity::new(value, u))
}

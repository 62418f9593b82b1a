//! The typed form of a search.

use crate::datetime::DateRange;
use crate::registry::ParamType;
use concord_fhir::Issue;

/// A parsed search: AND-ed filters plus result controls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// `None` for a system search.
    pub resource_type: Option<String>,
    /// `_type` (system search).
    pub types: Vec<String>,
    /// Every filter must match (AND); each holds OR-ed values.
    pub filters: Vec<Filter>,
    pub includes: Vec<Include>,
    pub revincludes: Vec<Include>,
    pub sort: Vec<SortKey>,
    pub count: Option<u32>,
    pub total: Option<Total>,
    pub summary: Option<Summary>,
    pub elements: Vec<String>,
    pub format: Option<String>,
    pub pretty: Option<bool>,
    /// Dropped parameters (lenient handling), for the OperationOutcome.
    pub warnings: Vec<Issue>,
    /// Accepted `(name, value)` pairs, decoded, in request order.
    pub(crate) canonical: Vec<(String, String)>,
}

impl SearchQuery {
    /// The resource types searched: the type, or `_type`, or none (all).
    pub fn search_types(&self) -> Vec<String> {
        match &self.resource_type {
            Some(t) => vec![t.clone()],
            None => self.types.clone(),
        }
    }
}

/// One AND-ed criterion.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Param(ParamFilter),
    /// `subject:Patient.name=x`: resources whose `param` references a
    /// resource (of one of `target_types`) matching `inner`.
    Chain {
        param: String,
        target_types: Vec<String>,
        inner: Box<Filter>,
    },
    /// `_has:Observation:patient:code=x`: resources referenced through
    /// `param` by a `resource_type` resource matching `inner`.
    Has {
        resource_type: String,
        param: String,
        inner: Box<Filter>,
    },
}

/// A parameter with its modifier and OR-ed values.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamFilter {
    pub code: String,
    pub kind: ParamType,
    pub modifier: Option<Modifier>,
    pub values: Vec<SearchValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modifier {
    Missing,
    Exact,
    Contains,
    Text,
    Not,
    Above,
    Below,
    In,
    NotIn,
    OfType,
    Identifier,
    /// `:[Type]` on a reference parameter.
    Type(String),
}

impl Modifier {
    pub fn as_str(&self) -> &str {
        match self {
            Modifier::Missing => "missing",
            Modifier::Exact => "exact",
            Modifier::Contains => "contains",
            Modifier::Text => "text",
            Modifier::Not => "not",
            Modifier::Above => "above",
            Modifier::Below => "below",
            Modifier::In => "in",
            Modifier::NotIn => "not-in",
            Modifier::OfType => "of-type",
            Modifier::Identifier => "identifier",
            Modifier::Type(t) => t,
        }
    }
}

/// Comparison prefix of number, date and quantity values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefix {
    #[default]
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl Prefix {
    pub fn parse(p: &str) -> Option<Prefix> {
        Some(match p {
            "eq" => Prefix::Eq,
            "ne" => Prefix::Ne,
            "gt" => Prefix::Gt,
            "lt" => Prefix::Lt,
            "ge" => Prefix::Ge,
            "le" => Prefix::Le,
            "sa" => Prefix::Sa,
            "eb" => Prefix::Eb,
            "ap" => Prefix::Ap,
            _ => return None,
        })
    }
}

/// One OR-ed value, typed by the parameter (and modifier).
#[derive(Debug, Clone, PartialEq)]
pub enum SearchValue {
    /// `:missing=true|false`.
    Missing(bool),
    Number(NumberValue),
    Date(DateValue),
    /// String search term (unescaped, as written) and for `:text`.
    String(String),
    Token(TokenValue),
    /// `:of-type=system|code|value`.
    OfType {
        system: String,
        code: String,
        value: String,
    },
    Reference(ReferenceValue),
    Quantity(QuantityValue),
    /// Uri values and `:in`/`:not-in` ValueSet URLs.
    Uri(String),
    Composite(Vec<SearchValue>),
}

/// A number with its implicit precision range (`100` → `[99.5, 100.5)`).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberValue {
    pub prefix: Prefix,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The number as written (without prefix).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DateValue {
    pub prefix: Prefix,
    pub range: DateRange,
    pub text: String,
}

/// The system part of a token: `code` (any), `|code` (none), `sys|code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSystem {
    Any,
    None,
    Is(String),
}

/// `code`, `system|code`, `|code` or `system|` (code `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValue {
    pub system: TokenSystem,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuantityValue {
    pub prefix: Prefix,
    pub number: NumberValue,
    pub system: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceValue {
    /// `Type/id`, `Type/id/_history/v` or a bare `id` (type `None` unless
    /// given by a `:Type` modifier).
    Local {
        resource_type: Option<String>,
        id: String,
        version: Option<String>,
    },
    /// An absolute URL (or canonical).
    Url(String),
}

/// `_include` / `_revinclude`: `Source:param[:Target]`, `Source:*`, or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// `None` for `*`.
    pub source_type: Option<String>,
    /// `None` for every reference parameter (`*`).
    pub param: Option<String>,
    pub target_type: Option<String>,
    pub iterate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub param: String,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    None,
    Estimate,
    Accurate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    True,
    Text,
    Data,
    Count,
    False,
}

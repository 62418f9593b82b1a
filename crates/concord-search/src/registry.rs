//! The search parameters of each resource type: every R4 SearchParameter
//! whose base is the type, `Resource` or `DomainResource`, with its FHIRPath
//! expression compiled once (lazily, per type, shared by all threads).
//!
//! An R4 expression is a union of branches (`A.subject | B.patient`). Only
//! the branches that can match the type are compiled (a branch starting with
//! another resource type's name is dropped), and a trailing
//! `.where(resolve() is Patient)` is turned into a target-type filter on the
//! reference rows (the engine cannot resolve references to other resources).

use concord_fhir::definitions::{search_parameter_by_url, search_parameters_for, SearchParam};
use concord_fhir::{is_resource_type, RESOURCE_TYPES};
use concord_fhirpath::{compile, Expression};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The type of a search parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    Number,
    Date,
    String,
    Token,
    Reference,
    Composite,
    Quantity,
    Uri,
    Special,
}

impl ParamType {
    pub fn parse(code: &str) -> Option<ParamType> {
        Some(match code {
            "number" => ParamType::Number,
            "date" => ParamType::Date,
            "string" => ParamType::String,
            "token" => ParamType::Token,
            "reference" => ParamType::Reference,
            "composite" => ParamType::Composite,
            "quantity" => ParamType::Quantity,
            "uri" => ParamType::Uri,
            "special" => ParamType::Special,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Number => "number",
            ParamType::Date => "date",
            ParamType::String => "string",
            ParamType::Token => "token",
            ParamType::Reference => "reference",
            ParamType::Composite => "composite",
            ParamType::Quantity => "quantity",
            ParamType::Uri => "uri",
            ParamType::Special => "special",
        }
    }
}

/// One compiled branch of a parameter's expression.
#[derive(Debug)]
pub struct Branch {
    pub expression: Expression,
    /// From a stripped `.where(resolve() is T)`: only references to `T` count.
    pub target_type: Option<String>,
    /// The first element the path reads (`subject` in `Observation.subject…`):
    /// when the resource has no such element (nor a choice variant of it,
    /// `valueQuantity` for `value`) the branch is empty and is not evaluated.
    pub guard: Option<String>,
}

impl Branch {
    /// False when the guard element is absent, so the branch yields nothing.
    pub fn may_match(&self, resource: &serde_json::Value) -> bool {
        let (Some(guard), Some(obj)) = (&self.guard, resource.as_object()) else {
            return true;
        };
        obj.contains_key(guard.as_str())
            || obj.keys().any(|k| {
                k.strip_prefix(guard.as_str())
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            })
    }
}

/// One component of a composite parameter.
#[derive(Debug)]
pub struct Component {
    /// The component parameter's code (e.g. `code`, `value-quantity`).
    pub code: String,
    pub kind: ParamType,
    /// Evaluated with the composite's node as the focus.
    pub expression: Option<Expression>,
}

/// A search parameter as it applies to one resource type.
#[derive(Debug)]
pub struct SearchParamDef {
    pub code: &'static str,
    pub kind: ParamType,
    pub url: &'static str,
    /// Reference target types (reference parameters).
    pub targets: &'static [String],
    /// The branches of the expression that apply to this type (empty for
    /// parameters without an expression, such as `_text` and `_content`).
    pub branches: Vec<Branch>,
    pub components: Vec<Component>,
    /// True when the value is taken from the resource row itself (`_id`,
    /// `_lastUpdated`), not from index rows.
    pub from_resource_row: bool,
    /// The parameters whose union this one is (Observation `combo-code`:
    /// `code`, `component-code`): it stores no rows of its own and search
    /// reads its parts' (see `union_params`). Empty for most.
    pub union_of: Vec<&'static str>,
}

impl SearchParamDef {
    /// Whether index rows are extracted for this parameter.
    pub fn is_indexed(&self) -> bool {
        !self.from_resource_row && !self.branches.is_empty()
    }

    /// Whether index rows are written under this parameter's own name (not
    /// for one answered from other parameters' rows: a union, or a
    /// composite over the resource itself).
    pub fn stores_rows(&self) -> bool {
        self.is_indexed() && self.union_of.is_empty() && !self.splits_into_components()
    }

    /// The position of the composite's only number or quantity component:
    /// its value is stored beside the composite text, so prefixes work on it.
    pub fn numeric_component(&self) -> Option<usize> {
        let mut numeric = self
            .components
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c.kind, ParamType::Quantity | ParamType::Number));
        match (numeric.next(), numeric.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// A composite whose node is the resource itself (R4: Observation's
    /// `code-value-concept|date|quantity`): its components are parameters of
    /// the same resource with the same expressions, so "one node has both
    /// values" is "the resource has both", and search tests the components
    /// as separate conditions — no composite rows are stored for it. Not for
    /// `code-value-string`, whose `value-string` parameter also reads
    /// `CodeableConcept.text`, which its component does not.
    pub fn splits_into_components(&self) -> bool {
        self.kind == ParamType::Composite
            && self.branches.len() == 1
            && self.branches[0].guard.is_none()
            && !self.branches[0].expression.source().contains('.')
            && !self.components.is_empty()
            && self
                .components
                .iter()
                .all(|c| !c.code.is_empty() && c.kind != ParamType::String)
    }
}

/// An expression branch that failed to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileFailure {
    pub resource_type: String,
    pub code: String,
    pub expression: String,
    pub message: String,
}

/// The parameters of one resource type.
#[derive(Debug)]
pub struct TypeParams {
    pub resource_type: &'static str,
    params: Vec<SearchParamDef>,
    by_code: HashMap<&'static str, usize>,
    pub failures: Vec<CompileFailure>,
}

impl TypeParams {
    pub fn params(&self) -> &[SearchParamDef] {
        &self.params
    }

    pub fn get(&self, code: &str) -> Option<&SearchParamDef> {
        self.by_code.get(code).and_then(|&i| self.params.get(i))
    }
}

/// The parameters of `resource_type` (`None` for an unknown type).
pub fn for_type(resource_type: &str) -> Option<&'static TypeParams> {
    static ALL: OnceLock<HashMap<&'static str, OnceLock<TypeParams>>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        RESOURCE_TYPES
            .iter()
            .map(|t| (*t, OnceLock::new()))
            .collect()
    });
    let (name, cell) = all.get_key_value(resource_type)?;
    Some(cell.get_or_init(|| build(name)))
}

/// The parameter `code` of `resource_type`.
pub fn param(resource_type: &str, code: &str) -> Option<&'static SearchParamDef> {
    for_type(resource_type)?.get(code)
}

/// The parameters every resource type has (`_id`, `_lastUpdated`, `_tag`,
/// `_profile`, `_security`, `_source`), used for system-wide search; taken
/// from `Resource` so they do not depend on any one type.
pub fn common(code: &str) -> Option<&'static SearchParamDef> {
    let p = param("Basic", code)?;
    search_parameters_for("Resource")
        .any(|sp| sp.code == code && sp.base.iter().any(|b| b == "Resource"))
        .then_some(p)
}

/// Every expression branch of every type that failed to compile.
pub fn compile_failures() -> Vec<CompileFailure> {
    RESOURCE_TYPES
        .iter()
        .filter_map(|t| for_type(t))
        .flat_map(|tp| tp.failures.iter().cloned())
        .collect()
}

fn build(resource_type: &'static str) -> TypeParams {
    let mut params = Vec::new();
    let mut by_code = HashMap::new();
    let mut failures = Vec::new();
    for sp in search_parameters_for(resource_type) {
        if by_code.contains_key(sp.code.as_str()) {
            continue; // R4 defines `_id` twice; the first wins.
        }
        let Some(kind) = ParamType::parse(&sp.kind) else {
            continue;
        };
        let def = compile_param(resource_type, sp, kind, &mut failures);
        by_code.insert(sp.code.as_str(), params.len());
        params.push(def);
    }
    let unions = crate::union_params::find(&params);
    for (p, parts) in params.iter_mut().zip(unions) {
        p.union_of = parts;
    }
    TypeParams {
        resource_type,
        params,
        by_code,
        failures,
    }
}

fn compile_param(
    resource_type: &str,
    sp: &'static SearchParam,
    kind: ParamType,
    failures: &mut Vec<CompileFailure>,
) -> SearchParamDef {
    let mut fail = |expression: &str, message: String| {
        failures.push(CompileFailure {
            resource_type: resource_type.to_string(),
            code: sp.code.clone(),
            expression: expression.to_string(),
            message,
        })
    };
    let mut branches = Vec::new();
    if let Some(expr) = &sp.expression {
        for raw in split_union(expr) {
            if !branch_applies(raw, resource_type) {
                continue;
            }
            let (text, target_type) = strip_resolve_filter(raw);
            let guard = first_element(&text, resource_type);
            match compile(&text) {
                Ok(expression) => branches.push(Branch {
                    expression,
                    target_type,
                    guard,
                }),
                Err(e) => fail(raw, e.to_string()),
            }
        }
    }
    let components = sp
        .components
        .iter()
        .map(|c| {
            let def = search_parameter_by_url(&c.definition);
            let expression = match compile(&c.expression) {
                Ok(e) => Some(e),
                Err(e) => {
                    fail(&c.expression, e.to_string());
                    None
                }
            };
            Component {
                code: def.map(|d| d.code.clone()).unwrap_or_default(),
                kind: def
                    .and_then(|d| ParamType::parse(&d.kind))
                    .unwrap_or(ParamType::Token),
                expression,
            }
        })
        .collect();
    SearchParamDef {
        code: sp.code.as_str(),
        kind,
        url: sp.url.as_str(),
        targets: &sp.target,
        branches,
        components,
        from_resource_row: matches!(sp.code.as_str(), "_id" | "_lastUpdated"),
        union_of: Vec::new(),
    }
}

/// Splits an expression at its top-level `|` operators (outside
/// parentheses, brackets and string literals).
pub fn split_union(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in expr.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '`' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '|' if depth == 0 => {
                out.push(expr[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(expr[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// False when the branch starts with the name of another resource type.
fn branch_applies(branch: &str, resource_type: &str) -> bool {
    let head: String = branch
        .trim_start_matches(|c: char| c == '(' || c.is_whitespace())
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    if head == resource_type || head == "Resource" || head == "DomainResource" {
        return true;
    }
    !is_resource_type(&head)
}

/// The element a `Type.element…` path starts with, when the path starts with
/// the resource type (or `Resource`/`DomainResource`) and a plain element.
fn first_element(branch: &str, resource_type: &str) -> Option<String> {
    let text = branch.trim_start_matches(|c: char| c == '(' || c.is_whitespace());
    let rest = [resource_type, "Resource", "DomainResource"]
        .iter()
        .find_map(|t| text.strip_prefix(t).and_then(|r| r.strip_prefix('.')))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let after = rest[name.len()..].chars().next();
    let plain = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && after != Some('(')
        && empty_in_empty_out(branch);
    plain.then_some(name)
}

/// Functions that give an empty result for an empty input.
const EMPTY_PRESERVING: &[&str] = &[
    "where",
    "as",
    "ofType",
    "resolve",
    "extension",
    "first",
    "last",
    "single",
    "distinct",
    "select",
];

/// True when the branch is a path whose result is empty whenever its first
/// element is absent: only members and [`EMPTY_PRESERVING`] calls at the top
/// level (whatever their arguments), optionally ending in ` as Type`.
/// `Patient.deceased.exists() and …` is not: it yields `false`.
fn empty_in_empty_out(branch: &str) -> bool {
    let mut top = String::new();
    let mut depth = 0i32;
    let branch = branch.trim();
    let branch = match branch.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        Some(inner) => inner,
        None => branch,
    };
    for c in branch.chars() {
        match c {
            '(' => {
                if depth == 0 {
                    top.push('(');
                }
                depth += 1;
            }
            ')' => depth -= 1,
            _ if depth == 0 => top.push(c),
            _ => {}
        }
    }
    let top = top.trim();
    let path = match top.split_once(" as ") {
        Some((p, ty)) if ty.chars().all(|c| c.is_ascii_alphanumeric()) => p,
        Some(_) => return false,
        None => top,
    };
    path.split('.').all(|seg| match seg.strip_suffix('(') {
        Some(func) => EMPTY_PRESERVING.contains(&func),
        None => !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
    })
}

/// `X.where(resolve() is T)` → (`X`, Some(T)), when the filter ends the branch.
fn strip_resolve_filter(branch: &str) -> (String, Option<String>) {
    const OPEN: &str = ".where(resolve() is ";
    if let Some(at) = branch.rfind(OPEN) {
        let rest = &branch[at + OPEN.len()..];
        if let Some(ty) = rest.strip_suffix(')') {
            let ty = ty.trim();
            if is_resource_type(ty) {
                return (branch[..at].to_string(), Some(ty.to_string()));
            }
        }
    }
    (branch.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_unions_outside_parentheses_and_strings() {
        assert_eq!(
            split_union("A.b | (C.d as X) | E.f.where(g = 'x|y')"),
            vec!["A.b", "(C.d as X)", "E.f.where(g = 'x|y')"]
        );
    }

    #[test]
    fn guards_on_the_first_element() {
        assert_eq!(
            first_element("Observation.subject", "Observation").as_deref(),
            Some("subject")
        );
        assert_eq!(
            first_element("(Observation.value as Quantity)", "Observation").as_deref(),
            Some("value")
        );
        assert_eq!(
            first_element("Resource.meta.tag", "Patient").as_deref(),
            Some("meta")
        );
        assert_eq!(first_element("Patient.extension('u')", "Patient"), None);
        assert_eq!(first_element("Observation", "Observation"), None);
        assert_eq!(first_element("%resource.x", "Observation"), None);
        assert_eq!(
            first_element(
                "Patient.deceased.exists() and Patient.deceased != false",
                "Patient"
            ),
            None
        );
        assert_eq!(
            first_element("Patient.name.where(use = 'x').given", "Patient").as_deref(),
            Some("name")
        );
        let b = Branch {
            expression: compile("Observation.value").unwrap_or_else(|e| panic!("{e}")),
            target_type: None,
            guard: Some("value".into()),
        };
        assert!(b.may_match(&serde_json::json!({"valueQuantity": {}})));
        assert!(!b.may_match(&serde_json::json!({"values": 1, "code": {}})));
    }

    #[test]
    fn strips_resolve_filters() {
        assert_eq!(
            strip_resolve_filter("Observation.subject.where(resolve() is Patient)"),
            (
                "Observation.subject".to_string(),
                Some("Patient".to_string())
            )
        );
        assert_eq!(strip_resolve_filter("A.b"), ("A.b".to_string(), None));
    }

    #[test]
    fn patient_params_include_inherited_ones() {
        let p = for_type("Patient").map(|t| t.params().len()).unwrap_or(0);
        assert!(p > 25, "{p}");
        for code in [
            "_id",
            "_lastUpdated",
            "_tag",
            "_profile",
            "_security",
            "_source",
            "_text",
            "_content",
            "name",
            "birthdate",
            "identifier",
        ] {
            assert!(param("Patient", code).is_some(), "{code}");
        }
        assert!(param("Patient", "nope").is_none());
        assert!(for_type("Nope").is_none());
        assert_eq!(param("Patient", "_id").map(|p| p.is_indexed()), Some(false));
        assert!(common("_tag").is_some());
        assert!(common("name").is_none());
    }

    #[test]
    fn only_matching_branches_are_compiled() {
        let Some(p) = param("Observation", "patient") else {
            panic!("Observation.patient missing");
        };
        assert_eq!(p.branches.len(), 1);
        assert_eq!(p.branches[0].expression.source(), "Observation.subject");
        assert_eq!(p.branches[0].target_type.as_deref(), Some("Patient"));
        let Some(c) = param("Observation", "code-value-quantity") else {
            panic!("composite missing");
        };
        assert_eq!(c.components.len(), 2);
        assert_eq!(c.components[1].kind, ParamType::Quantity);
    }

    #[test]
    fn every_expression_compiles() {
        let failures = compile_failures();
        assert_eq!(failures, Vec::<CompileFailure>::new());
    }
}

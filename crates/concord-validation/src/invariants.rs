//! FHIRPath invariants (`ElementDefinition.constraint`) evaluated with
//! `concord-fhirpath`.
//!
//! The walker calls an [`InvariantChecker`] once for every object it visits
//! (resources, datatypes, backbone elements) and for primitive values whose
//! element declares constraints (`ElementDefinition.max`, `eld-3`). The
//! default checker, [`FhirPathInvariants`], evaluates every R4 constraint that
//! applies at that [`Site`]:
//!
//! - at a datatype or resource instance: the root constraints of its type and
//!   of its `base` chain (`per-1`; `dom-2`..`dom-6` from `DomainResource`;
//!   `ext-1`), plus those declared on the element holding it
//!   (`Organization.telecom` → `org-3`);
//! - at a backbone element: those declared on the element (or on the
//!   `contentReference` target: `Questionnaire.item.item` gets `que-*`).
//!
//! Context: `%resource` is the innermost resource (a contained resource, a
//! Bundle entry's resource), `%rootResource` is the resource containing it
//! for contained resources and otherwise the resource itself (R4 §2.24.0.3:
//! "the container resource for the resource identified by %resource"; a
//! Bundle does not *contain* its entries, which `ref-1`'s
//! `%rootResource.contained.id` relies on), `%context` and the focus are the
//! element. Only `true` satisfies an invariant; `false` and empty violate
//! it (see [`satisfied`]).
//!
//! Every expression is compiled once, on first use ([`OnceLock`]), keyed by
//! the declaring type, element path and key.

use concord_fhir::definitions::{definitions, Constraint, ElementDef, TypeDef};
use concord_fhir::{Issue, IssueType, Severity};
use concord_fhirpath::{EvalContext, Expression, FhirNode, FhirType, Item};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where an invariant is evaluated: one element instance of a resource.
pub struct Site<'s, 'v> {
    /// The type definition holding the node's children: the datatype or
    /// resource for an instance, the enclosing type for a backbone element.
    pub type_def: &'static TypeDef,
    /// The element path of the node within `type_def` (`""` for an instance
    /// of `type_def` itself; `contact` for `Patient.contact`).
    pub node_path: &'static str,
    /// The element whose declared constraints also apply: the backbone
    /// element (or its `contentReference` target) itself, or the element
    /// holding a datatype instance or primitive value. `None` for a resource
    /// at the top.
    pub element: Option<&'static ElementDef>,
    /// The FHIRPath location of the node (`Observation.referenceRange[0]`).
    pub expression: &'s str,
    /// The node (an object, or a JSON primitive for primitive elements).
    pub node: &'v Value,
    /// `%resource`.
    pub resource: &'v Value,
    /// `%rootResource`.
    pub root_resource: &'v Value,
}

/// Evaluates invariants at each site the walker visits.
pub trait InvariantChecker {
    /// Called after the node's structure has been checked; pushes one issue
    /// per violated invariant.
    fn check(&self, site: &Site<'_, '_>, issues: &mut Vec<Issue>);
}

/// Evaluates nothing (structure only).
pub struct NoInvariants;

impl InvariantChecker for NoInvariants {
    fn check(&self, _: &Site<'_, '_>, _: &mut Vec<Issue>) {}
}

/// Invariants enforced by the structural walk instead of FHIRPath, each shown
/// equivalent:
///
/// - `ele-1` (`hasValue() or (children().count() > id.count())`): the walker
///   rejects empty objects, empty arrays, empty strings and `null` values
///   (outside aligned primitive arrays), so every primitive has a value or a
///   `_name` object, and it reports `ele-1` itself for an object whose only
///   property is `id`. Every other object has a child other than `id`.
/// - `txt-1`, `txt-2` (`htmlChecks()`, which the engine answers `true`):
///   the narrative checks of `xhtml.rs` (a `<div>`, no active content, XML
///   entities only) and the non-empty string rule.
pub const STRUCTURAL_INVARIANTS: &[&str] = &["ele-1", "txt-1", "txt-2"];

/// R4 invariants whose published expression is wrong, with the expression
/// evaluated instead (the later FHIR releases' fix):
///
/// - `que-7` tests `answer is Boolean`: FHIRPath's `System.Boolean`, which a
///   FHIR `boolean` element is not (`Patient.active.is(Boolean)` is false in
///   the official FHIRPath suite), so every `exists` enableWhen would fail
///   (the official `Questionnaire-bb` example does). R4B/R5 test
///   `answer is boolean`.
/// - `dom-3` applies the `as()` *function* to whole collections
///   (`%resource.descendants().as(canonical)`): FHIRPath N1 makes that an
///   error (the official suite tests it), so dom-3 would never be evaluated
///   on a resource with contained resources. The FHIR reference
///   implementation filters instead; `ofType()` is that filter. The
///   rewrite also splits `'#'+id in (A | B | C | D)` into
///   `('#'+id in A) or … or ('#'+id in D)`: for a single string `in` only
///   tests membership (and an empty left side is empty either way), so the
///   union's de-duplication, quadratic in the number of nodes, is not
///   needed, and `or` stops at the first hit (usually `reference`, one walk
///   of the resource instead of four). The repeated last alternative
///   (`descendants().where(as(canonical) = '#').exists()` appears twice) is
///   dropped.
/// - `que-12` ("If there are more than one enableWhen, enableBehavior must
///   be specified") tests `enableWhen.count() > 2`; R4B/R5 and the
///   reference validator test `> 1`, as the human text says.
/// - Expressions that are empty, so violated (see [`satisfied`]), on valid
///   content, each guarded as R4B (4.3.0) publishes it and as the
///   reference validator evaluates R4 (its `FHIRPathExpressionFixer`):
///   `ref-1` (`reference.startsWith('#').not() or …`) on a Reference
///   without `reference` (identifier or display only) → `reference.exists()
///   implies (reference = '#' or (…))` (a bare `#` is a contained
///   resource's reference to its container, R4 references.html "Contained
///   Resources"); `bdl-8`
///   (`fullUrl.contains('/_history/').not()`) on an entry without `fullUrl`
///   → `fullUrl.exists() implies …`; `ras-2` (`probability is decimal
///   implies (probability as decimal) <= 100`) on a prediction without
///   `probability` (the official `RiskAssessment-prognosis`) →
///   `probability.exists($this is decimal) implies …`.
/// - The canonical resources' name-pattern warnings (`sdf-0`, `vsd-0`, …,
///   every R4 `*-0` whose expression is [`NAME_PATTERN`]) are empty when
///   `name` is absent (it is optional on most of them); later releases
///   publish `name.exists() implies name.matches(…)` (see
///   [`corrected_expression`]).
pub const CORRECTED_INVARIANTS: &[(&str, &str)] = &[
    (
        "ref-1",
        "reference.exists() implies (reference = '#' or (reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))))",
    ),
    (
        "ras-2",
        "probability.exists($this is decimal) implies (probability as decimal) <= 100",
    ),
    (
        "bdl-8",
        "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
    ),
    (
        "que-12",
        "enableWhen.count() > 1 implies enableBehavior.exists()",
    ),
    (
        "que-7",
        "operator = 'exists' implies (answer is boolean)",
    ),
    (
        "dom-3",
        "contained.where((('#'+id in %resource.descendants().reference) or ('#'+id in %resource.descendants().ofType(canonical)) or ('#'+id in %resource.descendants().ofType(uri)) or ('#'+id in %resource.descendants().ofType(url)) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    ),
];

/// The R4 name-pattern invariant of the canonical resources (`sdf-0`,
/// `vsd-0`, `csd-0`, … — thirty keys, all warnings).
pub const NAME_PATTERN: &str = "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')";

/// The name-pattern invariant as later releases publish it: only a present
/// `name` is checked.
const NAME_PATTERN_GUARDED: &str =
    "name.exists() implies name.matches('[A-Z]([A-Za-z0-9_]){0,254}')";

/// The expression evaluated for an R4 constraint: its correction from
/// [`CORRECTED_INVARIANTS`] (or the guarded [`NAME_PATTERN`]), otherwise the
/// published one.
pub fn corrected_expression<'a>(key: &str, published: &'a str) -> &'a str {
    if let Some((_, e)) = CORRECTED_INVARIANTS.iter().find(|(k, _)| *k == key) {
        return e;
    }
    if published == NAME_PATTERN {
        return NAME_PATTERN_GUARDED;
    }
    published
}

/// Invariants that cannot fail when the node lacks a property, so they are
/// not evaluated then (most resources have no `contained`):
///
/// - `dom-2` `contained.contained.empty()`, `dom-4`
///   `contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()`,
///   `dom-5` `contained.meta.security.empty()`: without `contained` every
///   path is empty, `empty()` is true, `true and true` is true.
/// - `dom-3` `contained.where(…).trace(…).empty()`: `where()` and `trace()`
///   of an empty collection are empty, `empty()` is true.
///
/// The unit test `vacuous_invariants_hold_without_their_property` evaluates
/// each on resources without the property.
pub const VACUOUS_WITHOUT: &[(&str, &str)] = &[
    ("dom-2", "contained"),
    ("dom-3", "contained"),
    ("dom-4", "contained"),
    ("dom-5", "contained"),
];

/// Invariants not evaluated on contained resources: `dom-6` (narrative):
/// R4 `DomainResource.text` says contained resources do not need narrative
/// (the container's covers them), and the official examples have none.
pub const NOT_ON_CONTAINED: &[&str] = &["dom-6"];

/// One compiled constraint.
struct Compiled {
    key: &'static str,
    /// See [`VACUOUS_WITHOUT`]: skipped when the node lacks this property.
    requires: Option<&'static str>,
    /// See [`NOT_ON_CONTAINED`].
    not_on_contained: bool,
    severity: Severity,
    /// `"<key>: <human> (<expression>)"`, built once.
    message: String,
    expr: Expression,
}

/// Every R4 constraint, compiled, with per-type and per-element lists.
struct Table {
    compiled: Vec<Compiled>,
    /// TypeDef address → constraints of its root and of its `base` chain.
    roots: FxHashMap<usize, Vec<usize>>,
    /// ElementDef address → constraints declared on the element.
    elements: FxHashMap<usize, Vec<usize>>,
    /// Keys whose expression does not compile (key → error).
    uncompiled: BTreeMap<&'static str, String>,
}

fn addr<T>(r: &'static T) -> usize {
    r as *const T as usize
}

fn compile_list(
    list: &'static [Constraint],
    compiled: &mut Vec<Compiled>,
    uncompiled: &mut BTreeMap<&'static str, String>,
) -> Vec<usize> {
    let mut out = Vec::new();
    for c in list {
        if STRUCTURAL_INVARIANTS.contains(&c.key.as_str()) {
            continue;
        }
        let source = corrected_expression(&c.key, &c.expression);
        match concord_fhirpath::compile(source) {
            Ok(expr) => {
                out.push(compiled.len());
                compiled.push(Compiled {
                    key: &c.key,
                    requires: VACUOUS_WITHOUT
                        .iter()
                        .find(|(k, _)| *k == c.key)
                        .map(|(_, p)| *p),
                    not_on_contained: NOT_ON_CONTAINED.contains(&c.key.as_str()),
                    severity: c.severity,
                    message: format!("{}: {} ({source})", c.key, c.human),
                    expr,
                });
            }
            Err(e) => {
                uncompiled.insert(&c.key, e.to_string());
            }
        }
    }
    out
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let defs = definitions();
        let mut compiled = Vec::new();
        let mut uncompiled = BTreeMap::new();
        // Compile each declaring type's list once; the base chains share them.
        let mut own: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut elements = FxHashMap::default();
        let mut names: Vec<&'static str> = defs.type_names().collect();
        names.sort_unstable();
        for &name in &names {
            let Some(td) = defs.type_def(name) else {
                continue;
            };
            let list = compile_list(td.root_constraints(), &mut compiled, &mut uncompiled);
            own.insert(name, list);
            for el in &td.elements {
                if !el.constraints().is_empty() {
                    let list = compile_list(el.constraints(), &mut compiled, &mut uncompiled);
                    if !list.is_empty() {
                        elements.insert(addr(el), list);
                    }
                }
            }
        }
        let mut roots = FxHashMap::default();
        for &name in &names {
            let Some(td) = defs.type_def(name) else {
                continue;
            };
            let mut list: Vec<usize> = Vec::new();
            let mut cur = Some(td);
            for _ in 0..20 {
                let Some(t) = cur else { break };
                for &i in own.get(t.name.as_str()).into_iter().flatten() {
                    if !list.iter().any(|&j| compiled[j].key == compiled[i].key) {
                        list.push(i);
                    }
                }
                cur = t
                    .base
                    .as_deref()
                    .map(|b| b.rsplit('/').next().unwrap_or(b))
                    .and_then(|b| defs.type_def(b));
            }
            if !list.is_empty() {
                roots.insert(addr(td), list);
            }
        }
        Table {
            compiled,
            roots,
            elements,
            uncompiled,
        }
    })
}

/// Invariant keys the engine cannot compile (and so never evaluates), with
/// the reason. See also [`FhirPathInvariants::recording`] for expressions
/// that compile but fail at evaluation time.
pub fn uncompiled_invariants() -> Vec<(&'static str, String)> {
    table()
        .uncompiled
        .iter()
        .map(|(k, e)| (*k, e.clone()))
        .collect()
}

/// Evaluates the R4 invariants with `concord-fhirpath` (the default checker
/// of [`crate::validate_resource`]).
#[derive(Default)]
pub struct FhirPathInvariants {
    /// When set, evaluation errors and costs are recorded here.
    record: Option<Mutex<Record>>,
}

#[derive(Default)]
struct Record {
    /// key → first evaluation error.
    errors: BTreeMap<&'static str, String>,
    /// key → (evaluations, violations, total time).
    costs: BTreeMap<&'static str, (u64, u64, Duration)>,
}

/// What a [`FhirPathInvariants::recording`] checker saw for one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyStats {
    pub evaluations: u64,
    pub violations: u64,
    pub time: Duration,
}

impl FhirPathInvariants {
    pub const fn new() -> Self {
        FhirPathInvariants { record: None }
    }

    /// A checker that also records the keys whose evaluation failed (an
    /// execution error: such an invariant is skipped, never an issue) and
    /// the number and time of evaluations per key (for tests and benches).
    pub fn recording() -> Self {
        FhirPathInvariants {
            record: Some(Mutex::new(Record::default())),
        }
    }

    /// The keys whose evaluation failed so far, with the first error.
    pub fn evaluation_errors(&self) -> BTreeMap<&'static str, String> {
        self.record
            .as_ref()
            .and_then(|m| m.lock().ok().map(|g| g.errors.clone()))
            .unwrap_or_default()
    }

    /// Evaluations, violations and time per key so far.
    pub fn stats(&self) -> BTreeMap<&'static str, KeyStats> {
        let Some(g) = self.record.as_ref().and_then(|m| m.lock().ok()) else {
            return BTreeMap::new();
        };
        g.costs
            .iter()
            .map(|(k, &(evaluations, violations, time))| {
                (
                    *k,
                    KeyStats {
                        evaluations,
                        violations,
                        time,
                    },
                )
            })
            .collect()
    }
}

impl InvariantChecker for FhirPathInvariants {
    fn check(&self, site: &Site<'_, '_>, issues: &mut Vec<Issue>) {
        let t = table();
        let on_type: &[usize] = if site.node_path.is_empty() {
            t.roots.get(&addr(site.type_def)).map_or(&[], Vec::as_slice)
        } else {
            &[]
        };
        let on_element: &[usize] = site
            .element
            .and_then(|e| t.elements.get(&addr(e)))
            .map_or(&[], Vec::as_slice);
        if on_type.is_empty() && on_element.is_empty() {
            return;
        }
        let ty = FhirType::element(site.type_def, site.node_path);
        let ctx = EvalContext::new(site.resource)
            .with_root_resource(site.root_resource)
            .with_focus(vec![Item::Node(FhirNode {
                value: Some(site.node),
                ext: None,
                ty,
            })]);
        for &i in on_type {
            self.eval(&t.compiled[i], &ctx, site, issues);
        }
        for &i in on_element {
            let c = &t.compiled[i];
            if on_type.iter().any(|&j| t.compiled[j].key == c.key) {
                continue; // e.g. ext-1 on Extension.extension and on Extension
            }
            self.eval(c, &ctx, site, issues);
        }
    }
}

impl FhirPathInvariants {
    fn eval(
        &self,
        c: &Compiled,
        ctx: &EvalContext<'_>,
        site: &Site<'_, '_>,
        issues: &mut Vec<Issue>,
    ) {
        if let Some(p) = c.requires {
            if site.node.get(p).is_none() {
                return;
            }
        }
        if c.not_on_contained && !std::ptr::eq(site.resource, site.root_resource) {
            return;
        }
        let start = self.record.as_ref().map(|_| Instant::now());
        let satisfied = match c.expr.evaluate_with(ctx) {
            Ok(items) => match satisfied(&items) {
                Some(b) => b,
                None => {
                    self.record(c.key, "more than one item where a Boolean was expected");
                    true
                }
            },
            Err(e) => {
                self.record(c.key, &e.to_string());
                true
            }
        };
        if let (Some(start), Some(Ok(mut g))) = (start, self.record.as_ref().map(Mutex::lock)) {
            let e = g.costs.entry(c.key).or_default();
            e.0 += 1;
            e.1 += u64::from(!satisfied);
            e.2 += start.elapsed();
        }
        if !satisfied {
            let issue = match c.severity {
                Severity::Warning | Severity::Information => {
                    Issue::warning(IssueType::Invariant, c.message.clone())
                }
                _ => Issue::error(IssueType::Invariant, c.message.clone()),
            };
            issues.push(issue.at(site.expression.to_string()));
        }
    }

    fn record(&self, key: &'static str, message: &str) {
        if let Some(Ok(mut g)) = self.record.as_ref().map(Mutex::lock) {
            g.errors.entry(key).or_insert_with(|| message.to_string());
        }
    }
}

/// Whether an invariant's result satisfies it: only `true` does (FHIRPath
/// singleton evaluation: one non-Boolean item counts as `true`). `false`
/// and an empty result — "unknown", e.g. `start <= end` on a date and a
/// dateTime of the same day — are violations, as in both reference
/// validators (HL7 Java and Firely): R4 constraints are written and tested
/// against that reading, and the few whose published expression is empty
/// on valid content are corrected in [`CORRECTED_INVARIANTS`]. `None` for
/// several items (not a Boolean; the caller skips the invariant).
pub fn satisfied(items: &[Item<'_>]) -> Option<bool> {
    match items {
        [] => Some(false),
        [Item::Boolean(b)] => Some(*b),
        [_] => Some(true),
        [..] => None,
    }
}

//! Core-namespace extensions (`http://hl7.org/fhir/StructureDefinition/...`):
//! the specification owns that namespace, so an extension there must be one
//! it defines (error for a `|version` other than 4.0.1; a warning for an
//! unversioned unknown URL, since the official R4 examples use one), and
//! must carry one of the `value[x]` types its definition allows (error).
//! Use outside the definition's contexts (`StructureDefinition.context`) is
//! an error in clinical and administrative resources, as in the HL7
//! reference validator, and a warning inside conformance and terminology
//! resources ([`LENIENT_CONTEXT`]), which the R4 package's own definitions
//! break thousands of times (`structuredefinition-fhir-type` on
//! `ElementDefinition.type`, `structuredefinition-normative-version` on
//! every CodeSystem and ValueSet, `translation` on expansions, …).
//! Extensions in any other namespace (US Core, local ones) are not checked.

use concord_fhir::definitions::{
    extension_definition, is_core_extension_url, Definitions, ExtensionDef, TypeDef,
};
use concord_fhir::{Issue, IssueType, FHIR_VERSION};
use serde_json::{Map, Value};

/// Resource types whose extensions are held to their contexts with a
/// warning only: the Conformance and Terminology resources of R4's resource
/// list (hl7.org/fhir/R4/resourcelist.html), whose published definitions in
/// the R4 package use core extensions outside their declared contexts.
const LENIENT_CONTEXT: &[&str] = &[
    "CapabilityStatement",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "ExampleScenario",
    "GraphDefinition",
    "ImplementationGuide",
    "MessageDefinition",
    "NamingSystem",
    "OperationDefinition",
    "SearchParameter",
    "StructureDefinition",
    "StructureMap",
    "TerminologyCapabilities",
    "ValueSet",
];

/// Where the object whose extensions are checked sits.
pub struct Site<'a> {
    /// Its path inside its type (`""` for a datatype or resource root).
    pub node_path: &'a str,
    /// The element holding it when it is a datatype: (type, element path).
    pub holder: Option<(&'a str, &'a str)>,
    /// Its location, e.g. `Patient.name[0]`.
    pub path: &'a str,
    /// The `resourceType` of the resource it is in.
    pub in_resource: Option<&'a str>,
}

/// Checks `extension` / `modifierExtension` of `obj` (an object of type `ty`
/// at `site`).
pub fn check(
    defs: &Definitions,
    ty: &TypeDef,
    site: Site<'_>,
    obj: &Map<String, Value>,
    issues: &mut Vec<Issue>,
) {
    let Site {
        node_path,
        holder,
        path,
        in_resource,
    } = site;
    let lenient_context = in_resource.is_none_or(|t| LENIENT_CONTEXT.contains(&t));
    for key in ["extension", "modifierExtension"] {
        let Some(items) = obj.get(key).and_then(Value::as_array) else {
            continue;
        };
        for (i, ext) in items.iter().enumerate() {
            let Some(ext) = ext.as_object() else {
                continue;
            };
            let Some(url) = ext.get("url").and_then(Value::as_str) else {
                continue;
            };
            if !is_core_extension_url(url) {
                continue;
            }
            let at = format!("{path}.{key}[{i}]");
            let (base, version) = match url.split_once('|') {
                Some((b, v)) => (b, Some(v)),
                None => (url, None),
            };
            let def =
                extension_definition(base).filter(|_| version.is_none_or(|v| v == FHIR_VERSION));
            let Some(def) = def else {
                // A version that is not R4 is an error. An unversioned URL
                // the R4 package does not define is a warning: the official
                // R4 examples themselves use one (`valueset-definition`).
                let issue = match version {
                    Some(v) => Issue::error(
                        IssueType::Extension,
                        format!(
                            "the core extension {base} has no definition for version {v} (this server implements FHIR {FHIR_VERSION})"
                        ),
                    ),
                    None => Issue::warning(
                        IssueType::Extension,
                        format!(
                            "the extension {url} is not defined by FHIR R4, and the core namespace only holds extensions the specification defines"
                        ),
                    ),
                };
                issues.push(issue.at(at));
                continue;
            };
            value_type(defs, def, ext, &at, issues);
            if !context_allowed(defs, def, ty, node_path, holder) {
                let here = describe_here(ty, node_path, holder);
                let msg = format!(
                    "the extension {base} is not allowed here ({here}); allowed contexts: {}",
                    def.contexts.join(", ")
                );
                let issue = if lenient_context {
                    Issue::warning(IssueType::Extension, msg)
                } else {
                    Issue::error(IssueType::Extension, msg)
                };
                issues.push(issue.at(at));
            }
        }
    }
}

/// The FHIR type code of a `value[x]` JSON key (`valueUrl` → `url`).
fn value_key_type<'a>(defs: &Definitions, suffix: &'a str) -> std::borrow::Cow<'a, str> {
    let mut chars = suffix.chars();
    if let Some(first) = chars.next() {
        let lower: String = first.to_lowercase().chain(chars).collect();
        if defs.is_primitive(&lower) {
            return lower.into();
        }
    }
    suffix.into()
}

fn value_type(
    defs: &Definitions,
    def: &ExtensionDef,
    ext: &Map<String, Value>,
    at: &str,
    issues: &mut Vec<Issue>,
) {
    let Some(key) = ext.keys().find(|k| k.len() > 5 && k.starts_with("value")) else {
        return;
    };
    let t = value_key_type(defs, &key[5..]);
    let msg = match &def.value_types {
        None => format!(
            "the extension {} is a complex extension and must not have a value (found {key})",
            def.url
        ),
        Some(allowed) if !def.allows_value_type(&t) => format!(
            "the extension {} allows the value types [{}] but found type {t}",
            def.url,
            allowed.join(", ")
        ),
        Some(_) => return,
    };
    issues.push(Issue::error(IssueType::Extension, msg).at(format!("{at}.{key}")));
}

/// The type names an object of `name` counts as: itself and its bases.
fn type_and_bases<'a>(defs: &'a Definitions, name: &'a str) -> impl Iterator<Item = &'a str> {
    let mut next = Some(name);
    std::iter::from_fn(move || {
        let cur = next?;
        next = defs.type_def(cur).and_then(|t| t.base.as_deref());
        Some(cur)
    })
}

fn context_allowed(
    defs: &Definitions,
    def: &ExtensionDef,
    ty: &TypeDef,
    node_path: &str,
    holder: Option<(&str, &str)>,
) -> bool {
    if def.contexts.is_empty() {
        return true;
    }
    def.contexts.iter().any(|ctx| {
        let ctx = ctx.as_str();
        if ctx == "Element" {
            return true;
        }
        if node_path.is_empty() {
            // A datatype or resource root: its type (or a base), or the
            // element holding it.
            if type_and_bases(defs, &ty.name).any(|t| t == ctx) {
                return true;
            }
            holder.is_some_and(|(ht, hp)| path_matches(ctx, ht, hp))
        } else {
            ctx == "BackboneElement" || path_matches(ctx, &ty.name, node_path)
        }
    })
}

/// `ctx` (`Patient.contact`) names element `path` of type `type_name`.
fn path_matches(ctx: &str, type_name: &str, path: &str) -> bool {
    ctx.strip_prefix(type_name)
        .and_then(|r| r.strip_prefix('.'))
        .is_some_and(|r| r == path || r.trim_end_matches("[x]") == path.trim_end_matches("[x]"))
}

fn describe_here(ty: &TypeDef, node_path: &str, holder: Option<(&str, &str)>) -> String {
    if !node_path.is_empty() {
        return format!("{}.{node_path}", ty.name);
    }
    match holder {
        Some((ht, hp)) => format!("{} at {ht}.{hp}", ty.name),
        None => ty.name.clone(),
    }
}

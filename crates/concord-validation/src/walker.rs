//! The structural walk: one pass over the JSON, checking each property
//! against the element definitions of its type and recording every problem
//! with its FHIRPath-style location.

use crate::invariants::{InvariantChecker, Site};
use crate::{bindings, primitives};
use concord_fhir::definitions::{definitions, Definitions, ElementDef, Kind, TypeDef};
use concord_fhir::{Issue, IssueType};
use serde_json::{Map, Value};
use std::fmt::Write as _;

pub struct Walker<'a, 'v> {
    defs: &'static Definitions,
    invariants: &'a dyn InvariantChecker,
    issues: Vec<Issue>,
    /// The location being visited, e.g. `Patient.name[0]`; grown and truncated in place.
    path: String,
    /// For each datatype object being visited: the element holding it, as
    /// (type name, element path), e.g. (`Patient`, `name`) for a HumanName.
    /// Extension contexts are checked against it.
    holders: Vec<(&'static str, &'static str)>,
    /// One frame per Bundle being visited: the references found in it.
    bundles: Vec<crate::references::BundleFrame>,
    /// One frame per resource being visited: (`%resource`, `%rootResource`).
    resources: Vec<(&'v Value, &'v Value)>,
}

impl<'a, 'v> Walker<'a, 'v> {
    pub fn new(invariants: &'a dyn InvariantChecker) -> Self {
        Walker {
            defs: definitions(),
            invariants,
            issues: Vec::new(),
            path: String::with_capacity(128),
            holders: Vec::new(),
            bundles: Vec::new(),
            resources: Vec::new(),
        }
    }

    pub fn run(mut self, resource: &'v Value) -> Vec<Issue> {
        self.resource(resource, true, false);
        self.issues
    }

    fn error(&mut self, code: IssueType, message: impl Into<String>) {
        self.issues
            .push(Issue::error(code, message).at(self.path.clone()));
    }

    fn error_at(&mut self, suffix: &str, code: IssueType, message: impl Into<String>) {
        let at = format!("{}{suffix}", self.path);
        self.issues.push(Issue::error(code, message).at(at));
    }

    /// A resource: the top one (`root`), or a nested one (`contained`: held
    /// in `DomainResource.contained`, whose container is `%rootResource`).
    fn resource(&mut self, value: &'v Value, root: bool, contained: bool) {
        let Some(obj) = value.as_object() else {
            let msg = format!(
                "a resource must be a JSON object, not {}",
                primitives::describe(value)
            );
            self.error(IssueType::Structure, msg);
            return;
        };
        let sep = if root { "" } else { "." };
        let ty = match obj.get("resourceType") {
            Some(Value::String(t)) => match self.defs.resource(t) {
                Some(ty) => ty,
                None => {
                    let msg = format!("unknown resource type '{t}'");
                    self.error_at(&format!("{sep}resourceType"), IssueType::NotSupported, msg);
                    return;
                }
            },
            Some(_) => {
                let msg = "resourceType must be a string";
                self.error_at(&format!("{sep}resourceType"), IssueType::Structure, msg);
                return;
            }
            None => {
                let msg = "resourceType is missing";
                self.error_at(&format!("{sep}resourceType"), IssueType::Required, msg);
                return;
            }
        };
        let mark = self.path.len();
        if root {
            self.path.push_str(&ty.name);
        }
        let is_bundle = ty.name == "Bundle";
        if is_bundle {
            self.bundles
                .push(crate::references::BundleFrame::new(self.path.clone()));
        }
        let root_resource = match self.resources.last() {
            Some(&(container, _)) if contained => container,
            _ => value,
        };
        self.resources.push((value, root_resource));
        self.object(ty, "", None, value, obj, true);
        self.resources.pop();
        if is_bundle {
            if let Some(frame) = self.bundles.pop() {
                frame.resolve(obj, &mut self.issues);
            }
        }
        self.path.truncate(mark);
    }

    /// Checks an object holding the children of `node_path` within `ty`.
    fn object(
        &mut self,
        ty: &'static TypeDef,
        node_path: &'static str,
        element: Option<&'static ElementDef>,
        value: &'v Value,
        obj: &'v Map<String, Value>,
        is_resource: bool,
    ) {
        if obj.is_empty() {
            if !is_resource {
                self.error(
                    IssueType::Structure,
                    "an object must not be empty (FHIR JSON forbids empty objects)",
                );
            }
            return;
        }
        let Some(node) = ty.node(node_path) else {
            return;
        };
        let mut seen: Vec<usize> = Vec::with_capacity(obj.len());
        let mut has_content = false;
        // Only look for `_name` partners when the object has any (avoids a
        // formatted key per primitive in the common case).
        let has_extensions = obj.keys().any(|k| k.starts_with('_'));
        for (key, val) in obj {
            if is_resource && key == "resourceType" {
                continue;
            }
            let (is_ext, name) = match key.strip_prefix('_') {
                Some(n) => (true, n),
                None => (false, key.as_str()),
            };
            if name != "id" {
                has_content = true;
            }
            let Some(child) = node.children.get(name) else {
                self.unknown(ty, node_path, key);
                continue;
            };
            let el = &ty.elements[child.element];
            let mut t = el.types.get(child.type_index).map_or("", String::as_str);
            if is_ext {
                if !self.defs.is_primitive(t) {
                    self.unknown(ty, node_path, key);
                    continue;
                }
                if !obj.contains_key(name) {
                    seen.push(child.element);
                }
                self.primitive_extension(ty, el, t, name, val, obj.get(name));
                continue;
            }
            seen.push(child.element);
            if is_resource && node_path.is_empty() && name == "id" {
                t = "id";
            }
            let partner = if has_extensions && self.defs.is_primitive(t) {
                obj.get(&format!("_{name}"))
            } else {
                None
            };
            self.value(ty, el, t, key, val, partner);
        }
        self.check_counts(ty, node, &mut seen);
        if !is_resource && !has_content {
            self.error(
                IssueType::Invariant,
                "ele-1: an element must have a value or children (other than id)",
            );
        }
        if node_path.is_empty() {
            crate::rules::check(&ty.name, &self.path, obj, &mut self.issues);
            if ty.name == "Reference" {
                if let (Some(frame), Some(r)) = (
                    self.bundles.last_mut(),
                    obj.get("reference").and_then(Value::as_str),
                ) {
                    frame.add(&self.path, r);
                }
            }
        }
        if obj.contains_key("extension") || obj.contains_key("modifierExtension") {
            let holder = if node_path.is_empty() {
                self.holders.last().copied()
            } else {
                None
            };
            let in_resource = self
                .resources
                .last()
                .and_then(|(r, _)| r.get("resourceType"))
                .and_then(Value::as_str);
            crate::extensions::check(
                self.defs,
                ty,
                crate::extensions::Site {
                    node_path,
                    holder,
                    path: &self.path,
                    in_resource,
                },
                obj,
                &mut self.issues,
            );
        }
        self.check_invariants(ty, node_path, element, value);
    }

    fn check_invariants(
        &mut self,
        type_def: &'static TypeDef,
        node_path: &'static str,
        element: Option<&'static ElementDef>,
        node: &'v Value,
    ) {
        if let Some(&(resource, root_resource)) = self.resources.last() {
            let site = Site {
                type_def,
                node_path,
                element,
                expression: &self.path,
                node,
                resource,
                root_resource,
            };
            self.invariants.check(&site, &mut self.issues);
        }
    }

    fn check_counts(
        &mut self,
        ty: &TypeDef,
        node: &concord_fhir::definitions::Node,
        seen: &mut [usize],
    ) {
        seen.sort_unstable();
        for w in seen.windows(2) {
            if w[0] == w[1] {
                let el = &ty.elements[w[0]];
                if el.is_choice {
                    let msg = format!("only one of {}[x] may be present", el.name);
                    self.error_at(&format!(".{}[x]", el.name), IssueType::Structure, msg);
                }
            }
        }
        for &i in &node.required {
            if seen.binary_search(&i).is_err() {
                let el = &ty.elements[i];
                let suffix = if el.is_choice { "[x]" } else { "" };
                let msg = format!(
                    "{}.{}{suffix}: minimum required = {}, but only found 0",
                    ty.name, el.path, el.min
                );
                self.error_at(&format!(".{}{suffix}", el.name), IssueType::Required, msg);
            }
        }
    }

    fn unknown(&mut self, ty: &TypeDef, node_path: &str, key: &str) {
        let choice = ty.node(node_path).and_then(|n| {
            n.elements.iter().map(|&i| &ty.elements[i]).find(|e| {
                e.is_choice && key.len() > e.name.len() && key.starts_with(e.name.as_str())
            })
        });
        let msg = match choice {
            Some(e) => format!(
                "'{key}' is not a valid type for {}[x] (allowed: {})",
                e.name,
                e.types.join(", ")
            ),
            None => format!("unrecognised property '{key}'"),
        };
        self.error_at(&format!(".{key}"), IssueType::Structure, msg);
    }

    /// One property value: arrays vs single values, then each item.
    fn value(
        &mut self,
        ty: &'static TypeDef,
        el: &'static ElementDef,
        t: &str,
        key: &str,
        val: &'v Value,
        partner: Option<&Value>,
    ) {
        let mark = self.path.len();
        self.path.push('.');
        self.path.push_str(key);
        if el.is_array() {
            if let Value::Array(items) = val {
                self.array(ty, el, t, key, items, partner);
            } else {
                let msg = format!("'{key}' must be a JSON array (it may repeat)");
                self.error(IssueType::Structure, msg);
                self.item(ty, el, t, val);
            }
        } else {
            match val {
                Value::Array(_) => {
                    let msg = format!("'{key}' must be a single value, not an array (max 1)");
                    self.error(IssueType::Structure, msg);
                }
                Value::Null => self.error(IssueType::Structure, "null is not a valid value"),
                _ => self.item(ty, el, t, val),
            }
        }
        self.path.truncate(mark);
    }

    fn array(
        &mut self,
        ty: &'static TypeDef,
        el: &'static ElementDef,
        t: &str,
        key: &str,
        items: &'v [Value],
        partner: Option<&Value>,
    ) {
        if items.is_empty() {
            self.error(
                IssueType::Structure,
                "an array must not be empty (omit the property instead)",
            );
            return;
        }
        if let Some(max) = el.max {
            if items.len() > max as usize {
                let msg = format!("'{key}' allows at most {max} items, found {}", items.len());
                self.error(IssueType::Structure, msg);
            }
        }
        if items.len() < el.min as usize {
            let msg = format!(
                "'{key}' needs at least {} items, found {}",
                el.min,
                items.len()
            );
            self.error(IssueType::Required, msg);
        }
        for (i, item) in items.iter().enumerate() {
            let mark = self.path.len();
            let _ = write!(self.path, "[{i}]");
            if item.is_null() {
                let extended = partner
                    .and_then(Value::as_array)
                    .and_then(|a| a.get(i))
                    .is_some_and(|p| !p.is_null());
                if !extended {
                    let msg = format!("null is only allowed in '{key}' where '_{key}' has an extension at the same index");
                    self.error(IssueType::Structure, msg);
                }
            } else {
                self.item(ty, el, t, item);
            }
            self.path.truncate(mark);
        }
    }

    /// One value of element `el` with (resolved) type `t`.
    fn item(&mut self, ty: &'static TypeDef, el: &'static ElementDef, t: &str, val: &'v Value) {
        if ty.node(&el.path).is_some() {
            self.nested(ty, &el.path, Some(el), val);
            return;
        }
        if let Some(cref) = &el.content_reference {
            self.nested(ty, cref, ty.element(cref), val);
            return;
        }
        if t == concord_fhir::definitions::ELEMENT_TYPE_RESOURCE {
            self.resource(val, false, el.path == "contained");
            return;
        }
        let Some(def) = self.defs.type_def(t) else {
            return;
        };
        if def.kind == Kind::PrimitiveType {
            if let Err(msg) = primitives::check(t, val) {
                self.error(IssueType::Value, msg);
                return;
            }
            if !el.constraints().is_empty() {
                self.check_invariants(def, "", Some(el), val);
            }
        } else {
            self.holders.push((&ty.name, &el.path));
            self.nested(def, "", Some(el), val);
            self.holders.pop();
        }
        if let Some(url) = &el.required_binding {
            if let Some(p) = bindings::check(t, url, val) {
                match p.sub_path {
                    Some(s) => self.error_at(&s, IssueType::CodeInvalid, p.message),
                    None => self.error(IssueType::CodeInvalid, p.message),
                }
            }
        }
    }

    fn nested(
        &mut self,
        ty: &'static TypeDef,
        node_path: &'static str,
        element: Option<&'static ElementDef>,
        val: &'v Value,
    ) {
        match val {
            Value::Object(obj) => self.object(ty, node_path, element, val, obj, false),
            other => {
                let msg = format!(
                    "expected a JSON object, found {}",
                    primitives::describe(other)
                );
                self.error(IssueType::Structure, msg);
            }
        }
    }

    /// `_name`: the id/extensions of primitive `name`, aligned with its values.
    fn primitive_extension(
        &mut self,
        ty: &'static TypeDef,
        el: &'static ElementDef,
        t: &str,
        name: &str,
        val: &'v Value,
        values: Option<&Value>,
    ) {
        let Some(def) = self.defs.type_def(t) else {
            return;
        };
        let mark = self.path.len();
        self.path.push('.');
        self.path.push_str(name);
        self.holders.push((&ty.name, &el.path));
        match (el.is_array(), val) {
            (true, Value::Array(items)) => {
                let value_items = values.and_then(Value::as_array);
                if items.is_empty() {
                    self.error(IssueType::Structure, "an array must not be empty");
                }
                if let Some(v) = value_items {
                    if v.len() != items.len() {
                        let msg = format!(
                            "'_{name}' has {} items but '{name}' has {}; they must align",
                            items.len(),
                            v.len()
                        );
                        self.error(IssueType::Structure, msg);
                    }
                }
                for (i, item) in items.iter().enumerate() {
                    let m = self.path.len();
                    let _ = write!(self.path, "[{i}]");
                    match item {
                        Value::Object(o) => self.object(def, "", None, item, o, false),
                        Value::Null => {
                            let has_value = value_items
                                .and_then(|v| v.get(i))
                                .is_some_and(|x| !x.is_null());
                            if !has_value {
                                let msg =
                                    format!("'{name}' and '_{name}' are both null at index {i}");
                                self.error(IssueType::Structure, msg);
                            }
                        }
                        other => {
                            let msg = format!(
                                "'_{name}' items must be objects or null, found {}",
                                primitives::describe(other)
                            );
                            self.error(IssueType::Structure, msg);
                        }
                    }
                    self.path.truncate(m);
                }
            }
            (true, other) => {
                let msg = format!(
                    "'_{name}' must be a JSON array aligned with '{name}', found {}",
                    primitives::describe(other)
                );
                self.error(IssueType::Structure, msg);
            }
            (false, Value::Object(o)) => self.object(def, "", None, val, o, false),
            (false, other) => {
                let msg = format!(
                    "'_{name}' must be a JSON object, found {}",
                    primitives::describe(other)
                );
                self.error(IssueType::Structure, msg);
            }
        }
        self.holders.pop();
        self.path.truncate(mark);
    }
}

//! A few direct rules on specific types that the structure alone cannot
//! express, which the reference (HL7 Java) validator also applies:
//! absolute `Coding.system` and `Bundle.entry.fullUrl`, `Attachment.size`
//! matching inline `data`, ids on search matches, unique link relations and
//! at least two components on composite SearchParameters.

use concord_fhir::definitions::{
    definitions, search_parameter_by_url, vital_signs_required_codings, SearchParam,
};
use concord_fhir::{Issue, IssueType};
use serde_json::{Map, Value};

fn err(issues: &mut Vec<Issue>, at: String, msg: String) {
    issues.push(Issue::error(IssueType::Invalid, msg).at(at));
}

/// An absolute URI has a scheme (`http:`, `urn:`, ...).
fn is_absolute(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, _)) => {
            let mut b = scheme.bytes();
            b.next().is_some_and(|c| c.is_ascii_alphabetic())
                && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Runs the rules for an object of type `type_name` located at `path`.
pub fn check(type_name: &str, path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    match type_name {
        "Coding" => coding(path, obj, issues),
        "Attachment" => attachment(path, obj, issues),
        "Bundle" => bundle(path, obj, issues),
        "SearchParameter" => {
            search_parameter(path, obj, issues);
            search_parameter_matches_core(path, obj, issues);
        }
        "CapabilityStatement" => capability_statement(path, obj, issues),
        "StructureDefinition" => structure_definition(path, obj, issues),
        "Observation" => vital_signs(path, obj, issues),
        "Reference" => {
            if let Some(r) = obj.get("reference").and_then(Value::as_str) {
                example_url(&format!("{path}.reference"), r, issues);
            }
        }
        "Extension" => {
            if let Some(u) = obj.get("url").and_then(Value::as_str) {
                example_url(&format!("{path}.url"), u, issues);
            }
        }
        _ => {}
    }
    if let Some(div) = obj
        .get("text")
        .and_then(|t| t.get("div"))
        .and_then(Value::as_str)
    {
        if definitions().resource(type_name).is_some() {
            narrative_links(path, div, obj, issues);
        }
    }
}

/// RFC 2606 / 6761 example hosts (`example.org`, `www.example.com`, `*.example`).
fn is_example_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    ["example.org", "example.com", "example.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || host.ends_with(".example")
}

/// Example URLs in references, extension URLs and attachments: a warning
/// (the reference validator rejects them unless examples are allowed; the
/// official R4 examples use them throughout, and they are no harm to store).
fn example_url(at: &str, url: &str, issues: &mut Vec<Issue>) {
    if is_example_url(url) {
        let msg = format!("example URL ({url}): example domains (RFC 2606) are not real endpoints");
        issues.push(Issue::warning(IssueType::BusinessRule, msg).at(at.to_string()));
    }
}

fn coding(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    if let Some(system) = obj.get("system").and_then(Value::as_str) {
        if !is_absolute(system) {
            let msg = format!("Coding.system must be an absolute URI, not '{system}'");
            err(issues, format!("{path}.system"), msg);
        }
    }
}

fn base64_len(data: &str) -> usize {
    let chars: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pad = chars.iter().rev().take_while(|&&b| b == b'=').count();
    (chars.len() / 4 * 3).saturating_sub(pad)
}

fn attachment(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    if let Some(u) = obj.get("url").and_then(Value::as_str) {
        example_url(&format!("{path}.url"), u, issues);
    }
    let (Some(data), Some(size)) = (
        obj.get("data").and_then(Value::as_str),
        obj.get("size").and_then(Value::as_u64),
    ) else {
        return;
    };
    let actual = base64_len(data);
    if actual as u64 != size {
        let msg = format!("stated attachment size {size} does not match the data size {actual}");
        err(issues, format!("{path}.size"), msg);
    }
}

fn bundle(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let searchset = obj.get("type").and_then(Value::as_str) == Some("searchset");
    if let Some(links) = obj.get("link").and_then(Value::as_array) {
        for (i, link) in links.iter().enumerate() {
            let rel = link.get("relation").and_then(Value::as_str);
            let earlier = links[..i]
                .iter()
                .any(|l| rel.is_some() && l.get("relation").and_then(Value::as_str) == rel);
            if earlier {
                let msg = format!(
                    "the link relation '{}' may only occur once",
                    rel.unwrap_or("")
                );
                err(issues, format!("{path}.link[{i}]"), msg);
            }
        }
    }
    let Some(entries) = obj.get("entry").and_then(Value::as_array) else {
        return;
    };
    for (i, entry) in entries.iter().enumerate() {
        if let Some(full) = entry.get("fullUrl").and_then(Value::as_str) {
            if !is_absolute(full) {
                let msg = format!("fullUrl must be an absolute URL, not '{full}'");
                err(issues, format!("{path}.entry[{i}].fullUrl"), msg);
            } else if let Some(res) = entry.get("resource") {
                restful_full_url(&format!("{path}.entry[{i}].fullUrl"), full, res, issues);
            }
        }
        let is_match = entry.pointer("/search/mode").and_then(Value::as_str) == Some("match");
        if searchset && is_match {
            if let Some(res) = entry.get("resource") {
                if res.get("id").is_none() {
                    let msg = "search results must have ids".to_string();
                    err(issues, format!("{path}.entry[{i}].resource"), msg);
                }
            }
        }
    }
}

/// A fullUrl that looks like a RESTful URL (`http(s)://[base]/Type/id`)
/// should end with the entry resource's own type and id.
fn restful_full_url(at: &str, full: &str, res: &Value, issues: &mut Vec<Issue>) {
    if !(full.starts_with("http://") || full.starts_with("https://")) {
        return;
    }
    let (Some(rt), Some(id)) = (
        res.get("resourceType").and_then(Value::as_str),
        res.get("id").and_then(Value::as_str),
    ) else {
        return;
    };
    let url = full.split("/_history/").next().unwrap_or(full);
    let mut parts = url.rsplitn(3, '/');
    let (Some(url_id), Some(url_ty), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    if !concord_fhir::is_resource_type(url_ty) {
        return;
    }
    if url_ty != rt || url_id != id {
        let msg = format!(
            "the fullUrl '{full}' looks like a RESTful server URL, so it must end with the resource's type and id (/{rt}/{id})"
        );
        // A warning: official R4 example bundles break it (`Patient/pat12`
        // holding Patient `pat2`).
        issues.push(Issue::warning(IssueType::Invalid, msg).at(at.to_string()));
    }
}

fn search_parameter(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    if obj.get("type").and_then(Value::as_str) != Some("composite") {
        return;
    }
    let n = obj
        .get("component")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if n < 2 {
        let msg =
            format!("a composite SearchParameter must define two or more components, found {n}");
        err(issues, path.to_string(), msg);
    }
}

fn str_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

/// A SearchParameter that claims a core parameter's URL, or derives from
/// one, must agree with it: same type, and its bases among the core ones
/// (the same URL must also carry the same expression).
fn search_parameter_matches_core(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let ty = obj.get("type").and_then(Value::as_str);
    let base = str_list(obj.get("base"));
    let url = obj.get("url").and_then(Value::as_str);
    if let Some(core) = url.and_then(search_parameter_by_url) {
        agree_with_core(path, core, "has the same URL as", ty, &base, issues);
        let expr = obj.get("expression").and_then(Value::as_str);
        if expr.is_some() && expr != core.expression.as_deref() {
            let msg = format!(
                "the expression differs from the core SearchParameter {} ('{}')",
                core.url,
                core.expression.as_deref().unwrap_or("")
            );
            err(issues, format!("{path}.expression"), msg);
        }
    } else if let Some(core) = obj
        .get("derivedFrom")
        .and_then(Value::as_str)
        .and_then(search_parameter_by_url)
    {
        agree_with_core(path, core, "is derived from", ty, &base, issues);
    }
}

fn agree_with_core(
    path: &str,
    core: &SearchParam,
    relation: &str,
    ty: Option<&str>,
    base: &[&str],
    issues: &mut Vec<Issue>,
) {
    if let Some(t) = ty.filter(|t| *t != core.kind) {
        let msg = format!(
            "the type {t} differs from the type {} of the core SearchParameter {} it {relation}",
            core.kind, core.url
        );
        err(issues, format!("{path}.type"), msg);
    }
    for (i, b) in base.iter().enumerate() {
        let ok = core
            .base
            .iter()
            .any(|c| c == b || c == "Resource" || c == "DomainResource");
        if !ok {
            let msg = format!(
                "the base {b} is not a base of the core SearchParameter {} it {relation} ({})",
                core.url,
                core.base.join(", ")
            );
            err(issues, format!("{path}.base[{i}]"), msg);
        }
    }
}

/// `CapabilityStatement.rest[.resource].searchParam` naming a core
/// definition must state the definition's type.
fn capability_statement(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let Some(rests) = obj.get("rest").and_then(Value::as_array) else {
        return;
    };
    let check = |at: String, params: Option<&Value>, issues: &mut Vec<Issue>| {
        for (k, sp) in params
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (Some(def), Some(ty)) = (
                sp.get("definition").and_then(Value::as_str),
                sp.get("type").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Some(core) = search_parameter_by_url(def).filter(|c| c.kind != ty) {
                let msg = format!(
                    "type mismatch: the SearchParameter {} has type {}, but the type here is {ty}",
                    core.url, core.kind
                );
                let at = format!("{at}.searchParam[{k}].type");
                // string/token/uri/reference all match text or URLs; the core
                // CapabilityStatements themselves mix them up, so that is
                // only a warning. date/number/quantity/... against another
                // type is an error.
                let textual = |t: &str| matches!(t, "string" | "token" | "uri" | "reference");
                if textual(ty) && textual(&core.kind) {
                    issues.push(Issue::warning(IssueType::Invalid, msg).at(at));
                } else {
                    err(issues, at, msg);
                }
            }
        }
    };
    for (i, rest) in rests.iter().enumerate() {
        check(format!("{path}.rest[{i}]"), rest.get("searchParam"), issues);
        let resources = rest.get("resource").and_then(Value::as_array);
        for (j, res) in resources.into_iter().flatten().enumerate() {
            let at = format!("{path}.rest[{i}].resource[{j}]");
            check(at, res.get("searchParam"), issues);
        }
    }
}

/// The element paths of a profile (`derivation` = constraint) must exist in
/// its base type: `Observation.valueQuantity` names a choice variant,
/// `Observation.valueBla` nothing.
fn structure_definition(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    if obj.get("derivation").and_then(Value::as_str) != Some("constraint") {
        return;
    }
    let Some(ty) = obj.get("type").and_then(Value::as_str) else {
        return;
    };
    let defs = definitions();
    if defs.type_def(ty).is_none() {
        return; // logical models and unknown types
    }
    for part in ["differential", "snapshot"] {
        let elements = obj
            .get(part)
            .and_then(|d| d.get("element"))
            .and_then(Value::as_array);
        for (i, el) in elements.into_iter().flatten().enumerate() {
            let Some(p) = el.get("path").and_then(Value::as_str) else {
                continue;
            };
            let valid = p == ty
                || (p.starts_with(ty)
                    && p[ty.len()..].starts_with('.')
                    && concord_fhir::definitions::element_by_path(p).is_some());
            if !valid {
                let msg = format!("the element path '{p}' is not valid for the base type {ty}");
                err(issues, format!("{path}.{part}.element[{i}].path"), msg);
            }
        }
    }
}

/// Observations claiming a core vital-signs profile (`meta.profile`) must
/// carry the profile's LOINC code in `Observation.code` (R4 §8.1.5: the
/// vital-signs profiles are mandatory for these observations).
fn vital_signs(path: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let profiles = obj
        .get("meta")
        .and_then(|m| m.get("profile"))
        .and_then(Value::as_array);
    let codings = obj
        .get("code")
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array);
    let has = |system: &str, code: &str| {
        codings.into_iter().flatten().any(|c| {
            c.get("system").and_then(Value::as_str) == Some(system)
                && c.get("code").and_then(Value::as_str) == Some(code)
        })
    };
    for profile in profiles.into_iter().flatten().filter_map(Value::as_str) {
        for req in vital_signs_required_codings(profile).into_iter().flatten() {
            if !has(&req.system, &req.code) {
                let msg = format!(
                    "{}: the code {}#{} is required by the claimed profile {profile}",
                    req.slice, req.system, req.code
                );
                err(issues, format!("{path}.code"), msg);
            }
        }
    }
}

/// Narrative links `href="#x"` should resolve inside the resource: to an
/// `id`/`name` anchor in the narrative, a contained resource, or the id of
/// an element.
fn narrative_links(path: &str, div: &str, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let mut rest = div;
    let mut missing: Vec<&str> = Vec::new();
    while let Some(i) = rest.find("href=") {
        rest = &rest[i + 5..];
        let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &rest[1..];
        let Some(end) = body.find(q) else {
            break;
        };
        if let Some(target) = body[..end].strip_prefix('#') {
            if !target.is_empty() && !anchor_in_div(div, target) && !id_in_json(obj, target) {
                missing.push(target);
            }
        }
        rest = &body[end..];
    }
    // A warning: the official R4 examples have broken internal links
    // (v3 code systems link `#NAV` to the anchor `v3-NullFlavor-NAV`).
    for target in missing {
        let msg = format!("the narrative link '#{target}' does not resolve to an anchor, contained resource or element id in the resource");
        issues.push(Issue::warning(IssueType::Invalid, msg).at(format!("{path}.text.div")));
    }
}

fn anchor_in_div(div: &str, target: &str) -> bool {
    ["id=", "name="].iter().any(|attr| {
        ['"', '\'']
            .iter()
            .any(|q| div.contains(&format!("{attr}{q}{target}{q}")))
    })
}

fn id_in_json(obj: &Map<String, Value>, target: &str) -> bool {
    fn walk(v: &Value, target: &str) -> bool {
        match v {
            Value::Object(o) => o
                .iter()
                .any(|(k, x)| (k == "id" && x.as_str() == Some(target)) || walk(x, target)),
            Value::Array(a) => a.iter().any(|x| walk(x, target)),
            _ => false,
        }
    }
    obj.iter().any(|(k, v)| k != "text" && walk(v, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris() {
        assert!(is_absolute("http://loinc.org"));
        assert!(is_absolute("urn:oid:1.2"));
        assert!(!is_absolute("ValueSet/x"));
        assert!(!is_absolute("Patient/1"));
    }

    #[test]
    fn example_urls() {
        assert!(is_example_url("http://example.org/fhir/Patient/1"));
        assert!(is_example_url("https://repository.example.com:8080/x"));
        assert!(is_example_url("http://hospital.example/fhir"));
        assert!(!is_example_url("http://examples.org/x"));
        assert!(!is_example_url("http://hl7.org/fhir/Patient/1"));
        assert!(!is_example_url("Patient/1"));
    }

    #[test]
    fn base64_sizes() {
        assert_eq!(base64_len("aGVsbG8="), 5);
        assert_eq!(base64_len("aGVs bG8h"), 6);
    }
}

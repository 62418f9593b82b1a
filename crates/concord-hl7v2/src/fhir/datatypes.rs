//! HL7 v2 composite data types → FHIR data types (CX, EI, HD → Identifier
//! systems; XPN → HumanName; XAD → Address; XTN → ContactPoint; CWE/CE →
//! CodeableConcept).

use serde_json::{json, Map, Value};

use super::tables;
use super::values::{code as code_text, repetitions, text};
use crate::message::SegmentView;

/// A FHIR `uri` made from free text: characters outside the unreserved set
/// are percent-encoded so the result is a valid URI path segment.
pub fn uri_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').count() > 1
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !s.starts_with('0')
}

/// The identifier system of an HD (`namespace & universal id & type`).
/// ISO OIDs become `urn:oid:`, UUIDs `urn:uuid:`, URIs stay; a bare
/// namespace becomes `urn:concord:hl7v2:aa:<namespace>` (documented in
/// docs/hl7v2.md so other interfaces can match it).
pub fn hd_system(
    namespace: Option<&str>,
    universal: Option<&str>,
    kind: Option<&str>,
) -> Option<String> {
    if let Some(uid) = universal.map(str::trim).filter(|s| !s.is_empty()) {
        let kind = kind.unwrap_or("").to_ascii_uppercase();
        if is_oid(uid) {
            return Some(format!("urn:oid:{uid}"));
        }
        if (kind == "UUID" || kind == "GUID") && uid.len() == 36 {
            return Some(format!("urn:uuid:{}", uid.to_ascii_lowercase()));
        }
        if (kind == "URI" || kind == "URL") && !uid.contains(char::is_whitespace) {
            return Some(uid.to_string());
        }
    }
    let ns = namespace.map(str::trim).filter(|s| !s.is_empty())?;
    Some(format!("urn:concord:hl7v2:aa:{}", uri_segment(ns)))
}

/// Well-known identifier systems by assigning authority or type code.
fn well_known(authority: Option<&str>, type_code: Option<&str>) -> Option<&'static str> {
    // SSA: the US social security number (FHIR R4 identifier registry).
    match (authority, type_code) {
        (Some("SSA" | "USSSA"), _) | (_, Some("SS")) => Some("http://hl7.org/fhir/sid/us-ssn"),
        _ => None,
    }
}

/// One CX repetition (the path prefix is e.g. `3(2)`) → Identifier, with
/// `fallback_system` when the CX names no assigning authority.
pub fn cx(seg: &SegmentView<'_>, field: &str, fallback_system: &str) -> Option<Value> {
    let value = text(seg, &format!("{field}-1"))?;
    let aa_ns = text(seg, &format!("{field}-4-1"));
    let aa_uid = text(seg, &format!("{field}-4-2"));
    let aa_kind = text(seg, &format!("{field}-4-3"));
    let type_code = code_text(seg, &format!("{field}-5"));
    let system = well_known(aa_ns.as_deref(), type_code.as_deref())
        .map(str::to_string)
        .or_else(|| hd_system(aa_ns.as_deref(), aa_uid.as_deref(), aa_kind.as_deref()))
        .unwrap_or_else(|| fallback_system.to_string());
    let mut id = Map::new();
    if let Some(t) = &type_code {
        id.insert(
            "type".into(),
            json!({"coding": [{"system": tables::v2_table("0203"), "code": t}]}),
        );
    }
    id.insert("system".into(), json!(system));
    id.insert("value".into(), json!(value));
    Some(Value::Object(id))
}

/// An EI (`entity id ^ namespace ^ universal id ^ type`) → Identifier.
pub fn ei(seg: &SegmentView<'_>, field: &str, fallback_system: &str) -> Option<Value> {
    let value = text(seg, &format!("{field}-1"))?;
    let system = hd_system(
        text(seg, &format!("{field}-2")).as_deref(),
        text(seg, &format!("{field}-3")).as_deref(),
        text(seg, &format!("{field}-4")).as_deref(),
    )
    .unwrap_or_else(|| fallback_system.to_string());
    Some(json!({"system": system, "value": value}))
}

/// `system|value` of an Identifier made by [`cx`] or [`ei`].
pub fn token(identifier: &Value) -> Option<(String, String)> {
    Some((
        identifier.get("system")?.as_str()?.to_string(),
        identifier.get("value")?.as_str()?.to_string(),
    ))
}

/// An XPN repetition → HumanName (family may be `surname & own surname …`).
pub fn xpn(seg: &SegmentView<'_>, field: &str) -> Option<Value> {
    let mut name = Map::new();
    if let Some(u) = text(seg, &format!("{field}-7"))
        .as_deref()
        .and_then(tables::name_use)
    {
        name.insert("use".into(), json!(u));
    }
    let family = text(seg, &format!("{field}-1-1"));
    if let Some(f) = &family {
        name.insert("family".into(), json!(f));
    }
    let given: Vec<String> = [2, 3]
        .iter()
        .filter_map(|c| text(seg, &format!("{field}-{c}")))
        .collect();
    if !given.is_empty() {
        name.insert("given".into(), json!(given));
    }
    if let Some(p) = text(seg, &format!("{field}-5")) {
        name.insert("prefix".into(), json!([p]));
    }
    let suffix: Vec<String> = [4, 6]
        .iter()
        .filter_map(|c| text(seg, &format!("{field}-{c}")))
        .collect();
    if !suffix.is_empty() {
        name.insert("suffix".into(), json!(suffix));
    }
    (family.is_some() || name.contains_key("given")).then_some(Value::Object(name))
}

/// Every repetition of an XPN field.
pub fn xpn_all(seg: &SegmentView<'_>, n: usize) -> Vec<Value> {
    (1..=repetitions(seg, n))
        .filter_map(|r| xpn(seg, &format!("{n}({r})")))
        .collect()
}

/// An XAD repetition → Address.
pub fn xad(seg: &SegmentView<'_>, field: &str) -> Option<Value> {
    let mut a = Map::new();
    if let Some(u) = text(seg, &format!("{field}-7"))
        .as_deref()
        .and_then(tables::address_use)
    {
        a.insert("use".into(), json!(u));
    }
    let line: Vec<String> = [1, 2]
        .iter()
        .filter_map(|c| {
            // XAD-1 is an SAD: street & street name & dwelling number.
            text(seg, &format!("{field}-{c}-1"))
        })
        .collect();
    if !line.is_empty() {
        a.insert("line".into(), json!(line));
    }
    for (c, key) in [
        (3, "city"),
        (4, "state"),
        (5, "postalCode"),
        (6, "country"),
        (9, "district"),
    ] {
        if let Some(v) = text(seg, &format!("{field}-{c}")) {
            a.insert(key.into(), json!(v));
        }
    }
    let has_content = a.keys().any(|k| k != "use");
    has_content.then_some(Value::Object(a))
}

pub fn xad_all(seg: &SegmentView<'_>, n: usize) -> Vec<Value> {
    (1..=repetitions(seg, n))
        .filter_map(|r| xad(seg, &format!("{n}({r})")))
        .collect()
}

/// An XTN repetition → ContactPoint.
pub fn xtn(seg: &SegmentView<'_>, field: &str) -> Option<Value> {
    let equipment = text(seg, &format!("{field}-3"));
    let system = equipment.as_deref().and_then(tables::telecom_system);
    let value = if system == Some("email") {
        text(seg, &format!("{field}-4"))
    } else {
        text(seg, &format!("{field}-1")).or_else(|| {
            let parts: Vec<String> = [5, 6, 7]
                .iter()
                .filter_map(|c| text(seg, &format!("{field}-{c}")))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }?;
    let mut c = Map::new();
    c.insert("system".into(), json!(system.unwrap_or("phone")));
    c.insert("value".into(), json!(value));
    if let Some(u) = text(seg, &format!("{field}-2"))
        .as_deref()
        .and_then(tables::telecom_use)
    {
        c.insert("use".into(), json!(u));
    }
    Some(Value::Object(c))
}

pub fn xtn_all(seg: &SegmentView<'_>, fields: &[usize]) -> Vec<Value> {
    fields
        .iter()
        .flat_map(|&n| {
            (1..=repetitions(seg, n)).filter_map(move |r| xtn(seg, &format!("{n}({r})")))
        })
        .collect()
}

/// A CWE/CE (`code ^ text ^ system ^ alt code ^ alt text ^ alt system`) →
/// CodeableConcept, or `None` when it holds nothing.
pub fn cwe(seg: &SegmentView<'_>, field: &str) -> Option<Value> {
    let mut codings = Vec::new();
    for (c, t, s) in [(1, 2, 3), (4, 5, 6)] {
        let Some(code) = code_text(seg, &format!("{field}-{c}")) else {
            continue;
        };
        let mut coding = Map::new();
        if let Some(sys) = text(seg, &format!("{field}-{s}"))
            .as_deref()
            .and_then(tables::code_system)
        {
            coding.insert("system".into(), json!(sys));
        }
        coding.insert("code".into(), json!(code));
        if let Some(d) = text(seg, &format!("{field}-{t}")) {
            coding.insert("display".into(), json!(d));
        }
        codings.push(Value::Object(coding));
    }
    let label = text(seg, &format!("{field}-9")).or_else(|| text(seg, &format!("{field}-2")));
    let mut cc = Map::new();
    if !codings.is_empty() {
        cc.insert("coding".into(), Value::Array(codings));
    }
    if let Some(t) = label {
        cc.insert("text".into(), json!(t));
    }
    (!cc.is_empty()).then_some(Value::Object(cc))
}

/// A code from table `nnnn` (an ID/IS field) → CodeableConcept.
/// The code's whitespace is collapsed so it is always a valid FHIR `code`.
pub fn coded(code: &str, table: &str) -> Value {
    let code = code.split_whitespace().collect::<Vec<_>>().join(" ");
    json!({"coding": [{"system": tables::v2_table(table), "code": code}]})
}

//! ORU^R01 → DiagnosticReport per OBR, an Observation per OBX, Specimen per
//! SPM, the order as ServiceRequest (linked by placer/filler number, created
//! as a filler order when not known), all about an existing patient.
//!
//! Ids: each DiagnosticReport's id is chosen by the caller
//! ([`MapOptions::report_ids`](super::MapOptions), keyed by the order key
//! [`report_orders`] lists: the id of the report already stored for that
//! order — found by the order key, or by the placer number
//! [`ReportOrder::placer`] names when an earlier message lacked the filler
//! number — else a new time-ordered one), and its Observations' and
//! Specimens' ids are that id plus a hash of the OBX's code, sub-id and
//! occurrence (of the SPM's id and position). So a corrected result
//! (OBX-11 `C`) becomes a new version of the same Observation, and new
//! results' ids follow the order they arrived in (index rows keyed by them
//! are appended, not scattered). Without a chosen id, and for reports
//! stored before such ids existed (whose id is the hash of the order key,
//! or of the placer number such a report was stored under), every id is
//! hashed from that key as before.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, identifier_query, Builder};
use super::datatypes::{cwe, ei, token};
use super::tables;
use super::ucum::{to_ucum, UCUM};
use super::values::{date_time, decimal, parse_dtm, repetitions, text};
use super::{finish, patient, Ctx, MapError, Mapped};
use crate::ack::ErrorCode;
use crate::message::SegmentView;

struct Order<'a> {
    obr: SegmentView<'a>,
    orc: Option<SegmentView<'a>>,
    obx: Vec<SegmentView<'a>>,
    spm: Vec<SegmentView<'a>>,
}

/// An order (OBR) of an ORU^R01 whose DiagnosticReport id the caller may
/// choose: `key` indexes [`MapOptions::report_ids`](super::MapOptions),
/// `query` finds the report already stored for it
/// (`identifier=system|value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOrder {
    pub key: String,
    pub query: String,
    /// The id the report gets without a chosen one (and had before chosen
    /// ids existed): a hash of `key`.
    pub hashed_id: String,
    /// When `key` is the filler number and the OBR also has a placer
    /// number: that number. A report stored from an earlier message of the
    /// order that had no filler number yet (a preliminary result) is found
    /// by it — one that has no filler number of its own, else it belongs
    /// to another filler order under the same placer order.
    pub placer: Option<PlacerNumber>,
}

/// The placer number of a [`ReportOrder`] keyed by its filler number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacerNumber {
    /// `system|value`: the order key a message with only this number has.
    pub key: String,
    /// `identifier=system|value`.
    pub query: String,
}

/// The `Identifier.type` code (v2 table 0203) of a filler order number.
pub const FILLER_TYPE: &str = "FILL";

/// The orders of the message, in OBR order (none without an OBR; an OBR
/// without an order number is left out: mapping rejects it).
pub fn report_orders(ctx: &Ctx<'_>) -> Vec<ReportOrder> {
    orders(ctx)
        .iter()
        .filter_map(|order| {
            let (placer, filler) = order_numbers(ctx, order);
            report_order(placer.as_ref(), filler.as_ref())
        })
        .collect()
}

/// The report order of an OBR's placer and filler numbers (keyed by the
/// filler number, else the placer number; `None` without either).
fn report_order(placer: Option<&Value>, filler: Option<&Value>) -> Option<ReportOrder> {
    let placer = placer.and_then(token);
    let filler = filler.and_then(token);
    let (s, v) = filler.clone().or(placer.clone())?;
    let key = format!("{s}|{v}");
    Some(ReportOrder {
        query: identifier_query(&s, &v),
        hashed_id: hashed_report_id(&key),
        key,
        placer: filler.and(placer).map(|(s, v)| PlacerNumber {
            key: format!("{s}|{v}"),
            query: identifier_query(&s, &v),
        }),
    })
}

fn hashed_report_id(order_key: &str) -> String {
    deterministic_id(&["DiagnosticReport", order_key])
}

/// The message's OBR groups with their ORC, OBX and SPM segments.
fn orders<'a>(ctx: &Ctx<'a>) -> Vec<Order<'a>> {
    let mut orders: Vec<Order<'a>> = Vec::new();
    let mut pending_orc = None;
    let mut in_specimen = false;
    for (i, seg) in ctx.msg.all_segments().iter().enumerate() {
        let Some(view) = ctx.msg.view(i) else {
            continue;
        };
        match seg.name() {
            "ORC" => pending_orc = Some(view),
            "OBR" => {
                orders.push(Order {
                    obr: view,
                    orc: pending_orc.take(),
                    obx: Vec::new(),
                    spm: Vec::new(),
                });
                in_specimen = false;
            }
            "OBX" if !in_specimen => {
                if let Some(o) = orders.last_mut() {
                    o.obx.push(view);
                }
            }
            "SPM" => {
                if let Some(o) = orders.last_mut() {
                    o.spm.push(view);
                    in_specimen = true;
                }
            }
            _ => {}
        }
    }
    orders
}

pub fn map(ctx: &Ctx<'_>) -> Result<Mapped, MapError> {
    let (_, key) = patient::key(ctx)?;
    let patient_ref = key.reference();
    let orders = orders(ctx);
    if orders.is_empty() {
        return Err(MapError::new(
            "OBR",
            None,
            ErrorCode::SegmentSequenceError,
            "ORU^R01 needs an OBR segment",
        ));
    }
    let mut b = Builder::new();
    for order in &orders {
        map_order(ctx, &mut b, order, &patient_ref)?;
    }
    Ok(Mapped {
        bundle: finish(ctx, b),
        patient: Some(key),
        registers_patient: false,
        merge: None,
    })
}

fn map_order(
    ctx: &Ctx<'_>,
    b: &mut Builder,
    order: &Order<'_>,
    patient_ref: &str,
) -> Result<(), MapError> {
    let obr = &order.obr;
    let (placer, filler) = order_numbers(ctx, order);
    let typed = |id: &Value, code: &str| {
        let mut id = id.clone();
        if let Some(o) = id.as_object_mut() {
            o.insert(
                "type".into(),
                json!({"coding": [{"system": tables::v2_table("0203"), "code": code}]}),
            );
        }
        id
    };
    let mut identifiers = Vec::new();
    if let Some(p) = &placer {
        identifiers.push(typed(p, "PLAC"));
    }
    if let Some(f) = &filler {
        identifiers.push(typed(f, FILLER_TYPE));
    }
    let report_order = report_order(placer.as_ref(), filler.as_ref())
        .ok_or_else(|| MapError::missing("OBR", 3, "filler order number"))?;
    let code =
        cwe(obr, "4").ok_or_else(|| MapError::missing("OBR", 4, "universal service identifier"))?;
    let ids = ReportIds::new(ctx, &report_order);

    // The order: linked by placer number (else filler), created as a filler
    // order when Concord does not know it.
    let sr_query = placer
        .as_ref()
        .or(filler.as_ref())
        .and_then(token)
        .map(|(s, v)| identifier_query(&s, &v));
    let sr_ref = sr_query.map(|q| {
        let sr = json!({
            "resourceType": "ServiceRequest",
            "identifier": identifiers,
            "status": "active",
            "intent": "filler-order",
            "code": code.clone(),
            "subject": {"reference": patient_ref}
        });
        b.create_if_none("ServiceRequest", &q, sr)
    });

    let effective = ctx.date_time(text(obr, "7-1"));
    let report_status = tables::report_status(text(obr, "25").as_deref());

    // Specimens.
    let mut specimen_refs = Vec::new();
    for (n, spm) in order.spm.iter().enumerate() {
        if let Some((id, r)) = specimen(ctx, spm, &ids, n, patient_ref) {
            specimen_refs.push(b.put("Specimen", &id, r));
        }
    }

    // Observations.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut results = Vec::new();
    for obx in &order.obx {
        let Some(code) = cwe(obx, "3") else { continue };
        let code_key = code
            .pointer("/coding/0/code")
            .or_else(|| code.get("text"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let sub = text(obx, "4").unwrap_or_default();
        let n = seen.entry(format!("{code_key}\u{1f}{sub}")).or_insert(0);
        *n += 1;
        let id = ids.part(&["Observation", &code_key, &sub, &n.to_string()]);
        let mut o = observation(ctx, obx, code, patient_ref, effective.as_deref());
        o.insert(
            "category".into(),
            json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]),
        );
        if let Some(sr) = &sr_ref {
            o.insert("basedOn".into(), json!([{"reference": sr}]));
        }
        if let Some(s) = specimen_refs.first() {
            o.insert("specimen".into(), json!({"reference": s}));
        }
        results.push(json!({"reference": b.put("Observation", &id, Value::Object(o))}));
    }

    let mut r = Map::new();
    r.insert("resourceType".into(), json!("DiagnosticReport"));
    r.insert("identifier".into(), json!(identifiers));
    if let Some(sr) = &sr_ref {
        r.insert("basedOn".into(), json!([{"reference": sr}]));
    }
    r.insert("status".into(), json!(report_status));
    r.insert(
        "category".into(),
        json!([{"coding": [{"system": tables::v2_table("0074"), "code": super::values::code(obr, "24").unwrap_or_else(|| "LAB".into())}]}]),
    );
    r.insert("code".into(), code);
    r.insert("subject".into(), json!({"reference": patient_ref}));
    if let Some(e) = &effective {
        r.insert("effectiveDateTime".into(), json!(e));
    }
    if let Some(i) = text(obr, "22-1")
        .and_then(|t| parse_dtm(&t))
        .and_then(|d| d.instant(ctx.offset()))
    {
        r.insert("issued".into(), json!(i));
    }
    if !specimen_refs.is_empty() {
        let s: Vec<Value> = specimen_refs
            .iter()
            .map(|s| json!({"reference": s}))
            .collect();
        r.insert("specimen".into(), json!(s));
    }
    if !results.is_empty() {
        r.insert("result".into(), Value::Array(results));
    }
    b.put("DiagnosticReport", &ids.report, Value::Object(r));
    Ok(())
}

/// OBR-2/OBR-3 (else ORC-2/ORC-3): the placer and filler order numbers.
fn order_numbers(ctx: &Ctx<'_>, order: &Order<'_>) -> (Option<Value>, Option<Value>) {
    let number = |field: &str, kind: &str| {
        ei(&order.obr, field, &ctx.local_system(kind)).or_else(|| {
            order
                .orc
                .as_ref()
                .and_then(|o| ei(o, field, &ctx.local_system(kind)))
        })
    };
    (number("2", "placer"), number("3", "filler"))
}

/// The ids of one order's report and of what hangs off it.
struct ReportIds {
    report: String,
    /// The order key whose hash the report's id is (no chosen id, or a
    /// report stored before chosen ids existed, under the filler number or,
    /// found by its placer number, under that): parts are hashed with it,
    /// as they were then.
    hashed_from: Option<String>,
}

impl ReportIds {
    fn new(ctx: &Ctx<'_>, order: &ReportOrder) -> ReportIds {
        let report = ctx
            .opts
            .report_ids
            .get(&order.key)
            .cloned()
            .unwrap_or_else(|| order.hashed_id.clone());
        let hashed_from = if report == order.hashed_id {
            Some(order.key.clone())
        } else {
            order
                .placer
                .as_ref()
                .map(|p| p.key.clone())
                .filter(|k| hashed_report_id(k) == report)
        };
        ReportIds {
            report,
            hashed_from,
        }
    }

    /// The id of a resource of the report (`parts` name it: its type and
    /// what tells it apart from the others of that type).
    fn part(&self, parts: &[&str]) -> String {
        // Hashed with what anchors it: the order key for a hashed report;
        // the report id when it is too long to lead (FHIR allows 64
        // characters); otherwise led by the report id (a UUID: 36 + 1 + 16).
        let anchor = if let Some(key) = &self.hashed_from {
            key.as_str()
        } else if self.report.len() + 17 > 64 {
            self.report.as_str()
        } else {
            let hash = deterministic_id(parts).replace('-', "");
            return format!("{}.{}", self.report, &hash[..16]);
        };
        let mut all = Vec::with_capacity(parts.len() + 1);
        all.push(parts[0]);
        all.push(anchor);
        all.extend_from_slice(&parts[1..]);
        deterministic_id(&all)
    }
}

/// SPM → Specimen.
fn specimen(
    ctx: &Ctx<'_>,
    spm: &SegmentView<'_>,
    ids: &ReportIds,
    n: usize,
    patient_ref: &str,
) -> Option<(String, Value)> {
    let mut s = Map::new();
    s.insert("resourceType".into(), json!("Specimen"));
    // SPM-2 is an EIP: placer assigned id & filler assigned id.
    let value = text(spm, "2-2-1").or_else(|| text(spm, "2-1-1"));
    if let Some(v) = &value {
        s.insert(
            "identifier".into(),
            json!([{"system": ctx.local_system("specimen"), "value": v}]),
        );
    }
    s.insert("status".into(), json!("available"));
    if let Some(t) = cwe(spm, "4") {
        s.insert("type".into(), t);
    }
    s.insert("subject".into(), json!({"reference": patient_ref}));
    if let Some(r) = ctx.date_time(text(spm, "18-1")) {
        if r.contains('T') {
            s.insert("receivedTime".into(), json!(r));
        }
    }
    if let Some(c) = ctx.date_time(text(spm, "17-1-1")) {
        s.insert("collection".into(), json!({"collectedDateTime": c}));
    }
    let id = ids.part(&["Specimen", value.as_deref().unwrap_or(""), &n.to_string()]);
    Some((id, Value::Object(s)))
}

/// OBX → Observation (without id, category and links).
pub fn observation(
    ctx: &Ctx<'_>,
    obx: &SegmentView<'_>,
    code: Value,
    subject_ref: &str,
    default_effective: Option<&str>,
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("resourceType".into(), json!("Observation"));
    o.insert(
        "status".into(),
        json!(tables::observation_status(text(obx, "11").as_deref())),
    );
    o.insert("code".into(), code);
    o.insert("subject".into(), json!({"reference": subject_ref}));
    let effective = date_time(text(obx, "14-1"), ctx.offset())
        .or_else(|| default_effective.map(str::to_string));
    if let Some(e) = effective {
        o.insert("effectiveDateTime".into(), json!(e));
    }
    let unit = units(obx);
    if let Some((key, v)) = value(obx, unit.as_ref(), ctx) {
        o.insert(key.into(), v);
    }
    let interp: Vec<Value> = (1..=repetitions(obx, 8))
        .filter_map(|r| text(obx, &format!("8({r})-1")))
        .map(|c| match tables::interpretation(&c) {
            Some((code, display)) => json!({"coding": [{
                "system": tables::INTERPRETATION_SYSTEM, "code": code, "display": display
            }]}),
            None => json!({"text": c}),
        })
        .collect();
    if !interp.is_empty() {
        o.insert("interpretation".into(), Value::Array(interp));
    }
    if let Some(rr) = text(obx, "7").and_then(|t| reference_range(&t, unit.as_ref())) {
        o.insert("referenceRange".into(), json!([rr]));
    }
    o
}

/// OBX-6 → the unit text and, when known, its UCUM code.
struct Unit {
    text: String,
    ucum: Option<String>,
}

fn units(obx: &SegmentView<'_>) -> Option<Unit> {
    let code = text(obx, "6-1")?;
    let system = text(obx, "6-3");
    let ucum = to_ucum(&code, system.as_deref());
    Some(Unit { text: code, ucum })
}

fn quantity(value: Value, unit: Option<&Unit>) -> Value {
    let mut q = Map::new();
    q.insert("value".into(), value);
    if let Some(u) = unit {
        q.insert("unit".into(), json!(u.text));
        if let Some(c) = &u.ucum {
            q.insert("system".into(), json!(UCUM));
            q.insert("code".into(), json!(c));
        }
    }
    Value::Object(q)
}

/// OBX-5 by OBX-2 value type → `value[x]`.
fn value(
    obx: &SegmentView<'_>,
    unit: Option<&Unit>,
    ctx: &Ctx<'_>,
) -> Option<(&'static str, Value)> {
    let ty = text(obx, "2")?.to_ascii_uppercase();
    let first = text(obx, "5(1)");
    match ty.as_str() {
        "NM" => {
            let raw = first?;
            match decimal(&raw) {
                Some(d) => Some(("valueQuantity", quantity(d, unit))),
                None => Some(("valueString", json!(raw))),
            }
        }
        "SN" => structured_numeric(obx, unit),
        "ST" | "TX" | "FT" => {
            let parts: Vec<String> = (1..=repetitions(obx, 5))
                .filter_map(|r| text(obx, &format!("5({r})")))
                .collect();
            (!parts.is_empty()).then(|| ("valueString", json!(parts.join("\n"))))
        }
        "CE" | "CWE" | "CNE" | "CF" => cwe(obx, "5(1)").map(|c| ("valueCodeableConcept", c)),
        "DT" | "TS" | "DTM" => {
            let v = text(obx, "5(1)-1")
                .and_then(|t| parse_dtm(&t))
                .map(|d| d.date_time(ctx.offset()))?;
            Some(("valueDateTime", json!(v)))
        }
        _ => None,
    }
}

/// SN: `comparator ^ num1 ^ separator ^ num2`.
fn structured_numeric(obx: &SegmentView<'_>, unit: Option<&Unit>) -> Option<(&'static str, Value)> {
    let comparator = text(obx, "5(1)-1");
    let n1 = text(obx, "5(1)-2").and_then(|t| decimal(&t));
    let sep = text(obx, "5(1)-3");
    let n2 = text(obx, "5(1)-4").and_then(|t| decimal(&t));
    match (sep.as_deref(), n1, n2) {
        (Some(":" | "/"), Some(a), Some(b)) => Some((
            "valueRatio",
            json!({"numerator": {"value": a}, "denominator": {"value": b}}),
        )),
        (Some("-"), Some(a), Some(b)) => Some((
            "valueRange",
            json!({"low": quantity(a, unit), "high": quantity(b, unit)}),
        )),
        (None, Some(a), None) => {
            let mut q = quantity(a, unit);
            match comparator.as_deref() {
                None | Some("=") => {}
                Some(c @ ("<" | "<=" | ">" | ">=")) => {
                    if let Some(o) = q.as_object_mut() {
                        o.insert("comparator".into(), json!(c));
                    }
                }
                Some(_) => return None,
            }
            Some(("valueQuantity", q))
        }
        _ => None,
    }
}

/// OBX-7: `low-high`, `<high`, `>low`, else text.
fn reference_range(raw: &str, unit: Option<&Unit>) -> Option<Value> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let q = |s: &str| decimal(s).map(|d| quantity(d, unit));
    if let Some(high) = raw.strip_prefix("<=").or_else(|| raw.strip_prefix('<')) {
        if let Some(h) = q(high) {
            return Some(json!({"high": h, "text": raw}));
        }
    }
    if let Some(low) = raw.strip_prefix(">=").or_else(|| raw.strip_prefix('>')) {
        if let Some(l) = q(low) {
            return Some(json!({"low": l, "text": raw}));
        }
    }
    // Split on the '-' that is not a leading minus sign.
    if let Some((i, _)) = raw.char_indices().skip(1).find(|(_, c)| *c == '-') {
        if let (Some(l), Some(h)) = (q(&raw[..i]), q(&raw[i + 1..])) {
            return Some(json!({"low": l, "high": h}));
        }
    }
    Some(json!({"text": raw}))
}

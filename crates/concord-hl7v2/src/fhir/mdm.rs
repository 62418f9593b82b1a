//! MDM^T02 (original document notification and content) → DocumentReference
//! about an existing patient. The content is the OBX text (TX/ST/FT, as
//! `text/plain`) or an ED attachment (base64 data with its MIME type).

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, Builder};
use super::datatypes::{coded, ei, token, xpn};
use super::values::{parse_dtm, repetitions, text};
use super::{finish, patient, Ctx, MapError, Mapped};

pub fn map(ctx: &Ctx<'_>) -> Result<Mapped, MapError> {
    let (_, key) = patient::key(ctx)?;
    let patient_ref = key.reference();
    let txa = ctx.seg("TXA").ok_or_else(|| {
        MapError::new(
            "TXA",
            None,
            crate::ack::ErrorCode::SegmentSequenceError,
            "MDM^T02 needs a TXA segment",
        )
    })?;
    let mut d = Map::new();
    d.insert("resourceType".into(), json!("DocumentReference"));
    let unique = ei(&txa, "12", &ctx.local_system("document"));
    if let Some(u) = &unique {
        d.insert("masterIdentifier".into(), u.clone());
    }
    let mut ids = Vec::new();
    for (field, kind) in [("14", "placer"), ("15", "filler")] {
        if let Some(i) = ei(&txa, field, &ctx.local_system(kind)) {
            ids.push(i);
        }
    }
    if !ids.is_empty() {
        d.insert("identifier".into(), json!(ids));
    }
    // TXA-19 availability (table 0275): OB/OBSOLETE → superseded.
    let status = match text(&txa, "19").as_deref() {
        Some("OB") => "superseded",
        _ => "current",
    };
    d.insert("status".into(), json!(status));
    // TXA-17 completion status (table 0271) → docStatus.
    let doc_status = match text(&txa, "17").as_deref() {
        Some("AU" | "LA") => Some("final"),
        Some("DI" | "DO" | "IN" | "IP" | "PA") => Some("preliminary"),
        _ => None,
    };
    if let Some(s) = doc_status {
        d.insert("docStatus".into(), json!(s));
    }
    if let Some(t) = text(&txa, "2-1") {
        d.insert("type".into(), coded(&t, "0270"));
    }
    d.insert("subject".into(), json!({"reference": patient_ref}));
    let when = text(&txa, "6-1")
        .or_else(|| text(&txa, "4-1"))
        .and_then(|t| parse_dtm(&t))
        .and_then(|t| t.instant(ctx.offset()));
    if let Some(w) = when {
        d.insert("date".into(), json!(w));
    }
    let authors: Vec<Value> = (1..=repetitions(&txa, 9))
        .filter_map(|r| {
            xpn(&txa, &format!("9({r})-2"))
                .or_else(|| text(&txa, &format!("9({r})-1")).map(|t| json!({"family": t})))
        })
        .filter_map(|n| {
            n.get("family")
                .and_then(Value::as_str)
                .map(|f| json!({"display": f}))
        })
        .collect();
    if !authors.is_empty() {
        d.insert("author".into(), Value::Array(authors));
    }
    let mut content = Vec::new();
    let mut lines = Vec::new();
    for obx in ctx.msg.views("OBX") {
        match text(&obx, "2").as_deref() {
            Some("TX" | "ST" | "FT") => {
                for r in 1..=repetitions(&obx, 5) {
                    if let Some(t) = text(&obx, &format!("5({r})")) {
                        lines.push(t);
                    }
                }
            }
            Some("ED") => {
                // ED: source ^ type ^ subtype ^ encoding ^ data
                let data = text(&obx, "5(1)-5");
                let mime = match (text(&obx, "5(1)-2"), text(&obx, "5(1)-3")) {
                    (Some(t), Some(s)) => {
                        format!("{}/{}", t.to_ascii_lowercase(), s.to_ascii_lowercase())
                    }
                    _ => "application/octet-stream".into(),
                };
                let b64 = match (text(&obx, "5(1)-4").as_deref(), data) {
                    (Some(enc), Some(data)) if enc.eq_ignore_ascii_case("base64") => {
                        let clean: String = data.chars().filter(|c| !c.is_whitespace()).collect();
                        base64::engine::general_purpose::STANDARD
                            .decode(&clean)
                            .ok()
                            .map(|_| clean)
                    }
                    (_, Some(data)) => {
                        Some(base64::engine::general_purpose::STANDARD.encode(data.as_bytes()))
                    }
                    _ => None,
                };
                if let Some(b64) = b64 {
                    content.push(json!({"attachment": {"contentType": mime, "data": b64}}));
                }
            }
            _ => {}
        }
    }
    if !lines.is_empty() {
        let data = base64::engine::general_purpose::STANDARD.encode(lines.join("\n").as_bytes());
        content.insert(
            0,
            json!({"attachment": {"contentType": "text/plain; charset=utf-8", "data": data}}),
        );
    }
    if content.is_empty() {
        let title = text(&txa, "2-2")
            .or_else(|| text(&txa, "2-1"))
            .unwrap_or_else(|| "document".into());
        content.push(json!({"attachment": {"title": title}}));
    }
    d.insert("content".into(), Value::Array(content));
    let doc_key = unique
        .as_ref()
        .and_then(token)
        .map(|(s, v)| format!("{s}|{v}"))
        .or_else(|| ids.first().and_then(token).map(|(s, v)| format!("{s}|{v}")))
        .unwrap_or_else(|| {
            format!(
                "{}|{}",
                ctx.sender,
                ctx.msg.control_id().unwrap_or_default()
            )
        });
    let mut b = Builder::new();
    b.put(
        "DocumentReference",
        &deterministic_id(&["DocumentReference", &doc_key]),
        Value::Object(d),
    );
    Ok(Mapped {
        bundle: finish(ctx, b),
        patient: Some(key),
        registers_patient: false,
        merge: None,
    })
}

//! SIU^S12 (new), S13 (rescheduled), S14 (modified), S15 (cancelled) →
//! Appointment, about an existing patient.

use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, Builder};
use super::datatypes::{cwe, ei, token, xpn};
use super::values::{parse_dtm, text};
use super::{finish, patient, Ctx, MapError, Mapped};

pub fn map(ctx: &Ctx<'_>) -> Result<Mapped, MapError> {
    let (_, key) = patient::key(ctx)?;
    let patient_ref = key.reference();
    let sch = ctx.seg("SCH").ok_or_else(|| {
        MapError::new(
            "SCH",
            None,
            crate::ack::ErrorCode::SegmentSequenceError,
            "SIU needs an SCH segment",
        )
    })?;
    let ids: Vec<Value> = [
        ei(&sch, "2", &ctx.local_system("filler-appointment")),
        ei(&sch, "1", &ctx.local_system("placer-appointment")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let appt_key = ids
        .first()
        .and_then(token)
        .map(|(s, v)| format!("{s}|{v}"))
        .ok_or_else(|| MapError::missing("SCH", 2, "filler appointment id"))?;
    let mut a = Map::new();
    a.insert("resourceType".into(), json!("Appointment"));
    a.insert("identifier".into(), json!(ids));
    // SCH-25 filler status (HL7 table 0278) refines the event's status.
    let status = match (ctx.event.as_str(), text(&sch, "25-1").as_deref()) {
        ("S15", _) => "cancelled",
        (_, Some("Pending")) => "pending",
        (_, Some("Waitlist")) => "waitlist",
        (_, Some("Complete")) => "fulfilled",
        (_, Some("Noshow")) => "noshow",
        (_, Some("Cancelled" | "Deleted")) => "cancelled",
        _ => "booked",
    };
    let offset = ctx.offset();
    let instant = |raw: Option<String>| {
        raw.and_then(|t| parse_dtm(&t))
            .and_then(|d| d.instant(offset))
    };
    let tq1 = ctx.seg("TQ1");
    let start = tq1
        .as_ref()
        .and_then(|t| instant(text(t, "7-1")))
        .or_else(|| instant(text(&sch, "11-4-1")))
        .or_else(|| ctx.seg("AIS").and_then(|s| instant(text(&s, "4-1"))));
    let end = tq1
        .as_ref()
        .and_then(|t| instant(text(t, "8-1")))
        .or_else(|| instant(text(&sch, "11-5-1")));
    // app-3: only proposed or cancelled appointments may lack start/end.
    let status = match (&start, &end) {
        (Some(_), Some(_)) => status,
        _ if status == "cancelled" => status,
        _ => "proposed",
    };
    a.insert("status".into(), json!(status));
    if let Some(t) = cwe(&sch, "8") {
        a.insert("appointmentType".into(), t);
    }
    if let Some(r) = cwe(&sch, "7") {
        a.insert("reasonCode".into(), json!([r]));
    }
    if let (Some(s), Some(e)) = (&start, &end) {
        if super::values::not_after(s, e) {
            a.insert("start".into(), json!(s));
            a.insert("end".into(), json!(e));
        } else if status != "proposed" && status != "cancelled" {
            a.insert("status".into(), json!("proposed"));
        }
    }
    if let Some(d) = text(&sch, "9")
        // FHIR positiveInt: 1 ..= 2^31 - 1.
        .and_then(|d| d.parse::<i32>().ok())
        .filter(|d| *d > 0)
    {
        if text(&sch, "10-1")
            .is_none_or(|u| u.eq_ignore_ascii_case("min") || u.eq_ignore_ascii_case("m"))
        {
            a.insert("minutesDuration".into(), json!(d));
        }
    }
    let mut participants = vec![json!({"actor": {"reference": patient_ref}, "status": "accepted"})];
    for aip in ctx.msg.views("AIP") {
        if let Some(name) = xpn(&aip, "3").and_then(|n| display_name(&n)) {
            participants.push(json!({"actor": {"display": name}, "status": "accepted"}));
        }
    }
    for ail in ctx.msg.views("AIL") {
        if let Some(loc) = text(&ail, "3-1") {
            participants.push(json!({"actor": {"display": loc}, "status": "accepted"}));
        }
    }
    a.insert("participant".into(), Value::Array(participants));
    if let Some(c) = text(&sch, "6-2").or_else(|| text(&sch, "6-1")) {
        a.insert("comment".into(), json!(c));
    }
    let id = deterministic_id(&["Appointment", &appt_key]);
    let mut b = Builder::new();
    b.put("Appointment", &id, Value::Object(a));
    Ok(Mapped {
        bundle: finish(ctx, b),
        patient: Some(key),
        registers_patient: false,
        merge: None,
    })
}

fn display_name(n: &Value) -> Option<String> {
    let mut parts: Vec<String> = n
        .get("given")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(f) = n.get("family").and_then(Value::as_str) {
        parts.push(f.to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

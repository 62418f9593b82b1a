//! RDS^O13 (pharmacy dispense) → a MedicationDispense per RXD, about an
//! existing patient. Drug codes as sent (NDC, RxNorm, local).

use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, Builder};
use super::datatypes::{cwe, ei, token};
use super::values::{decimal, text};
use super::{finish, patient, Ctx, MapError, Mapped};
use crate::ack::ErrorCode;
use crate::message::SegmentView;

pub fn map(ctx: &Ctx<'_>) -> Result<Mapped, MapError> {
    let (_, key) = patient::key(ctx)?;
    let patient_ref = key.reference();
    let mut b = Builder::new();
    let mut orc: Option<SegmentView<'_>> = None;
    let mut count = 0;
    for view in ctx
        .msg
        .all_segments()
        .iter()
        .enumerate()
        .filter_map(|(i, _)| ctx.msg.view(i))
    {
        match view.name() {
            "ORC" => orc = Some(view),
            "RXD" => {
                let (id, r) = dispense(ctx, &view, orc.as_ref(), &patient_ref, count)?;
                b.put("MedicationDispense", &id, r);
                count += 1;
            }
            _ => {}
        }
    }
    if count == 0 {
        return Err(MapError::new(
            "RXD",
            None,
            ErrorCode::SegmentSequenceError,
            "RDS^O13 needs an RXD segment",
        ));
    }
    Ok(Mapped {
        bundle: finish(ctx, b),
        patient: Some(key),
        registers_patient: false,
        merge: None,
    })
}

fn dispense(
    ctx: &Ctx<'_>,
    rxd: &SegmentView<'_>,
    orc: Option<&SegmentView<'_>>,
    patient_ref: &str,
    n: usize,
) -> Result<(String, Value), MapError> {
    let drug = cwe(rxd, "2").ok_or_else(|| MapError::missing("RXD", 2, "dispense/give code"))?;
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("MedicationDispense"));
    let mut ids = Vec::new();
    if let Some(rx) = text(rxd, "7") {
        ids.push(json!({"system": ctx.local_system("prescription"), "value": rx}));
    }
    let order = orc.and_then(|o| {
        ei(o, "2", &ctx.local_system("placer")).or_else(|| ei(o, "3", &ctx.local_system("filler")))
    });
    if !ids.is_empty() {
        m.insert("identifier".into(), json!(ids));
    }
    m.insert("status".into(), json!("completed"));
    m.insert("medicationCodeableConcept".into(), drug);
    m.insert("subject".into(), json!({"reference": patient_ref}));
    if let Some(amount) = text(rxd, "4").and_then(|a| decimal(&a)) {
        let mut q = Map::new();
        q.insert("value".into(), amount);
        if let Some(u) = text(rxd, "5-2").or_else(|| text(rxd, "5-1")) {
            q.insert("unit".into(), json!(u));
        }
        m.insert("quantity".into(), Value::Object(q));
    }
    if let Some(w) = ctx.date_time(text(rxd, "3-1")) {
        m.insert("whenHandedOver".into(), json!(w));
    }
    if let Some(instr) = text(rxd, "9-2").or_else(|| text(rxd, "9-1")) {
        m.insert("dosageInstruction".into(), json!([{"text": instr}]));
    }
    let key = order
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
    let sub = text(rxd, "1").unwrap_or_default();
    Ok((
        deterministic_id(&["MedicationDispense", &key, &sub, &n.to_string()]),
        Value::Object(m),
    ))
}

//! VXU^V04 → an Immunization per RXA (vaccine codes: CDC CVX, else as sent
//! — NDC, local), about an existing patient.

use serde_json::{json, Map, Value};

use super::bundle::{deterministic_id, Builder};
use super::datatypes::{cwe, ei, token};
use super::values::{date, decimal, text};
use super::{finish, patient, Ctx, MapError, Mapped};
use crate::ack::ErrorCode;
use crate::message::SegmentView;

pub fn map(ctx: &Ctx<'_>) -> Result<Mapped, MapError> {
    let (_, key) = patient::key(ctx)?;
    let patient_ref = key.reference();
    let mut b = Builder::new();
    let mut orc: Option<SegmentView<'_>> = None;
    let mut count = 0;
    let segments = ctx.msg.all_segments();
    for i in 0..segments.len() {
        let Some(view) = ctx.msg.view(i) else {
            continue;
        };
        match view.name() {
            "ORC" => orc = Some(view),
            "RXA" => {
                let rxr = ctx.msg.view(i + 1).filter(|v| v.name() == "RXR");
                let (id, r) = immunization(
                    ctx,
                    &view,
                    orc.as_ref(),
                    rxr.as_ref(),
                    &patient_ref,
                    &key.value,
                    count,
                )?;
                b.put("Immunization", &id, r);
                count += 1;
                orc = None;
            }
            _ => {}
        }
    }
    if count == 0 {
        return Err(MapError::new(
            "RXA",
            None,
            ErrorCode::SegmentSequenceError,
            "VXU^V04 needs an RXA segment",
        ));
    }
    Ok(Mapped {
        bundle: finish(ctx, b),
        patient: Some(key),
        registers_patient: false,
        merge: None,
    })
}

fn immunization(
    ctx: &Ctx<'_>,
    rxa: &SegmentView<'_>,
    orc: Option<&SegmentView<'_>>,
    rxr: Option<&SegmentView<'_>>,
    patient_ref: &str,
    patient_value: &str,
    n: usize,
) -> Result<(String, Value), MapError> {
    let vaccine = cwe(rxa, "5").ok_or_else(|| MapError::missing("RXA", 5, "administered code"))?;
    let when = ctx
        .date_time(text(rxa, "3-1"))
        .ok_or_else(|| MapError::missing("RXA", 3, "date/time start of administration"))?;
    let mut im = Map::new();
    im.insert("resourceType".into(), json!("Immunization"));
    let ids: Vec<Value> = orc
        .into_iter()
        .flat_map(|o| {
            [
                ei(o, "3", &ctx.local_system("filler")),
                ei(o, "2", &ctx.local_system("placer")),
            ]
        })
        .flatten()
        .collect();
    if !ids.is_empty() {
        im.insert("identifier".into(), json!(ids));
    }
    // RXA-20 completion status (HL7 table 0322), RXA-21 action code (0206).
    let status = match (text(rxa, "21").as_deref(), text(rxa, "20").as_deref()) {
        (Some("D"), _) => "entered-in-error",
        (_, Some("RE" | "NA")) => "not-done",
        _ => "completed",
    };
    im.insert("status".into(), json!(status));
    if status == "not-done" {
        if let Some(reason) = cwe(rxa, "18") {
            im.insert("statusReason".into(), reason);
        }
    }
    im.insert("vaccineCode".into(), vaccine.clone());
    im.insert("patient".into(), json!({"reference": patient_ref}));
    im.insert("occurrenceDateTime".into(), json!(when));
    // RXA-9 administration notes, NIP001 "00" = new immunization record.
    if let Some(src) = text(rxa, "9-1") {
        im.insert("primarySource".into(), json!(src == "00"));
    }
    if let Some(m) = text(rxa, "17-2").or_else(|| text(rxa, "17-1")) {
        im.insert("manufacturer".into(), json!({"display": m}));
    }
    if let Some(lot) = text(rxa, "15(1)") {
        im.insert("lotNumber".into(), json!(lot));
    }
    if let Some(exp) = date(text(rxa, "16(1)-1")) {
        if exp.len() == 10 {
            im.insert("expirationDate".into(), json!(exp));
        }
    }
    if let Some(r) = rxr {
        if let Some(site) = cwe(r, "2") {
            im.insert("site".into(), site);
        }
        if let Some(route) = cwe(r, "1") {
            im.insert("route".into(), route);
        }
    }
    if let Some(amount) = text(rxa, "6")
        .filter(|a| a != "999")
        .and_then(|a| decimal(&a))
    {
        let mut q = Map::new();
        q.insert("value".into(), amount);
        if let Some(u) = text(rxa, "7-1") {
            q.insert("unit".into(), json!(u));
            if let Some(c) = super::ucum::to_ucum(&u, text(rxa, "7-3").as_deref()) {
                q.insert("system".into(), json!(super::ucum::UCUM));
                q.insert("code".into(), json!(c));
            }
        }
        im.insert("doseQuantity".into(), Value::Object(q));
    }
    let key = ids
        .first()
        .and_then(token)
        .map(|(s, v)| format!("{s}|{v}"))
        .unwrap_or_else(|| {
            let code = vaccine
                .pointer("/coding/0/code")
                .and_then(Value::as_str)
                .unwrap_or("");
            format!("{patient_value}|{code}|{when}|{n}")
        });
    Ok((deterministic_id(&["Immunization", &key]), Value::Object(im)))
}

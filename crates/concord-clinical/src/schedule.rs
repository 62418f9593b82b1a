//! Scheduling: a `Schedule` per practitioner (at a site), `Slot`s generated
//! from working hours, `Appointment` book / reschedule / cancel (each returns
//! the slot versions to store with it), day lists per provider or site, and
//! check-in (Appointment → `arrived` plus an `Encounter`).
//!
//! Times: working hours are local to the site, given with its UTC offset;
//! every instant written carries that offset.

use crate::error::{ClinicalError, Result};
use crate::util::{check_datetime, check_reference, format_datetime, reference};
use serde_json::{json, Value};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

pub fn build_schedule(practitioner: &str, location: &str, name: &str) -> Result<Value> {
    check_reference(
        "practitioner",
        practitioner,
        &["Practitioner", "PractitionerRole"],
    )?;
    check_reference("location", location, &["Location"])?;
    let mut s = json!({
        "resourceType": "Schedule",
        "active": true,
        "actor": [reference(practitioner), reference(location)],
    });
    if !name.trim().is_empty() {
        s["comment"] = json!(name.trim());
    }
    Ok(s)
}

#[derive(Debug, Clone)]
pub struct WorkingHours {
    pub weekdays: Vec<Weekday>,
    pub start: Time,
    pub end: Time,
    pub slot_minutes: u16,
    /// The site's UTC offset.
    pub offset: UtcOffset,
}

/// Free slots of `hours.slot_minutes` for `days` days from `from`.
pub fn generate_slots(
    schedule: &str,
    hours: &WorkingHours,
    from: Date,
    days: u16,
) -> Result<Vec<Value>> {
    check_reference("schedule", schedule, &["Schedule"])?;
    if !(5..=240).contains(&hours.slot_minutes) {
        return Err(ClinicalError::new(
            "slot_minutes",
            "slots must be 5 to 240 minutes long",
        ));
    }
    if hours.end <= hours.start {
        return Err(ClinicalError::new(
            "end",
            "the working day must end after it starts",
        ));
    }
    if days > 92 {
        return Err(ClinicalError::new(
            "days",
            "generate at most 92 days at a time",
        ));
    }
    let len = Duration::minutes(i64::from(hours.slot_minutes));
    let mut out = Vec::new();
    for d in 0..days {
        let Some(date) = from.checked_add(Duration::days(i64::from(d))) else {
            break;
        };
        if !hours.weekdays.contains(&date.weekday()) {
            continue;
        }
        let mut t = PrimitiveDateTime::new(date, hours.start).assume_offset(hours.offset);
        let end = PrimitiveDateTime::new(date, hours.end).assume_offset(hours.offset);
        while t + len <= end {
            out.push(json!({
                "resourceType": "Slot",
                "schedule": reference(schedule),
                "status": "free",
                "start": format_datetime(t),
                "end": format_datetime(t + len),
            }));
            t += len;
        }
    }
    Ok(out)
}

fn with_status(slot: &Value, status: &str) -> Value {
    let mut s = slot.clone();
    s["status"] = json!(status);
    s
}

pub struct Booking<'a> {
    pub slot: &'a Value,
    pub slot_ref: &'a str,
    pub patient: &'a str,
    pub practitioner: &'a str,
    pub location: Option<&'a str>,
    pub reason: &'a str,
}

/// A booked Appointment for a free slot, and the slot marked busy.
pub fn book(b: &Booking<'_>) -> Result<(Value, Value)> {
    check_reference("slot", b.slot_ref, &["Slot"])?;
    check_reference("patient", b.patient, &["Patient"])?;
    check_reference(
        "practitioner",
        b.practitioner,
        &["Practitioner", "PractitionerRole"],
    )?;
    if b.slot["status"] != "free" {
        return Err(ClinicalError::new(
            "slot",
            "this time is no longer free; pick another",
        ));
    }
    let (start, end) = (
        b.slot["start"].as_str().unwrap_or(""),
        b.slot["end"].as_str().unwrap_or(""),
    );
    check_datetime("slot", start)?;
    check_datetime("slot", end)?;
    let mut participants = vec![
        json!({ "actor": reference(b.patient), "status": "accepted" }),
        json!({ "actor": reference(b.practitioner), "status": "accepted" }),
    ];
    if let Some(l) = b.location {
        check_reference("location", l, &["Location"])?;
        participants.push(json!({ "actor": reference(l), "status": "accepted" }));
    }
    let mut a = json!({
        "resourceType": "Appointment",
        "status": "booked",
        "start": start,
        "end": end,
        "slot": [reference(b.slot_ref)],
        "participant": participants,
    });
    if !b.reason.trim().is_empty() {
        a["description"] = json!(b.reason.trim());
    }
    Ok((a, with_status(b.slot, "busy")))
}

fn ensure_active(appt: &Value) -> Result<()> {
    match appt["status"].as_str() {
        Some("booked" | "pending" | "proposed") => Ok(()),
        Some(s) => Err(ClinicalError::new(
            "appointment",
            format!("the appointment is {s}"),
        )),
        None => Err(ClinicalError::new("appointment", "not an appointment")),
    }
}

/// Moves a booked appointment to another free slot: returns the
/// appointment, the old slot (free again) and the new slot (busy).
pub fn reschedule(
    appt: &Value,
    old_slot: &Value,
    new_slot: &Value,
    new_slot_ref: &str,
) -> Result<(Value, Value, Value)> {
    ensure_active(appt)?;
    check_reference("slot", new_slot_ref, &["Slot"])?;
    if new_slot["status"] != "free" {
        return Err(ClinicalError::new(
            "slot",
            "this time is no longer free; pick another",
        ));
    }
    let mut a = appt.clone();
    a["start"] = new_slot["start"].clone();
    a["end"] = new_slot["end"].clone();
    a["slot"] = json!([reference(new_slot_ref)]);
    Ok((
        a,
        with_status(old_slot, "free"),
        with_status(new_slot, "busy"),
    ))
}

/// Cancels an appointment and frees its slot.
pub fn cancel(appt: &Value, slot: &Value, reason: &str) -> Result<(Value, Value)> {
    ensure_active(appt)?;
    let reason = crate::util::required_text("reason", reason)?;
    let mut a = appt.clone();
    a["status"] = json!("cancelled");
    a["cancelationReason"] = json!({ "text": reason });
    Ok((a, with_status(slot, "free")))
}

fn participant(appt: &Value, ty: &str) -> Option<String> {
    appt["participant"]
        .as_array()?
        .iter()
        .filter_map(|p| p["actor"]["reference"].as_str())
        .find(|r| r.starts_with(&format!("{ty}/")))
        .map(str::to_string)
}

/// Check-in: the appointment becomes `arrived`, and an ambulatory Encounter
/// (status `arrived`) starts, linked to it.
pub fn check_in(appt: &Value, appt_ref: &str, at: OffsetDateTime) -> Result<(Value, Value)> {
    check_reference("appointment", appt_ref, &["Appointment"])?;
    if appt["status"] != "booked" {
        return Err(ClinicalError::new(
            "appointment",
            "only a booked appointment can be checked in",
        ));
    }
    let patient = participant(appt, "Patient")
        .ok_or_else(|| ClinicalError::new("appointment", "the appointment has no patient"))?;
    let mut a = appt.clone();
    a["status"] = json!("arrived");
    let mut e = json!({
        "resourceType": "Encounter",
        "status": "arrived",
        "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" },
        "subject": reference(&patient),
        "appointment": [reference(appt_ref)],
        "period": { "start": format_datetime(at) },
    });
    if let Some(p) = participant(appt, "Practitioner") {
        e["participant"] = json!([{ "individual": reference(&p) }]);
    }
    if let Some(l) = participant(appt, "Location") {
        e["location"] = json!([{ "location": reference(&l) }]);
    }
    if let Some(d) = appt.get("description") {
        e["reasonCode"] = json!([{ "text": d }]);
    }
    Ok((a, e))
}

/// Appointments on `date` (local to `offset`) with `actor` (a practitioner
/// or a location) among the participants, cancelled ones left out, by start.
pub fn day_list<'a>(
    appointments: &'a [Value],
    date: Date,
    offset: UtcOffset,
    actor: &str,
) -> Vec<&'a Value> {
    let mut out: Vec<(OffsetDateTime, &Value)> = appointments
        .iter()
        .filter(|a| a["status"] != "cancelled" && a["status"] != "entered-in-error")
        .filter(|a| {
            a["participant"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["actor"]["reference"] == actor)
        })
        .filter_map(|a| {
            let t = check_datetime("start", a["start"].as_str()?).ok()?;
            (t.to_offset(offset).date() == date).then_some((t, a))
        })
        .collect();
    out.sort_by_key(|(t, _)| *t);
    out.into_iter().map(|(_, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_support::assert_valid;
    use time::macros::{date, datetime, offset, time};

    fn hours() -> WorkingHours {
        WorkingHours {
            weekdays: vec![Weekday::Monday, Weekday::Tuesday],
            start: time!(9:00),
            end: time!(12:00),
            slot_minutes: 20,
            offset: offset!(-5),
        }
    }

    #[test]
    fn slots_follow_working_hours() {
        let s =
            build_schedule("Practitioner/dr1", "Location/l1", "Dr One, Main St").expect("schedule");
        assert_valid(&s);
        // 2026-03-02 is a Monday: Mon + Tue in a week, 9 slots each.
        let slots =
            generate_slots("Schedule/s1", &hours(), date!(2026 - 03 - 02), 7).expect("slots");
        assert_eq!(slots.len(), 18);
        assert_eq!(slots[0]["start"], "2026-03-02T09:00:00-05:00");
        assert_eq!(slots[8]["end"], "2026-03-02T12:00:00-05:00");
        assert_eq!(slots[9]["start"], "2026-03-03T09:00:00-05:00");
        for s in &slots {
            assert_valid(s);
        }
        let bad = WorkingHours {
            end: time!(8:00),
            ..hours()
        };
        assert_eq!(
            generate_slots("Schedule/s1", &bad, date!(2026 - 03 - 02), 7).map_err(|e| e.field),
            Err("end")
        );
    }

    #[test]
    fn book_reschedule_cancel_move_slots() {
        let slots =
            generate_slots("Schedule/s1", &hours(), date!(2026 - 03 - 02), 1).expect("slots");
        let b = Booking {
            slot: &slots[0],
            slot_ref: "Slot/a",
            patient: "Patient/p1",
            practitioner: "Practitioner/dr1",
            location: Some("Location/l1"),
            reason: "Cough",
        };
        let (appt, busy) = book(&b).expect("book");
        assert_valid(&appt);
        assert_eq!(busy["status"], "busy");
        assert!(
            book(&Booking { slot: &busy, ..b }).is_err(),
            "busy slot cannot be booked"
        );
        let (moved, freed, taken) =
            reschedule(&appt, &busy, &slots[1], "Slot/b").expect("reschedule");
        assert_valid(&moved);
        assert_eq!(
            (freed["status"].as_str(), taken["status"].as_str()),
            (Some("free"), Some("busy"))
        );
        assert_eq!(moved["start"], slots[1]["start"]);
        assert_eq!(moved["slot"][0]["reference"], "Slot/b");
        let (cancelled, freed) = cancel(&moved, &taken, "Patient request").expect("cancel");
        assert_valid(&cancelled);
        assert_eq!(freed["status"], "free");
        assert!(cancel(&cancelled, &freed, "again").is_err());
        assert!(cancel(&moved, &taken, " ").is_err());
    }

    #[test]
    fn day_lists_and_check_in() {
        let slots =
            generate_slots("Schedule/s1", &hours(), date!(2026 - 03 - 02), 2).expect("slots");
        let mk = |i: usize, p: &str, who: &str| {
            let mut a = book(&Booking {
                slot: &slots[i],
                slot_ref: "Slot/x",
                patient: p,
                practitioner: who,
                location: Some("Location/l1"),
                reason: "",
            })
            .expect("book")
            .0;
            a["id"] = json!(format!("a{i}"));
            a
        };
        let mut appts = vec![
            mk(3, "Patient/p2", "Practitioner/dr1"),
            mk(0, "Patient/p1", "Practitioner/dr1"),
            mk(10, "Patient/p3", "Practitioner/dr1"),
            mk(1, "Patient/p4", "Practitioner/dr2"),
        ];
        appts[2]["status"] = json!("booked");
        let day = day_list(
            &appts,
            date!(2026 - 03 - 02),
            offset!(-5),
            "Practitioner/dr1",
        );
        assert_eq!(
            day.iter()
                .map(|a| a["id"].as_str().unwrap_or(""))
                .collect::<Vec<_>>(),
            ["a0", "a3"]
        );
        assert_eq!(
            day_list(&appts, date!(2026 - 03 - 02), offset!(-5), "Location/l1").len(),
            3
        );
        let (arrived, enc) = check_in(&appts[1], "Appointment/a0", datetime!(2026-03-02 14:05 UTC))
            .expect("check in");
        assert_valid(&arrived);
        assert_valid(&enc);
        assert_eq!(arrived["status"], "arrived");
        assert_eq!(enc["subject"]["reference"], "Patient/p1");
        assert_eq!(enc["appointment"][0]["reference"], "Appointment/a0");
        assert!(check_in(&arrived, "Appointment/a0", datetime!(2026-03-02 14:05 UTC)).is_err());
    }
}

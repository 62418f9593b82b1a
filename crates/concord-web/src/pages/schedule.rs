//! Scheduling: provider schedules and slot generation, the day list per
//! provider or per site, book / reschedule / cancel (each a FHIR
//! transaction that takes or frees the slot, guarded by the slot's version
//! so one slot is never booked twice), and check-in (Appointment →
//! arrived, plus an Encounter). Times are shown and entered in UTC.

use axum::extract::{Query, State};
use axum::response::Redirect;
use concord_clinical::schedule as sched;
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;
use time::macros::format_description;
use time::{Date, Duration, Time, UtcOffset, Weekday};

use super::flows::{self, check_id, refused, Entry, Stored};
use crate::error::{WebError, WebResult};
use crate::form::{csrf_field, select, Field, Form};
use crate::layout::page_with;
use crate::{Staff, WebState};

pub const SCHEDULE: &str = "/ui/schedule";

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

fn date_text(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn hhmm(instant: &str) -> &str {
    instant.get(11..16).unwrap_or(instant)
}

fn split_ref(r: &str) -> Option<(&str, &str)> {
    r.split_once('/')
}

/// `GET /ui/schedule?date=…&actor=…`
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let date = q
        .get("date")
        .and_then(|d| parse_date(d))
        .unwrap_or_else(|| flows::now().date());
    let (day_start, day_end) = (
        format!("{}T00:00:00Z", date_text(date)),
        format!("{}T00:00:00Z", date_text(date + Duration::days(1))),
    );
    let (ge, lt) = (format!("ge{day_start}"), format!("lt{day_end}"));
    // The day's slots, then their schedules read by id. (Schedules are in
    // the Patient compartment definition, so a clinician's *search* for
    // them is confined to care-team patients and finds none; reading one
    // by id is allowed. Slots are not in the compartment.)
    let mut day_slots = flows::search(
        &state,
        &staff,
        "Slot",
        &[("start", &ge), ("start", &lt), ("_count", "1000")],
    )
    .await?;
    day_slots.sort_by(|a, b| a.json["start"].as_str().cmp(&b.json["start"].as_str()));
    let mut schedules: Vec<Stored> = Vec::new();
    for slot in &day_slots {
        let Some(sid) = slot.json["schedule"]["reference"]
            .as_str()
            .and_then(|r| r.strip_prefix("Schedule/"))
        else {
            continue;
        };
        if schedules.iter().any(|s| s.id == sid) {
            continue;
        }
        if let Ok(s) = flows::read(&state, &staff, "Schedule", sid).await {
            if s.json["active"] != false {
                schedules.push(s);
            }
        }
    }
    let mut actors: Vec<String> = staff.fhir_user.iter().cloned().collect();
    for s in &schedules {
        for a in s.json["actor"].as_array().into_iter().flatten() {
            if let Some(r) = a["reference"].as_str() {
                if !actors.iter().any(|x| x == r) {
                    actors.push(r.to_string());
                }
            }
        }
    }
    let actor = q
        .get("actor")
        .cloned()
        .filter(|a| !a.is_empty())
        .or_else(|| staff.fhir_user.clone())
        .unwrap_or_default();
    let mut appts: Vec<Stored> = Vec::new();
    let mut free: Vec<Stored> = Vec::new();
    if split_ref(&actor).is_some() {
        appts = flows::search(
            &state,
            &staff,
            "Appointment",
            &[
                ("actor", &actor),
                ("date", &ge),
                ("date", &lt),
                ("_count", "200"),
            ],
        )
        .await?;
        let mine: Vec<String> = schedules
            .iter()
            .filter(|s| {
                s.json["actor"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["reference"] == actor.as_str())
            })
            .map(|s| format!("Schedule/{}", s.id))
            .collect();
        free = day_slots
            .into_iter()
            .filter(|s| s.json["status"] == "free")
            .filter(|s| {
                s.json["schedule"]["reference"]
                    .as_str()
                    .is_some_and(|r| mine.iter().any(|m| m == r))
            })
            .collect();
    }
    let jsons: Vec<Value> = appts
        .iter()
        .map(|a| {
            let mut j = a.json.clone();
            j["id"] = Value::String(a.id.clone());
            j
        })
        .collect();
    let day = sched::day_list(&jsons, date, UtcOffset::UTC, &actor);
    let patients: Vec<String> = day.iter().filter_map(|a| patient_of(a)).collect();
    let prefs: Vec<&str> = patients.iter().map(String::as_str).collect();
    let names = flows::patient_names(&state, &staff, &prefs).await;
    // The booking patient picker (no script): a search through the same
    // patient search as /ui/patients, then a chosen id kept in the URL and
    // in each Book form's hidden field.
    let qv = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let (pname, pbirth, pmrn) = (qv("pname"), qv("pbirth"), qv("pmrn"));
    let picked = super::patients::find(&state, &staff, &pname, &pbirth, &pmrn, "").await?;
    let chosen_id = qv("patient");
    let chosen = if chosen_id.is_empty() || concord_core::Engine::check_id(&chosen_id).is_err() {
        None
    } else {
        flows::read(&state, &staff, "Patient", &chosen_id)
            .await
            .ok()
    };
    let mut touched: Vec<&str> = prefs.clone();
    touched.extend(
        picked
            .patients
            .iter()
            .map(|p| crate::fhir::str_at(p, &["id"])),
    );
    if let Some(c) = &chosen {
        touched.push(c.id.as_str());
    }
    staff.audit("search-type", Action::Read, None, &touched);
    let notice = q.get("done").map(|d| match d.as_str() {
        "booked" => "Appointment booked.",
        "cancelled" => "Appointment cancelled; the slot is free again.",
        "moved" => "Appointment moved.",
        "arrived" => "Checked in; the encounter has started.",
        _ => "Schedule saved.",
    });
    let actor_opts: Vec<(&str, &str)> = actors.iter().map(|a| (a.as_str(), a.as_str())).collect();
    let free_opts: Vec<(String, String)> = free
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                format!(
                    "{}–{}",
                    hhmm(s.json["start"].as_str().unwrap_or("")),
                    hhmm(s.json["end"].as_str().unwrap_or(""))
                ),
            )
        })
        .collect();
    let free_opts: Vec<(&str, &str)> = free_opts
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // Where each form returns: this day and provider, and the patient being
    // booked (so booking a second visit needs no new search).
    let back = match &chosen {
        Some(c) => format!(
            "{SCHEDULE}?date={}&actor={}&patient={}",
            date_text(date),
            enc(&actor),
            enc(&c.id)
        ),
        None => format!("{SCHEDULE}?date={}&actor={}", date_text(date), enc(&actor)),
    };
    let choose_href = |pid: &str| {
        format!(
            "{SCHEDULE}?date={}&actor={}&patient={}",
            date_text(date),
            enc(&actor),
            enc(pid)
        )
    };
    Ok(page_with(
        &staff,
        "Schedule",
        notice,
        html! {
            form.form-grid method="get" action=(SCHEDULE) {
                (Field::new("date", "Day").kind("date").value(&date_text(date)).required().render())
                (select("actor", "Provider or site", &actor_opts, &actor, true))
                div.field { button.secondary type="submit" { "Show day" } }
            }
            h2 { "Appointments " (date_text(date)) " (UTC)" }
            @if day.is_empty() { p.muted { "No appointments." } }
            @else { div.table-wrap { table id="day-list" {
                thead { tr { th scope="col" { "Time" } th scope="col" { "Patient" } th scope="col" { "Reason" } th scope="col" { "Status" } th scope="col" { "Actions" } } }
                tbody { @for a in &day {
                    @let id = a["id"].as_str().unwrap_or("");
                    tr data-id=(id) {
                        td { (hhmm(a["start"].as_str().unwrap_or(""))) "–" (hhmm(a["end"].as_str().unwrap_or(""))) }
                        td { @if let Some(p) = patient_of(a) { a href=(format!("/ui/patients/{p}")) { (names.get(&p).cloned().unwrap_or(p)) } } }
                        td { (a["description"].as_str().unwrap_or("")) }
                        td { (a["status"].as_str().unwrap_or("")) }
                        td { @if a["status"] == "booked" {
                            form method="post" action=(format!("{SCHEDULE}/check-in")) {
                                (csrf_field(&staff)) input type="hidden" name="appointment" value=(id); input type="hidden" name="back" value=(back);
                                button type="submit" aria-label="Check in" { "Check in" }
                            }
                            @if !free_opts.is_empty() {
                                form method="post" action=(format!("{SCHEDULE}/reschedule")) {
                                    (csrf_field(&staff)) input type="hidden" name="appointment" value=(id); input type="hidden" name="back" value=(back);
                                    (select("slot", "Move to", &free_opts, "", true))
                                    button.secondary type="submit" { "Reschedule" }
                                }
                            }
                            form method="post" action=(format!("{SCHEDULE}/cancel")) {
                                (csrf_field(&staff)) input type="hidden" name="appointment" value=(id); input type="hidden" name="back" value=(back);
                                (Field::new("reason", "Cancellation reason").required().render())
                                button.secondary type="submit" { "Cancel appointment" }
                            }
                        } }
                    }
                } }
            } } }
            section.panel aria-labelledby="picker-h" {
                h2 id="picker-h" { "Patient to book" }
                @if let Some(c) = &chosen {
                    p id="chosen-patient" { "Booking for " strong { (crate::fhir::sort_name(&c.json)) } " (born " (crate::fhir::str_at(&c.json, &["birthDate"])) ", MRN " (crate::fhir::mrn(&c.json)) ")." }
                }
                (crate::form::error_summary(&picked.errors))
                form.search method="get" action=(SCHEDULE) role="search" aria-label="Find the patient to book" {
                    input type="hidden" name="date" value=(date_text(date));
                    input type="hidden" name="actor" value=(actor);
                    @if let Some(c) = &chosen { input type="hidden" name="patient" value=(c.id); }
                    div.form-grid {
                        (Field::new("pname", "Patient name").value(&pname).kind("search").hint("Family or given name, or the start of one.").render())
                        (Field::new("pbirth", "Birth date").value(&pbirth).kind("date").render())
                        (Field::new("pmrn", "MRN").value(&pmrn).render())
                    }
                    button.secondary type="submit" { "Find patient" }
                }
                @if picked.searched {
                    @if picked.patients.is_empty() { p { "No patient matches." } }
                    @else { div.table-wrap { table id="patient-picker" {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Birth date" } th scope="col" { "MRN" } th scope="col" { "Choose" } } }
                        tbody { @for p in &picked.patients {
                            @let pid = crate::fhir::str_at(p, &["id"]);
                            tr data-id=(pid) {
                                td { (crate::fhir::sort_name(p)) }
                                td { (crate::fhir::str_at(p, &["birthDate"])) }
                                td { (crate::fhir::mrn(p)) }
                                td { a.button.secondary href=(choose_href(pid)) aria-label=(format!("Choose {}", crate::fhir::sort_name(p))) { "Choose" } }
                            }
                        } }
                    } } }
                }
            }
            h2 { "Free slots" }
            @if free.is_empty() { p.muted { "No free slots this day." } }
            @else { div.table-wrap { table id="free-slots" {
                thead { tr { th scope="col" { "Time" } th scope="col" { "Book" } } }
                tbody { @for s in &free { tr data-id=(s.id) {
                    td { (hhmm(s.json["start"].as_str().unwrap_or(""))) "–" (hhmm(s.json["end"].as_str().unwrap_or(""))) }
                    td { @if let Some(c) = &chosen { form.form-grid method="post" action=(format!("{SCHEDULE}/book")) {
                        (csrf_field(&staff)) input type="hidden" name="slot" value=(s.id); input type="hidden" name="back" value=(back);
                        input type="hidden" name="patient" value=(c.id);
                        div.field { label for=(format!("r-{}", s.id)) { "Reason" } input id=(format!("r-{}", s.id)) name="reason"; }
                        div.field { button type="submit" aria-label=(format!("Book {} for {}", hhmm(s.json["start"].as_str().unwrap_or("")), crate::fhir::sort_name(&c.json))) { "Book" } }
                    } } @else { span.muted { "Choose a patient above to book." } } }
                } } }
            } } }
            section.panel aria-labelledby="setup-h" {
                h2 id="setup-h" { "Create a schedule and its slots" }
                form method="post" action=(format!("{SCHEDULE}/setup")) {
                    (csrf_field(&staff))
                    div.form-grid {
                        (Field::new("practitioner", "Practitioner").value(staff.fhir_user.as_deref().unwrap_or("")).required().hint("Practitioner/id").render())
                        (Field::new("location", "Site").required().hint("Location/id").render())
                        (Field::new("from", "First day").kind("date").value(&date_text(date)).required().render())
                        (Field::new("days", "Number of days").value("5").required().inputmode("numeric").render())
                        (Field::new("start", "Day starts").kind("time").value("09:00").required().render())
                        (Field::new("end", "Day ends").kind("time").value("12:00").required().render())
                        (Field::new("minutes", "Slot length (minutes)").value("20").required().inputmode("numeric").render())
                    }
                    fieldset { legend { "Working days" }
                        @for (i, d) in WEEKDAYS.iter().enumerate() {
                            label { input type="checkbox" name="weekday" value=(d.0) checked[i < 5]; " " (d.0) } " "
                        }
                    }
                    button type="submit" { "Create schedule" }
                }
            }
        },
    ))
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("Mon", Weekday::Monday),
    ("Tue", Weekday::Tuesday),
    ("Wed", Weekday::Wednesday),
    ("Thu", Weekday::Thursday),
    ("Fri", Weekday::Friday),
    ("Sat", Weekday::Saturday),
    ("Sun", Weekday::Sunday),
];

/// A query-string value, percent-encoded.
fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn patient_of(a: &Value) -> Option<String> {
    a["participant"]
        .as_array()?
        .iter()
        .filter_map(|p| p["actor"]["reference"].as_str())
        .find_map(|r| r.strip_prefix("Patient/"))
        .map(str::to_string)
}

fn back_to(form: &Form, done: &str) -> Redirect {
    let back = form.value("back");
    let back = if back.starts_with("/ui/schedule") && !back.contains("://") {
        back
    } else {
        SCHEDULE.to_string()
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}done={done}"))
}

fn bad(msg: &str) -> WebError {
    WebError::Invalid(vec![msg.to_string()])
}

/// `POST /ui/schedule/setup`: a Schedule and its free Slots, in one transaction.
pub async fn setup(staff: Staff, State(state): State<WebState>, form: Form) -> WebResult<Redirect> {
    let schedule = sched::build_schedule(
        form.value("practitioner").trim(),
        form.value("location").trim(),
        "",
    )
    .map_err(refused)?;
    let from = parse_date(&form.value("from")).ok_or_else(|| bad("First day: enter a date."))?;
    let days: u16 = form
        .value("days")
        .trim()
        .parse()
        .map_err(|_| bad("Number of days: enter a whole number."))?;
    let time_of = |k: &str| {
        Time::parse(form.value(k).trim(), format_description!("[hour]:[minute]"))
            .map_err(|_| bad("Times: use hh:mm."))
    };
    let weekdays: Vec<Weekday> = form
        .all("weekday")
        .iter()
        .filter_map(|w| WEEKDAYS.iter().find(|d| d.0 == w).map(|d| d.1))
        .collect();
    if weekdays.is_empty() {
        return Err(bad("Working days: choose at least one."));
    }
    let hours = sched::WorkingHours {
        weekdays,
        start: time_of("start")?,
        end: time_of("end")?,
        slot_minutes: form
            .value("minutes")
            .trim()
            .parse()
            .map_err(|_| bad("Slot length: enter minutes."))?,
        offset: UtcOffset::UTC,
    };
    // Slots reference the schedule: create it first, then the slots together.
    let sid = flows::create(&state, &staff, schedule).await?;
    let slots =
        sched::generate_slots(&format!("Schedule/{sid}"), &hours, from, days).map_err(refused)?;
    let n = slots.len();
    if n > 0 {
        flows::transaction(
            &state,
            &staff,
            slots
                .into_iter()
                .map(|body| Entry {
                    body,
                    id: None,
                    version: None,
                })
                .collect(),
        )
        .await?;
    }
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Schedule/{sid}")),
        &[],
    );
    let actor = form.value("practitioner");
    Ok(Redirect::to(&format!(
        "{SCHEDULE}?date={}&actor={}&done=setup",
        date_text(from),
        actor.trim()
    )))
}

fn schedule_actor(schedule: &Value, ty: &str) -> Option<String> {
    schedule["actor"]
        .as_array()?
        .iter()
        .filter_map(|a| a["reference"].as_str())
        .find(|r| r.starts_with(&format!("{ty}/")))
        .map(str::to_string)
}

/// `POST /ui/schedule/book`
pub async fn book(staff: Staff, State(state): State<WebState>, form: Form) -> WebResult<Redirect> {
    let slot_id = form.value("slot");
    check_id(&slot_id)?;
    let pid = form
        .value("patient")
        .trim()
        .trim_start_matches("Patient/")
        .to_string();
    if concord_core::Engine::check_id(&pid).is_err() {
        return Err(bad(
            "Patient: choose the patient to book (Find patient, then Choose).",
        ));
    }
    // The patient must exist and be visible to this user.
    flows::read(&state, &staff, "Patient", &pid).await?;
    let slot = flows::read(&state, &staff, "Slot", &slot_id).await?;
    let sid = slot.json["schedule"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Schedule/"))
        .unwrap_or("")
        .to_string();
    let schedule = flows::read(&state, &staff, "Schedule", &sid).await?;
    let practitioner = schedule_actor(&schedule.json, "Practitioner")
        .ok_or_else(|| bad("This schedule has no practitioner."))?;
    let location = schedule_actor(&schedule.json, "Location");
    let (appt, busy) = sched::book(&sched::Booking {
        slot: &slot.json,
        slot_ref: &format!("Slot/{slot_id}"),
        patient: &format!("Patient/{pid}"),
        practitioner: &practitioner,
        location: location.as_deref(),
        reason: &form.value("reason"),
    })
    .map_err(refused)?;
    let ids = flows::transaction(
        &state,
        &staff,
        vec![
            Entry {
                body: appt,
                id: None,
                version: None,
            },
            Entry {
                body: busy,
                id: Some(slot_id),
                version: Some(slot.version),
            },
        ],
    )
    .await?;
    staff.audit(
        "create",
        Action::Create,
        ids.first().map(|i| format!("Appointment/{i}")),
        &[&pid],
    );
    Ok(back_to(&form, "booked"))
}

async fn appointment_and_slot(
    state: &WebState,
    staff: &Staff,
    form: &Form,
) -> WebResult<(Stored, Option<Stored>)> {
    let aid = form.value("appointment");
    check_id(&aid)?;
    let appt = flows::read(state, staff, "Appointment", &aid).await?;
    let slot = match appt.json["slot"][0]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Slot/"))
    {
        Some(s) => Some(flows::read(state, staff, "Slot", s).await?),
        None => None,
    };
    Ok((appt, slot))
}

/// `POST /ui/schedule/cancel`
pub async fn cancel(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let (appt, slot) = appointment_and_slot(&state, &staff, &form).await?;
    let slot = slot.ok_or_else(|| bad("The appointment has no slot."))?;
    let (a, s) = sched::cancel(&appt.json, &slot.json, &form.value("reason")).map_err(refused)?;
    flows::transaction(
        &state,
        &staff,
        vec![
            Entry {
                body: a,
                id: Some(appt.id.clone()),
                version: Some(appt.version),
            },
            Entry {
                body: s,
                id: Some(slot.id.clone()),
                version: Some(slot.version),
            },
        ],
    )
    .await?;
    let pid = patient_of(&appt.json).unwrap_or_default();
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Appointment/{}", appt.id)),
        &[&pid],
    );
    Ok(back_to(&form, "cancelled"))
}

/// `POST /ui/schedule/reschedule`
pub async fn reschedule(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let (appt, old) = appointment_and_slot(&state, &staff, &form).await?;
    let old = old.ok_or_else(|| bad("The appointment has no slot."))?;
    let new_id = form.value("slot");
    check_id(&new_id)?;
    let new = flows::read(&state, &staff, "Slot", &new_id).await?;
    let (a, freed, taken) =
        sched::reschedule(&appt.json, &old.json, &new.json, &format!("Slot/{new_id}"))
            .map_err(refused)?;
    flows::transaction(
        &state,
        &staff,
        vec![
            Entry {
                body: a,
                id: Some(appt.id.clone()),
                version: Some(appt.version),
            },
            Entry {
                body: freed,
                id: Some(old.id.clone()),
                version: Some(old.version),
            },
            Entry {
                body: taken,
                id: Some(new.id.clone()),
                version: Some(new.version),
            },
        ],
    )
    .await?;
    let pid = patient_of(&appt.json).unwrap_or_default();
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Appointment/{}", appt.id)),
        &[&pid],
    );
    Ok(back_to(&form, "moved"))
}

/// `POST /ui/schedule/check-in`
pub async fn check_in(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let (appt, _) = appointment_and_slot(&state, &staff, &form).await?;
    let (a, enc) = sched::check_in(
        &appt.json,
        &format!("Appointment/{}", appt.id),
        flows::now(),
    )
    .map_err(refused)?;
    flows::transaction(
        &state,
        &staff,
        vec![
            Entry {
                body: a,
                id: Some(appt.id.clone()),
                version: Some(appt.version),
            },
            Entry {
                body: enc,
                id: None,
                version: None,
            },
        ],
    )
    .await?;
    let pid = patient_of(&appt.json).unwrap_or_default();
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Appointment/{}", appt.id)),
        &[&pid],
    );
    Ok(back_to(&form, "arrived"))
}

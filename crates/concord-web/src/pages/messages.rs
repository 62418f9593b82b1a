//! Staff messages: `Communication`s between Practitioners, optionally
//! about a patient. Compose (recipient from the Practitioner directory,
//! patient, topic, text, priority), inbox ("to me", newest first, unread
//! marked) and sent list, open (the recipient's first opening sets
//! `Communication.received`, written with `If-Match`), reply (a new
//! Communication `inResponseTo` the original). Domain rules in
//! `concord_clinical::tasks`; access (role, care team for messages about a
//! patient) is the engine's, as for every page.

use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use concord_clinical::tasks;
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;

use super::flows::{self, practitioner, refused, Stored};
use crate::error::{WebError, WebResult};
use crate::form::{csrf_field, error_summary, select, textarea, Field, Form};
use crate::layout::page_with;
use crate::{Staff, WebState};

pub const MESSAGES: &str = "/ui/messages";

/// The Practitioner directory as `(Practitioner/id, name)`, by name.
async fn directory(state: &WebState, staff: &Staff) -> WebResult<Vec<(String, String)>> {
    if !staff.may('s', "Practitioner") {
        return Ok(Vec::new());
    }
    let list = flows::search(state, staff, "Practitioner", &[("_count", "500")]).await?;
    let mut people: Vec<(String, String)> = list
        .iter()
        .map(|p| {
            let r = format!("Practitioner/{}", p.id);
            let name = crate::fhir::human_name(&p.json);
            (r.clone(), if name.is_empty() { r } else { name })
        })
        .collect();
    people.sort_by_key(|a| a.1.to_lowercase());
    Ok(people)
}

fn name_of(people: &[(String, String)], r: &str) -> String {
    people
        .iter()
        .find(|(id, _)| id == r)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| r.to_string())
}

fn recipients(m: &Value) -> Vec<String> {
    m["recipient"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["reference"].as_str().map(str::to_string))
        .collect()
}

fn topic(m: &Value) -> &str {
    m["topic"]["text"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or("(no subject)")
}

fn patient_id(m: &Value) -> Option<&str> {
    m["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
}

fn list(people: &[(String, String)], msgs: &[Stored], id: &str, inbox: bool) -> Markup {
    html! {
        @if msgs.is_empty() { p.muted { "None." } }
        @else { div.table-wrap { table id=(id) {
            thead { tr {
                th scope="col" { "Sent" }
                th scope="col" { @if inbox { "From" } @else { "To" } }
                th scope="col" { "Subject" }
                th scope="col" { "Patient" }
                th scope="col" { "Priority" }
                @if inbox { th scope="col" { "Status" } }
            } }
            tbody { @for m in msgs {
                @let unread = inbox && !tasks::is_read(&m.json);
                tr data-id=(m.id) class=[unread.then_some("unread")] {
                    td { (m.json["sent"].as_str().unwrap_or("")) }
                    td { @if inbox { (name_of(people, m.json["sender"]["reference"].as_str().unwrap_or(""))) }
                         @else { (recipients(&m.json).iter().map(|r| name_of(people, r)).collect::<Vec<_>>().join(", ")) } }
                    td { a href=(format!("{MESSAGES}/{}", m.id)) { @if unread { strong { (topic(&m.json)) } } @else { (topic(&m.json)) } } }
                    td { @if let Some(p) = patient_id(&m.json) { a href=(format!("/ui/patients/{p}")) { "Chart" } } }
                    td { @if m.json["priority"] == "urgent" { strong { "Urgent" } } @else { "Routine" } }
                    @if inbox { td { @if unread { strong { "Unread" } } @else { "Read" } } }
                }
            } }
        } } }
    }
}

/// The compose form; `values`/`errors` when a refused form is shown again.
fn compose_form(
    staff: &Staff,
    people: &[(String, String)],
    values: &HashMap<String, String>,
    errors: &[String],
) -> Markup {
    let v = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let options: Vec<(&str, &str)> = people
        .iter()
        .map(|(r, n)| (r.as_str(), n.as_str()))
        .collect();
    let mut with_blank = vec![("", "— choose —")];
    with_blank.extend(options);
    html! {
        section.panel aria-labelledby="compose-h" {
            h2 id="compose-h" { "New message" }
            @if !errors.is_empty() { (error_summary(errors)) }
            form method="post" action=(MESSAGES) {
                (csrf_field(staff))
                div.form-grid {
                    (select("recipient", "To", &with_blank, v("recipient"), true))
                    (select("priority", "Priority", tasks::PRIORITIES, if v("priority").is_empty() { "routine" } else { v("priority") }, true))
                    (Field::new("patient", "About patient (record id)").value(v("patient")).hint("Optional. Leave empty for a message about no patient.").render())
                    (Field::new("topic", "Subject").value(v("topic")).render())
                }
                (textarea("text", "Message", v("text"), 5))
                button type="submit" { "Send message" }
            }
        }
    }
}

async fn mailboxes(
    state: &WebState,
    staff: &Staff,
    me: &str,
) -> WebResult<(Vec<Stored>, Vec<Stored>)> {
    let inbox = flows::search(
        state,
        staff,
        "Communication",
        &[("recipient", me), ("_sort", "-sent"), ("_count", "100")],
    )
    .await?;
    let sent = flows::search(
        state,
        staff,
        "Communication",
        &[("sender", me), ("_sort", "-sent"), ("_count", "100")],
    )
    .await?;
    Ok((inbox, sent))
}

fn mailbox_page(
    staff: &Staff,
    people: &[(String, String)],
    inbox: &[Stored],
    sent: &[Stored],
    notice: Option<&str>,
    compose: Markup,
) -> Markup {
    let unread = inbox.iter().filter(|m| !tasks::is_read(&m.json)).count();
    page_with(
        staff,
        "Messages",
        notice,
        html! {
            h2 { "Inbox " span.muted { "(" (unread) " unread)" } }
            (list(people, inbox, "inbox", true))
            h2 { "Sent" }
            (list(people, sent, "sent", false))
            (compose)
        },
    )
}

/// `GET /ui/messages[?patient=id]`
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let me = practitioner(&staff)?;
    let (inbox, sent) = mailboxes(&state, &staff, &me).await?;
    let people = directory(&state, &staff).await?;
    staff.audit(
        "search-type",
        Action::Read,
        Some("Communication".into()),
        &[],
    );
    let notice = q.get("done").map(|d| match d.as_str() {
        "replied" => "Reply sent.",
        _ => "Message sent.",
    });
    let compose = compose_form(&staff, &people, &q, &[]);
    Ok(mailbox_page(
        &staff, &people, &inbox, &sent, notice, compose,
    ))
}

async fn refuse_form(
    state: &WebState,
    staff: &Staff,
    me: &str,
    form: &Form,
    errors: Vec<String>,
) -> WebResult<(axum::http::StatusCode, Markup)> {
    let (inbox, sent) = mailboxes(state, staff, me).await?;
    let people = directory(state, staff).await?;
    let values: HashMap<String, String> = ["recipient", "priority", "patient", "topic", "text"]
        .iter()
        .map(|k| (k.to_string(), form.value(k)))
        .collect();
    let compose = compose_form(staff, &people, &values, &errors);
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        mailbox_page(staff, &people, &inbox, &sent, None, compose),
    ))
}

/// `POST /ui/messages`: send.
pub async fn send(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let me = practitioner(&staff)?;
    let recipient = form.value("recipient").trim().to_string();
    let patient = form
        .value("patient")
        .trim()
        .trim_start_matches("Patient/")
        .to_string();
    let built = if !recipient.starts_with("Practitioner/") {
        Err(concord_clinical::ClinicalError::new(
            "recipient",
            "choose who the message is for",
        ))
    } else {
        let patient_ref = (!patient.is_empty()).then(|| format!("Patient/{patient}"));
        tasks::build_message(
            &me,
            &[recipient.as_str()],
            patient_ref.as_deref(),
            &form.value("topic"),
            &form.value("text"),
            flows::now(),
        )
        .and_then(|m| tasks::with_priority(m, &form.value("priority")))
    };
    let msg = match built {
        Ok(m) => m,
        Err(e) => {
            return Ok(refuse_form(&state, &staff, &me, &form, vec![e.to_string()])
                .await?
                .into_response())
        }
    };
    if let Some(pid) = recipient.strip_prefix("Practitioner/") {
        flows::check_id(pid)?;
        flows::read(&state, &staff, "Practitioner", pid).await?;
    }
    if !patient.is_empty() {
        flows::check_id(&patient)?;
        flows::read(&state, &staff, "Patient", &patient).await?;
    }
    let id = flows::create(&state, &staff, msg).await?;
    let pats: Vec<&str> = (!patient.is_empty())
        .then_some(patient.as_str())
        .into_iter()
        .collect();
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Communication/{id}")),
        &pats,
    );
    Ok(Redirect::to(&format!("{MESSAGES}?done=sent")).into_response())
}

/// Reads a message the user sent or received (else 404: the page shows
/// only one's own mail, although the engine would let a clinician read a
/// staff message that names no patient).
async fn load(state: &WebState, staff: &Staff, me: &str, id: &str) -> WebResult<Stored> {
    flows::check_id(id)?;
    let m = flows::read(state, staff, "Communication", id).await?;
    let mine = m.json["sender"]["reference"].as_str() == Some(me)
        || recipients(&m.json).iter().any(|r| r == me);
    if !mine {
        return Err(WebError::NotFound);
    }
    Ok(m)
}

/// `GET /ui/messages/{id}`: the message (and the one it answers); the
/// recipient's first opening marks it read.
pub async fn open(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let me = practitioner(&staff)?;
    let mut m = load(&state, &staff, &me, &id).await?;
    if recipients(&m.json).contains(&me) && staff.may('u', "Communication") {
        if let Some(next) = tasks::mark_read(&m.json, flows::now()) {
            // If-Match on the version just read: a concurrent change wins
            // and the message is simply marked on the next opening.
            match flows::update(&state, &staff, &m.id, m.version, next.clone()).await {
                Ok(()) => m.json = next,
                Err(WebError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let people = directory(&state, &staff).await?;
    let earlier = match m.json["inResponseTo"][0]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Communication/"))
    {
        Some(prev) => load(&state, &staff, &me, prev).await.ok(),
        None => None,
    };
    let pats: Vec<&str> = patient_id(&m.json).into_iter().collect();
    staff.audit(
        "read",
        Action::Read,
        Some(format!("Communication/{}", m.id)),
        &pats,
    );
    let body = |m: &Value| {
        m["payload"][0]["contentString"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    Ok(page_with(
        &staff,
        topic(&m.json),
        None,
        html! {
            p { a href=(MESSAGES) { "← All messages" } }
            article.panel aria-labelledby="msg-h" {
                h2 id="msg-h" { (topic(&m.json)) }
                dl {
                    dt { "From" } dd { (name_of(&people, m.json["sender"]["reference"].as_str().unwrap_or(""))) }
                    dt { "To" } dd { (recipients(&m.json).iter().map(|r| name_of(&people, r)).collect::<Vec<_>>().join(", ")) }
                    dt { "Sent" } dd { (m.json["sent"].as_str().unwrap_or("")) }
                    dt { "Priority" } dd { @if m.json["priority"] == "urgent" { strong { "Urgent" } } @else { "Routine" } }
                    @if let Some(p) = patient_id(&m.json) { dt { "Patient" } dd { a href=(format!("/ui/patients/{p}")) { "Open chart" } } }
                    dt { "Read" } dd { (m.json["received"].as_str().unwrap_or("not yet")) }
                }
                p.message-text { (body(&m.json)) }
            }
            @if let Some(e) = &earlier {
                section.panel aria-labelledby="prev-h" {
                    h2 id="prev-h" { "In reply to: " a href=(format!("{MESSAGES}/{}", e.id)) { (topic(&e.json)) } }
                    p.message-text { (body(&e.json)) }
                }
            }
            @if staff.may('c', "Communication") {
                section.panel aria-labelledby="reply-h" {
                    h2 id="reply-h" { "Reply" }
                    form method="post" action=(format!("{MESSAGES}/{}/reply", m.id)) {
                        (csrf_field(&staff))
                        (textarea("text", "Your reply", "", 4))
                        button type="submit" { "Send reply" }
                    }
                }
            }
        },
    ))
}

/// `POST /ui/messages/{id}/reply`
pub async fn reply(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Redirect> {
    let me = practitioner(&staff)?;
    let m = load(&state, &staff, &me, &id).await?;
    let r = tasks::build_reply(
        &m.json,
        &format!("Communication/{}", m.id),
        &me,
        &form.value("text"),
        flows::now(),
    )
    .map_err(refused)?;
    let new_id = flows::create(&state, &staff, r).await?;
    let pats: Vec<&str> = patient_id(&m.json).into_iter().collect();
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Communication/{new_id}")),
        &pats,
    );
    Ok(Redirect::to(&format!("{MESSAGES}?done=replied")))
}

//! Visit documentation: start a visit (Encounter + draft SOAP note from a
//! template), edit the draft, add ICD-10-CM diagnoses (Condition), sign and
//! lock, addenda. Domain rules in `concord_clinical::notes`; the lock is
//! enforced here, in the page's write path: every POST that changes a note
//! first calls `notes::ensure_editable` on the stored version and writes
//! with `If-Match` on that version.

use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use concord_clinical::{icd10, notes};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

use super::flows::{self, check_id, practitioner, refused};
use crate::error::{WebError, WebResult};
use crate::form::{csrf_field, error_summary, select, textarea, Field, Form};
use crate::layout::{page, page_with};
use crate::{Staff, WebState};

pub fn visit_path(patient: &str) -> String {
    format!("/ui/patients/{patient}/visit")
}

pub fn note_path(id: &str) -> String {
    format!("/ui/notes/{id}")
}

fn patient_id(note: &Value) -> String {
    note["subject"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Patient/"))
        .unwrap_or("")
        .to_string()
}

/// `GET /ui/patients/{id}/visit`: the patient's notes and "start a visit".
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Path(pid): Path<String>,
) -> WebResult<Markup> {
    check_id(&pid)?;
    let head = super::chart::head(&state, &staff, &pid).await?;
    let subject = format!("Patient/{pid}");
    let list = flows::search(
        &state,
        &staff,
        "Composition",
        &[("subject", &subject), ("_sort", "-date"), ("_count", "50")],
    )
    .await?;
    staff.audit(
        "search-type",
        Action::Read,
        Some(format!("Patient/{pid}")),
        &[&pid],
    );
    let templates: Vec<(&str, &str)> = notes::TEMPLATES.iter().map(|t| (t.id, t.title)).collect();
    Ok(page(
        &staff,
        "Visits and notes",
        html! {
            (super::chart::banner(&head, "visit"))
            section.panel aria-labelledby="start-h" {
                h2 id="start-h" { "Start a visit" }
                form method="post" action=(visit_path(&pid)) {
                    (csrf_field(&staff))
                    (select("template", "Note template", &templates, "general", true))
                    (Field::new("reason", "Reason for visit").hint("Optional; shown on the encounter.").render())
                    button type="submit" { "Start visit and open note" }
                }
            }
            h2 { "Notes" }
            @if list.is_empty() { p.muted { "No notes yet." } }
            @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Date" } th scope="col" { "Title" } th scope="col" { "Status" } } }
                    tbody { @for n in &list { tr {
                        td { (n.json["date"].as_str().unwrap_or("")) }
                        td { a href=(note_path(&n.id)) { (n.json["title"].as_str().unwrap_or("Note")) } }
                        td { (status_label(&n.json)) }
                    } } }
                } }
            }
        },
    ))
}

fn status_label(n: &Value) -> &'static str {
    match n["status"].as_str() {
        Some("preliminary") => "Draft",
        Some("final") => "Signed",
        Some("amended") => "Amended",
        _ => "Entered in error",
    }
}

/// `POST /ui/patients/{id}/visit`: an in-progress Encounter and a draft note.
pub async fn start(
    staff: Staff,
    State(state): State<WebState>,
    Path(pid): Path<String>,
    form: Form,
) -> WebResult<Redirect> {
    check_id(&pid)?;
    let author = practitioner(&staff)?;
    let template = notes::template(&form.value("template"))
        .ok_or_else(|| WebError::Invalid(vec!["Choose a note template.".into()]))?;
    let now = flows::now_text();
    let mut encounter = json!({
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" },
        "subject": { "reference": format!("Patient/{pid}") },
        "participant": [{ "individual": { "reference": author } }],
        "period": { "start": now },
    });
    let reason = form.value("reason");
    if !reason.trim().is_empty() {
        encounter["reasonCode"] = json!([{ "text": reason.trim() }]);
    }
    let enc_id = flows::create(&state, &staff, encounter).await?;
    let draft = notes::NoteDraft {
        title: template.title.to_string(),
        patient: format!("Patient/{pid}"),
        encounter: format!("Encounter/{enc_id}"),
        author,
        sections: template.prompts.map(str::to_string),
        diagnoses: Vec::new(),
        date: now,
    };
    let note = notes::build_note(&draft).map_err(refused)?;
    let id = flows::create(&state, &staff, note).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Composition/{id}")),
        &[&pid],
    );
    Ok(Redirect::to(&note_path(&id)))
}

fn diagnoses_of(note: &Value) -> Vec<String> {
    note["section"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["code"]["coding"][0]["code"] == notes::SECTIONS[2].2)
        .flat_map(|s| s["entry"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["reference"].as_str().map(str::to_string))
        .collect()
}

fn draft_from(note: &Value, form: Option<&Form>) -> notes::NoteDraft {
    let sections = std::array::from_fn(|i| {
        let key = notes::SECTIONS[i].0;
        match form {
            Some(f) => f.value(key),
            None => notes::section_text(note, key),
        }
    });
    notes::NoteDraft {
        title: form
            .map(|f| f.value("title"))
            .unwrap_or_else(|| note["title"].as_str().unwrap_or("").to_string()),
        patient: note["subject"]["reference"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        encounter: note["encounter"]["reference"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        author: note["author"][0]["reference"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        sections,
        diagnoses: diagnoses_of(note),
        date: note["date"].as_str().unwrap_or("").to_string(),
    }
}

/// `GET /ui/notes/{id}[?dx=…]`: the editor (draft) or the signed note.
pub async fn editor(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    check_id(&id)?;
    let note = flows::read(&state, &staff, "Composition", &id).await?;
    let pid = patient_id(&note.json);
    let notice = q.get("saved").map(|s| match s.as_str() {
        "signed" => "Note signed and locked.",
        "dx" => "Diagnosis added.",
        _ => "Draft saved.",
    });
    render_note(
        &state,
        &staff,
        &note,
        &pid,
        q.get("dx").map(String::as_str).unwrap_or(""),
        None,
        &[],
        notice,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_note(
    state: &WebState,
    staff: &Staff,
    note: &flows::Stored,
    pid: &str,
    dx_query: &str,
    edited: Option<&notes::NoteDraft>,
    errors: &[String],
    notice: Option<&str>,
) -> WebResult<Markup> {
    let mut conditions = Vec::new();
    for r in diagnoses_of(&note.json) {
        if let Some(cid) = r.strip_prefix("Condition/") {
            if let Ok(c) = flows::read(state, staff, "Condition", cid).await {
                conditions.push(c.json);
            }
        }
    }
    let addenda = flows::search(
        state,
        staff,
        "Composition",
        &[("related-ref", &format!("Composition/{}", note.id))],
    )
    .await?;
    staff.audit(
        "read",
        Action::Read,
        Some(format!("Composition/{}", note.id)),
        &[pid],
    );
    let draft = edited
        .cloned()
        .unwrap_or_else(|| draft_from(&note.json, None));
    let editable = notes::ensure_editable(&note.json).is_ok();
    let hits = if editable {
        icd10::search(dx_query, 15)
    } else {
        Vec::new()
    };
    let original = note.json["relatesTo"][0]["targetReference"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Composition/"));
    let title = note.json["title"].as_str().unwrap_or("Note").to_string();
    Ok(page_with(
        staff,
        &title,
        notice,
        html! {
            p {
                "Status: " strong id="note-status" { (status_label(&note.json)) }
                " · " a href=(visit_path(pid)) { "All notes for this patient" }
                @if let Some(o) = original { " · Addendum to " a href=(note_path(o)) { "the signed note" } }
            }
            (error_summary(errors))
            @if editable {
                form id="note-form" method="post" action=(note_path(&note.id)) {
                    (csrf_field(staff))
                    (Field::new("title", "Title").value(&draft.title).required().render())
                    @for (i, s) in notes::SECTIONS.iter().enumerate() {
                        (textarea(s.0, s.1, &draft.sections[i], 5))
                    }
                    button type="submit" { "Save draft" }
                }
            } @else {
                @for s in notes::SECTIONS {
                    @let text = notes::section_text(&note.json, s.0);
                    @if !text.is_empty() {
                        h2 { (s.1) }
                        @for line in text.lines() { p { (line) } }
                    }
                }
                @if let Some(a) = note.json["attester"][0].as_object() {
                    p.muted { "Signed " (a.get("time").and_then(Value::as_str).unwrap_or("")) " by "
                        (a.get("party").and_then(|p| p["reference"].as_str()).unwrap_or("")) }
                }
            }
            section.panel aria-labelledby="dx-h" {
                h2 id="dx-h" { "Diagnoses" }
                @if conditions.is_empty() { p.muted { "None recorded for this note." } }
                ul id="diagnoses" { @for c in &conditions {
                    li { strong { (c["code"]["coding"][0]["code"].as_str().unwrap_or("")) } " " (flows::concept_text(&c["code"])) }
                } }
                @if editable {
                    form method="get" action=(note_path(&note.id)) role="search" {
                        (Field::new("dx", "Find an ICD-10-CM diagnosis").kind("search").value(dx_query)
                            .hint("A code (E11.9) or words (type 2 diabetes).").render())
                        button.secondary type="submit" { "Search codes" }
                    }
                    @if !dx_query.trim().is_empty() && hits.is_empty() { p { "No billable code matches." } }
                    @if !hits.is_empty() {
                        ul.dx-results { @for h in &hits { li {
                            form method="post" action=(format!("{}/diagnosis", note_path(&note.id))) {
                                (csrf_field(staff))
                                input type="hidden" name="code" value=(h.code);
                                button.secondary type="submit" aria-label=(format!("Add {} {}", h.code, h.description)) { "Add" }
                                " " strong { (h.code) } " " (h.description)
                            }
                        } } }
                    }
                }
            }
            @if editable {
                form method="post" action=(format!("{}/sign", note_path(&note.id))) {
                    (csrf_field(staff))
                    p.muted { "Signing locks the note: later changes are addenda." }
                    button id="sign" type="submit" { "Sign note" }
                }
            } @else if note.json["status"] == "final" {
                section.panel aria-labelledby="add-h" {
                    h2 id="add-h" { "Addenda" }
                    ul { @for a in &addenda { li { a href=(note_path(&a.id)) { (a.json["title"].as_str().unwrap_or("Addendum")) } " — " (status_label(&a.json)) } } }
                    form method="post" action=(format!("{}/addendum", note_path(&note.id))) {
                        (csrf_field(staff))
                        (select("section", "Section", &notes::SECTIONS.map(|s| (s.0, s.1)), "plan", true))
                        (textarea("text", "Addendum text", "", 4))
                        button type="submit" { "Write addendum" }
                    }
                }
            }
        },
    ))
}

/// `POST /ui/notes/{id}`: save a draft (refused once signed).
pub async fn save(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<axum::response::Response> {
    use axum::response::IntoResponse;
    check_id(&id)?;
    let note = flows::read(&state, &staff, "Composition", &id).await?;
    let pid = patient_id(&note.json);
    notes::ensure_editable(&note.json).map_err(refused)?;
    let draft = draft_from(&note.json, Some(&form));
    match notes::update_note(&note.json, &draft) {
        Ok(next) => {
            flows::update(&state, &staff, &id, note.version, next).await?;
            staff.audit(
                "update",
                Action::Update,
                Some(format!("Composition/{id}")),
                &[&pid],
            );
            Ok(Redirect::to(&format!("{}?saved=draft", note_path(&id))).into_response())
        }
        Err(e) => {
            let page = render_note(
                &state,
                &staff,
                &note,
                &pid,
                "",
                Some(&draft),
                &[e.to_string()],
                None,
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// `POST /ui/notes/{id}/diagnosis`: a Condition (encounter-diagnosis) and
/// its reference in the note's Assessment section.
pub async fn add_diagnosis(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Redirect> {
    check_id(&id)?;
    let recorder = practitioner(&staff)?;
    let note = flows::read(&state, &staff, "Composition", &id).await?;
    notes::ensure_editable(&note.json).map_err(refused)?;
    let pid = patient_id(&note.json);
    let d = draft_from(&note.json, None);
    let condition = notes::build_diagnosis(
        &d.patient,
        &d.encounter,
        &recorder,
        &form.value("code"),
        &flows::now_text(),
    )
    .map_err(refused)?;
    let cid = flows::create(&state, &staff, condition).await?;
    let mut d = d;
    d.diagnoses.push(format!("Condition/{cid}"));
    let next = notes::update_note(&note.json, &d).map_err(refused)?;
    flows::update(&state, &staff, &id, note.version, next).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Condition/{cid}")),
        &[&pid],
    );
    Ok(Redirect::to(&format!("{}?saved=dx", note_path(&id))))
}

/// `POST /ui/notes/{id}/sign`: status final + legal attester; locked after.
pub async fn sign(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    _form: Form,
) -> WebResult<Redirect> {
    check_id(&id)?;
    let signer = practitioner(&staff)?;
    let note = flows::read(&state, &staff, "Composition", &id).await?;
    let pid = patient_id(&note.json);
    let signed = notes::sign_note(&note.json, &signer, flows::now()).map_err(refused)?;
    flows::update(&state, &staff, &id, note.version, signed).await?;
    // The encounter of a signed visit note is finished.
    if let Some(eid) = note.json["encounter"]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Encounter/"))
    {
        if let Ok(enc) = flows::read(&state, &staff, "Encounter", eid).await {
            if enc.json["status"] == "in-progress" || enc.json["status"] == "arrived" {
                let mut e = enc.json.clone();
                e["status"] = json!("finished");
                e["period"]["end"] = json!(flows::now_text());
                flows::update(&state, &staff, eid, enc.version, e).await?;
            }
        }
    }
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Composition/{id}")),
        &[&pid],
    );
    Ok(Redirect::to(&format!("{}?saved=signed", note_path(&id))))
}

/// `POST /ui/notes/{id}/addendum`: a new draft that `appends` to the signed note.
pub async fn addendum(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Redirect> {
    check_id(&id)?;
    let author = practitioner(&staff)?;
    let note = flows::read(&state, &staff, "Composition", &id).await?;
    let pid = patient_id(&note.json);
    let section = notes::SECTIONS
        .iter()
        .position(|s| s.0 == form.value("section"))
        .ok_or_else(|| WebError::Invalid(vec!["Choose a section.".into()]))?;
    let mut sections: [String; 4] = Default::default();
    sections[section] = form.value("text");
    let d = notes::NoteDraft {
        title: format!(
            "Addendum: {}",
            note.json["title"].as_str().unwrap_or("note")
        ),
        patient: format!("Patient/{pid}"),
        encounter: note.json["encounter"]["reference"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        author,
        sections,
        diagnoses: Vec::new(),
        date: flows::now_text(),
    };
    let add =
        notes::build_addendum(&note.json, &format!("Composition/{id}"), &d).map_err(refused)?;
    let aid = flows::create(&state, &staff, add).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Composition/{aid}")),
        &[&pid],
    );
    Ok(Redirect::to(&note_path(&aid)))
}

//! The results inbox: results (DiagnosticReports and stand-alone
//! Observations) the user may see that nobody has signed off yet, critical
//! and abnormal first; "Sign off" records a completed result-review `Task`
//! (why a Task: see `concord_clinical::inbox`).

use axum::extract::{Query, State};
use axum::response::Redirect;
use concord_clinical::inbox;
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;

use super::flows::{self, practitioner, refused};
use crate::error::{WebError, WebResult};
use crate::form::{csrf_field, Form};
use crate::layout::page_with;
use crate::{Staff, WebState};

pub const INBOX: &str = "/ui/inbox";
pub const SIGN_OFF: &str = "/ui/inbox/sign-off";

/// How many recent results the inbox looks at.
const WINDOW: &str = "200";

async fn load(state: &WebState, staff: &Staff) -> WebResult<Vec<inbox::InboxItem>> {
    let mut results: Vec<Value> = Vec::new();
    for s in flows::search(
        state,
        staff,
        "DiagnosticReport",
        &[("_sort", "-issued"), ("_count", WINDOW)],
    )
    .await?
    {
        results.push(s.json);
    }
    for s in flows::search(
        state,
        staff,
        "Observation",
        &[
            ("category", "laboratory"),
            ("_sort", "-date"),
            ("_count", WINDOW),
        ],
    )
    .await?
    {
        results.push(s.json);
    }
    let code = format!("{}|{}", inbox::TASK_KIND_SYSTEM, inbox::RESULT_REVIEW);
    let tasks: Vec<Value> = flows::search(
        state,
        staff,
        "Task",
        &[("code", &code), ("status", "completed"), ("_count", "1000")],
    )
    .await?
    .into_iter()
    .map(|s| s.json)
    .collect();
    Ok(inbox::build_inbox(&results, &inbox::reviewed(&tasks)))
}

/// `GET /ui/inbox`
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let items = load(&state, &staff).await?;
    let patients: Vec<&str> = items
        .iter()
        .filter_map(|i| i.patient.strip_prefix("Patient/"))
        .collect();
    staff.audit("search-type", Action::Read, None, &patients);
    let names = flows::patient_names(&state, &staff, &patients).await;
    let notice = q.contains_key("done").then_some("Result signed off.");
    Ok(page_with(
        &staff,
        "Results inbox",
        notice,
        html! {
            @if items.is_empty() { p { "No results waiting for review." } }
            @else {
                p.muted { (items.len()) " results to review, critical and abnormal first." }
                div.table-wrap { table id="inbox" {
                    thead { tr { th scope="col" { "Flag" } th scope="col" { "Result" } th scope="col" { "Patient" } th scope="col" { "Issued" } th scope="col" { span.visually-hidden { "Action" } } } }
                    tbody { @for i in &items { tr data-ref=(i.reference) {
                        td { span class=(flag_class(i.flag)) { (i.flag.label()) } }
                        td { (i.title) }
                        td { @if let Some(p) = i.patient.strip_prefix("Patient/") { a href=(format!("/ui/patients/{p}")) { (names.get(p).map(String::as_str).unwrap_or(p)) } } }
                        td { (i.when) }
                        td {
                            form method="post" action=(SIGN_OFF) {
                                (csrf_field(&staff))
                                input type="hidden" name="result" value=(i.reference);
                                input type="hidden" name="patient" value=(i.patient);
                                label.visually-hidden for=(format!("c-{}", i.reference)) { "Comment on " (i.title) }
                                input id=(format!("c-{}", i.reference)) type="text" name="comment" placeholder="Comment (optional)";
                                " "
                                button type="submit" aria-label=(format!("Sign off {} ({})", i.title, i.flag.label())) { "Sign off" }
                            }
                        }
                    } } }
                } }
            }
        },
    ))
}

fn flag_class(f: inbox::Flag) -> &'static str {
    match f {
        inbox::Flag::Critical => "flag-HH",
        inbox::Flag::Abnormal => "flag-H",
        inbox::Flag::Normal => "muted",
    }
}

/// `POST /ui/inbox/sign-off`
pub async fn sign_off(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let reviewer = practitioner(&staff)?;
    let result = form.value("result");
    let patient = form.value("patient");
    // The result must exist and be visible to this user (read guard).
    let (ty, id) = result
        .split_once('/')
        .filter(|(t, _)| *t == "DiagnosticReport" || *t == "Observation")
        .ok_or_else(|| WebError::BadRequest("Unknown result.".into()))?;
    flows::check_id(id)?;
    let stored = flows::read(&state, &staff, ty, id).await?;
    if stored.json["subject"]["reference"].as_str() != Some(patient.as_str()) {
        return Err(WebError::BadRequest(
            "The result does not belong to that patient.".into(),
        ));
    }
    let task = inbox::build_review_task(
        &result,
        &patient,
        &reviewer,
        flows::now(),
        &form.value("comment"),
    )
    .map_err(refused)?;
    let tid = flows::create(&state, &staff, task).await?;
    let pid = patient.strip_prefix("Patient/").unwrap_or("");
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Task/{tid}")),
        &[pid],
    );
    Ok(Redirect::to(&format!("{INBOX}?done=1")))
}

//! Staff tasks: create (optionally about a patient, optionally assigned),
//! assign, complete. FHIR `Task` with Concord's `staff-task` code; domain
//! rules in `concord_clinical::tasks`. Writes use `If-Match` on the version
//! shown, so two people completing the same task cannot both win.

use axum::extract::{Query, State};
use axum::response::Redirect;
use concord_clinical::inbox::TASK_KIND_SYSTEM;
use concord_clinical::tasks;
use concord_core::audit::Action;
use maud::{html, Markup};
use std::collections::HashMap;

use super::flows::{self, practitioner, refused, Stored};
use crate::error::{WebError, WebResult};
use crate::form::{csrf_field, Field, Form};
use crate::layout::page_with;
use crate::{Staff, WebState};

pub const TASKS: &str = "/ui/tasks";

fn staff_ref(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        None
    } else if v.starts_with("Practitioner/") {
        Some(v.to_string())
    } else {
        Some(format!("Practitioner/{v}"))
    }
}

fn task_row(staff: &Staff, t: &Stored) -> Markup {
    let open = !matches!(t.json["status"].as_str(), Some("completed" | "cancelled"));
    html! {
        tr data-id=(t.id) {
            td { (t.json["description"].as_str().unwrap_or("")) }
            td { @if let Some(p) = t.json["for"]["reference"].as_str().and_then(|r| r.strip_prefix("Patient/")) { a href=(format!("/ui/patients/{p}")) { (p) } } }
            td { (t.json["owner"]["reference"].as_str().unwrap_or("unassigned")) }
            td { (t.json["status"].as_str().unwrap_or("")) }
            td { @if open {
                form method="post" action=(format!("{TASKS}/assign")) {
                    (csrf_field(staff)) input type="hidden" name="task" value=(t.id); input type="hidden" name="version" value=(t.version);
                    label for=(format!("o-{}", t.id)) { "Assign to (Practitioner id)" }
                    input id=(format!("o-{}", t.id)) name="owner" required;
                    " " button.secondary type="submit" { "Assign" }
                }
                form method="post" action=(format!("{TASKS}/complete")) {
                    (csrf_field(staff)) input type="hidden" name="task" value=(t.id); input type="hidden" name="version" value=(t.version);
                    label for=(format!("n-{}", t.id)) { "Completion note" }
                    input id=(format!("n-{}", t.id)) name="note";
                    " " button type="submit" aria-label=(format!("Complete: {}", t.json["description"].as_str().unwrap_or(""))) { "Complete" }
                }
            } }
        }
    }
}

/// `GET /ui/tasks`: tasks assigned to me, and tasks I asked for.
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let me = practitioner(&staff)?;
    let code = format!("{TASK_KIND_SYSTEM}|{}", tasks::STAFF_TASK);
    let mine = flows::search(
        &state,
        &staff,
        "Task",
        &[
            ("code", &code),
            ("owner", &me),
            ("_sort", "-authored-on"),
            ("_count", "100"),
        ],
    )
    .await?;
    let asked = flows::search(
        &state,
        &staff,
        "Task",
        &[
            ("code", &code),
            ("requester", &me),
            ("_sort", "-authored-on"),
            ("_count", "100"),
        ],
    )
    .await?;
    staff.audit("search-type", Action::Read, None, &[]);
    let notice = q.get("done").map(|d| match d.as_str() {
        "created" => "Task created.",
        "assigned" => "Task assigned.",
        _ => "Task completed.",
    });
    let table = |list: &[Stored], id: &str| {
        html! {
            @if list.is_empty() { p.muted { "None." } }
            @else { div.table-wrap { table id=(id) {
                thead { tr { th scope="col" { "Task" } th scope="col" { "Patient" } th scope="col" { "Owner" } th scope="col" { "Status" } th scope="col" { "Actions" } } }
                tbody { @for t in list { (task_row(&staff, t)) } }
            } } }
        }
    };
    Ok(page_with(
        &staff,
        "Tasks",
        notice,
        html! {
            h2 { "Assigned to me" }
            (table(&mine, "my-tasks"))
            h2 { "Requested by me" }
            (table(&asked, "requested-tasks"))
            section.panel aria-labelledby="new-task-h" {
                h2 id="new-task-h" { "New task" }
                form method="post" action=(TASKS) {
                    (csrf_field(&staff))
                    (Field::new("description", "What needs doing").required().render())
                    div.form-grid {
                        (Field::new("owner", "Assign to (Practitioner id)").hint("Leave empty to leave it unassigned.").render())
                        (Field::new("patient", "About patient (id)").hint("Optional.").render())
                    }
                    button type="submit" { "Create task" }
                }
            }
        },
    ))
}

/// `POST /ui/tasks`
pub async fn create(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let me = practitioner(&staff)?;
    let owner = staff_ref(&form.value("owner"));
    let patient = form
        .get("patient")
        .map(|p| p.trim().trim_start_matches("Patient/").to_string())
        .filter(|p| !p.is_empty());
    let patient_ref = patient.as_ref().map(|p| format!("Patient/{p}"));
    if let Some(p) = &patient {
        flows::check_id(p)?;
        flows::read(&state, &staff, "Patient", p).await?;
    }
    let t = tasks::build_task(
        &form.value("description"),
        &me,
        owner.as_deref(),
        patient_ref.as_deref(),
        flows::now(),
    )
    .map_err(refused)?;
    let id = flows::create(&state, &staff, t).await?;
    let pats: Vec<&str> = patient.iter().map(String::as_str).collect();
    staff.audit("create", Action::Create, Some(format!("Task/{id}")), &pats);
    Ok(Redirect::to(&format!("{TASKS}?done=created")))
}

async fn load(state: &WebState, staff: &Staff, form: &Form) -> WebResult<(Stored, i64)> {
    let id = form.value("task");
    flows::check_id(&id)?;
    let version: i64 = form
        .value("version")
        .parse()
        .map_err(|_| WebError::BadRequest("Missing version.".into()))?;
    let t = flows::read(state, staff, "Task", &id).await?;
    if t.json["code"]["coding"][0]["code"] != tasks::STAFF_TASK {
        return Err(WebError::NotFound);
    }
    Ok((t, version))
}

/// `POST /ui/tasks/assign`
pub async fn assign(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let (t, version) = load(&state, &staff, &form).await?;
    let owner = staff_ref(&form.value("owner"))
        .ok_or_else(|| WebError::Invalid(vec!["owner: is required".into()]))?;
    if let Some(pid) = owner.strip_prefix("Practitioner/") {
        flows::check_id(pid)?;
        flows::read(&state, &staff, "Practitioner", pid).await?;
    }
    let next = tasks::assign(&t.json, &owner, flows::now()).map_err(refused)?;
    flows::update(&state, &staff, &t.id, version, next).await?;
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Task/{}", t.id)),
        &[],
    );
    Ok(Redirect::to(&format!("{TASKS}?done=assigned")))
}

/// `POST /ui/tasks/complete`
pub async fn complete(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Redirect> {
    let me = practitioner(&staff)?;
    let (t, version) = load(&state, &staff, &form).await?;
    let next = tasks::complete(&t.json, &me, flows::now(), &form.value("note")).map_err(refused)?;
    flows::update(&state, &staff, &t.id, version, next).await?;
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Task/{}", t.id)),
        &[],
    );
    Ok(Redirect::to(&format!("{TASKS}?done=completed")))
}

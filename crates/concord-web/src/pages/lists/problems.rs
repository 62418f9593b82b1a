//! Problem list: active and resolved Conditions (category problem-list-item), add and resolve.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::{belongs, coding, list_page, refused, subject};
use crate::codes;
use crate::data;
use crate::error::WebResult;
use crate::fhir;
use crate::form::{csrf_field, Field, Form};
use crate::pages::chart::{head, status_in};
use crate::pages::patients::valid_date;
use crate::{Staff, WebState};

// ---------------------------------------------------------------- problems

/// `GET /ui/patients/{id}/problems`.
pub async fn problems(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let h = head(&state, &staff, &id).await?;
    let list = data::patient_list(
        &state,
        &staff,
        "Condition",
        &id,
        &[("_count", "500".into())],
    )
    .await?;
    let (active, other): (Vec<&Value>, Vec<&Value>) = list
        .iter()
        .partition(|c| status_in(c, "clinicalStatus", &["active", "recurrence", "relapse"]));
    let row = |c: &Value, resolvable: bool| {
        let cid = fhir::str_at(c, &["id"]);
        html! {
            tr {
                td { (fhir::concept_text(c.get("code"))) }
                td { (fhir::code_in(c.get("code"), codes::ICD10CM).unwrap_or_default()) }
                td { (fhir::day(&fhir::when(c))) }
                td { (fhir::first_code(c.get("clinicalStatus")).unwrap_or_else(|| "active".into())) }
                td {
                    @if resolvable && staff.may('u', "Condition") {
                        form method="post" action={"/ui/patients/" (id) "/problems/" (cid) "/resolve"} {
                            (csrf_field(&staff))
                            button.secondary type="submit" aria-label={"Mark " (fhir::concept_text(c.get("code"))) " resolved"} { "Resolve" }
                        }
                    }
                }
            }
        }
    };
    let table = |items: &[&Value], resolvable: bool| {
        html! {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Problem" } th scope="col" { "ICD-10-CM" } th scope="col" { "Onset" } th scope="col" { "Status" } th scope="col" { span.sr-only { "Actions" } } } }
                tbody { @for c in items { (row(c, resolvable)) } }
            } }
        }
    };
    let body = html! {
        h2 { "Active" }
        @if active.is_empty() { p.muted { "No active problems." } } @else { (table(&active, true)) }
        @if !other.is_empty() { h2 { "Resolved and inactive" } (table(&other, false)) }
        @if staff.may('c', "Condition") {
            section.panel {
                h2 #add-problem { "Add a problem" }
                form method="post" action={"/ui/patients/" (id) "/problems"} aria-labelledby="add-problem" {
                    (csrf_field(&staff))
                    div.form-grid {
                        (Field::new("problem", "Problem").required().render())
                        (Field::new("icd10", "ICD-10-CM code").hint("Optional, e.g. E11.9").render())
                        (Field::new("onset", "Onset date").kind("date").render())
                    }
                    button type="submit" { "Add problem" }
                }
            }
        }
    };
    Ok(list_page(&staff, &h, "problems", "problems", body))
}

/// `POST /ui/patients/{id}/problems`.
pub async fn add_problem(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Response> {
    let mut errors = Vec::new();
    let text = form
        .required("problem", "Problem")
        .map_err(|e| errors.push(e))
        .ok();
    // The code must be a billable code of the full CMS ICD-10-CM table
    // (concord-clinical); its display comes from that table.
    let mut icd = None;
    if let Some(c) = form.get("icd10").map(|c| c.to_ascii_uppercase()) {
        if !codes::icd10cm_shape(&c) {
            errors.push(format!("\"{c}\" is not an ICD-10-CM code (a letter, two characters, then optionally a dot and up to four more, e.g. E11.9)."));
        } else {
            match concord_clinical::icd10::lookup(&c) {
                Some(found) => icd = Some(found),
                None => errors.push(format!(
                    "\"{c}\" is not a billable ICD-10-CM code; pick a complete code (e.g. E11.9, not E11)."
                )),
            }
        }
    }
    let onset = form.get("onset");
    if let Some(d) = &onset {
        if !valid_date(d) || d.as_str() > fhir::today().as_str() {
            errors.push("Onset must be a date, not in the future.".into());
        }
    }
    let Some(text) = text.filter(|_| errors.is_empty()) else {
        return refused(&staff, &state, &id, "problems", errors).await;
    };
    let mut code = json!({"text": text});
    if let Some(c) = icd {
        code["coding"] =
            json!([{"system": codes::ICD10CM, "code": c.code, "display": c.description}]);
    }
    let mut condition = json!({
        "resourceType": "Condition",
        "clinicalStatus": coding(codes::CONDITION_CLINICAL, "active"),
        "verificationStatus": coding(codes::CONDITION_VERIFICATION, "confirmed"),
        "category": [coding(codes::CONDITION_CATEGORY, "problem-list-item")],
        "code": code,
        "subject": subject(&id),
        "recordedDate": fhir::today(),
    });
    if let Some(d) = onset {
        condition["onsetDateTime"] = json!(d);
    }
    if let Some(r) = staff.fhir_user.as_deref() {
        condition["recorder"] = json!({"reference": r});
    }
    let cid = data::create(&state, &staff, "Condition", condition).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Condition/{cid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/problems")).into_response())
}

/// `POST /ui/patients/{id}/problems/{cid}/resolve`.
pub async fn resolve_problem(
    staff: Staff,
    State(state): State<WebState>,
    Path((id, cid)): Path<(String, String)>,
) -> WebResult<Response> {
    let current = data::read(&state, &staff, "Condition", &cid).await?;
    belongs(&current.resource, "subject", &id)?;
    let mut c = current.resource;
    c["clinicalStatus"] = coding(codes::CONDITION_CLINICAL, "resolved");
    c["abatementDateTime"] = json!(fhir::today());
    if let Some(o) = c.as_object_mut() {
        o.remove("meta");
    }
    data::update(&state, &staff, "Condition", &cid, c, Some(current.version)).await?;
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Condition/{cid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/problems")).into_response())
}

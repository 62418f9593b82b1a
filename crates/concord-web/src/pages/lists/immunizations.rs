//! Immunization record (CVX) and entry.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::json;

use super::{list_page, refused, subject};
use crate::codes::{self, CVX_VACCINES};
use crate::data;
use crate::error::WebResult;
use crate::fhir;
use crate::form::{csrf_field, select, textarea, Field, Form};
use crate::pages::chart::head;
use crate::pages::patients::valid_date;
use crate::{Staff, WebState};

// ----------------------------------------------------------- immunizations

/// `GET /ui/patients/{id}/immunizations`.
pub async fn immunizations(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let h = head(&state, &staff, &id).await?;
    let list = data::patient_list(
        &state,
        &staff,
        "Immunization",
        &id,
        &[("_sort", "-date".into()), ("_count", "300".into())],
    )
    .await?;
    let mut options: Vec<(&str, &str)> = vec![("", "Choose…")];
    options.extend(CVX_VACCINES.iter().copied());
    let body = html! {
        @if list.is_empty() { p.muted { "No immunizations recorded." } }
        @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Date" } th scope="col" { "Vaccine" } th scope="col" { "CVX" } th scope="col" { "Lot" } th scope="col" { "Status" } } }
                tbody { @for i in &list { tr {
                    td { (fhir::day(&fhir::when(i))) }
                    td { (fhir::concept_text(i.get("vaccineCode"))) }
                    td { (fhir::code_in(i.get("vaccineCode"), codes::CVX).unwrap_or_default()) }
                    td { (fhir::str_at(i, &["lotNumber"])) }
                    td { (fhir::str_at(i, &["status"])) }
                } } }
            } }
        }
        @if staff.may('c', "Immunization") {
            section.panel {
                h2 #add-imm { "Record an immunization" }
                form method="post" action={"/ui/patients/" (id) "/immunizations"} aria-labelledby="add-imm" {
                    (csrf_field(&staff))
                    div.form-grid {
                        (select("cvx", "Vaccine (CVX)", &options, "", false))
                        (Field::new("other_cvx", "Other CVX code").hint("If not in the list").inputmode("numeric").render())
                        (Field::new("other_name", "Other vaccine name").render())
                        (Field::new("date", "Date given").kind("date").value(&fhir::today()).required().render())
                        (Field::new("lot", "Lot number").render())
                    }
                    (textarea("note", "Note", "", 2))
                    button type="submit" { "Record immunization" }
                }
            }
        }
    };
    Ok(list_page(
        &staff,
        &h,
        "immunizations",
        "immunizations",
        body,
    ))
}

/// `POST /ui/patients/{id}/immunizations`.
pub async fn add_immunization(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Response> {
    let mut errors = Vec::new();
    let vaccine = match (form.get("cvx"), form.get("other_cvx")) {
        (Some(c), None) => match CVX_VACCINES.iter().find(|(code, _)| *code == c) {
            Some((code, name)) => Some((code.to_string(), name.to_string())),
            None => {
                errors.push("Vaccine: choose one of the listed vaccines.".into());
                None
            }
        },
        (None, Some(c)) => {
            if !codes::cvx_shape(&c) {
                errors.push("Other CVX code must be 1 to 3 digits.".into());
                None
            } else if let Some(name) = form.get("other_name") {
                Some((c, name))
            } else {
                errors.push("Other vaccine name is required with another CVX code.".into());
                None
            }
        }
        (Some(_), Some(_)) => {
            errors
                .push("Choose a vaccine from the list or type another CVX code, not both.".into());
            None
        }
        (None, None) => {
            errors.push("Vaccine is required.".into());
            None
        }
    };
    let date = form.get("date");
    match &date {
        Some(d) if valid_date(d) && d.as_str() <= fhir::today().as_str() => {}
        _ => errors.push("Date given must be a date, not in the future.".into()),
    }
    let (Some((code, name)), Some(date), true) = (vaccine, date, errors.is_empty()) else {
        return refused(&staff, &state, &id, "immunizations", errors).await;
    };
    let mut imm = json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": codes::CVX, "code": code, "display": name}], "text": name},
        "patient": subject(&id),
        "occurrenceDateTime": date,
        "primarySource": true,
    });
    if let Some(l) = form.get("lot") {
        imm["lotNumber"] = json!(l);
    }
    if let Some(n) = form.get("note") {
        imm["note"] = json!([{"text": n}]);
    }
    if let Some(r) = staff.fhir_user.as_deref() {
        imm["performer"] = json!([{"actor": {"reference": r}}]);
    }
    let iid = data::create(&state, &staff, "Immunization", imm).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Immunization/{iid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/immunizations")).into_response())
}

//! The patient's lists, one module each: problems (add, resolve), allergies
//! (substance, reaction, severity, criticality), medications (start,
//! change, stop — each with a reason) and immunizations (CVX). Each change
//! is a FHIR write through the engine with the user's access policy; this
//! module holds what they share (the page frame, the refusal page, small
//! FHIR builders).

mod allergies;
mod immunizations;
mod medications;
mod problems;

pub use allergies::{add_allergy, allergies, reaction_text};
pub use immunizations::{add_immunization, immunizations};
pub use medications::{
    change_medication, dosage_text, medications, start_medication, stop_medication,
};
pub use problems::{add_problem, problems, resolve_problem};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::error::{WebError, WebResult};
use crate::fhir;
use crate::form::error_summary;
use crate::layout::page;
use crate::pages::chart::{banner, head};
use crate::{Staff, WebState};

pub(super) fn list_page(
    staff: &Staff,
    h: &crate::pages::chart::ChartHead,
    tab: &str,
    title: &str,
    body: Markup,
) -> Markup {
    page(
        staff,
        &format!("{} — {title}", fhir::human_name(&h.patient.resource)),
        html! { (banner(h, tab)) (body) },
    )
}

pub(super) async fn refused(
    staff: &Staff,
    state: &WebState,
    id: &str,
    tab: &'static str,
    errors: Vec<String>,
) -> WebResult<Response> {
    let h = head(state, staff, id).await?;
    let body = html! {
        (error_summary(&errors))
        p { a href={"/ui/patients/" (id) "/" (tab)} { "Back to the list" } }
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        list_page(staff, &h, tab, "not saved", body),
    )
        .into_response())
}

pub(super) fn subject(id: &str) -> Value {
    json!({"reference": format!("Patient/{id}")})
}

pub(super) fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

/// Checks that `target` (a resource of the chart) belongs to patient `id`.
pub(super) fn belongs(resource: &Value, key: &str, id: &str) -> WebResult<()> {
    if fhir::reference(resource.get(key)) == format!("Patient/{id}") {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

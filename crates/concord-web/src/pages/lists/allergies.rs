//! Allergy list: AllergyIntolerance with substance, reaction, severity and criticality.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::{coding, list_page, refused, subject};
use crate::codes;
use crate::data;
use crate::error::WebResult;
use crate::fhir;
use crate::form::{csrf_field, select, Field, Form};
use crate::pages::chart::head;
use crate::{Staff, WebState};

/// "Hives (moderate)" for an allergy's reactions.
pub fn reaction_text(a: &Value) -> String {
    a.get("reaction")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let what: Vec<String> = r
                        .get("manifestation")
                        .and_then(Value::as_array)
                        .map(|m| m.iter().map(|c| fhir::concept_text(Some(c))).collect())
                        .unwrap_or_default();
                    match r.get("severity").and_then(Value::as_str) {
                        Some(s) => format!("{} ({s})", what.join(", ")),
                        None => what.join(", "),
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

// --------------------------------------------------------------- allergies

const CATEGORIES: &[(&str, &str)] = &[
    ("medication", "Medication"),
    ("food", "Food"),
    ("environment", "Environment"),
    ("biologic", "Biologic"),
];
const SEVERITIES: &[(&str, &str)] = &[
    ("", "Not recorded"),
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("severe", "Severe"),
];
const CRITICALITIES: &[(&str, &str)] = &[
    ("", "Not recorded"),
    ("low", "Low risk"),
    ("high", "High risk"),
    ("unable-to-assess", "Unable to assess"),
];

/// `GET /ui/patients/{id}/allergies`.
pub async fn allergies(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let h = head(&state, &staff, &id).await?;
    let list = data::patient_list(
        &state,
        &staff,
        "AllergyIntolerance",
        &id,
        &[("_count", "200".into())],
    )
    .await?;
    let body = html! {
        @if list.is_empty() { p.muted { "No allergies recorded." } }
        @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Substance" } th scope="col" { "Category" } th scope="col" { "Reaction (severity)" } th scope="col" { "Criticality" } th scope="col" { "Status" } } }
                tbody { @for a in &list { tr {
                    td { (fhir::concept_text(a.get("code"))) }
                    td { (a.get("category").and_then(Value::as_array).map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                    td { (reaction_text(a)) }
                    td { (fhir::str_at(a, &["criticality"])) }
                    td { (fhir::first_code(a.get("clinicalStatus")).unwrap_or_default()) }
                } } }
            } }
        }
        @if staff.may('c', "AllergyIntolerance") {
            section.panel {
                h2 #add-allergy { "Add an allergy" }
                form method="post" action={"/ui/patients/" (id) "/allergies"} aria-labelledby="add-allergy" {
                    (csrf_field(&staff))
                    div.form-grid {
                        (Field::new("substance", "Substance").required().render())
                        (select("category", "Category", CATEGORIES, "medication", true))
                        (Field::new("reaction", "Reaction").hint("e.g. hives, anaphylaxis").render())
                        (select("severity", "Reaction severity", SEVERITIES, "", false))
                        (select("criticality", "Criticality", CRITICALITIES, "", false))
                    }
                    button type="submit" { "Add allergy" }
                }
            }
        }
    };
    Ok(list_page(&staff, &h, "allergies", "allergies", body))
}

fn one_of(
    value: Option<String>,
    allowed: &[(&str, &str)],
    label: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    let v = value?;
    if allowed.iter().any(|(a, _)| !a.is_empty() && *a == v) {
        Some(v)
    } else {
        errors.push(format!("{label}: choose one of the listed values."));
        None
    }
}

/// `POST /ui/patients/{id}/allergies`.
pub async fn add_allergy(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Response> {
    let mut errors = Vec::new();
    let substance = form
        .required("substance", "Substance")
        .map_err(|e| errors.push(e))
        .ok();
    let category = one_of(form.get("category"), CATEGORIES, "Category", &mut errors);
    let severity = one_of(
        form.get("severity"),
        SEVERITIES,
        "Reaction severity",
        &mut errors,
    );
    let criticality = one_of(
        form.get("criticality"),
        CRITICALITIES,
        "Criticality",
        &mut errors,
    );
    let reaction = form.get("reaction");
    if severity.is_some() && reaction.is_none() {
        errors.push("Reaction severity needs the reaction.".into());
    }
    let Some(substance) = substance.filter(|_| errors.is_empty()) else {
        return refused(&staff, &state, &id, "allergies", errors).await;
    };
    let mut a = json!({
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": coding(codes::ALLERGY_CLINICAL, "active"),
        "verificationStatus": coding(codes::ALLERGY_VERIFICATION, "confirmed"),
        "code": {"text": substance},
        "patient": subject(&id),
        "recordedDate": fhir::now_instant(),
    });
    if let Some(c) = category {
        a["category"] = json!([c]);
    }
    if let Some(c) = criticality {
        a["criticality"] = json!(c);
    }
    if let Some(r) = reaction {
        let mut reaction = json!({"manifestation": [{"text": r}]});
        if let Some(s) = severity {
            reaction["severity"] = json!(s);
        }
        a["reaction"] = json!([reaction]);
    }
    if let Some(r) = staff.fhir_user.as_deref() {
        a["recorder"] = json!({"reference": r});
    }
    let aid = data::create(&state, &staff, "AllergyIntolerance", a).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("AllergyIntolerance/{aid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/allergies")).into_response())
}

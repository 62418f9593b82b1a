//! Medication list: MedicationRequests started, changed and stopped, each with a reason.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::{belongs, list_page, refused, subject};
use crate::codes;
use crate::data;
use crate::error::{WebError, WebResult};
use crate::fhir;
use crate::form::{csrf_field, Field, Form};
use crate::pages::chart::head;
use crate::{Staff, WebState};

/// The sig text of a MedicationRequest.
pub fn dosage_text(m: &Value) -> String {
    m.get("dosageInstruction")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .and_then(|d| d.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

// ------------------------------------------------------------- medications

/// `GET /ui/patients/{id}/medications`.
pub async fn medications(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let h = head(&state, &staff, &id).await?;
    let list = data::patient_list(
        &state,
        &staff,
        "MedicationRequest",
        &id,
        &[("_sort", "-authoredon".into()), ("_count", "300".into())],
    )
    .await?;
    let may_change = staff.may('u', "MedicationRequest") && staff.may('c', "MedicationRequest");
    let body = html! {
        @if list.is_empty() { p.muted { "No medications recorded." } }
        @else {
            div.table-wrap { table #medications-table {
                thead { tr { th scope="col" { "Medication" } th scope="col" { "Instructions" } th scope="col" { "Started" } th scope="col" { "Status" } th scope="col" { "Reason" } th scope="col" { span.sr-only { "Actions" } } } }
                tbody { @for m in &list {
                    @let mid = fhir::str_at(m, &["id"]);
                    @let name = fhir::concept_text(m.get("medicationCodeableConcept"));
                    tr {
                        td { (name) }
                        td { (dosage_text(m)) }
                        td { (fhir::day(fhir::str_at(m, &["authoredOn"]))) }
                        td { (fhir::str_at(m, &["status"])) }
                        td {
                            (m.get("reasonCode").and_then(Value::as_array).and_then(|r| r.first()).map(|r| fhir::concept_text(Some(r))).unwrap_or_default())
                            @let why = fhir::concept_text(m.get("statusReason"));
                            @if !why.is_empty() { br; span.muted { "Stopped: " (why) } }
                        }
                        td {
                            @if may_change && fhir::str_at(m, &["status"]) == "active" {
                                details {
                                    summary { "Change or stop" span.sr-only { " " (name) } }
                                    form method="post" action={"/ui/patients/" (id) "/medications/" (mid) "/change"} {
                                        (csrf_field(&staff))
                                        (Field::new("dosage", "New instructions").value(&dosage_text(m)).required().render())
                                        (Field::new("reason", "Reason for the change").required().render())
                                        button type="submit" { "Change" }
                                    }
                                    form method="post" action={"/ui/patients/" (id) "/medications/" (mid) "/stop"} {
                                        (csrf_field(&staff))
                                        (Field::new("reason", "Reason for stopping").required().render())
                                        button.secondary type="submit" { "Stop" }
                                    }
                                }
                            }
                        }
                    }
                } }
            } }
        }
        @if staff.may('c', "MedicationRequest") {
            section.panel {
                h2 #start-med { "Start a medication" }
                form method="post" action={"/ui/patients/" (id) "/medications"} aria-labelledby="start-med" {
                    (csrf_field(&staff))
                    div.form-grid {
                        (Field::new("medication", "Medication").required().hint("Name, strength and form").render())
                        (Field::new("rxnorm", "RxNorm code").hint("Optional RxCUI").inputmode("numeric").render())
                        (Field::new("dosage", "Instructions").required().hint("e.g. 1 tablet by mouth daily").render())
                        (Field::new("reason", "Reason").required().render())
                    }
                    button type="submit" { "Start medication" }
                }
            }
        }
    };
    Ok(list_page(&staff, &h, "medications", "medications", body))
}

fn med_request(id: &str, staff: &Staff, med: Value, dosage: &str, reason: &str) -> Value {
    let mut m = json!({
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": med,
        "subject": subject(id),
        "authoredOn": fhir::now_instant(),
        "dosageInstruction": [{"text": dosage}],
        "reasonCode": [{"text": reason}],
    });
    if let Some(r) = staff.fhir_user.as_deref() {
        m["requester"] = json!({"reference": r});
    }
    m
}

/// `POST /ui/patients/{id}/medications`: start.
pub async fn start_medication(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Response> {
    let mut errors = Vec::new();
    let name = form
        .required("medication", "Medication")
        .map_err(|e| errors.push(e))
        .ok();
    let dosage = form
        .required("dosage", "Instructions")
        .map_err(|e| errors.push(e))
        .ok();
    let reason = form
        .required("reason", "Reason")
        .map_err(|e| errors.push(e))
        .ok();
    let rx = form.get("rxnorm");
    if rx.as_deref().is_some_and(|c| !codes::rxnorm_shape(c)) {
        errors.push("RxNorm code must be digits (an RxCUI).".into());
    }
    let (Some(name), Some(dosage), Some(reason), true) = (name, dosage, reason, errors.is_empty())
    else {
        return refused(&staff, &state, &id, "medications", errors).await;
    };
    let mut med = json!({"text": name});
    if let Some(c) = rx {
        med["coding"] = json!([{"system": codes::RXNORM, "code": c}]);
    }
    let m = med_request(&id, &staff, med, &dosage, &reason);
    let mid = data::create(&state, &staff, "MedicationRequest", m).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("MedicationRequest/{mid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/medications")).into_response())
}

async fn active_request(
    state: &WebState,
    staff: &Staff,
    id: &str,
    mid: &str,
) -> WebResult<data::Loaded> {
    let current = data::read(state, staff, "MedicationRequest", mid).await?;
    belongs(&current.resource, "subject", id)?;
    if fhir::str_at(&current.resource, &["status"]) != "active" {
        return Err(WebError::Conflict(
            "This medication is no longer active".into(),
        ));
    }
    Ok(current)
}

fn stopped(mut m: Value, reason: &str) -> Value {
    m["status"] = json!("stopped");
    m["statusReason"] = json!({"text": reason});
    if let Some(o) = m.as_object_mut() {
        o.remove("meta");
    }
    m
}

/// `POST /ui/patients/{id}/medications/{mid}/stop`.
pub async fn stop_medication(
    staff: Staff,
    State(state): State<WebState>,
    Path((id, mid)): Path<(String, String)>,
    form: Form,
) -> WebResult<Response> {
    let Ok(reason) = form.required("reason", "Reason for stopping") else {
        return refused(
            &staff,
            &state,
            &id,
            "medications",
            vec!["Reason for stopping is required.".into()],
        )
        .await;
    };
    let current = active_request(&state, &staff, &id, &mid).await?;
    data::update(
        &state,
        &staff,
        "MedicationRequest",
        &mid,
        stopped(current.resource, &reason),
        Some(current.version),
    )
    .await?;
    staff.audit(
        "update",
        Action::Update,
        Some(format!("MedicationRequest/{mid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/medications")).into_response())
}

/// `POST /ui/patients/{id}/medications/{mid}/change`: the old request is
/// stopped (reason: the change) and a new one refers to it
/// (`priorPrescription`), in one transaction.
pub async fn change_medication(
    staff: Staff,
    State(state): State<WebState>,
    Path((id, mid)): Path<(String, String)>,
    form: Form,
) -> WebResult<Response> {
    let mut errors = Vec::new();
    let dosage = form
        .required("dosage", "New instructions")
        .map_err(|e| errors.push(e))
        .ok();
    let reason = form
        .required("reason", "Reason for the change")
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(dosage), Some(reason)) = (dosage, reason) else {
        return refused(&staff, &state, &id, "medications", errors).await;
    };
    let current = active_request(&state, &staff, &id, &mid).await?;
    let med = current
        .resource
        .get("medicationCodeableConcept")
        .cloned()
        .unwrap_or(json!({"text": "medication"}));
    let mut new = med_request(&id, &staff, med, &dosage, &reason);
    new["priorPrescription"] = json!({"reference": format!("MedicationRequest/{mid}")});
    let mut old = stopped(current.resource, &format!("changed: {reason}"));
    old["id"] = json!(mid);
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": old, "request": {"method": "PUT", "url": format!("MedicationRequest/{mid}"), "ifMatch": format!("W/\"{}\"", current.version)}},
        {"resource": new, "request": {"method": "POST", "url": "MedicationRequest"}},
    ]});
    let (_, results) = state
        .engine
        .process_bundle(&staff.ctx, bundle)
        .await
        .map_err(|e| WebError::from_core(e, &staff.request_id))?;
    for r in results {
        r.map_err(|e| WebError::from_core(e, &staff.request_id))?;
    }
    staff.audit(
        "update",
        Action::Update,
        Some(format!("MedicationRequest/{mid}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}/medications")).into_response())
}

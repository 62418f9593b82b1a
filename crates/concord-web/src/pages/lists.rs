//! The patient's lists: problems (add, resolve), allergies (substance,
//! reaction, severity, criticality), medications (start, change, stop —
//! each with a reason) and immunizations (CVX). Each change is a FHIR
//! write through the engine with the user's access policy.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::codes::{self, CVX_VACCINES};
use crate::data;
use crate::error::{WebError, WebResult};
use crate::fhir;
use crate::form::{csrf_field, error_summary, select, textarea, Field, Form};
use crate::layout::page;
use crate::pages::chart::{banner, head, status_in};
use crate::pages::patients::valid_date;
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

fn list_page(
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

async fn refused(
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

fn subject(id: &str) -> Value {
    json!({"reference": format!("Patient/{id}")})
}

fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

/// Checks that `target` (a resource of the chart) belongs to patient `id`.
fn belongs(resource: &Value, key: &str, id: &str) -> WebResult<()> {
    if fhir::reference(resource.get(key)) == format!("Patient/{id}") {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

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

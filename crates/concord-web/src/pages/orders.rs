//! Orders for one patient: lab and imaging `ServiceRequest`s and
//! prescriptions (`MedicationRequest` with a structured sig). Domain rules
//! and the curated code tables are in `concord_clinical::{orders, rx}`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_clinical::{orders, rx};
use concord_core::audit::Action;
use maud::{html, Markup};
use std::collections::HashMap;

use super::flows::{self, check_id, practitioner};
use crate::error::WebResult;
use crate::form::{csrf_field, error_summary, select, Field, Form};
use crate::layout::page_with;
use crate::{Staff, WebState};

pub fn orders_path(pid: &str) -> String {
    format!("/ui/patients/{pid}/orders")
}

/// `GET /ui/patients/{id}/orders`
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Path(pid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    check_id(&pid)?;
    let notice = q.get("saved").map(|s| {
        if s == "rx" {
            "Prescription saved."
        } else {
            "Order placed."
        }
    });
    render(&state, &staff, &pid, &Form::parse(b""), &[], notice).await
}

async fn render(
    state: &WebState,
    staff: &Staff,
    pid: &str,
    form: &Form,
    errors: &[String],
    notice: Option<&str>,
) -> WebResult<Markup> {
    let head = super::chart::head(state, staff, pid).await?;
    let subject = format!("Patient/{pid}");
    let srs = flows::search(
        state,
        staff,
        "ServiceRequest",
        &[
            ("subject", &subject),
            ("_sort", "-authored"),
            ("_count", "50"),
        ],
    )
    .await?;
    let mrs = flows::search(
        state,
        staff,
        "MedicationRequest",
        &[
            ("subject", &subject),
            ("_sort", "-authoredon"),
            ("_count", "50"),
        ],
    )
    .await?;
    staff.audit("search-type", Action::Read, Some(subject.clone()), &[pid]);
    let tests: Vec<(String, String)> = orders::orderables()
        .iter()
        .map(|o| {
            (
                o.loinc.clone(),
                format!("{}: {} (LOINC {})", o.kind.label(), o.display, o.loinc),
            )
        })
        .collect();
    let tests: Vec<(&str, &str)> = std::iter::once(("", "Choose…"))
        .chain(tests.iter().map(|(a, b)| (a.as_str(), b.as_str())))
        .collect();
    let prio: Vec<(&str, &str)> = orders::PRIORITIES.iter().map(|p| (*p, *p)).collect();
    let drugs: Vec<(String, String)> = rx::drugs()
        .iter()
        .map(|d| (d.rxcui.clone(), format!("{} (RxNorm {})", d.name, d.rxcui)))
        .collect();
    let drugs: Vec<(&str, &str)> = std::iter::once(("", "Choose…"))
        .chain(drugs.iter().map(|(a, b)| (a.as_str(), b.as_str())))
        .collect();
    let routes: Vec<(&str, &str)> = rx::ROUTES.iter().map(|r| (r.0, r.1)).collect();
    let freqs: Vec<(String, String)> = rx::FREQUENCIES
        .iter()
        .map(|f| (f.0.to_string(), format!("{} ({})", f.1, f.0)))
        .collect();
    let freqs: Vec<(&str, &str)> = freqs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let units = [
        ("tablet", "tablet(s)"),
        ("capsule", "capsule(s)"),
        ("mg", "mg"),
    ];
    let v = |k: &str| form.value(k);
    let (dose, days, qty, refills, instr) = (
        v("dose"),
        v("duration_days"),
        v("quantity"),
        v("refills"),
        v("instructions"),
    );
    let prio_sel = if v("priority").is_empty() {
        "routine".to_string()
    } else {
        v("priority")
    };
    let refills = if refills.is_empty() {
        "0".to_string()
    } else {
        refills
    };
    Ok(page_with(
        staff,
        "Orders",
        notice,
        html! {
            (super::chart::banner(&head, "orders"))
            (error_summary(errors))
            div.grid-2 {
                section.panel aria-labelledby="lab-h" {
                    h2 id="lab-h" { "Lab or imaging order" }
                    form method="post" action=(format!("{}/service", orders_path(pid))) {
                        (csrf_field(staff))
                        (select("code", "Test", &tests, &v("code"), true))
                        (select("priority", "Priority", &prio, &prio_sel, true))
                        (Field::new("note", "Clinical question / note").value(&v("note")).render())
                        button type="submit" { "Place order" }
                    }
                }
                section.panel aria-labelledby="rx-h" {
                    h2 id="rx-h" { "Prescription" }
                    form method="post" action=(format!("{}/rx", orders_path(pid))) {
                        (csrf_field(staff))
                        (select("drug", "Drug", &drugs, &v("drug"), true))
                        div.form-grid {
                            (Field::new("dose", "Dose").value(&dose).required().inputmode("decimal").render())
                            (select("dose_unit", "Dose unit", &units, &v("dose_unit"), true))
                            (select("route", "Route", &routes, &v("route"), true))
                            (select("frequency", "Frequency", &freqs, &v("frequency"), true))
                            (Field::new("duration_days", "Duration (days)").value(&days).required().inputmode("numeric").render())
                            (Field::new("quantity", "Dispense quantity").value(&qty).required().inputmode("numeric").render())
                            (Field::new("refills", "Refills").value(&refills).required().inputmode("numeric").render())
                        }
                        div.field {
                            label { input type="checkbox" name="as_needed" value="yes" checked[v("as_needed") == "yes"]; " As needed (PRN)" }
                        }
                        (Field::new("instructions", "Patient instructions").value(&instr).render())
                        button type="submit" { "Prescribe" }
                    }
                }
            }
            h2 { "Orders" }
            @if srs.is_empty() { p.muted { "No lab or imaging orders." } }
            @else { div.table-wrap { table id="orders" {
                thead { tr { th scope="col" { "Ordered" } th scope="col" { "Test" } th scope="col" { "Priority" } th scope="col" { "Status" } } }
                tbody { @for s in &srs { tr {
                    td { (s.json["authoredOn"].as_str().unwrap_or("")) }
                    td { (flows::concept_text(&s.json["code"])) }
                    td { (s.json["priority"].as_str().unwrap_or("")) }
                    td { (s.json["status"].as_str().unwrap_or("")) }
                } } }
            } } }
            h2 { "Prescriptions" }
            @if mrs.is_empty() { p.muted { "No prescriptions." } }
            @else { div.table-wrap { table id="prescriptions" {
                thead { tr { th scope="col" { "Written" } th scope="col" { "Drug" } th scope="col" { "Sig" } th scope="col" { "Qty / refills" } th scope="col" { "Status" } } }
                tbody { @for m in &mrs { tr {
                    td { (m.json["authoredOn"].as_str().unwrap_or("")) }
                    td { (flows::concept_text(&m.json["medicationCodeableConcept"])) }
                    td { (m.json["dosageInstruction"][0]["text"].as_str().unwrap_or("")) }
                    td { (m.json["dispenseRequest"]["quantity"]["value"]) " / " (m.json["dispenseRequest"]["numberOfRepeatsAllowed"]) }
                    td { (m.json["status"].as_str().unwrap_or("")) }
                } } }
            } } }
        },
    ))
}

async fn refuse(
    state: &WebState,
    staff: &Staff,
    pid: &str,
    form: &Form,
    msg: String,
) -> WebResult<Response> {
    let page = render(state, staff, pid, form, &[msg], None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// `POST /ui/patients/{id}/orders/service`
pub async fn order(
    staff: Staff,
    State(state): State<WebState>,
    Path(pid): Path<String>,
    form: Form,
) -> WebResult<Response> {
    check_id(&pid)?;
    let requester = practitioner(&staff)?;
    let patient = format!("Patient/{pid}");
    let now = flows::now_text();
    let input = orders::OrderInput {
        loinc: &form.value("code"),
        priority: &form.value("priority"),
        patient: &patient,
        encounter: None,
        requester: &requester,
        authored_on: &now,
        note: &form.value("note"),
    };
    match orders::build_order(&input) {
        Ok(sr) => {
            let id = flows::create(&state, &staff, sr).await?;
            staff.audit(
                "create",
                Action::Create,
                Some(format!("ServiceRequest/{id}")),
                &[&pid],
            );
            Ok(Redirect::to(&format!("{}?saved=order", orders_path(&pid))).into_response())
        }
        Err(e) => refuse(&state, &staff, &pid, &form, e.to_string()).await,
    }
}

/// `POST /ui/patients/{id}/orders/rx`
pub async fn prescribe(
    staff: Staff,
    State(state): State<WebState>,
    Path(pid): Path<String>,
    form: Form,
) -> WebResult<Response> {
    check_id(&pid)?;
    let requester = practitioner(&staff)?;
    let sig = rx::Sig {
        rxcui: form.value("drug"),
        dose: form.value("dose"),
        dose_unit: form.value("dose_unit"),
        route: form.value("route"),
        frequency: form.value("frequency"),
        as_needed: form.value("as_needed") == "yes",
        duration_days: form.value("duration_days"),
        quantity: form.value("quantity"),
        refills: form.value("refills"),
        instructions: form.value("instructions"),
    };
    match rx::build_prescription(
        &sig,
        &format!("Patient/{pid}"),
        None,
        &requester,
        &flows::now_text(),
    ) {
        Ok(mr) => {
            let id = flows::create(&state, &staff, mr).await?;
            staff.audit(
                "create",
                Action::Create,
                Some(format!("MedicationRequest/{id}")),
                &[&pid],
            );
            Ok(Redirect::to(&format!("{}?saved=rx", orders_path(&pid))).into_response())
        }
        Err(e) => refuse(&state, &staff, &pid, &form, e.to_string()).await,
    }
}

//! Vital signs: entry with unit checks ([`crate::vitals`]), the recent
//! values as a table and each measure as a trend chart (SVG).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::Value;

use crate::data;
use crate::error::{WebError, WebResult};
use crate::fhir;
use crate::form::{csrf_field, error_summary, select, Field, Form};
use crate::layout::page_with;
use crate::pages::chart::{banner, head, readings};
use crate::svg::{trend, Chart, Point};
use crate::vitals::{self, Vital};
use crate::{Staff, WebState};

/// Most vital-sign Observations shown and charted.
const LIMIT: usize = 300;

fn unit_options(v: &Vital) -> Vec<(&'static str, &'static str)> {
    v.units.iter().map(|u| (u.ucum, u.label)).collect()
}

fn entry_form(staff: &Staff, id: &str, form: &Form) -> Markup {
    let single = |v: &Vital| {
        let opts = unit_options(v);
        let unit_field = format!("{}_unit", v.key);
        let unit_label = format!("{} unit", v.label);
        let chosen = form
            .get(&unit_field)
            .unwrap_or_else(|| v.units[0].ucum.to_string());
        let value = form.value(v.key);
        html! {
            div.vital {
                (Field::new(v.key, v.label).value(&value).inputmode("decimal").render())
                @if opts.len() > 1 {
                    (select(&unit_field, &unit_label, &opts, &chosen, false))
                } @else {
                    input type="hidden" name=(unit_field) value=(v.units[0].ucum);
                    p.hint { "Unit: " (v.units[0].label) }
                }
            }
        }
    };
    let systolic = form.value("systolic");
    let diastolic = form.value("diastolic");
    html! {
        form method="post" action={"/ui/patients/" (id) "/vitals"} aria-labelledby="enter-vitals" {
            h2 #enter-vitals { "Record vital signs" }
            (csrf_field(staff))
            div.form-grid {
                (Field::new("systolic", "Systolic BP").value(&systolic).inputmode("numeric").hint("mmHg").render())
                (Field::new("diastolic", "Diastolic BP").value(&diastolic).inputmode("numeric").hint("mmHg").render())
                @for v in vitals::SINGLE { (single(v)) }
            }
            p.hint { "Leave blank what was not measured. BMI is calculated when weight and height are both entered." }
            button type="submit" { "Save vital signs" }
        }
    }
}

async fn render(
    staff: &Staff,
    state: &WebState,
    id: &str,
    form: &Form,
    errors: &[String],
    notice: Option<&str>,
) -> WebResult<Markup> {
    let h = head(state, staff, id).await?;
    let obs = data::search(
        state,
        staff,
        "Observation",
        &[
            ("patient", format!("Patient/{id}")),
            ("category", "vital-signs".into()),
            ("_sort", "-date".into()),
            ("_count", LIMIT.to_string()),
        ],
    )
    .await?;
    staff.audit(
        "search-type",
        Action::Read,
        Some("Observation".into()),
        &[id],
    );
    // Per LOINC code: points oldest first, for the charts.
    let mut series: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    let mut rows = Vec::new();
    for o in &obs {
        for r in readings(o) {
            if let Some(v) = r.value {
                series.entry(r.code.clone()).or_default().push(Point {
                    when: r.when.clone(),
                    value: v,
                    flag: r.flag.clone(),
                });
            }
            rows.push((r.when, r.code, r.text));
        }
    }
    for s in series.values_mut() {
        s.reverse();
    }
    let label = |code: &str| {
        vitals::all()
            .into_iter()
            .find(|v| v.loinc == code)
            .map(|v| v.label.to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let title = format!("{} — vital signs", fhir::human_name(&h.patient.resource));
    Ok(page_with(
        staff,
        &title,
        notice,
        html! {
            (banner(&h, "vitals"))
            (error_summary(errors))
            @if staff.may('c', "Observation") { section.panel { (entry_form(staff, id, form)) } }
            h2 { "Trends" }
            @if series.is_empty() { p.muted { "No vital signs recorded." } }
            div.grid-2 {
                @for v in vitals::all() {
                    @if let Some(points) = series.get(v.loinc) {
                        figure {
                            figcaption { strong { (v.label) } }
                            (trend(&Chart { id: &format!("trend-{}", v.key), title: v.label, unit: v.units[0].label, points, range: (None, None) }))
                        }
                    }
                }
            }
            h2 { "Recorded values" }
            @if !rows.is_empty() {
                div.table-wrap {
                    table #vitals-table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Measure" } th scope="col" { "Value" } } }
                        tbody {
                            @for (when, code, text) in &rows {
                                tr { td { (when) } td { (label(code)) } td { (text) } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /ui/patients/{id}/vitals`.
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let notice = q.contains_key("saved").then_some("Vital signs saved.");
    render(&staff, &state, &id, &Form::default(), &[], notice).await
}

/// Checks the form: the Observations to store, or the problems.
fn observations(
    form: &Form,
    patient: &str,
    when: &str,
    performer: Option<&str>,
) -> Result<Vec<Value>, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    match vitals::check_bp(
        form.get("systolic").as_deref(),
        form.get("diastolic").as_deref(),
    ) {
        Ok(Some((s, d))) => out.push(vitals::bp_observation(&s, &d, patient, when, performer)),
        Ok(None) => {}
        Err(e) => errors.extend(e),
    }
    let mut readings = HashMap::new();
    for v in vitals::SINGLE {
        let unit = form.get(&format!("{}_unit", v.key));
        match vitals::check(v, form.get(v.key).as_deref(), unit.as_deref()) {
            Ok(Some(r)) => {
                out.push(vitals::observation(v, &r, patient, when, performer));
                readings.insert(v.key, r);
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if let (Some(w), Some(h)) = (readings.get("weight"), readings.get("height")) {
        if let Some(b) = vitals::bmi(w, h) {
            out.push(vitals::observation(
                &vitals::BMI,
                &b,
                patient,
                when,
                performer,
            ));
        }
    }
    if errors.is_empty() && out.is_empty() {
        errors.push("Enter at least one vital sign.".into());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `POST /ui/patients/{id}/vitals`: all values checked, then stored in one
/// transaction (nothing is stored if one is refused).
pub async fn record(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Response> {
    if !staff.may('c', "Observation") {
        return Err(WebError::Forbidden(
            "Your role may not record vital signs.".into(),
        ));
    }
    let performer = staff
        .fhir_user
        .as_deref()
        .filter(|r| r.starts_with("Practitioner/"));
    match observations(&form, &id, &fhir::now_instant(), performer) {
        Err(errors) => {
            let page = render(&staff, &state, &id, &form, &errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Ok(list) => {
            let ids = data::create_all(&state, &staff, list).await?;
            staff.audit(
                "create",
                Action::Create,
                ids.first().map(|i| format!("Observation/{i}")),
                &[&id],
            );
            Ok(Redirect::to(&format!("/ui/patients/{id}/vitals?saved=1")).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_stores_nothing() {
        let f = Form::parse(b"systolic=120&diastolic=80&heart_rate=abc&weight=70&weight_unit=kg");
        let e = observations(&f, "p", "2026-01-01T00:00:00Z", None).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("Heart rate"));
        let f = Form::parse(b"weight=70&weight_unit=kg&height=175&height_unit=cm");
        let obs = observations(&f, "p", "2026-01-01T00:00:00Z", None).unwrap();
        assert_eq!(obs.len(), 3, "weight, height and the BMI");
        assert!(observations(&Form::parse(b""), "p", "x", None).is_err());
    }
}

//! Lab results: a table (value, reference range, abnormal/critical flag)
//! and a trend chart per test with the reference range as a band. The
//! ranges and flags are the ones stored on each Observation
//! (`referenceRange`, `interpretation`), as the performing lab sent them.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::Value;

use crate::data;
use crate::error::WebResult;
use crate::fhir;
use crate::layout::page;
use crate::pages::chart::{banner, flag_cell, head, interpretation};
use crate::svg::{trend, Chart, Point};
use crate::{Staff, WebState};

/// Most results listed.
const LIMIT: usize = 500;
/// Most tests charted (the most frequent).
const CHARTS: usize = 8;

/// A charted test: name, unit, the latest reference range, points.
struct Test {
    name: String,
    unit: String,
    range: (Option<f64>, Option<f64>),
    points: Vec<Point>,
}

/// `(low, high)` of an Observation's first reference range.
pub fn range(o: &Value) -> (Option<f64>, Option<f64>) {
    let r = o
        .get("referenceRange")
        .and_then(Value::as_array)
        .and_then(|r| r.first());
    (
        fhir::quantity_value(r.and_then(|r| r.get("low"))),
        fhir::quantity_value(r.and_then(|r| r.get("high"))),
    )
}

fn range_text(o: &Value) -> String {
    let r = o
        .get("referenceRange")
        .and_then(Value::as_array)
        .and_then(|r| r.first());
    let Some(r) = r else {
        return String::new();
    };
    if let Some(t) = r.get("text").and_then(Value::as_str) {
        return t.to_string();
    }
    match (fhir::quantity(r.get("low")), fhir::quantity(r.get("high"))) {
        (l, h) if !l.is_empty() && !h.is_empty() => format!("{l} – {h}"),
        (l, _) if !l.is_empty() => format!("≥ {l}"),
        (_, h) if !h.is_empty() => format!("≤ {h}"),
        _ => String::new(),
    }
}

/// `GET /ui/patients/{id}/labs`.
pub async fn show(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let h = head(&state, &staff, &id).await?;
    let labs = data::search(
        &state,
        &staff,
        "Observation",
        &[
            ("patient", format!("Patient/{id}")),
            ("category", "laboratory".into()),
            ("_sort", "-date".into()),
            ("_count", LIMIT.to_string()),
        ],
    )
    .await?;
    staff.audit(
        "search-type",
        Action::Read,
        Some("Observation".into()),
        &[&id],
    );
    // Per test code: the latest result's name, unit and range; points
    // (newest first here, reversed for the chart).
    let mut tests: BTreeMap<String, Test> = BTreeMap::new();
    for o in &labs {
        let Some(v) = fhir::quantity_value(o.get("valueQuantity")) else {
            continue;
        };
        let code = fhir::first_code(o.get("code")).unwrap_or_default();
        let e = tests.entry(code).or_insert_with(|| {
            let unit = o["valueQuantity"]
                .get("unit")
                .or_else(|| o["valueQuantity"].get("code"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            Test {
                name: fhir::concept_text(o.get("code")),
                unit,
                range: range(o),
                points: Vec::new(),
            }
        });
        e.points.push(Point {
            when: fhir::when(o),
            value: v,
            flag: interpretation(o).filter(|f| crate::pages::chart::ABNORMAL.contains(&f.as_str())),
        });
    }
    let mut charted: Vec<_> = tests.iter_mut().collect();
    charted.sort_by(|a, b| b.1.points.len().cmp(&a.1.points.len()).then(a.0.cmp(b.0)));
    for (_, t) in charted.iter_mut() {
        t.points.reverse();
    }
    let title = format!("{} — lab results", fhir::human_name(&h.patient.resource));
    Ok(page(
        &staff,
        &title,
        html! {
            (banner(&h, "labs"))
            @if labs.is_empty() { p.muted { "No lab results recorded." } }
            @else {
                h2 { "Trends" }
                div.grid-2 {
                    @for (i, (_, t)) in charted.iter().take(CHARTS).enumerate() {
                        figure {
                            figcaption { strong { (t.name) } }
                            (trend(&Chart { id: &format!("lab-trend-{i}"), title: &t.name, unit: &t.unit, points: &t.points, range: t.range }))
                        }
                    }
                }
                h2 { "Results" }
                div.table-wrap {
                    table #labs-table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Test" } th scope="col" { "Result" } th scope="col" { "Reference range" } th scope="col" { "Flag" } } }
                        tbody {
                            @for o in &labs {
                                tr {
                                    td { (fhir::day(&fhir::when(o))) }
                                    td { (fhir::concept_text(o.get("code"))) }
                                    td {
                                        @if o.get("valueQuantity").is_some() { (fhir::quantity(o.get("valueQuantity"))) }
                                        @else if let Some(s) = o.get("valueString").and_then(Value::as_str) { (s) }
                                        @else { (fhir::concept_text(o.get("valueCodeableConcept"))) }
                                    }
                                    td { (range_text(o)) }
                                    td { (flag_cell(interpretation(o).as_deref())) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

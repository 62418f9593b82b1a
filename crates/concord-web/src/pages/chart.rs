//! The chart: the banner every chart page shows (name, age, sex, MRN,
//! allergies, alerts), the tabs, the summary (active problems,
//! medications, allergies, immunizations, latest vitals, recent abnormal
//! results, recent encounters) and the encounter timeline with the
//! organization and site each encounter came from.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::Value;

use crate::data::{self, Loaded};
use crate::error::WebResult;
use crate::fhir;
use crate::layout::{page, page_with};
use crate::{Staff, WebState};

/// A tab of the chart: `(path suffix, label)`; `""` is the summary.
/// Add an entry here to add a chart page (`/ui/patients/{id}/{suffix}`).
pub const TABS: &[(&str, &str)] = &[
    ("", "Summary"),
    ("timeline", "Timeline"),
    ("vitals", "Vitals"),
    ("labs", "Lab results"),
    ("problems", "Problems"),
    ("allergies", "Allergies"),
    ("medications", "Medications"),
    ("immunizations", "Immunizations"),
    ("visit", "Visits and notes"),
    ("orders", "Orders"),
];

/// Interpretation codes (HL7 v3 ObservationInterpretation) that mark an
/// abnormal result; `HH`/`LL`/`AA` are critical.
pub const ABNORMAL: &[&str] = &["A", "AA", "H", "HH", "L", "LL", "HU", "LU", ">", "<"];

/// The patient of a chart page, with what the banner shows.
pub struct ChartHead {
    pub id: String,
    pub patient: Loaded,
    /// `None`: the role may not see allergies.
    pub allergies: Option<Vec<Value>>,
    pub alerts: Vec<Value>,
}

/// Whether a clinical status (CodeableConcept) is one of `codes`; a
/// missing status counts as active.
pub fn status_in(resource: &Value, key: &str, codes: &[&str]) -> bool {
    match fhir::first_code(resource.get(key)) {
        Some(c) => codes.contains(&c.as_str()),
        None => codes.contains(&"active"),
    }
}

/// Loads the patient and the banner's allergies and alerts (each through
/// the engine with the user's access policy).
pub async fn head(state: &WebState, staff: &Staff, id: &str) -> WebResult<ChartHead> {
    let subject = format!("Patient/{id}");
    let allergy_params = [("patient", subject.clone()), ("_count", "100".into())];
    // Flag has no `status` search parameter in R4: filtered below.
    let flag_params = [("patient", subject), ("_count", "50".into())];
    let (patient, allergies, alerts) = tokio::join!(
        data::read(state, staff, "Patient", id),
        data::search_if_allowed(state, staff, "AllergyIntolerance", &allergy_params),
        data::search_if_allowed(state, staff, "Flag", &flag_params),
    );
    let patient = patient?;
    let mut allergies = allergies?;
    if let Some(list) = allergies.as_mut() {
        list.retain(|a| status_in(a, "clinicalStatus", &["active"]));
    }
    let mut alerts = alerts?.unwrap_or_default();
    alerts.retain(|f| f.get("status").and_then(Value::as_str) == Some("active"));
    Ok(ChartHead {
        id: id.to_string(),
        patient,
        allergies,
        alerts,
    })
}

/// The banner and the tabs, `current` being the active tab's suffix.
pub fn banner(h: &ChartHead, current: &str) -> Markup {
    let p = &h.patient.resource;
    let birth = fhir::str_at(p, &["birthDate"]);
    let age = fhir::age_years(birth, &fhir::today());
    html! {
        section.banner aria-label="Patient" {
            span.name { (fhir::human_name(p)) }
            span { "Age " @if let Some(a) = age { (a) } @else { "unknown" } " · born " (birth) }
            span { "Sex " (fhir::str_at(p, &["gender"])) }
            span { "MRN " (fhir::mrn(p)) }
            @match &h.allergies {
                None => { span.muted { "Allergies not available to your role" } }
                Some(list) if list.is_empty() => { span { "No known allergies recorded" } }
                Some(list) => {
                    span.allergy {
                        "Allergies: "
                        @for (i, a) in list.iter().enumerate() {
                            @if i > 0 { ", " }
                            (fhir::concept_text(a.get("code")))
                        }
                    }
                }
            }
            @for f in &h.alerts {
                span.allergy role="note" { "Alert: " (fhir::concept_text(f.get("code"))) }
            }
            a href={"/ui/patients/" (h.id) "/edit"} { "Edit demographics" }
        }
        nav aria-label="Chart" {
            ul.tabs {
                @for (suffix, label) in TABS {
                    @let href = if suffix.is_empty() { format!("/ui/patients/{}", h.id) } else { format!("/ui/patients/{}/{suffix}", h.id) };
                    li { a href=(href) aria-current=[(*suffix == current).then_some("page")] { (label) } }
                }
            }
        }
    }
}

/// One value of an Observation (or of one of its components).
#[derive(Debug, Clone)]
pub struct Reading {
    /// LOINC code (else the first code).
    pub code: String,
    pub value: Option<f64>,
    /// The value as shown ("72 /min").
    pub text: String,
    pub when: String,
    /// Interpretation code, if any.
    pub flag: Option<String>,
}

/// The values of an Observation and of each of its components.
pub fn readings(obs: &Value) -> Vec<Reading> {
    let when = fhir::when(obs);
    let flag = interpretation(obs);
    let mut out = Vec::new();
    let one = |o: &Value| {
        let code = fhir::code_in(o.get("code"), crate::vitals::LOINC)
            .or_else(|| fhir::first_code(o.get("code")))
            .unwrap_or_default();
        let text = if o.get("valueQuantity").is_some() {
            fhir::quantity(o.get("valueQuantity"))
        } else if let Some(s) = o.get("valueString").and_then(Value::as_str) {
            s.to_string()
        } else {
            fhir::concept_text(o.get("valueCodeableConcept"))
        };
        (code, fhir::quantity_value(o.get("valueQuantity")), text)
    };
    if obs.get("valueQuantity").is_some()
        || obs.get("valueString").is_some()
        || obs.get("valueCodeableConcept").is_some()
    {
        let (code, value, text) = one(obs);
        out.push(Reading {
            code,
            value,
            text,
            when: when.clone(),
            flag: flag.clone(),
        });
    }
    if let Some(components) = obs.get("component").and_then(Value::as_array) {
        for comp in components {
            let (code, value, text) = one(comp);
            out.push(Reading {
                code,
                value,
                text,
                when: when.clone(),
                flag: interpretation(comp).or(flag.clone()),
            });
        }
    }
    out
}

/// The first interpretation code of an Observation (or component).
pub fn interpretation(o: &Value) -> Option<String> {
    o.get("interpretation")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|cc| fhir::first_code(Some(cc)))
}

/// Whether an Observation is flagged abnormal or critical.
pub fn abnormal(o: &Value) -> bool {
    interpretation(o).is_some_and(|c| ABNORMAL.contains(&c.as_str()))
        || o.get("component")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| interpretation(c).is_some_and(|f| ABNORMAL.contains(&f.as_str())))
            })
}

/// A flag cell: the code, styled (critical in red, abnormal in amber).
pub fn flag_cell(flag: Option<&str>) -> Markup {
    html! {
        @match flag {
            Some(f) if ABNORMAL.contains(&f) => {
                span class={"flag-" (f.trim_matches(|c| c == '<' || c == '>'))} {
                    (f) " " (match f { "HH" | "LL" | "AA" => "critical", "H" | "HU" | ">" => "high", "L" | "LU" | "<" => "low", _ => "abnormal" })
                }
            }
            Some(f) => { (f) }
            None => {}
        }
    }
}

fn list_or_none(items: &[Markup], none: &str) -> Markup {
    html! {
        @if items.is_empty() { p.muted { (none) } }
        @else { ul { @for i in items { li { (i) } } } }
    }
}

fn saved_notice(q: &HashMap<String, String>) -> Option<&'static str> {
    match q.get("saved").map(String::as_str) {
        Some("registered") => Some("Patient registered."),
        Some("demographics") => Some("Demographics saved."),
        Some("vitals") => Some("Vital signs saved."),
        Some(_) => Some("Saved."),
        None => None,
    }
}

/// `GET /ui/patients/{id}`: the chart summary.
pub async fn summary(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let subject = format!("Patient/{id}");
    let count = |n: usize| ("_count", n.to_string());
    let p = |k: &'static str| (k, subject.clone());
    let clinical = staff.may('s', "Condition");
    let search = |rtype: &'static str, params: Vec<(&'static str, String)>| {
        let (state, staff) = (&state, &staff);
        async move { data::search_if_allowed(state, staff, rtype, &params).await }
    };
    // The banner and the sections are independent searches: run together,
    // the store's searches overlap (SQLite runs each on a blocking thread,
    // PostgreSQL on its own connection).
    let (h, problems, meds, imms, vitals, labs, encounters) = tokio::join!(
        head(&state, &staff, &id),
        search("Condition", vec![p("patient"), count(200)]),
        search(
            "MedicationRequest",
            vec![p("patient"), ("status", "active".into()), count(100)],
        ),
        search(
            "Immunization",
            vec![p("patient"), ("_sort", "-date".into()), count(10)],
        ),
        search(
            "Observation",
            vec![
                p("patient"),
                ("category", "vital-signs".into()),
                ("_sort", "-date".into()),
                count(60),
            ],
        ),
        search(
            "Observation",
            vec![
                p("patient"),
                ("category", "laboratory".into()),
                ("_sort", "-date".into()),
                count(200),
            ],
        ),
        search(
            "Encounter",
            vec![p("patient"), ("_sort", "-date".into()), count(5)],
        ),
    );
    // The patient first: a missing or hidden chart answers as such.
    let h = h?;
    let (problems, meds, imms, vitals, labs, encounters) = (
        problems?.unwrap_or_default(),
        meds?.unwrap_or_default(),
        imms?.unwrap_or_default(),
        vitals?.unwrap_or_default(),
        labs?.unwrap_or_default(),
        encounters?.unwrap_or_default(),
    );
    staff.audit("read", Action::Read, Some(subject.clone()), &[&id]);
    let problems: Vec<Markup> = problems
        .iter()
        .filter(|c| status_in(c, "clinicalStatus", &["active", "recurrence", "relapse"]))
        .map(|c| html! { (fhir::concept_text(c.get("code"))) span.muted { " since " (fhir::day(&fhir::when(c))) } })
        .collect();
    let meds: Vec<Markup> = meds
        .iter()
        .map(|m| html! { (fhir::concept_text(m.get("medicationCodeableConcept"))) span.muted { " " (crate::pages::lists::dosage_text(m)) } })
        .collect();
    let allergies: Vec<Markup> = h
        .allergies
        .iter()
        .flatten()
        .map(|a| html! { (fhir::concept_text(a.get("code"))) span.muted { " " (crate::pages::lists::reaction_text(a)) } })
        .collect();
    let imms: Vec<Markup> = imms
        .iter()
        .map(|i| html! { (fhir::concept_text(i.get("vaccineCode"))) span.muted { " " (fhir::day(&fhir::when(i))) } })
        .collect();
    // Latest value per vital-sign code (the search is newest first).
    let mut latest: BTreeMap<String, (String, String)> = BTreeMap::new();
    for o in &vitals {
        for r in readings(o) {
            latest.entry(r.code).or_insert((r.text, r.when));
        }
    }
    let abnormal_labs: Vec<&Value> = labs.iter().filter(|o| abnormal(o)).take(10).collect();
    let body = html! {
        (banner(&h, ""))
        @if !clinical {
            div.alert.warn role="note" { "Clinical information is not available to your role (" (staff.role.code()) "): only demographics and visits are shown." }
        }
        div.grid-2 {
            section.panel aria-labelledby="s-problems" {
                h2 #s-problems { "Active problems" }
                (list_or_none(&problems, "No active problems recorded."))
            }
            section.panel aria-labelledby="s-meds" {
                h2 #s-meds { "Medications" }
                (list_or_none(&meds, "No active medications."))
            }
            section.panel aria-labelledby="s-allergies" {
                h2 #s-allergies { "Allergies" }
                (list_or_none(&allergies, "No known allergies recorded."))
            }
            section.panel aria-labelledby="s-imms" {
                h2 #s-imms { "Immunizations" }
                (list_or_none(&imms, "No immunizations recorded."))
            }
            section.panel aria-labelledby="s-vitals" {
                h2 #s-vitals { "Latest vital signs" }
                @if latest.is_empty() { p.muted { "No vital signs recorded." } }
                @else {
                    table {
                        thead { tr { th scope="col" { "Measure" } th scope="col" { "Value" } th scope="col" { "When" } } }
                        tbody {
                            @for v in crate::vitals::all() {
                                @if let Some((text, when)) = latest.get(v.loinc) {
                                    tr { td { (v.label) } td { (text) } td { (fhir::day(when)) } }
                                }
                            }
                        }
                    }
                }
                p { a href={"/ui/patients/" (id) "/vitals"} { "Vitals and trends" } }
            }
            section.panel aria-labelledby="s-abnormal" {
                h2 #s-abnormal { "Recent abnormal results" }
                @if abnormal_labs.is_empty() { p.muted { "No abnormal results among the latest." } }
                @else {
                    table {
                        thead { tr { th scope="col" { "Test" } th scope="col" { "Result" } th scope="col" { "Flag" } th scope="col" { "When" } } }
                        tbody {
                            @for o in &abnormal_labs {
                                tr {
                                    td { (fhir::concept_text(o.get("code"))) }
                                    td { (fhir::quantity(o.get("valueQuantity"))) }
                                    td { (flag_cell(interpretation(o).as_deref())) }
                                    td { (fhir::day(&fhir::when(o))) }
                                }
                            }
                        }
                    }
                }
                p { a href={"/ui/patients/" (id) "/labs"} { "All lab results" } }
            }
        }
        section.panel aria-labelledby="s-enc" {
            h2 #s-enc { "Recent encounters" }
            (encounter_table(&state, &staff, &encounters).await)
            p { a href={"/ui/patients/" (id) "/timeline"} { "Full timeline" } }
        }
    };
    let title = fhir::human_name(&h.patient.resource);
    Ok(page_with(&staff, &title, saved_notice(&q), body))
}

/// Names of the organizations and locations encounters point at (read
/// through the engine; an unreadable one shows its reference).
async fn names(
    state: &WebState,
    staff: &Staff,
    refs: impl Iterator<Item = String>,
) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for r in refs {
        if r.is_empty() || out.contains_key(&r) {
            continue;
        }
        let name = match r.split_once('/') {
            Some((t @ ("Organization" | "Location"), id)) => {
                data::read(state, staff, t, id).await.ok().and_then(|l| {
                    l.resource
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
            }
            _ => None,
        };
        out.insert(r.clone(), name.unwrap_or(r));
    }
    out
}

async fn encounter_table(state: &WebState, staff: &Staff, encounters: &[Value]) -> Markup {
    let refs = encounters.iter().flat_map(|e| {
        let mut v = vec![fhir::reference(e.get("serviceProvider"))];
        if let Some(locs) = e.get("location").and_then(Value::as_array) {
            v.extend(locs.iter().map(|l| fhir::reference(l.get("location"))));
        }
        v
    });
    let names = names(state, staff, refs.collect::<Vec<_>>().into_iter()).await;
    let name = |r: String| names.get(&r).cloned().unwrap_or_default();
    html! {
        @if encounters.is_empty() { p.muted { "No encounters recorded." } }
        @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Date" } th scope="col" { "Type" } th scope="col" { "Reason" } th scope="col" { "Organization" } th scope="col" { "Site" } th scope="col" { "Status" } } }
                    tbody {
                        @for e in encounters {
                            @let site = e.get("location").and_then(Value::as_array).and_then(|l| l.first()).map(|l| fhir::reference(l.get("location"))).unwrap_or_default();
                            tr {
                                td { (fhir::day(&fhir::when(e))) }
                                td {
                                    @let t = e.get("type").and_then(Value::as_array).and_then(|t| t.first());
                                    @if let Some(t) = t { (fhir::concept_text(Some(t))) } @else { (fhir::str_at(e, &["class", "code"])) }
                                }
                                td { (e.get("reasonCode").and_then(Value::as_array).and_then(|r| r.first()).map(|r| fhir::concept_text(Some(r))).unwrap_or_default()) }
                                td { (name(fhir::reference(e.get("serviceProvider")))) }
                                td { (name(site)) }
                                td { (fhir::str_at(e, &["status"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /ui/patients/{id}/timeline`: every encounter, newest first.
pub async fn timeline(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let h = head(&state, &staff, &id).await?;
    let encounters = data::search(
        &state,
        &staff,
        "Encounter",
        &[
            ("patient", format!("Patient/{id}")),
            ("_sort", "-date".into()),
            ("_count", "300".into()),
        ],
    )
    .await?;
    staff.audit(
        "search-type",
        Action::Read,
        Some("Encounter".into()),
        &[&id],
    );
    let title = format!("{} — timeline", fhir::human_name(&h.patient.resource));
    Ok(page(
        &staff,
        &title,
        html! {
            (banner(&h, "timeline"))
            (encounter_table(&state, &staff, &encounters).await)
        },
    ))
}

//! Patient search (name, birth date, MRN, phone), registration and
//! editing of demographics, with a possible-duplicate warning (same name
//! and birth date, or same phone) that must be confirmed.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_core::audit::Action;
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::data::{self, Loaded};
use crate::error::{WebError, WebResult};
use crate::fhir::{self, MRN_SYSTEM, MR_TYPE_SYSTEM};
use crate::form::{csrf_field, error_summary, select, Field, Form};
use crate::layout::page;
use crate::{Staff, WebState};

/// Most patients listed per search.
const LIMIT: usize = 50;

const GENDERS: &[(&str, &str)] = &[
    ("", "Choose…"),
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Other"),
    ("unknown", "Unknown"),
];

/// Whether `s` is a valid calendar date YYYY-MM-DD.
pub fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        s[0..4].parse::<i32>(),
        s[5..7].parse::<u8>(),
        s[8..10].parse::<u8>(),
    ) else {
        return false;
    };
    time::Month::try_from(m)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
        .is_some()
}

/// The result of a patient search form.
pub struct Found {
    /// Matching patients the user may read, sorted by name (at most 50).
    pub patients: Vec<Value>,
    /// Problems with the search fields (then nothing was searched).
    pub errors: Vec<String>,
    /// Whether a search ran (some field filled, none wrong).
    pub searched: bool,
}

/// The patient search behind `/ui/patients` and the booking picker: name
/// prefix, exact birth date, MRN (any identifier), phone; through the
/// engine with the user's policy. The caller audits (it knows what else
/// the request touched).
pub async fn find(
    state: &WebState,
    staff: &Staff,
    name: &str,
    birth: &str,
    mrn: &str,
    phone: &str,
) -> WebResult<Found> {
    let mut errors = Vec::new();
    let mut params: Vec<(&str, String)> = Vec::new();
    if !name.is_empty() {
        params.push(("name", name.to_string()));
    }
    if !birth.is_empty() {
        if valid_date(birth) {
            params.push(("birthdate", birth.to_string()));
        } else {
            errors.push("Birth date must be a date (YYYY-MM-DD).".to_string());
        }
    }
    if !mrn.is_empty() {
        params.push(("identifier", mrn.to_string()));
    }
    if !phone.is_empty() {
        params.push(("phone", phone.to_string()));
    }
    let searched = !params.is_empty() && errors.is_empty();
    let mut patients = Vec::new();
    if searched {
        params.push(("_count", LIMIT.to_string()));
        patients = data::search(state, staff, "Patient", &params).await?;
        patients.sort_by_key(fhir::sort_name);
    }
    Ok(Found {
        patients,
        errors,
        searched,
    })
}

fn row(p: &Value) -> Markup {
    let id = fhir::str_at(p, &["id"]);
    html! {
        tr {
            td { a href={"/ui/patients/" (id)} { (fhir::sort_name(p)) } }
            td { (fhir::str_at(p, &["birthDate"])) }
            td { (fhir::str_at(p, &["gender"])) }
            td { (fhir::mrn(p)) }
            td { (fhir::telecom(p, "phone")) }
        }
    }
}

fn table(patients: &[Value]) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption.muted { (patients.len()) " patient(s)" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Birth date" } th scope="col" { "Sex" } th scope="col" { "MRN" } th scope="col" { "Phone" } } }
                tbody { @for p in patients { (row(p)) } }
            }
        }
    }
}

/// `GET /ui/patients`: the search form and, with criteria, the matches.
pub async fn search(
    staff: Staff,
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Markup> {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let (name, birth, mrn, phone) = (get("name"), get("birthdate"), get("mrn"), get("phone"));
    let found = find(&state, &staff, &name, &birth, &mrn, &phone).await?;
    let (errors, searched, found) = (found.errors, found.searched, found.patients);
    let ids: Vec<&str> = found.iter().map(|p| fhir::str_at(p, &["id"])).collect();
    if searched {
        staff.audit("search-type", Action::Read, Some("Patient".into()), &ids);
    }
    Ok(page(
        &staff,
        "Find a patient",
        html! {
            (error_summary(&errors))
            form.search method="get" action="/ui/patients" role="search" {
                div.form-grid {
                    (Field::new("name", "Name").value(&name).kind("search").hint("Family or given name, or the start of one.").render())
                    (Field::new("birthdate", "Birth date").value(&birth).kind("date").render())
                    (Field::new("mrn", "MRN").value(&mrn).render())
                    (Field::new("phone", "Phone").value(&phone).kind("tel").render())
                }
                button type="submit" { "Search" }
            }
            @if searched {
                @if found.is_empty() {
                    p { "No patient matches." }
                } @else {
                    (table(&found))
                }
            }
            @if staff.may('c', "Patient") {
                p { a.button.secondary href="/ui/patients/new" { "Register a new patient" } }
            }
        },
    ))
}

/// The demographics the form edits.
#[derive(Debug, Clone, Default)]
struct Demographics {
    family: String,
    given: String,
    birth_date: String,
    gender: String,
    phone: String,
    email: String,
    mrn: String,
}

impl Demographics {
    fn from_form(f: &Form) -> Demographics {
        Demographics {
            family: f.value("family"),
            given: f.value("given"),
            birth_date: f.value("birth_date"),
            gender: f.value("gender"),
            phone: f.value("phone"),
            email: f.value("email"),
            mrn: f.value("mrn"),
        }
    }

    fn from_patient(p: &Value) -> Demographics {
        let name = p
            .get("name")
            .and_then(Value::as_array)
            .and_then(|n| n.first());
        Demographics {
            family: name
                .map(|n| fhir::str_at(n, &["family"]))
                .unwrap_or("")
                .to_string(),
            given: name
                .and_then(|n| n.get("given"))
                .and_then(Value::as_array)
                .map(|g| {
                    g.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
            birth_date: fhir::str_at(p, &["birthDate"]).to_string(),
            gender: fhir::str_at(p, &["gender"]).to_string(),
            phone: fhir::telecom(p, "phone"),
            email: fhir::telecom(p, "email"),
            mrn: fhir::mrn(p),
        }
    }

    /// Field errors, keyed by field name.
    fn check(&self) -> Vec<(&'static str, String)> {
        let mut e = Vec::new();
        if self.family.is_empty() {
            e.push(("family", "Family name is required.".to_string()));
        }
        if self.given.is_empty() {
            e.push(("given", "Given name is required.".to_string()));
        }
        if self.birth_date.is_empty() {
            e.push(("birth_date", "Birth date is required.".to_string()));
        } else if !valid_date(&self.birth_date) {
            e.push((
                "birth_date",
                "Birth date must be a real date (YYYY-MM-DD).".to_string(),
            ));
        } else if self.birth_date.as_str() > fhir::today().as_str() {
            e.push((
                "birth_date",
                "Birth date cannot be in the future.".to_string(),
            ));
        }
        if !GENDERS
            .iter()
            .any(|(v, _)| !v.is_empty() && *v == self.gender)
        {
            e.push(("gender", "Choose the administrative sex.".to_string()));
        }
        if !self.phone.is_empty()
            && !self
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            e.push((
                "phone",
                "Phone may contain digits, spaces and + - ( ) . only.".to_string(),
            ));
        }
        if !self.email.is_empty() && !self.email.contains('@') {
            e.push(("email", "Email must contain @.".to_string()));
        }
        if self.mrn.chars().any(char::is_whitespace) {
            e.push(("mrn", "MRN may not contain spaces.".to_string()));
        }
        e
    }

    /// Writes the demographics into a Patient (keeping everything else).
    fn apply(&self, p: &mut Value) {
        p["resourceType"] = json!("Patient");
        let given: Vec<&str> = self.given.split_whitespace().collect();
        let mut name = json!({"use": "official", "family": self.family, "given": given});
        if let Some(old) = p
            .get("name")
            .and_then(Value::as_array)
            .and_then(|n| n.first())
        {
            if let Some(prefix) = old.get("prefix") {
                name["prefix"] = prefix.clone();
            }
        }
        match p.get_mut("name").and_then(Value::as_array_mut) {
            Some(names) if !names.is_empty() => names[0] = name,
            _ => p["name"] = json!([name]),
        }
        p["birthDate"] = json!(self.birth_date);
        p["gender"] = json!(self.gender);
        let mut telecom: Vec<Value> = p
            .get("telecom")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter(|c| {
                        !matches!(
                            c.get("system").and_then(Value::as_str),
                            Some("phone" | "email")
                        )
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !self.phone.is_empty() {
            telecom.push(json!({"system": "phone", "value": self.phone}));
        }
        if !self.email.is_empty() {
            telecom.push(json!({"system": "email", "value": self.email}));
        }
        if telecom.is_empty() {
            if let Some(o) = p.as_object_mut() {
                o.remove("telecom");
            }
        } else {
            p["telecom"] = json!(telecom);
        }
        if !self.mrn.is_empty() && fhir::mrn(p) != self.mrn {
            let mut ids: Vec<Value> = p
                .get("identifier")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            ids.retain(|i| i.get("system").and_then(Value::as_str) != Some(MRN_SYSTEM));
            ids.insert(
                0,
                json!({"use": "usual", "type": {"coding": [{"system": MR_TYPE_SYSTEM, "code": "MR", "display": "Medical record number"}]},
                       "system": MRN_SYSTEM, "value": self.mrn}),
            );
            p["identifier"] = json!(ids);
        }
    }
}

/// A new MRN: "M" and ten digits from a random UUID.
fn new_mrn() -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000_000;
    format!("M{n:010}")
}

fn demographics_form(
    staff: &Staff,
    action: &str,
    d: &Demographics,
    errors: &[(&'static str, String)],
    duplicates: &[Value],
    version: Option<i64>,
) -> Markup {
    let err = |name: &str| {
        errors
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, m)| m.as_str())
    };
    let all: Vec<String> = errors.iter().map(|(_, m)| m.clone()).collect();
    html! {
        (error_summary(&all))
        @if !duplicates.is_empty() {
            div.alert.warn role="alert" {
                p { strong { "Possible duplicate: " } "these patients have the same name and birth date, or the same phone number. Open one of them instead, or confirm below that this is a different person." }
                (table(duplicates))
            }
        }
        form method="post" action=(action) {
            (csrf_field(staff))
            @if let Some(v) = version { input type="hidden" name="version" value=(v); }
            div.form-grid {
                (Field::new("family", "Family name").value(&d.family).required().autocomplete("off").error(err("family")).render())
                (Field::new("given", "Given name(s)").value(&d.given).required().autocomplete("off").error(err("given")).render())
                (Field::new("birth_date", "Birth date").kind("date").value(&d.birth_date).required().error(err("birth_date")).render())
                div {
                    (select("gender", "Administrative sex", GENDERS, &d.gender, true))
                    @if let Some(e) = err("gender") { p.error role="alert" { (e) } }
                }
                (Field::new("phone", "Phone").kind("tel").value(&d.phone).error(err("phone")).render())
                (Field::new("email", "Email").kind("email").value(&d.email).error(err("email")).render())
                (Field::new("mrn", "MRN").value(&d.mrn).hint("Leave blank to assign one.").error(err("mrn")).render())
            }
            @if !duplicates.is_empty() {
                div.field {
                    label {
                        input type="checkbox" name="confirm_new" value="yes";
                        " This is a different person: save anyway"
                    }
                }
            }
            button type="submit" { "Save" }
        }
    }
}

/// `GET /ui/patients/new`.
pub async fn new(staff: Staff) -> WebResult<Markup> {
    if !staff.may('c', "Patient") {
        return Err(WebError::Forbidden(
            "Your role may not register patients.".into(),
        ));
    }
    Ok(page(
        &staff,
        "Register a patient",
        demographics_form(
            &staff,
            "/ui/patients/new",
            &Demographics::default(),
            &[],
            &[],
            None,
        ),
    ))
}

/// Patients (other than `except`) with the same name and birth date, or the same phone.
async fn duplicates(
    state: &WebState,
    staff: &Staff,
    d: &Demographics,
    except: Option<&str>,
) -> WebResult<Vec<Value>> {
    let mut found = data::search(
        state,
        staff,
        "Patient",
        &[
            ("family", d.family.clone()),
            (
                "given",
                d.given.split_whitespace().next().unwrap_or("").to_string(),
            ),
            ("birthdate", d.birth_date.clone()),
            ("_count", "20".into()),
        ],
    )
    .await?;
    if !d.phone.is_empty() {
        found.extend(
            data::search(
                state,
                staff,
                "Patient",
                &[("phone", d.phone.clone()), ("_count", "20".into())],
            )
            .await?,
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|p| {
        let id = fhir::str_at(p, &["id"]).to_string();
        Some(id.as_str()) != except && seen.insert(id)
    });
    Ok(found)
}

fn refused(staff: &Staff, title: &str, form: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page(staff, title, form)).into_response()
}

/// `POST /ui/patients/new`.
pub async fn create(
    staff: Staff,
    State(state): State<WebState>,
    form: Form,
) -> WebResult<Response> {
    let mut d = Demographics::from_form(&form);
    let action = "/ui/patients/new";
    let errors = d.check();
    if !errors.is_empty() {
        return Ok(refused(
            &staff,
            "Register a patient",
            demographics_form(&staff, action, &d, &errors, &[], None),
        ));
    }
    if form.get("confirm_new").as_deref() != Some("yes") {
        let dups = duplicates(&state, &staff, &d, None).await?;
        if !dups.is_empty() {
            return Ok((
                StatusCode::CONFLICT,
                page(
                    &staff,
                    "Register a patient",
                    demographics_form(&staff, action, &d, &[], &dups, None),
                ),
            )
                .into_response());
        }
    }
    if d.mrn.is_empty() {
        d.mrn = new_mrn();
    }
    let mut patient = json!({"resourceType": "Patient", "active": true});
    d.apply(&mut patient);
    // A clinician who registers a patient becomes their general
    // practitioner (and so may open the chart: the care-team rule).
    if staff.policy.clinical() {
        if let Some(pr) = staff
            .fhir_user
            .as_deref()
            .filter(|r| r.starts_with("Practitioner/"))
        {
            patient["generalPractitioner"] = json!([{"reference": pr}]);
        }
    }
    let id = data::create(&state, &staff, "Patient", patient).await?;
    staff.audit(
        "create",
        Action::Create,
        Some(format!("Patient/{id}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}?saved=registered")).into_response())
}

/// `GET /ui/patients/{id}/edit`.
pub async fn edit(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> WebResult<Markup> {
    let Loaded {
        version, resource, ..
    } = data::read(&state, &staff, "Patient", &id).await?;
    staff.audit("read", Action::Read, Some(format!("Patient/{id}")), &[&id]);
    let d = Demographics::from_patient(&resource);
    Ok(page(
        &staff,
        "Edit demographics",
        demographics_form(
            &staff,
            &format!("/ui/patients/{id}/edit"),
            &d,
            &[],
            &[],
            Some(version),
        ),
    ))
}

/// `POST /ui/patients/{id}/edit`.
pub async fn update(
    staff: Staff,
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: Form,
) -> WebResult<Response> {
    let d = Demographics::from_form(&form);
    let action = format!("/ui/patients/{id}/edit");
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let errors = d.check();
    if !errors.is_empty() {
        return Ok(refused(
            &staff,
            "Edit demographics",
            demographics_form(&staff, &action, &d, &errors, &[], version),
        ));
    }
    if form.get("confirm_new").as_deref() != Some("yes") {
        let dups = duplicates(&state, &staff, &d, Some(&id)).await?;
        if !dups.is_empty() {
            return Ok((
                StatusCode::CONFLICT,
                page(
                    &staff,
                    "Edit demographics",
                    demographics_form(&staff, &action, &d, &[], &dups, version),
                ),
            )
                .into_response());
        }
    }
    let mut current = data::read(&state, &staff, "Patient", &id).await?.resource;
    d.apply(&mut current);
    if let Some(o) = current.as_object_mut() {
        o.remove("meta");
    }
    data::update(&state, &staff, "Patient", &id, current, version).await?;
    staff.audit(
        "update",
        Action::Update,
        Some(format!("Patient/{id}")),
        &[&id],
    );
    Ok(Redirect::to(&format!("/ui/patients/{id}?saved=demographics")).into_response())
}

//! The UI over plain HTTP (real socket, production router): sign-in with
//! MFA, sessions, CSRF, the access policy on pages, refusals that store
//! nothing, and the FHIR resources each form writes.

use concord_auth::Role;
use serde_json::Value;

use crate::support::{hidden, resources, Browser, Clinic, PASSWORD};

async fn count(clinic: &Clinic, query: &str) -> usize {
    resources(&clinic.api(query).await).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_needs_password_and_authenticator_code() {
    let clinic = Clinic::new().await;
    let user = clinic.staff("dr.wrong", Role::Physician, true).await;
    let mut b = Browser::new(&clinic.app.base);
    let (_, page, _) = b.get("/ui/login").await;
    assert!(
        page.contains("<label for=\"f-totp\""),
        "the code field is labelled"
    );
    assert!(
        page.starts_with("<!DOCTYPE html><html lang=\"en\"><head>"),
        "the page declares its language"
    );
    let csrf = hidden(&page, "_csrf").unwrap();
    // Right password, no code: refused, no session.
    let (status, body, _) = b
        .post(
            "/ui/login",
            &[
                ("_csrf", &csrf),
                ("username", "dr.wrong"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(body.contains("6-digit code"), "{body}");
    // A wrong code: refused.
    let (status, body, _) = b
        .post(
            "/ui/login",
            &[
                ("_csrf", &csrf),
                ("username", "dr.wrong"),
                ("password", PASSWORD),
                ("totp", "000000"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(body.contains("authenticator code is wrong"), "{body}");
    assert!(!b.cookies.iter().any(|(k, _)| k == "concord_ui"));
    let (status, _, location) = b.get("/ui/patients").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/ui/login?next=%2Fui%2Fpatients"));
    // Password and code: signed in, with a strict HttpOnly cookie.
    let code = user.code().await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(clinic.app.url("/ui/login"))
        .header(
            "cookie",
            format!(
                "concord_ui_pre={}",
                b.cookies
                    .iter()
                    .find(|(k, _)| k == "concord_ui_pre")
                    .unwrap()
                    .1
            ),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "_csrf={csrf}&username=dr.wrong&password={}&totp={code}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("concord_ui="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/ui"),
        "{cookie}"
    );
    // The audit trail has the refused and the accepted sign-ins.
    let events = resources(&clinic.api("AuditEvent?subtype=110122&_count=50").await);
    let outcomes: Vec<&str> = events
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(
        outcomes.iter().filter(|o| **o == "4").count() >= 2,
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&"0"), "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_session_csrf_token_and_sign_out_ends_the_session() {
    let clinic = Clinic::new().await;
    let user = clinic.staff("nurse.csrf", Role::Nurse, true).await;
    let ada = clinic.patients[0].clone();
    let mut b = Browser::new(&clinic.app.base);
    b.sign_in(&user).await;
    let before = count(
        &clinic,
        &format!("Observation?patient=Patient/{ada}&code=8867-4"),
    )
    .await;
    // No token, and a token of another session: both refused, nothing stored.
    let (status, body, _) = b
        .post(
            &format!("/ui/patients/{ada}/vitals"),
            &[("heart_rate", "71")],
        )
        .await;
    assert_eq!(status, 403);
    assert!(body.contains("Form expired"), "{body}");
    let mut other = Browser::new(&clinic.app.base);
    other.sign_in(&user).await;
    let (_, page, _) = other.get(&format!("/ui/patients/{ada}/vitals")).await;
    let foreign = hidden(&page, "_csrf").unwrap();
    let (status, _, _) = b
        .post(
            &format!("/ui/patients/{ada}/vitals"),
            &[("_csrf", &foreign), ("heart_rate", "71")],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        count(
            &clinic,
            &format!("Observation?patient=Patient/{ada}&code=8867-4")
        )
        .await,
        before
    );
    // With the session's own token it is stored.
    let (_, page, _) = b.get(&format!("/ui/patients/{ada}/vitals")).await;
    let own = hidden(&page, "_csrf").unwrap();
    let (status, _, _) = b
        .post(
            &format!("/ui/patients/{ada}/vitals"),
            &[("_csrf", &own), ("heart_rate", "71")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        count(
            &clinic,
            &format!("Observation?patient=Patient/{ada}&code=8867-4")
        )
        .await,
        before + 1
    );
    // Sign out: the old cookie no longer opens pages.
    let session = b.cookies.clone();
    let (status, _, location) = b.post("/ui/logout", &[("_csrf", &own)]).await;
    assert_eq!((status, location.as_deref()), (303, Some("/ui/login")));
    let mut replay = Browser::new(&clinic.app.base);
    replay.cookies = session;
    let (status, _, _) = replay.get("/ui/patients").await;
    assert_eq!(status, 303, "the ended session is refused");
    let logouts = resources(&clinic.api("AuditEvent?subtype=110123").await);
    assert!(!logouts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_apply_the_same_access_policy_as_the_api() {
    let clinic = Clinic::new().await;
    let doctor = clinic.staff("dr.care", Role::Physician, true).await;
    let desk = clinic.staff("desk.one", Role::FrontDesk, false).await;
    let admin = clinic.staff("sys.admin", Role::SystemAdmin, false).await;
    let mut b = Browser::new(&clinic.app.base);
    b.sign_in(&doctor).await;
    // The care-team rule: the doctor finds and opens their patient, not the other Zimmerman.
    let (status, page, _) = b.get("/ui/patients?name=Zimmerman").await;
    assert_eq!(status, 200);
    assert!(page.contains("Zimmerman, Ada"), "{page}");
    assert!(
        !page.contains("Otto"),
        "a patient outside the care team is not listed"
    );
    let (status, _, _) = b.get(&format!("/ui/patients/{}", clinic.stranger)).await;
    assert_eq!(
        status, 404,
        "outside the care team the chart does not exist"
    );
    let (status, page, _) = b.get(&format!("/ui/patients/{}", clinic.patients[0])).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Penicillin") && page.contains("Riverside North Clinic"),
        "banner and timeline site"
    );
    assert!(page.contains("Potassium"), "recent abnormal results");
    // Front desk: demographics yes, clinical sections no; no clinical writes.
    let mut d = Browser::new(&clinic.app.base);
    d.sign_in(&desk).await;
    let (status, page, _) = d.get(&format!("/ui/patients/{}", clinic.stranger)).await;
    assert_eq!(status, 200);
    assert!(page.contains("not available to your role"));
    assert!(!page.contains("Penicillin"));
    let (status, _, _) = d
        .get(&format!("/ui/patients/{}/labs", clinic.patients[0]))
        .await;
    assert_eq!(status, 403);
    // System administrators see no patient data and no patient menu.
    let mut a = Browser::new(&clinic.app.base);
    a.sign_in(&admin).await;
    let (_, home, _) = a.get("/ui/").await;
    assert!(!home.contains("Find patient"));
    let (status, _, _) = a.get("/ui/patients?name=Zimmerman").await;
    assert_eq!(status, 403);
    // Each page view left an AuditEvent naming the user and the patient.
    let events = resources(
        &clinic
            .api(&format!(
                "AuditEvent?patient=Patient/{}&_count=100",
                clinic.patients[0]
            ))
            .await,
    );
    assert!(
        events
            .iter()
            .any(|e| e["agent"].to_string().contains("physician")),
        "the chart view is audited with the user's role"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_warns_about_possible_duplicates() {
    let clinic = Clinic::new().await;
    let desk = clinic.staff("desk.reg", Role::FrontDesk, false).await;
    let mut b = Browser::new(&clinic.app.base);
    b.sign_in(&desk).await;
    let (_, page, _) = b.get("/ui/patients/new").await;
    let csrf = hidden(&page, "_csrf").unwrap();
    let fields = |confirm: bool| {
        let mut f = vec![
            ("_csrf", csrf.clone()),
            ("family", "Zimmerman".to_string()),
            ("given", "Ada".to_string()),
            ("birth_date", "1961-04-12".to_string()),
            ("gender", "female".to_string()),
            ("phone", "555-0199".to_string()),
        ];
        if confirm {
            f.push(("confirm_new", "yes".to_string()));
        }
        f
    };
    let as_refs =
        |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let before = count(&clinic, "Patient?family=Zimmerman").await;
    let f = as_refs(&fields(false));
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body, _) = b.post("/ui/patients/new", &refs).await;
    assert_eq!(status, 409);
    assert!(
        body.contains("Possible duplicate") && body.contains("Zimmerman, Ada"),
        "{body}"
    );
    assert_eq!(
        count(&clinic, "Patient?family=Zimmerman").await,
        before,
        "nothing stored"
    );
    // A bad date is refused with a message on the field.
    let mut bad = refs.clone();
    bad[3] = ("birth_date", "1961-02-30");
    let (status, body, _) = b.post("/ui/patients/new", &bad).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("real date") && body.contains("aria-invalid=\"true\""),
        "{body}"
    );
    // Confirmed: stored, with an MRN.
    let f = as_refs(&fields(true));
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, location) = b.post("/ui/patients/new", &refs).await;
    assert_eq!(status, 303);
    let id = location
        .unwrap()
        .trim_start_matches("/ui/patients/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let stored = clinic.api(&format!("Patient/{id}")).await;
    assert_eq!(stored["birthDate"], "1961-04-12");
    assert_eq!(stored["telecom"][0]["value"], "555-0199");
    assert_eq!(stored["identifier"][0]["type"]["coding"][0]["code"], "MR");
    assert!(stored["identifier"][0]["value"]
        .as_str()
        .unwrap()
        .starts_with('M'));
    // Editing: the form carries the version; the change is stored.
    let (_, page, _) = b.get(&format!("/ui/patients/{id}/edit")).await;
    let version = hidden(&page, "version").unwrap();
    let (status, _, _) = b
        .post(
            &format!("/ui/patients/{id}/edit"),
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("family", "Zimmerman-Lowe"),
                ("given", "Ada"),
                ("birth_date", "1961-04-12"),
                ("gender", "female"),
                ("phone", "555-0199"),
                ("confirm_new", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let stored = clinic.api(&format!("Patient/{id}")).await;
    assert_eq!(stored["name"][0]["family"], "Zimmerman-Lowe");
    // A stale version is refused.
    let (status, _, _) = b
        .post(
            &format!("/ui/patients/{id}/edit"),
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("family", "Other"),
                ("given", "Ada"),
                ("birth_date", "1961-04-12"),
                ("gender", "female"),
                ("confirm_new", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vitals_are_checked_and_stored_as_profiled_observations() {
    let clinic = Clinic::new().await;
    let nurse = clinic.staff("nurse.vitals", Role::Nurse, true).await;
    let ada = clinic.patients[0].clone();
    let mut b = Browser::new(&clinic.app.base);
    b.sign_in(&nurse).await;
    let path = format!("/ui/patients/{ada}/vitals");
    let (_, page, _) = b.get(&path).await;
    let csrf = hidden(&page, "_csrf").unwrap();
    let query = format!("Observation?patient=Patient/{ada}&category=vital-signs&_count=100");
    let before = count(&clinic, &query).await;
    // 800 kg is implausible: the whole form is refused, nothing stored.
    let (status, body, _) = b
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("heart_rate", "64"),
                ("weight", "800"),
                ("weight_unit", "kg"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("plausible range 2–500 kg"), "{body}");
    assert!(body.contains("value=\"64\""), "typed values are kept");
    let (status, body, _) = b
        .post(
            &path,
            &[("_csrf", &csrf), ("systolic", "80"), ("diastolic", "120")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("must be higher than diastolic"));
    assert_eq!(count(&clinic, &query).await, before);
    // Valid values: BP panel, temperature in °F, weight and height (+ BMI).
    let (status, _, _) = b
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("systolic", "118"),
                ("diastolic", "76"),
                ("temperature", "98.6"),
                ("temperature_unit", "[degF]"),
                ("weight", "70"),
                ("weight_unit", "kg"),
                ("height", "175"),
                ("height_unit", "cm"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(count(&clinic, &query).await, before + 5);
    let bp = resources(&clinic.api(&format!("Observation?patient=Patient/{ada}&code=http://loinc.org|85354-9&_sort=-date&_count=1")).await);
    assert_eq!(bp[0]["component"][0]["valueQuantity"]["value"], 118);
    assert_eq!(bp[0]["component"][1]["valueQuantity"]["code"], "mm[Hg]");
    assert_eq!(
        bp[0]["performer"][0]["reference"],
        format!("Practitioner/{}", clinic.practitioner)
    );
    let temp = resources(
        &clinic
            .api(&format!("Observation?patient=Patient/{ada}&code=8310-5"))
            .await,
    );
    assert_eq!(temp[0]["valueQuantity"]["code"], "[degF]");
    assert_eq!(temp[0]["valueQuantity"]["value"].to_string(), "98.6");
    let bmi = resources(
        &clinic
            .api(&format!("Observation?patient=Patient/{ada}&code=39156-5"))
            .await,
    );
    assert_eq!(bmi[0]["valueQuantity"]["value"].to_string(), "22.9");
    // The trends page draws the new values.
    let (_, page, _) = b.get(&path).await;
    assert!(page.contains("id=\"trend-systolic\"") && page.contains("<polyline"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_round_trip_through_fhir() {
    let clinic = Clinic::new().await;
    let doctor = clinic.staff("dr.lists", Role::Physician, true).await;
    let ada = clinic.patients[0].clone();
    let mut b = Browser::new(&clinic.app.base);
    b.sign_in(&doctor).await;
    let (_, page, _) = b.get(&format!("/ui/patients/{ada}/problems")).await;
    let csrf = hidden(&page, "_csrf").unwrap();
    let post = |path: &str| format!("/ui/patients/{ada}/{path}");
    // Problem: a malformed ICD-10-CM code is refused; a good one stored, then resolved.
    let (status, body, _) = b
        .post(
            &post("problems"),
            &[("_csrf", &csrf), ("problem", "Diabetes"), ("icd10", "E1")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("not an ICD-10-CM code"));
    // Well formed but not a billable code of the CMS table: refused too.
    let (status, body, _) = b
        .post(
            &post("problems"),
            &[("_csrf", &csrf), ("problem", "Diabetes"), ("icd10", "E11")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("not a billable ICD-10-CM code"));
    let (status, _, _) = b
        .post(
            &post("problems"),
            &[
                ("_csrf", &csrf),
                ("problem", "Type 2 diabetes mellitus without complications"),
                ("icd10", "e11.9"),
                ("onset", "2020-05-01"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let cond = resources(
        &clinic
            .api(&format!("Condition?patient=Patient/{ada}"))
            .await,
    );
    assert_eq!(cond.len(), 1);
    assert_eq!(cond[0]["code"]["coding"][0]["code"], "E11.9");
    assert_eq!(
        cond[0]["code"]["coding"][0]["display"],
        "Type 2 diabetes mellitus without complications"
    );
    assert_eq!(cond[0]["clinicalStatus"]["coding"][0]["code"], "active");
    let cid = cond[0]["id"].as_str().unwrap();
    let (status, _, _) = b
        .post(
            &post(&format!("problems/{cid}/resolve")),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 303);
    let c = clinic.api(&format!("Condition/{cid}")).await;
    assert_eq!(c["clinicalStatus"]["coding"][0]["code"], "resolved");
    // Allergy with reaction and severity.
    let (status, _, _) = b
        .post(
            &post("allergies"),
            &[
                ("_csrf", &csrf),
                ("substance", "Peanut"),
                ("category", "food"),
                ("reaction", "Anaphylaxis"),
                ("severity", "severe"),
                ("criticality", "high"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let a: Vec<Value> = resources(
        &clinic
            .api(&format!("AllergyIntolerance?patient=Patient/{ada}"))
            .await,
    )
    .into_iter()
    .filter(|a| a["code"]["text"] == "Peanut")
    .collect();
    assert_eq!(a[0]["reaction"][0]["severity"], "severe");
    assert_eq!(a[0]["criticality"], "high");
    // Medication: start, change (old stopped, new refers to it), stop.
    let (status, _, _) = b
        .post(
            &post("medications"),
            &[
                ("_csrf", &csrf),
                ("medication", "metformin 500 MG Oral Tablet"),
                ("rxnorm", "861007"),
                ("dosage", "1 tablet by mouth twice daily"),
                ("reason", "Type 2 diabetes"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let meds = resources(
        &clinic
            .api(&format!("MedicationRequest?patient=Patient/{ada}"))
            .await,
    );
    let first = meds[0]["id"].as_str().unwrap().to_string();
    let (status, _, _) = b
        .post(
            &post(&format!("medications/{first}/change")),
            &[
                ("_csrf", &csrf),
                ("dosage", "2 tablets by mouth twice daily"),
                ("reason", "HbA1c above goal"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let old = clinic.api(&format!("MedicationRequest/{first}")).await;
    assert_eq!(old["status"], "stopped");
    assert!(old["statusReason"]["text"]
        .as_str()
        .unwrap()
        .contains("HbA1c above goal"));
    let active = resources(
        &clinic
            .api(&format!(
                "MedicationRequest?patient=Patient/{ada}&status=active"
            ))
            .await,
    );
    assert_eq!(active.len(), 1);
    assert_eq!(
        active[0]["priorPrescription"]["reference"],
        format!("MedicationRequest/{first}")
    );
    assert_eq!(
        active[0]["dosageInstruction"][0]["text"],
        "2 tablets by mouth twice daily"
    );
    let second = active[0]["id"].as_str().unwrap().to_string();
    let (status, _, _) = b
        .post(
            &post(&format!("medications/{second}/stop")),
            &[("_csrf", &csrf), ("reason", "Stomach upset")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(resources(
        &clinic
            .api(&format!(
                "MedicationRequest?patient=Patient/{ada}&status=active"
            ))
            .await
    )
    .is_empty());
    // Stopping it again: a clear conflict, nothing changed.
    let (status, _, _) = b
        .post(
            &post(&format!("medications/{second}/stop")),
            &[("_csrf", &csrf), ("reason", "again")],
        )
        .await;
    assert_eq!(status, 409);
    // Immunization by CVX.
    let (status, body, _) = b
        .post(&post("immunizations"), &[("_csrf", &csrf), ("cvx", "999")])
        .await;
    assert_eq!(status, 422);
    assert!(body.contains("listed vaccines"));
    let (status, _, _) = b
        .post(
            &post("immunizations"),
            &[
                ("_csrf", &csrf),
                ("cvx", "115"),
                ("date", "2026-01-15"),
                ("lot", "AB123"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let imm = resources(
        &clinic
            .api(&format!("Immunization?patient=Patient/{ada}"))
            .await,
    );
    assert_eq!(
        imm[0]["vaccineCode"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/cvx"
    );
    assert_eq!(imm[0]["vaccineCode"]["coding"][0]["code"], "115");
    assert_eq!(imm[0]["lotNumber"], "AB123");
    // The summary shows what the lists hold.
    let (_, page, _) = b.get(&format!("/ui/patients/{ada}")).await;
    assert!(
        page.contains("Peanut") && page.contains("Tdap"),
        "summary lists the new allergy and immunization"
    );
}

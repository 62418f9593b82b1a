//! A running Concord with auth on, a clinic (practitioner, patients) and
//! staff accounts; a cookie-keeping HTTP client that signs in with TOTP.

use std::sync::atomic::{AtomicU64, Ordering};

use concord_auth::totp::{totp_at, TotpAlgorithm};
use concord_auth::{AccountKind, NewUser, Role};
use concord_testkit::TestApp;
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Clinic {
    pub app: TestApp,
    pub practitioner: String,
    /// Patients under the practitioner's care.
    pub patients: Vec<String>,
    /// A patient of someone else.
    pub stranger: String,
}

pub struct StaffUser {
    pub username: String,
    secret: Vec<u8>,
    /// TOTP time steps already used (each code works once).
    step: AtomicU64,
}

impl StaffUser {
    /// A fresh code: the current time step, else the next one (each
    /// code is accepted once); waits for a new step when both are used.
    pub async fn code(&self) -> String {
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let current = now / 30;
            let step = self.step.load(Ordering::SeqCst).max(current);
            if step <= current + 1 {
                self.step.store(step + 1, Ordering::SeqCst);
                return totp_at(&self.secret, step * 30, 6, TotpAlgorithm::Sha1);
            }
            tokio::time::sleep(std::time::Duration::from_secs(30 - now % 30)).await;
        }
    }
}

impl Clinic {
    pub async fn new() -> Clinic {
        let app = TestApp::spawn_with_auth().await;
        let ctx = app.context();
        let practitioner = app
            .engine
            .create(&ctx, "Practitioner", json!({"resourceType": "Practitioner", "name": [{"family": "Osler", "given": ["William"]}]}), None)
            .await
            .unwrap()
            .id;
        let org = app
            .engine
            .create(
                &ctx,
                "Organization",
                json!({"resourceType": "Organization", "name": "Riverside Family Practice"}),
                None,
            )
            .await
            .unwrap()
            .id;
        let site = app
            .engine
            .create(
                &ctx,
                "Location",
                json!({"resourceType": "Location", "name": "Riverside North Clinic"}),
                None,
            )
            .await
            .unwrap()
            .id;
        let mut patients = Vec::new();
        for (family, given, birth, phone) in [
            ("Zimmerman", "Ada", "1961-04-12", "555-0101"),
            ("Quinterro", "Bruno", "1987-09-30", "555-0102"),
        ] {
            let p = json!({"resourceType": "Patient", "name": [{"family": family, "given": [given]}],
                "birthDate": birth, "gender": "female",
                "telecom": [{"system": "phone", "value": phone}],
                "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "system": "urn:test:mrn", "value": format!("MRN-{family}")}],
                "generalPractitioner": [{"reference": format!("Practitioner/{practitioner}")}]});
            patients.push(
                app.engine
                    .create(&ctx, "Patient", p, None)
                    .await
                    .unwrap()
                    .id,
            );
        }
        let ada = &patients[0];
        app.engine
            .create(&ctx, "Encounter", json!({"resourceType": "Encounter", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": format!("Patient/{ada}")},
                "participant": [{"individual": {"reference": format!("Practitioner/{practitioner}")}}],
                "period": {"start": "2026-03-01T09:00:00Z"},
                "serviceProvider": {"reference": format!("Organization/{org}")},
                "location": [{"location": {"reference": format!("Location/{site}")}}]}), None)
            .await
            .unwrap();
        app.engine
            .create(&ctx, "AllergyIntolerance", json!({"resourceType": "AllergyIntolerance",
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
                "code": {"text": "Penicillin"}, "patient": {"reference": format!("Patient/{ada}")},
                "reaction": [{"manifestation": [{"text": "Hives"}], "severity": "moderate"}]}), None)
            .await
            .unwrap();
        // Potassium results over a year, the last one high (values and
        // range as a lab reports them; here only data for the chart).
        for (i, (date, value, flag)) in [
            ("2025-06-01", "4.1", None),
            ("2025-12-01", "4.8", None),
            ("2026-05-01", "5.9", Some("H")),
        ]
        .iter()
        .enumerate()
        {
            let mut o = json!({"resourceType": "Observation", "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}], "text": "Potassium"},
                "subject": {"reference": format!("Patient/{ada}")},
                "effectiveDateTime": format!("{date}T08:0{i}:00Z"),
                "valueQuantity": {"value": value.parse::<f64>().unwrap(), "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
                "referenceRange": [{"low": {"value": 3.5, "unit": "mmol/L"}, "high": {"value": 5.1, "unit": "mmol/L"}}]});
            if let Some(f) = flag {
                o["interpretation"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": f}]}]);
            }
            app.engine
                .create(&ctx, "Observation", o, None)
                .await
                .unwrap();
        }
        for (i, (date, sys, dia)) in [
            ("2025-06-01", 142, 91),
            ("2025-12-01", 135, 86),
            ("2026-05-01", 128, 82),
        ]
        .iter()
        .enumerate()
        {
            app.engine
                .create(&ctx, "Observation", json!({"resourceType": "Observation", "status": "final",
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
                    "subject": {"reference": format!("Patient/{ada}")},
                    "effectiveDateTime": format!("{date}T08:1{i}:00Z"),
                    "component": [
                        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": sys, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": dia, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]}), None)
                .await
                .unwrap();
        }
        let stranger = app
            .engine
            .create(&ctx, "Patient", json!({"resourceType": "Patient", "name": [{"family": "Zimmerman", "given": ["Otto"]}], "birthDate": "1950-01-01", "gender": "male"}), None)
            .await
            .unwrap()
            .id;
        Clinic {
            app,
            practitioner,
            patients,
            stranger,
        }
    }

    pub async fn staff(&self, username: &str, role: Role, practitioner: bool) -> StaffUser {
        let fhir_user = practitioner.then(|| format!("Practitioner/{}", self.practitioner));
        self.staff_as(username, role, fhir_user).await
    }

    /// A staff account linked to `fhir_user` (e.g. another Practitioner).
    pub async fn staff_as(
        &self,
        username: &str,
        role: Role,
        fhir_user: Option<String>,
    ) -> StaffUser {
        let created = self
            .app
            .auth
            .as_ref()
            .unwrap()
            .add_user(NewUser {
                username: username.into(),
                display_name: format!("Test {username}"),
                kind: AccountKind::Staff(role),
                password: PASSWORD.into(),
                fhir_user,
                with_totp: true,
            })
            .await
            .unwrap();
        StaffUser {
            username: username.into(),
            secret: created.totp_secret.unwrap(),
            step: AtomicU64::new(0),
        }
    }

    /// An operator token for checking stored data through the FHIR API.
    pub async fn operator(&self) -> String {
        self.app
            .auth
            .as_ref()
            .unwrap()
            .operator_token(&self.app.base, "web-test", "system/*.*")
            .await
            .unwrap()
    }

    /// `GET` on the FHIR API as the operator, flushing the audit writer first.
    pub async fn api(&self, path: &str) -> Value {
        self.app.state().audit.flush().await;
        let token = self.operator().await;
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }
}

/// The resources of a search Bundle.
pub fn resources(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

/// A browser-like HTTP client: keeps cookies by hand, follows no redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: Vec<(String, String)>,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !v.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, r.text().await.unwrap(), location)
    }

    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, Option<String>) {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, r.text().await.unwrap(), location)
    }

    /// Signs in (password + TOTP); panics if refused.
    pub async fn sign_in(&mut self, user: &StaffUser) {
        let (_, page, _) = self.get("/ui/login").await;
        let csrf = hidden(&page, "_csrf").expect("login form has a CSRF token");
        let code = user.code().await;
        let (status, body, location) = self
            .post(
                "/ui/login",
                &[
                    ("_csrf", &csrf),
                    ("username", &user.username),
                    ("password", PASSWORD),
                    ("totp", &code),
                    ("next", "/ui/"),
                ],
            )
            .await;
        assert_eq!(status, 303, "sign-in refused: {body}");
        assert_eq!(location.as_deref(), Some("/ui/"));
    }
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

//! The access matrix over HTTP: every role of `docs/security.md` ×
//! read/search/create/update/delete × one resource type per category, plus
//! patient tokens against other patients' data. Expectations come from the
//! table in docs/security.md itself: a permitted letter gives the success
//! status; a refused read (or a write to what the caller cannot read) is
//! 404; a refused search, create or write to a readable resource is 403.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use super::common::*;

/// One representative type per category, in the doc's column order.
const TYPES: [(&str, &str); 7] = [
    ("demographics", "Patient"),
    ("clinical", "Observation"),
    ("scheduling", "Appointment"),
    ("financial", "Coverage"),
    ("directory", "Practitioner"),
    ("audit", "AuditEvent"),
    ("definitions", "ValueSet"),
];

const CLINICIANS: [&str; 3] = ["physician", "nurse", "medical-assistant"];

/// `role → category → letters`, read from docs/security.md.
fn documented() -> Vec<(String, HashMap<String, String>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/security.md");
    let doc = std::fs::read_to_string(path).expect("docs/security.md");
    let table = doc
        .split("<!-- matrix:begin -->")
        .nth(1)
        .and_then(|t| t.split("<!-- matrix:end -->").next())
        .expect("matrix markers");
    let mut lines = table.lines().filter(|l| l.starts_with('|'));
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('|')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    lines
        .skip(1)
        .map(|l| {
            let cells: Vec<String> = l
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .filter(|c| !c.is_empty())
                .collect();
            let row = header[1..]
                .iter()
                .cloned()
                .zip(cells[1..].iter().cloned())
                .collect();
            (cells[0].clone(), row)
        })
        .collect()
}

/// A valid resource of `rtype` (id given or not) in `patient`'s compartment.
fn resource(rtype: &str, id: Option<&str>, patient: &str) -> Value {
    let subject = json!({"reference": format!("Patient/{patient}")});
    let mut r = match rtype {
        "Patient" => json!({"generalPractitioner": CLINICIANS
            .iter()
            .map(|c| json!({"reference": format!("Practitioner/{c}")}))
            .collect::<Vec<_>>()}),
        "Observation" => json!({"status": "final", "code": {"text": "bp"}, "subject": subject}),
        "Appointment" => json!({"status": "booked", "start": "2026-03-01T10:00:00Z",
            "end": "2026-03-01T10:30:00Z",
            "participant": [{"actor": subject, "status": "accepted"}]}),
        "Coverage" => json!({"status": "active", "beneficiary": subject,
            "payor": [{"reference": "Organization/payer"}]}),
        "AuditEvent" => {
            json!({"type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110"},
            "recorded": "2026-01-01T00:00:00Z",
            "agent": [{"requestor": true, "who": {"reference": "Device/ehr"}}],
            "source": {"observer": {"reference": "Device/ehr"}},
            "entity": [{"what": subject}]})
        }
        "ValueSet" => json!({"status": "draft"}),
        _ => json!({}),
    };
    r["resourceType"] = json!(rtype);
    if let Some(id) = id {
        r["id"] = json!(id);
    }
    r
}

struct Cells {
    checked: usize,
    failures: Vec<String>,
}

impl Cells {
    fn check(&mut self, what: String, got: u16, want: u16) {
        self.checked += 1;
        if got != want {
            self.failures
                .push(format!("{what}: got {got}, documented {want}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cell_of_the_documented_matrix_over_http() {
    let w = World::new().await;
    let rows = documented();
    assert_eq!(rows.len(), 10, "eight staff roles, patient, proxy");
    w.seed(json!({"resourceType": "Organization", "id": "payer", "name": "Payer"}))
        .await;
    // pm: the patient of the patient and proxy accounts, treated by every
    // clinician (care team); px: somebody else.
    for p in ["pm", "px"] {
        w.seed(resource("Patient", Some(p), p)).await;
    }
    let mut shared = HashMap::new();
    for (_, t) in TYPES {
        let id = format!("shared-{}", t.to_lowercase());
        let id = if t == "Patient" { "pm".to_string() } else { id };
        if t != "Patient" {
            w.seed(resource(t, Some(&id), "pm")).await;
        }
        shared.insert(t, id);
    }
    let mut cells = Cells {
        checked: 0,
        failures: Vec::new(),
    };
    for (role, perms) in &rows {
        let token = match role.as_str() {
            "patient" => {
                let mut c = user_claims(&w, "pat", "patient", None, &["pm"], "patient/*.cruds");
                c.patient = Some("pm".into());
                mint(&w, &c).await
            }
            "proxy" => {
                let mut c =
                    user_claims(&w, "prox", "proxy", None, &["pm", "pk"], "patient/*.cruds");
                c.patient = Some("pm".into());
                mint(&w, &c).await
            }
            staff => staff_token(&w, staff, staff).await,
        };
        let account = role == "patient" || role == "proxy";
        for (category, t) in TYPES {
            let letters = perms.get(category).cloned().unwrap_or_default();
            let has = |l: char| letters.contains(l);
            let target = &shared[t];
            let cell = |op: &str| format!("{role} × {op} × {t} ({category}: {letters})");
            // read
            let r = send(&w, Method::GET, &format!("/{t}/{target}"), &token, None).await;
            cells.check(
                cell("read"),
                r.status().as_u16(),
                if has('r') { 200 } else { 404 },
            );
            // search
            let r = send(&w, Method::GET, &format!("/{t}?_id={target}"), &token, None).await;
            let status = r.status().as_u16();
            cells.check(cell("search"), status, if has('s') { 200 } else { 403 });
            if status == 200 {
                let n = json(r).await["entry"].as_array().map_or(0, Vec::len);
                cells.check(cell("search finds"), n as u16, 1);
            }
            // create
            let body = resource(t, None, "pm");
            let r = send(&w, Method::POST, &format!("/{t}"), &token, Some(&body)).await;
            cells.check(
                cell("create"),
                r.status().as_u16(),
                if has('c') { 201 } else { 403 },
            );
            // update and delete, each on a resource of its own (accounts
            // have no write letters: their own record is the target).
            let refused = if has('r') { 403 } else { 404 };
            // AuditEvents are append-only (docs/security.md): a delete is
            // refused for the type (405, whoever asks, existing or not);
            // replacing one the caller can see is 405, one it cannot see
            // stays hidden (404).
            let append_only = t == "AuditEvent";
            let (update_want, delete_want) = if append_only {
                (if has('r') { 405 } else { refused }, 405)
            } else {
                (
                    if has('u') { 200 } else { refused },
                    if has('d') { 200 } else { refused },
                )
            };
            for (op, method, want) in [
                ("update", Method::PUT, update_want),
                ("delete", Method::DELETE, delete_want),
            ] {
                let id = if account {
                    target.clone()
                } else {
                    let id = format!("{op}-{role}-{}", t.to_lowercase());
                    w.seed(resource(
                        t,
                        Some(&id),
                        if t == "Patient" { &id } else { "pm" },
                    ))
                    .await;
                    id
                };
                let body = resource(t, Some(&id), if t == "Patient" { &id } else { "pm" });
                let body = (method == Method::PUT).then_some(&body);
                let r = send(&w, method, &format!("/{t}/{id}"), &token, body).await;
                cells.check(cell(op), r.status().as_u16(), want);
            }
        }
    }
    // Patient and proxy tokens against another patient's data.
    let alice = {
        let mut c = user_claims(&w, "pat", "patient", None, &["pm"], "patient/*.rs");
        c.patient = Some("pm".into());
        mint(&w, &c).await
    };
    for (_, t) in TYPES {
        if !matches!(
            t,
            "Patient" | "Observation" | "Appointment" | "Coverage" | "AuditEvent"
        ) {
            continue;
        }
        let id = if t == "Patient" {
            "px".to_string()
        } else {
            let id = format!("other-{}", t.to_lowercase());
            w.seed(resource(t, Some(&id), "px")).await;
            id
        };
        let r = send(&w, Method::GET, &format!("/{t}/{id}"), &alice, None).await;
        cells.check(
            format!("patient × read other's {t}"),
            r.status().as_u16(),
            404,
        );
        let r = send(
            &w,
            Method::GET,
            &format!("/{t}?_id={id}&_total=accurate"),
            &alice,
            None,
        )
        .await;
        let b = json(r).await;
        cells.check(
            format!("patient × search other's {t} (total)"),
            b["total"].as_u64().unwrap_or(99) as u16,
            0,
        );
    }
    println!(
        "access matrix: {} cells checked ({} roles × 5 interactions × {} types, plus other-patient cells)",
        cells.checked,
        rows.len(),
        TYPES.len()
    );
    assert!(
        cells.failures.is_empty(),
        "{} cells disagree with docs/security.md:\n{}",
        cells.failures.len(),
        cells.failures.join("\n")
    );
}

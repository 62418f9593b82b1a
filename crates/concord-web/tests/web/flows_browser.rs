//! Clinical workflows in real headless Chromium (issue 5): write and sign a
//! SOAP note with a diagnosis, prescribe, order a lab, sign off a result in
//! the inbox, book an appointment — each checked through the FHIR API.
//! Screenshots: `docs/screenshots/note-editor.png`, `schedule.png`.

use std::path::Path;
use std::time::Duration;

use concord_auth::Role;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::chromedriver;
use crate::support::{resources, Clinic, PASSWORD};

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn choose(c: &Client, select_id: &str, value: &str) {
    c.find(Locator::Css(&format!(
        "select#{select_id} option[value='{value}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn main_text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn wait_text(c: &Client, needle: &str) -> String {
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css("main")).await {
            if let Ok(t) = e.text().await {
                if t.contains(needle) {
                    return t;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page never showed {needle:?}: {}", main_text(c).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn physician_documents_orders_prescribes_reviews_and_books() {
    let Some((_driver, c)) = chromedriver::start("the clinical workflow browser test").await else {
        return;
    };
    let clinic = Clinic::new().await;
    let doctor = clinic.staff("dr.flows", Role::Physician, true).await;
    let ada = clinic.patients[0].clone();
    let base = clinic.app.base.clone();
    let ctx = clinic.app.context();
    let site = clinic
        .app
        .engine
        .create(
            &ctx,
            "Location",
            json!({"resourceType": "Location", "name": "Riverside South Clinic"}),
            None,
        )
        .await
        .unwrap()
        .id;

    // Sign in with password and authenticator code.
    c.goto(&format!("{base}/ui/patients/{ada}/visit"))
        .await
        .unwrap();
    fill(&c, "#f-username", "dr.flows").await;
    fill(&c, "#f-password", PASSWORD).await;
    let code = doctor.code().await;
    fill(&c, "#f-totp", &code).await;
    c.find(Locator::Id("f-totp"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("select#f-template"))
        .await
        .unwrap();

    // 1. Start a visit from the follow-up template; write, diagnose, sign.
    choose(&c, "f-template", "follow-up").await;
    fill(&c, "#f-reason", "Diabetes review").await;
    click(&c, "form[action$='/visit'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Id("note-form"))
        .await
        .unwrap();
    let subjective = c.find(Locator::Id("f-subjective")).await.unwrap();
    assert!(
        subjective
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
            .starts_with("Reason for follow-up:"),
        "template prompts prefilled"
    );
    fill(
        &c,
        "#f-subjective",
        "Reason for follow-up: diabetes\nThirsty at night; no hypoglycaemia.",
    )
    .await;
    fill(&c, "#f-objective", "BP 128/82, weight stable.").await;
    fill(&c, "#f-assessment", "Type 2 diabetes, stable.").await;
    fill(&c, "#f-plan", "Repeat HbA1c; continue current medication.").await;
    click(&c, "#note-form button[type=submit]").await;
    wait_text(&c, "Draft saved.").await;
    fill(&c, "#f-dx", "type 2 diabetes without compl").await;
    click(&c, "form[role=search] button").await;
    c.wait()
        .for_element(Locator::Css("button[aria-label^='Add E11.9 ']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_text(&c, "Diagnosis added.").await;
    assert!(
        page.contains("E11.9 Type 2 diabetes mellitus without complications"),
        "{page}"
    );
    shot(&c, "note-editor.png").await;
    click(&c, "button#sign").await;
    let page = wait_text(&c, "Note signed and locked.").await;
    assert!(page.contains("Thirsty at night; no hypoglycaemia."));
    assert!(
        c.find(Locator::Id("note-form")).await.is_err(),
        "a signed note has no editor"
    );

    let notes = resources(
        &clinic
            .api(&format!("Composition?subject=Patient/{ada}"))
            .await,
    );
    assert_eq!(notes.len(), 1);
    let note = &notes[0];
    assert_eq!(note["status"], "final");
    assert_eq!(note["attester"][0]["mode"], "legal");
    assert_eq!(
        note["attester"][0]["party"]["reference"],
        format!("Practitioner/{}", clinic.practitioner)
    );
    assert_eq!(note["type"]["coding"][0]["code"], "11506-3");
    let encounter = note["encounter"]["reference"].as_str().unwrap().to_string();
    let conditions = resources(
        &clinic
            .api(&format!("Condition?encounter={encounter}"))
            .await,
    );
    assert_eq!(conditions.len(), 1);
    assert_eq!(
        conditions[0]["code"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/icd-10-cm"
    );
    assert_eq!(conditions[0]["code"]["coding"][0]["code"], "E11.9");
    assert_eq!(
        conditions[0]["category"][0]["coding"][0]["code"],
        "encounter-diagnosis"
    );
    let assessment = note["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Assessment")
        .unwrap();
    assert_eq!(
        assessment["entry"][0]["reference"],
        format!("Condition/{}", conditions[0]["id"].as_str().unwrap())
    );
    let enc = clinic.api(&encounter).await;
    assert_eq!(
        enc["status"], "finished",
        "signing the note finishes the visit"
    );

    // 2. Prescribe: a bad sig is refused with a message; a good one is stored.
    c.goto(&format!("{base}/ui/patients/{ada}/orders"))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("select#f-drug"))
        .await
        .unwrap();
    choose(&c, "f-drug", "314076").await;
    fill(&c, "#f-dose", "0").await;
    choose(&c, "f-dose_unit", "tablet").await;
    choose(&c, "f-route", "26643006").await;
    choose(&c, "f-frequency", "BID").await;
    fill(&c, "#f-duration_days", "30").await;
    fill(&c, "#f-quantity", "60").await;
    fill(&c, "#f-refills", "2").await;
    click(&c, "form[action$='/orders/rx'] button[type=submit]").await;
    let alert = c
        .wait()
        .for_element(Locator::Css("div.alert.error"))
        .await
        .unwrap();
    assert!(alert
        .text()
        .await
        .unwrap()
        .contains("dose: must be more than zero"));
    assert!(resources(
        &clinic
            .api(&format!("MedicationRequest?subject=Patient/{ada}"))
            .await
    )
    .is_empty());
    fill(&c, "#f-dose", "1").await;
    click(&c, "form[action$='/orders/rx'] button[type=submit]").await;
    wait_text(&c, "Prescription saved.").await;
    let rx = resources(
        &clinic
            .api(&format!("MedicationRequest?subject=Patient/{ada}"))
            .await,
    );
    assert_eq!(rx.len(), 1);
    assert_eq!(
        rx[0]["medicationCodeableConcept"]["coding"][0]["code"],
        "314076"
    );
    let dosage = &rx[0]["dosageInstruction"][0];
    assert_eq!(dosage["timing"]["code"]["coding"][0]["code"], "BID");
    assert_eq!(dosage["timing"]["repeat"]["frequency"], 2);
    assert_eq!(dosage["route"]["coding"][0]["code"], "26643006");
    assert_eq!(dosage["doseAndRate"][0]["doseQuantity"]["value"], 1);
    assert_eq!(rx[0]["dispenseRequest"]["quantity"]["value"], 60);
    assert_eq!(rx[0]["dispenseRequest"]["numberOfRepeatsAllowed"], 2);
    assert_eq!(
        rx[0]["requester"]["reference"],
        format!("Practitioner/{}", clinic.practitioner)
    );

    // 3. Order a lab.
    choose(&c, "f-code", "4548-4").await;
    choose(&c, "f-priority", "routine").await;
    fill(&c, "#f-note", "Diabetes follow-up").await;
    click(&c, "form[action$='/orders/service'] button[type=submit]").await;
    wait_text(&c, "Order placed.").await;
    let orders = resources(
        &clinic
            .api(&format!("ServiceRequest?subject=Patient/{ada}"))
            .await,
    );
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["code"]["coding"][0]["code"], "4548-4");
    assert_eq!(orders[0]["intent"], "order");
    assert_eq!(orders[0]["status"], "active");

    // 4. Results inbox: the high potassium first; sign it off.
    c.goto(&format!("{base}/ui/inbox")).await.unwrap();
    let first = c
        .wait()
        .for_element(Locator::Css("table#inbox tbody tr"))
        .await
        .unwrap();
    let row = first.text().await.unwrap();
    assert!(row.starts_with("abnormal"), "abnormal first: {row}");
    let result = first.attr("data-ref").await.unwrap().unwrap();
    let before = c
        .find_all(Locator::Css("table#inbox tbody tr"))
        .await
        .unwrap()
        .len();
    first
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "Result signed off.").await;
    let after = c
        .find_all(Locator::Css("table#inbox tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(after, before - 1);
    assert!(!main_text(&c).await.contains(&result));
    let tasks = resources(&clinic.api(&format!("Task?focus={result}")).await);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["status"], "completed");
    assert_eq!(tasks[0]["code"]["coding"][0]["code"], "result-review");
    assert_eq!(
        tasks[0]["owner"]["reference"],
        format!("Practitioner/{}", clinic.practitioner)
    );

    // 5. Schedule: create slots for every day of the week, book one.
    c.goto(&format!("{base}/ui/schedule")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("f-location"))
        .await
        .unwrap();
    fill(&c, "#f-location", &format!("Location/{site}")).await;
    fill(&c, "#f-days", "1").await;
    for day in ["Sat", "Sun"] {
        click(&c, &format!("input[name=weekday][value={day}]")).await;
    }
    click(&c, "form[action$='/schedule/setup'] button[type=submit]").await;
    wait_text(&c, "Schedule saved.").await;
    let slots = c
        .find_all(Locator::Css("table#free-slots tbody tr"))
        .await
        .unwrap();
    assert_eq!(slots.len(), 9, "09:00–12:00 in 20-minute slots");
    let slot_id = slots[1].attr("data-id").await.unwrap().unwrap();
    // The patient picker: search by name, choose from the matches (no
    // script: a GET form and links; the id travels in a hidden field).
    fill(&c, "#f-pname", "Zimmer").await;
    click(
        &c,
        "form[aria-label='Find the patient to book'] button[type=submit]",
    )
    .await;
    c.wait()
        .for_element(Locator::Css("table#patient-picker"))
        .await
        .unwrap();
    click(&c, &format!("table#patient-picker tr[data-id='{ada}'] a")).await;
    let page = wait_text(&c, "Booking for").await;
    assert!(page.contains("Booking for Zimmerman, Ada"), "{page}");
    fill(&c, &format!("#r-{slot_id}"), "Diabetes follow-up").await;
    click(&c, &format!("tr[data-id='{slot_id}'] button[type=submit]")).await;
    let page = wait_text(&c, "Appointment booked.").await;
    assert!(page.contains("09:20–09:40"), "{page}");
    assert!(
        page.contains("Zimmerman, Ada"),
        "the day list names the patient: {page}"
    );
    assert_eq!(
        c.find_all(Locator::Css("table#free-slots tbody tr"))
            .await
            .unwrap()
            .len(),
        8
    );
    shot(&c, "schedule.png").await;
    let appts = resources(
        &clinic
            .api(&format!("Appointment?patient=Patient/{ada}"))
            .await,
    );
    assert_eq!(appts.len(), 1);
    assert_eq!(appts[0]["status"], "booked");
    assert_eq!(appts[0]["slot"][0]["reference"], format!("Slot/{slot_id}"));
    assert_eq!(appts[0]["description"], "Diabetes follow-up");
    let slot = clinic.api(&format!("Slot/{slot_id}")).await;
    assert_eq!(slot["status"], "busy");
    c.close().await.unwrap();
}

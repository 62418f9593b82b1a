//! The UI in real headless Chromium (Debian `chromium` + `chromium-driver`)
//! through WebDriver: sign in with MFA, find a patient, open the chart,
//! record vitals, view trends — each step checked through the FHIR API.
//! Screenshots of the main pages go to `docs/screenshots/`. One browser
//! session for the whole binary; a loud SKIPPED line without Chromium.

use std::path::{Path, PathBuf};

use concord_auth::Role;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::chromedriver;
use crate::support::{resources, Clinic, PASSWORD};

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = screenshots();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinician_signs_in_finds_a_patient_opens_the_chart_and_records_vitals() {
    let Some((_driver, c)) = chromedriver::start("the browser tests").await else {
        return;
    };
    let clinic = Clinic::new().await;
    let nurse = clinic.staff("nurse.browser", Role::Nurse, true).await;
    let ada = clinic.patients[0].clone();
    let base = &clinic.app.base;

    // 1. Sign in with password and authenticator code (keyboard only).
    c.goto(&format!("{base}/ui/patients")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/ui/login"));
    fill(&c, "f-username", "nurse.browser").await;
    fill(&c, "f-password", PASSWORD).await;
    let code = nurse.code().await;
    let totp = c.find(Locator::Id("f-totp")).await.unwrap();
    totp.send_keys(&code).await.unwrap();
    totp.send_keys("\u{E007}").await.unwrap(); // Enter submits
    c.wait()
        .for_element(Locator::Css("input#f-name"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/ui/patients"),
        "back to the page asked for"
    );
    let logins = resources(&clinic.api("AuditEvent?subtype=110122").await);
    assert!(
        logins
            .iter()
            .any(|e| e["outcome"] == "0" && e["agent"].to_string().contains("nurse")),
        "the sign-in is audited"
    );

    // 2. Find the patient by name and birth date.
    fill(&c, "f-name", "zimm").await;
    fill(&c, "f-birthdate", "04121961").await; // typed into the date field
    c.find(Locator::Css("form.search button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let link = c
        .wait()
        .for_element(Locator::LinkText("Zimmerman, Ada"))
        .await
        .unwrap();
    let listed = text(&c).await;
    assert!(
        !listed.contains("Otto"),
        "only the care team's patient is listed"
    );
    let searches = resources(
        &clinic
            .api(&format!(
                "AuditEvent?patient=Patient/{ada}&subtype=search-type"
            ))
            .await,
    );
    assert!(
        !searches.is_empty(),
        "the search is audited with the patient found"
    );

    // 3. Open the chart: banner, summary, timeline.
    link.click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("section.banner"))
        .await
        .unwrap();
    let chart = text(&c).await;
    for expected in [
        "Ada Zimmerman",
        "MRN MRN-Zimmerman",
        "Allergies: Penicillin",
        "Potassium",
        "Riverside North Clinic",
        "Riverside Family Practice",
    ] {
        assert!(chart.contains(expected), "chart shows {expected}: {chart}");
    }
    shot(&c, "chart-summary.png").await;
    let reads = resources(
        &clinic
            .api(&format!("AuditEvent?patient=Patient/{ada}&subtype=read"))
            .await,
    );
    assert!(
        reads
            .iter()
            .any(|e| e["agent"].to_string().contains("nurse")),
        "the chart view is audited"
    );

    // 4. Record vitals: an implausible value is refused with a message, then saved.
    c.find(Locator::LinkText("Vitals"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("f-systolic"))
        .await
        .unwrap();
    fill(&c, "f-systolic", "124").await;
    fill(&c, "f-diastolic", "79").await;
    fill(&c, "f-heart_rate", "680").await;
    c.find(Locator::Css("form[action$='/vitals'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let alert = c
        .wait()
        .for_element(Locator::Css("div.alert.error"))
        .await
        .unwrap();
    assert!(alert
        .text()
        .await
        .unwrap()
        .contains("Heart rate: 680 beats/min is outside the plausible range 0–300"));
    let stored = resources(
        &clinic
            .api(&format!(
                "Observation?patient=Patient/{ada}&code=85354-9&_count=50"
            ))
            .await,
    )
    .len();
    assert_eq!(stored, 3, "nothing stored from the refused form");
    fill(&c, "f-heart_rate", "68").await;
    fill(&c, "f-weight", "154").await;
    c.find(Locator::Css("select#f-weight_unit option[value='[lb_av]']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("form[action$='/vitals'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("div.alert.ok"))
        .await
        .unwrap();
    let bp = resources(
        &clinic
            .api(&format!(
                "Observation?patient=Patient/{ada}&code=85354-9&_sort=-date&_count=1"
            ))
            .await,
    );
    assert_eq!(bp[0]["component"][0]["valueQuantity"]["value"], 124);
    assert_eq!(bp[0]["component"][1]["valueQuantity"]["value"], 79);
    let weight = resources(
        &clinic
            .api(&format!("Observation?patient=Patient/{ada}&code=29463-7"))
            .await,
    );
    assert_eq!(weight[0]["valueQuantity"]["code"], "[lb_av]");
    assert_eq!(weight[0]["valueQuantity"]["value"], 154);
    assert_eq!(weight[0]["category"][0]["coding"][0]["code"], "vital-signs");
    let page = text(&c).await;
    assert!(page.contains("Vital signs saved."));
    c.find(Locator::Css("svg#trend-systolic")).await.unwrap();
    shot(&c, "vitals-trends.png").await;

    // 5. Lab trends with the reference range band and the high value flagged.
    c.find(Locator::LinkText("Lab results"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let chart = c
        .wait()
        .for_element(Locator::Css("svg#lab-trend-0"))
        .await
        .unwrap();
    let svg = chart.html(false).await.unwrap();
    assert!(
        svg.contains("class=\"band\"") && svg.contains("#a1161f"),
        "range band and the flagged point"
    );
    // Drawn as a chart: line and points are the SVG's own children, with a size.
    let drawn = c
        .execute(
            "const s = document.querySelector('svg#lab-trend-0'); \
             const line = s.querySelector(':scope > polyline'); \
             return line !== null && line.getBoundingClientRect().width > 100 \
                 && s.querySelectorAll(':scope > circle').length === 3;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        drawn,
        json!(true),
        "the trend line and its three points are drawn"
    );
    assert!(text(&c).await.contains("H high"));
    shot(&c, "lab-trends.png").await;

    // 6. Tablet width: the chart still fits (no horizontal scrolling of the page).
    c.set_window_size(768, 1024).await.unwrap();
    c.goto(&format!("{base}/ui/patients/{ada}")).await.unwrap();
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!(true), "no horizontal overflow at 768px");
    shot(&c, "chart-summary-tablet.png").await;
    c.close().await.unwrap();
}

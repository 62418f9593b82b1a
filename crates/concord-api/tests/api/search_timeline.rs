//! `X?patient=P&_sort=-date` is answered by walking the patient timeline
//! (`patient_timeline`, newest first) instead of sorting every resource of
//! the patient. These tests hold it to the general query's answer: the same
//! resources in the same order (newest first, ties by id, no date last),
//! paging both ways, updates and deletes reflected, other conditions
//! applied, an absolute subject URL found as `patient=` finds it.

use serde_json::{json, Value};

use crate::common::*;

fn obs(subject: &str, code: &str, when: Option<Value>) -> Value {
    let mut o = json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": subject}});
    if let (Some(when), Some(m)) = (when, o.as_object_mut()) {
        let key = if when.is_object() {
            "effectivePeriod"
        } else {
            "effectiveDateTime"
        };
        m.insert(key.into(), when);
    }
    o
}

#[tokio::test]
async fn newest_first_by_patient_matches_the_general_order() {
    let app = TestApp::spawn().await;
    let p = create(&app, &patient("Timeline")).await;
    let q = create(&app, &patient("Other")).await;
    let me = format!("Patient/{p}");
    put_with_id(
        &app,
        "Observation",
        "t-2020",
        obs(&me, "1-1", Some(json!("2020-01-01"))),
    )
    .await;
    put_with_id(
        &app,
        "Observation",
        "t-2022-b",
        obs(&me, "1-1", Some(json!("2022-05-05T10:00:00Z"))),
    )
    .await;
    put_with_id(
        &app,
        "Observation",
        "t-2021",
        obs(&me, "2-2", Some(json!("2021-03-03"))),
    )
    .await;
    put_with_id(
        &app,
        "Observation",
        "t-2022-a",
        obs(&me, "1-1", Some(json!("2022-05-05T10:00:00Z"))),
    )
    .await;
    put_with_id(&app, "Observation", "t-none", obs(&me, "1-1", None)).await;
    // A period ending in 2023 sorts by its end, descending.
    put_with_id(
        &app,
        "Observation",
        "t-period",
        obs(
            &me,
            "2-2",
            Some(json!({"start": "2019-01-01", "end": "2023-01-01"})),
        ),
    )
    .await;
    // An absolute subject URL naming the same id also matches `patient=`.
    put_with_id(
        &app,
        "Observation",
        "t-url",
        obs(
            &format!("http://other.example/fhir/Patient/{p}"),
            "1-1",
            Some(json!("2024-01-01")),
        ),
    )
    .await;
    put_with_id(
        &app,
        "Observation",
        "t-deleted",
        obs(&me, "1-1", Some(json!("2025-01-01"))),
    )
    .await;
    delete(&app, "Observation/t-deleted").await;
    put_with_id(
        &app,
        "Observation",
        "t-other",
        obs(&format!("Patient/{q}"), "1-1", Some(json!("2026-01-01"))),
    )
    .await;

    let expected = [
        "t-url", "t-period", "t-2022-a", "t-2022-b", "t-2021", "t-2020", "t-none",
    ];
    let query = format!("Observation?patient={p}&_sort=-date");
    for count in [1, 2, 3, 100] {
        assert_eq!(
            all_pages(&app, &query, count).await,
            expected,
            "pages of {count}"
        );
    }
    // The general query (a second sort key takes it) agrees.
    let general = format!("Observation?patient={p}&_sort=-date,_id");
    assert_eq!(all_pages(&app, &general, 100).await, expected);
    // Other conditions still apply.
    let coded = all_pages(&app, &format!("{query}&code=2-2"), 1).await;
    assert_eq!(coded, ["t-period", "t-2021"]);
    // A lower date bound ends the walk early, with the same answer.
    let since = all_pages(&app, &format!("{query}&date=ge2021-06-01"), 1).await;
    assert_eq!(since, ["t-url", "t-period", "t-2022-a", "t-2022-b"]);
    assert_eq!(
        all_pages(&app, &format!("{general}&date=ge2021-06-01"), 100).await,
        since
    );
    // `previous` from the second page gives the first page back.
    let first = get(&app, &format!("{query}&_count=3")).await;
    let second = get_url(&link(&first, "next").expect("next")).await;
    assert_eq!(ids(&second), ["t-2022-b", "t-2021", "t-2020"]);
    let back = get_url(&link(&second, "previous").expect("previous")).await;
    assert_eq!(ids(&back), ids(&first));
    // A new version moves the resource; a delete removes it.
    put_with_id(
        &app,
        "Observation",
        "t-2020",
        obs(&me, "1-1", Some(json!("2030-01-01"))),
    )
    .await;
    delete(&app, "Observation/t-url").await;
    assert_eq!(
        all_pages(&app, &query, 2).await,
        ["t-2020", "t-period", "t-2022-a", "t-2022-b", "t-2021", "t-none"]
    );
    // Moved to another patient: gone from this timeline, on the other's.
    put_with_id(
        &app,
        "Observation",
        "t-2021",
        obs(&format!("Patient/{q}"), "2-2", Some(json!("2021-03-03"))),
    )
    .await;
    assert_eq!(
        all_pages(&app, &format!("Observation?patient={q}&_sort=-date"), 2).await,
        ["t-other", "t-2021"]
    );
}

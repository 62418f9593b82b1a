//! A search without `_sort` that one starts-with string value drives
//! (`Patient?name=smi`) lists its matches by the matched value, then id,
//! and its pages are read off the string index in that order. These tests
//! hold the walk to the general query's answer (the same order computed
//! per resource when an `_id` list drives instead): each resource once,
//! at its smallest matched value, paging both ways, other conditions
//! applied, updates and deletes reflected.

use serde_json::{json, Value};

use crate::common::*;

fn person(names: Value, gender: &str) -> Value {
    json!({"resourceType": "Patient", "name": names, "gender": gender})
}

#[tokio::test]
async fn name_search_lists_by_matched_name_like_the_general_query() {
    let app = TestApp::spawn().await;
    let people = [
        (
            "mo-1",
            json!([{"family": "Smithers", "given": ["Ann"]}]),
            "female",
        ),
        (
            "mo-2",
            json!([{"family": "Smith", "given": ["Zed"]}]),
            "male",
        ),
        // Matched through a given name.
        (
            "mo-3",
            json!([{"family": "Jones", "given": ["Smitty"]}]),
            "male",
        ),
        // Two names with the same family (as written and in capitals) and
        // a given name that sorts first: listed once, at "smiley".
        (
            "mo-4",
            json!([{"family": "Smith", "given": ["Smiley"]}, {"family": "SMITH"}]),
            "female",
        ),
        ("mo-5", json!([{"family": "Brown"}]), "female"),
        (
            "mo-6",
            json!([{"family": "Smith", "given": ["Amy"]}]),
            "female",
        ),
        ("mo-del", json!([{"family": "Smith"}]), "female"),
    ];
    for (id, names, gender) in &people {
        put_with_id(&app, "Patient", id, person(names.clone(), gender)).await;
    }
    delete(&app, "Patient/mo-del").await;

    let expected = ["mo-4", "mo-2", "mo-6", "mo-1", "mo-3"];
    let query = "Patient?name=smi";
    for count in [1, 2, 3, 100] {
        assert_eq!(
            all_pages(&app, query, count).await,
            expected,
            "pages of {count}"
        );
    }
    // The general query (an `_id` list drives, the same order is computed
    // per resource) agrees.
    let general = "Patient?_id=mo-1,mo-2,mo-3,mo-4,mo-5,mo-6,mo-del&name=smi";
    assert_eq!(all_pages(&app, general, 2).await, expected);
    // Other conditions still apply.
    let women = all_pages(&app, &format!("{query}&gender=female"), 1).await;
    assert_eq!(women, ["mo-4", "mo-6", "mo-1"]);
    assert_eq!(
        all_pages(&app, &format!("{general}&gender=female"), 1).await,
        women
    );
    // `previous` from the second page gives the first page back.
    let first = get(&app, &format!("{query}&_count=2")).await;
    let second = get_url(&link(&first, "next").expect("next")).await;
    assert_eq!(ids(&second), ["mo-6", "mo-1"]);
    let back = get_url(&link(&second, "previous").expect("previous")).await;
    assert_eq!(ids(&back), ids(&first));
    // Several values, :exact and an explicit _sort keep type-and-id order.
    assert_eq!(
        all_pages(&app, "Patient?name=smiley,smitty", 2).await,
        ["mo-3", "mo-4"]
    );
    assert_eq!(
        all_pages(&app, "Patient?name=smi&_sort=_id", 2).await,
        ["mo-1", "mo-2", "mo-3", "mo-4", "mo-6"]
    );
    // A new version moves the resource; a delete removes it; a renamed
    // patient that no longer matches drops out.
    put_with_id(
        &app,
        "Patient",
        "mo-3",
        person(json!([{"given": ["Smia"]}]), "male"),
    )
    .await;
    delete(&app, "Patient/mo-2").await;
    put_with_id(
        &app,
        "Patient",
        "mo-1",
        person(json!([{"family": "Brown"}]), "female"),
    )
    .await;
    let after = ["mo-3", "mo-4", "mo-6"];
    assert_eq!(all_pages(&app, query, 1).await, after);
    assert_eq!(all_pages(&app, general, 1).await, after);
}

//! Instance, type and system history: order, paging, `_since`.

use serde_json::{json, Value};

use crate::common::*;

fn entries(r: &Resp) -> &Vec<Value> {
    r.json["entry"].as_array().expect("entry array")
}

fn link<'a>(r: &'a Resp, relation: &str) -> Option<&'a str> {
    r.json["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
}

/// `Type/id/version` of each entry.
fn keys(r: &Resp) -> Vec<String> {
    entries(r)
        .iter()
        .map(|e| {
            let etag = e["response"]["etag"].as_str().unwrap_or("?");
            let full = e["fullUrl"].as_str().unwrap_or("?");
            format!(
                "{} {etag}",
                full.rsplit('/').take(2).collect::<Vec<_>>().join("<")
            )
        })
        .collect()
}

fn last_updated(e: &Value) -> i64 {
    concord_store::timestamp::parse_instant(e["response"]["lastModified"].as_str().unwrap())
        .unwrap()
}

#[tokio::test]
async fn instance_type_and_system_history_newest_first() {
    let app = TestApp::spawn().await;
    let a = create(&app, &patient("A")).await;
    let b = create(&app, &patient("B")).await;
    let o = create(
        &app,
        &json!({"resourceType": "Observation", "status": "final",
                "code": {"text": "x"}, "subject": {"reference": format!("Patient/{a}")}}),
    )
    .await;
    put(
        &app,
        &format!("Patient/{a}"),
        &json!({"resourceType": "Patient", "id": a, "active": true}),
    )
    .await;
    delete(&app, &format!("Patient/{b}")).await;

    let inst = get(&app, &format!("Patient/{a}/_history")).await;
    assert_eq!(inst.status, 200);
    assert_eq!(inst.json["resourceType"], "Bundle");
    assert_eq!(inst.json["type"], "history");
    assert_eq!(inst.json["total"], 2);
    let e = entries(&inst);
    assert_eq!(e[0]["resource"]["meta"]["versionId"], "2");
    assert_eq!(e[0]["request"]["method"], "PUT");
    assert_eq!(e[0]["response"]["status"], "200 OK");
    assert_eq!(e[1]["resource"]["meta"]["versionId"], "1");
    assert_eq!(e[1]["request"]["method"], "POST");
    assert_eq!(
        e[1]["fullUrl"].as_str().unwrap(),
        format!("{}/Patient/{a}", app.base)
    );

    let ty = get(&app, "Patient/_history").await;
    assert_eq!(ty.json["total"], 4, "{:?}", keys(&ty));
    let e = entries(&ty);
    assert_eq!(e[0]["request"]["method"], "DELETE", "newest first");
    assert_eq!(e[0]["request"]["url"], format!("Patient/{b}"));
    assert_eq!(e[1]["request"]["url"], format!("Patient/{a}"));
    assert!(e
        .iter()
        .all(|e| e["fullUrl"].as_str().unwrap().contains("/Patient/")));
    for pair in e.windows(2) {
        assert!(last_updated(&pair[0]) >= last_updated(&pair[1]));
    }

    let sys = get(&app, "_history").await;
    assert_eq!(sys.json["total"], 5);
    let e = entries(&sys);
    assert_eq!(e.len(), 5);
    assert_eq!(e[2]["resource"]["id"], o.as_str());
    assert_eq!(e[4]["resource"]["id"], a.as_str());

    // Unknown type or bad id.
    get(&app, "Foo/_history").await.expect_error(404);
    get(&app, "Patient/bad_id!/_history")
        .await
        .expect_error(400);
    get(&app, "_history?_count=x").await.expect_error(400);
    get(&app, "_history?_since=yesterday")
        .await
        .expect_error(400);
}

#[tokio::test]
async fn paging_with_next_links_is_stable_under_writes() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(create(&app, &patient(&format!("P{i}"))).await);
    }
    let first = get(&app, "Patient/_history?_count=3").await;
    assert_eq!(first.status, 200);
    assert_eq!(entries(&first).len(), 3);
    assert_eq!(first.json["total"], 7);
    let self_link = link(&first, "self").expect("self link");
    assert!(self_link.starts_with(&format!("{}/Patient/_history", app.base)));
    let mut seen: Vec<String> = entries(&first)
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .collect();
    let mut next = link(&first, "next").map(str::to_string);

    // New writes between pages must not shift the pages already promised.
    create(&app, &patient("late-1")).await;
    put(
        &app,
        &format!("Patient/{}", ids[0]),
        &json!({"resourceType": "Patient", "id": ids[0], "active": true}),
    )
    .await;
    let mut pages = 1;
    while let Some(url) = next {
        let page = send(app.client.get(&url)).await;
        assert_eq!(page.status, 200, "{url}: {}", page.text);
        assert!(entries(&page).len() <= 3);
        seen.extend(
            entries(&page)
                .iter()
                .map(|e| e["resource"]["id"].as_str().unwrap().to_string()),
        );
        next = link(&page, "next").map(str::to_string);
        pages += 1;
        create(&app, &patient("late")).await;
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every version once, newest first");

    // _count=1 over the instance history.
    let h = get(&app, &format!("Patient/{}/_history?_count=1", ids[0])).await;
    assert_eq!(entries(&h).len(), 1);
    assert_eq!(h.json["total"], 2);
    assert_eq!(entries(&h)[0]["resource"]["meta"]["versionId"], "2");
    let older = send(app.client.get(link(&h, "next").expect("next"))).await;
    assert_eq!(entries(&older)[0]["resource"]["meta"]["versionId"], "1");
    assert!(link(&older, "next").is_none());
}

#[tokio::test]
async fn since_filters_by_last_updated() {
    let app = TestApp::spawn().await;
    let old = create(&app, &patient("old")).await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let r = post(&app, "Patient", &patient("new")).await;
    let new = r.json["id"].as_str().unwrap().to_string();
    let since = r.json["meta"]["lastUpdated"].as_str().unwrap().to_string();
    let newer = create(&app, &patient("newer")).await;

    let h =
        send(req(&app, Method::GET, "Patient/_history").query(&[("_since", since.as_str())])).await;
    assert_eq!(h.status, 200, "{}", h.text);
    let got: Vec<&str> = entries(&h)
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![newer.as_str(), new.as_str()]);
    assert!(!got.contains(&old.as_str()));
    assert_eq!(h.json["total"], 2);
    // The links keep _since.
    assert!(link(&h, "self").unwrap().contains("_since="));

    // An offset form and a date form; a date in the future gives nothing.
    let h =
        send(req(&app, Method::GET, "_history").query(&[("_since", "2000-01-01T01:00:00+01:00")]))
            .await;
    assert_eq!(h.json["total"], 3);
    let h = get(&app, "_history?_since=2999-01-01").await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json["total"], 0);
}

//! Optimistic locking under real concurrency.

use futures::future::join_all;
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_puts_with_the_same_if_match_one_wins() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let id = create(&app, &patient("Race")).await;
        let path = format!("Patient/{id}");
        let puts = (0..8).map(|i| {
            let body =
                json!({"resourceType": "Patient", "id": id, "name": [{"family": format!("W{i}")}]});
            send(with_body(&app, Method::PUT, &path, &body).header("if-match", "W/\"1\""))
        });
        let results = join_all(puts).await;
        let winners: Vec<usize> = (0..8).filter(|&i| results[i].status == 200).collect();
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert_eq!(winners.len(), 1, "round {round}: {statuses:?}");
        for r in results.iter().filter(|r| r.status != 200) {
            r.expect_error(412);
        }
        let current = get(&app, &path).await;
        assert_eq!(current.header("etag"), Some("W/\"2\""));
        assert_eq!(
            current.json["name"][0]["family"],
            format!("W{}", winners[0]),
            "the stored version is the winner's"
        );
        assert_eq!(history_total(&app, &format!("{path}/_history")).await, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_without_if_match_all_land_as_distinct_versions() {
    let app = TestApp::spawn().await;
    let id = create(&app, &patient("Race")).await;
    let path = format!("Patient/{id}");
    let puts = (0..8).map(|i| {
        let body =
            json!({"resourceType": "Patient", "id": id, "name": [{"family": format!("W{i}")}]});
        send(with_body(&app, Method::PUT, &path, &body))
    });
    let results = join_all(puts).await;
    let mut versions: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text);
            r.header("etag").unwrap().to_string()
        })
        .collect();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 8, "{versions:?}");
    assert_eq!(get(&app, &path).await.header("etag"), Some("W/\"9\""));
}

//! The backend-neutral conformance suite. Every backend's tests call
//! [`run_all`] on a fresh store; each case works in a tenant of its own, so
//! cases never see each other's data.

use serde_json::{json, Value};

use crate::audit_record::{Action, Agent, AuditRecord, Category};
use crate::{
    Actor, CompartmentIndex, CompositeIndex, Criterion, DateIndex, FullTextIndex, HistoryQuery,
    IndexRows, NumberIndex, PendingWrite, Precondition, QuantityIndex, ReferenceIndex, Store,
    StoreError, StringIndex, TenantContext, TokenIndex, UriIndex, WriteKind, WriteOutcome,
};

type Case = (
    &'static str,
    fn(&dyn Store, TenantContext) -> CaseFuture<'_>,
);
type CaseFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// Runs every case against `store`, printing each name; panics on the first failure.
pub async fn run_all(store: &dyn Store) {
    let run = uuid_like();
    let cases: Vec<Case> = vec![
        ("create_then_read", |s, c| Box::pin(create_then_read(s, c))),
        ("read_many_in_order", |s, c| {
            Box::pin(read_many_in_order(s, c))
        }),
        ("create_twice_conflicts", |s, c| {
            Box::pin(create_twice_conflicts(s, c))
        }),
        ("update_versions_and_history", |s, c| {
            Box::pin(update_versions_and_history(s, c))
        }),
        ("create_on_update", |s, c| Box::pin(create_on_update(s, c))),
        ("delete_is_logical", |s, c| {
            Box::pin(delete_is_logical(s, c))
        }),
        ("delete_missing_is_noop", |s, c| {
            Box::pin(delete_missing_is_noop(s, c))
        }),
        ("if_match_precondition", |s, c| {
            Box::pin(if_match_precondition(s, c))
        }),
        ("commit_is_atomic", |s, c| Box::pin(commit_is_atomic(s, c))),
        ("duplicate_in_batch_rejected", |s, c| {
            Box::pin(duplicate_in_batch_rejected(s, c))
        }),
        ("history_paging_is_stable", |s, c| {
            Box::pin(history_paging_is_stable(s, c))
        }),
        ("history_since_and_scopes", |s, c| {
            Box::pin(history_since_and_scopes(s, c))
        }),
        ("find_ids_by_token_and_id", |s, c| {
            Box::pin(find_ids_by_token_and_id(s, c))
        }),
        ("count_by_type_counts_live", |s, c| {
            Box::pin(count_by_type_counts_live(s, c))
        }),
        ("change_feed_in_commit_order", |s, c| {
            Box::pin(change_feed_in_commit_order(s, c))
        }),
        ("tenants_are_isolated", |s, c| {
            Box::pin(tenants_are_isolated(s, c))
        }),
        ("decimals_keep_precision", |s, c| {
            Box::pin(decimals_keep_precision(s, c))
        }),
        ("token_without_system", |s, c| {
            Box::pin(token_without_system(s, c))
        }),
        ("delete_clears_index_rows", |s, c| {
            Box::pin(delete_clears_index_rows(s, c))
        }),
        ("noop_delete_emits_no_event", |s, c| {
            Box::pin(noop_delete_emits_no_event(s, c))
        }),
        ("if_match_on_missing_conflicts", |s, c| {
            Box::pin(if_match_on_missing_conflicts(s, c))
        }),
        ("failed_precondition_rolls_back_batch", |s, c| {
            Box::pin(failed_precondition_rolls_back_batch(s, c))
        }),
        ("update_keeps_other_meta", |s, c| {
            Box::pin(update_keeps_other_meta(s, c))
        }),
        ("history_includes_deletes", |s, c| {
            Box::pin(history_includes_deletes(s, c))
        }),
        ("change_feed_is_per_tenant", |s, c| {
            Box::pin(change_feed_is_per_tenant(s, c))
        }),
        ("index_rows_of_every_kind_written", |s, c| {
            Box::pin(index_rows_of_every_kind_written(s, c))
        }),
        ("index_rows_replaced_on_update", |s, c| {
            Box::pin(index_rows_replaced_on_update(s, c))
        }),
        ("index_rows_removed_on_delete", |s, c| {
            Box::pin(index_rows_removed_on_delete(s, c))
        }),
        ("audit_records_render_and_search", |s, c| {
            Box::pin(audit_records_render_and_search(s, c))
        }),
    ];
    for (name, case) in cases {
        println!("store conformance: {name}");
        let ctx = TenantContext::new(format!("t-{run}-{name}"), Actor::System, name);
        case(store, ctx).await;
    }
    println!(
        "store conformance: all cases passed on {}",
        store.backend_name()
    );
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}")
}

fn patient(id: &str, family: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "name": [{"family": family}]})
}

fn write(kind: WriteKind, rt: &str, id: &str, body: Option<Value>) -> PendingWrite {
    PendingWrite {
        resource_type: rt.into(),
        id: id.into(),
        kind,
        precondition: Precondition::None,
        resource: body,
        index: IndexRows::default(),
    }
}

fn create(id: &str, family: &str) -> PendingWrite {
    write(WriteKind::Create, "Patient", id, Some(patient(id, family)))
}

fn update(id: &str, family: &str) -> PendingWrite {
    write(WriteKind::Update, "Patient", id, Some(patient(id, family)))
}

fn delete(id: &str) -> PendingWrite {
    write(WriteKind::Delete, "Patient", id, None)
}

fn parse(content: &Option<String>) -> Value {
    let text = content.as_deref().expect("content present");
    serde_json::from_str(text).expect("stored content is JSON")
}

async fn create_then_read(s: &dyn Store, ctx: TenantContext) {
    let done = s.commit(&ctx, vec![create("p1", "Alpha")]).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].version, 1);
    assert_eq!(done[0].outcome, WriteOutcome::Created);
    let got = s
        .read(&ctx, "Patient", "p1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.version, 1);
    assert!(!got.is_deleted());
    let body = parse(&got.content);
    assert_eq!(body["name"][0]["family"], "Alpha");
    assert_eq!(body["meta"]["versionId"], "1");
    assert_eq!(
        body["meta"]["lastUpdated"],
        crate::timestamp::format_instant(got.last_updated)
    );
    assert!(s.read(&ctx, "Patient", "nope").await.unwrap().is_none());
    assert!(s.read(&ctx, "Observation", "p1").await.unwrap().is_none());
}

/// `read_many` answers the keys in the order asked, `None` for a missing
/// one, a deleted one as its delete version, another tenant's as missing.
async fn read_many_in_order(s: &dyn Store, ctx: TenantContext) {
    s.commit(
        &ctx,
        vec![
            create("p1", "One"),
            create("p2", "Two"),
            create("p3", "Three"),
        ],
    )
    .await
    .unwrap();
    s.commit(&ctx, vec![update("p2", "Two again"), delete("p3")])
        .await
        .unwrap();
    let key = |id: &str| ("Patient".to_string(), id.to_string());
    let keys = [key("p2"), key("nope"), key("p1"), key("p3"), key("p2")];
    let got = s.read_many(&ctx, &keys).await.unwrap();
    assert_eq!(got.len(), 5);
    let p2 = got[0].as_ref().expect("p2");
    assert_eq!((p2.id.as_str(), p2.version), ("p2", 2));
    assert_eq!(parse(&p2.content)["name"][0]["family"], "Two again");
    assert!(got[1].is_none());
    assert_eq!(got[2].as_ref().expect("p1").id, "p1");
    assert!(got[3].as_ref().expect("p3").is_deleted());
    assert_eq!(got[4].as_ref().expect("p2 again").version, 2);
    assert!(s.read_many(&ctx, &[]).await.unwrap().is_empty());
    // AuditEvents live in the audit log: a page mixing them with other
    // types still comes back whole and in order.
    let event = json!({"resourceType": "AuditEvent", "id": "ae1",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "recorded": "2026-01-01T00:00:00Z", "agent": [{"requestor": true}], "source": {"observer": {"display": "test"}}});
    s.commit(
        &ctx,
        vec![write(WriteKind::Create, "AuditEvent", "ae1", Some(event))],
    )
    .await
    .unwrap();
    let mixed = [
        key("p1"),
        ("AuditEvent".to_string(), "ae1".to_string()),
        key("nope"),
        key("p2"),
    ];
    let got = s.read_many(&ctx, &mixed).await.unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].as_ref().expect("p1").id, "p1");
    assert_eq!(got[1].as_ref().expect("the AuditEvent").id, "ae1");
    assert!(got[2].is_none());
    assert_eq!(got[3].as_ref().expect("p2").id, "p2");
    let other = TenantContext::new(format!("{}-other", ctx.tenant), ctx.actor.clone(), "t");
    assert!(s.read_many(&other, &keys[..1]).await.unwrap()[0].is_none());
}

async fn create_twice_conflicts(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("p1", "A")]).await.unwrap();
    let err = s.commit(&ctx, vec![create("p1", "B")]).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
}

async fn update_versions_and_history(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("p1", "A")]).await.unwrap();
    let done = s.commit(&ctx, vec![update("p1", "B")]).await.unwrap();
    assert_eq!(done[0].version, 2);
    assert_eq!(done[0].outcome, WriteOutcome::Updated);
    let v1 = s.vread(&ctx, "Patient", "p1", 1).await.unwrap().unwrap();
    assert_eq!(parse(&v1.content)["name"][0]["family"], "A");
    let v2 = s.vread(&ctx, "Patient", "p1", 2).await.unwrap().unwrap();
    assert_eq!(parse(&v2.content)["name"][0]["family"], "B");
    assert!(s.vread(&ctx, "Patient", "p1", 3).await.unwrap().is_none());
    let page = s
        .history(
            &ctx,
            &HistoryQuery {
                resource_type: Some("Patient".into()),
                id: Some("p1".into()),
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let versions: Vec<i64> = page.entries.iter().map(|e| e.version.version).collect();
    assert_eq!(versions, vec![2, 1]);
    assert_eq!(page.total, 2);
    assert!(page.next_cursor.is_none());
}

async fn create_on_update(s: &dyn Store, ctx: TenantContext) {
    let done = s
        .commit(&ctx, vec![update("client-id", "A")])
        .await
        .unwrap();
    assert_eq!(done[0].outcome, WriteOutcome::Created);
    assert_eq!(done[0].version, 1);
}

async fn delete_is_logical(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("p1", "A")]).await.unwrap();
    let done = s.commit(&ctx, vec![delete("p1")]).await.unwrap();
    assert_eq!(done[0].outcome, WriteOutcome::Deleted);
    assert_eq!(done[0].version, 2);
    let cur = s.read(&ctx, "Patient", "p1").await.unwrap().unwrap();
    assert!(cur.is_deleted());
    assert!(cur.content.is_none());
    assert!(s.vread(&ctx, "Patient", "p1", 1).await.unwrap().is_some());
    // Deleting again changes nothing.
    let again = s.commit(&ctx, vec![delete("p1")]).await.unwrap();
    assert_eq!(again[0].outcome, WriteOutcome::NoOp);
    // Updating brings it back as a new version, reported as created.
    let back = s.commit(&ctx, vec![update("p1", "C")]).await.unwrap();
    assert_eq!(back[0].version, 3);
    assert_eq!(back[0].outcome, WriteOutcome::Created);
    // A deleted id cannot be reused by create.
    s.commit(&ctx, vec![delete("p1")]).await.unwrap();
    assert!(s.commit(&ctx, vec![create("p1", "D")]).await.is_err());
    assert!(s
        .find_ids(&ctx, "Patient", &[Criterion::Id("p1".into())], 10)
        .await
        .unwrap()
        .is_empty());
}

async fn delete_missing_is_noop(s: &dyn Store, ctx: TenantContext) {
    let done = s.commit(&ctx, vec![delete("ghost")]).await.unwrap();
    assert_eq!(done[0].outcome, WriteOutcome::NoOp);
    assert!(s.read(&ctx, "Patient", "ghost").await.unwrap().is_none());
}

async fn if_match_precondition(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("p1", "A")]).await.unwrap();
    let mut stale = update("p1", "B");
    stale.precondition = Precondition::VersionIs(7);
    let err = s.commit(&ctx, vec![stale]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                expected: 7,
                current: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    let mut fresh = update("p1", "B");
    fresh.precondition = Precondition::VersionIs(1);
    assert_eq!(s.commit(&ctx, vec![fresh]).await.unwrap()[0].version, 2);
}

async fn commit_is_atomic(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("taken", "A")]).await.unwrap();
    let mut writes: Vec<PendingWrite> = (0..49).map(|i| create(&format!("n{i}"), "N")).collect();
    writes.push(create("taken", "again"));
    assert!(s.commit(&ctx, writes).await.is_err());
    for i in 0..49 {
        assert!(s
            .read(&ctx, "Patient", &format!("n{i}"))
            .await
            .unwrap()
            .is_none());
    }
    let counts = s.count_by_type(&ctx).await.unwrap();
    assert_eq!(counts, vec![("Patient".to_string(), 1)]);
    let events = s.changes_after(&ctx, 0, 100).await.unwrap();
    assert_eq!(events.len(), 1, "a failed commit leaves no outbox events");
}

async fn duplicate_in_batch_rejected(s: &dyn Store, ctx: TenantContext) {
    let err = s
        .commit(&ctx, vec![create("d1", "A"), update("d1", "B")])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateInBatch { .. }),
        "{err:?}"
    );
    assert!(s.read(&ctx, "Patient", "d1").await.unwrap().is_none());
}

async fn history_paging_is_stable(s: &dyn Store, ctx: TenantContext) {
    for i in 0..5 {
        s.commit(&ctx, vec![create(&format!("h{i}"), "H")])
            .await
            .unwrap();
    }
    let q = HistoryQuery {
        resource_type: Some("Patient".into()),
        count: 2,
        ..Default::default()
    };
    let first = s.history(&ctx, &q).await.unwrap();
    let ids: Vec<&str> = first
        .entries
        .iter()
        .map(|e| e.version.id.as_str())
        .collect();
    assert_eq!(ids, vec!["h4", "h3"]);
    assert_eq!(first.total, 5);
    // New writes after the first page do not shift the following pages.
    s.commit(&ctx, vec![create("late", "L")]).await.unwrap();
    let second = s
        .history(
            &ctx,
            &HistoryQuery {
                cursor: first.next_cursor,
                ..q.clone()
            },
        )
        .await
        .unwrap();
    let ids: Vec<&str> = second
        .entries
        .iter()
        .map(|e| e.version.id.as_str())
        .collect();
    assert_eq!(ids, vec!["h2", "h1"]);
    let third = s
        .history(
            &ctx,
            &HistoryQuery {
                cursor: second.next_cursor,
                ..q.clone()
            },
        )
        .await
        .unwrap();
    let ids: Vec<&str> = third
        .entries
        .iter()
        .map(|e| e.version.id.as_str())
        .collect();
    assert_eq!(ids, vec!["h0"]);
    assert!(third.next_cursor.is_none());
}

async fn history_since_and_scopes(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("a", "A")]).await.unwrap();
    let obs = json!({"resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"text": "x"}});
    s.commit(
        &ctx,
        vec![write(WriteKind::Create, "Observation", "o1", Some(obs))],
    )
    .await
    .unwrap();
    let all = s
        .history(
            &ctx,
            &HistoryQuery {
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.entries.len(), 2);
    assert_eq!(all.entries[0].version.resource_type, "Observation");
    let future = crate::timestamp::now_millis() + 60_000;
    let none = s
        .history(
            &ctx,
            &HistoryQuery {
                since: Some(future),
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.entries.is_empty());
    assert_eq!(none.total, 0);
    let past = s
        .history(
            &ctx,
            &HistoryQuery {
                since: Some(0),
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(past.total, 2);
}

async fn find_ids_by_token_and_id(s: &dyn Store, ctx: TenantContext) {
    let mut w = create("m1", "A");
    w.index.tokens.push(TokenIndex {
        param: "identifier".into(),
        system: Some("urn:mrn".into()),
        code: "123".into(),
    });
    s.commit(&ctx, vec![w, create("m2", "B")]).await.unwrap();
    let by_token = |system: Option<&str>| Criterion::Token {
        param: "identifier".into(),
        system: system.map(str::to_string),
        code: "123".into(),
    };
    assert_eq!(
        s.find_ids(&ctx, "Patient", &[by_token(Some("urn:mrn"))], 5)
            .await
            .unwrap(),
        vec!["m1"]
    );
    assert_eq!(
        s.find_ids(&ctx, "Patient", &[by_token(None)], 5)
            .await
            .unwrap(),
        vec!["m1"]
    );
    assert!(s
        .find_ids(&ctx, "Patient", &[by_token(Some("urn:other"))], 5)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .find_ids(&ctx, "Patient", &[by_token(Some(""))], 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.find_ids(&ctx, "Patient", &[Criterion::Id("m2".into())], 5)
            .await
            .unwrap(),
        vec!["m2"]
    );
    assert!(s
        .find_ids(
            &ctx,
            "Patient",
            &[Criterion::Id("m2".into()), by_token(None)],
            5
        )
        .await
        .unwrap()
        .is_empty());
    // An update replaces the index rows of the old version.
    s.commit(&ctx, vec![update("m1", "A2")]).await.unwrap();
    assert!(s
        .find_ids(&ctx, "Patient", &[by_token(None)], 5)
        .await
        .unwrap()
        .is_empty());
}

async fn count_by_type_counts_live(s: &dyn Store, ctx: TenantContext) {
    s.commit(
        &ctx,
        vec![create("c1", "A"), create("c2", "B"), create("c3", "C")],
    )
    .await
    .unwrap();
    s.commit(&ctx, vec![delete("c2")]).await.unwrap();
    assert_eq!(
        s.count_by_type(&ctx).await.unwrap(),
        vec![("Patient".to_string(), 2)]
    );
}

async fn change_feed_in_commit_order(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("e1", "A"), create("e2", "B")])
        .await
        .unwrap();
    s.commit(&ctx, vec![delete("e1")]).await.unwrap();
    let events = s.changes_after(&ctx, 0, 10).await.unwrap();
    let seen: Vec<(String, i64, WriteKind)> = events
        .iter()
        .map(|e| (e.id.clone(), e.version, e.kind))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("e1".to_string(), 1, WriteKind::Create),
            ("e2".to_string(), 1, WriteKind::Create),
            ("e1".to_string(), 2, WriteKind::Delete),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
    let rest = s.changes_after(&ctx, events[0].sequence, 10).await.unwrap();
    assert_eq!(rest.len(), 2);
}

async fn tenants_are_isolated(s: &dyn Store, ctx: TenantContext) {
    let other = TenantContext::new(format!("{}-other", ctx.tenant), Actor::System, "other");
    s.commit(&ctx, vec![create("shared-id", "Mine")])
        .await
        .unwrap();
    assert!(s
        .read(&other, "Patient", "shared-id")
        .await
        .unwrap()
        .is_none());
    s.commit(&other, vec![create("shared-id", "Theirs")])
        .await
        .unwrap();
    let mine = s.read(&ctx, "Patient", "shared-id").await.unwrap().unwrap();
    assert_eq!(parse(&mine.content)["name"][0]["family"], "Mine");
}

async fn decimals_keep_precision(s: &dyn Store, ctx: TenantContext) {
    let text = r#"{"resourceType":"Observation","id":"d1","status":"final","code":{"text":"t"},"valueQuantity":{"value":1.50}}"#;
    let body: Value = serde_json::from_str(text).unwrap();
    s.commit(
        &ctx,
        vec![write(WriteKind::Create, "Observation", "d1", Some(body))],
    )
    .await
    .unwrap();
    let got = s.read(&ctx, "Observation", "d1").await.unwrap().unwrap();
    assert!(got.content.unwrap().contains("\"value\":1.50"));
}

fn mrn(system: Option<&str>, code: &str) -> TokenIndex {
    TokenIndex {
        param: "identifier".into(),
        system: system.map(str::to_string),
        code: code.into(),
    }
}

fn mrn_criterion(system: Option<&str>, code: &str) -> Criterion {
    Criterion::Token {
        param: "identifier".into(),
        system: system.map(str::to_string),
        code: code.into(),
    }
}

async fn token_without_system(s: &dyn Store, ctx: TenantContext) {
    let mut w = create("ns1", "A");
    w.index.tokens.push(mrn(None, "777"));
    let mut other = create("ns2", "B");
    other.index.tokens.push(mrn(Some("urn:mrn"), "777"));
    s.commit(&ctx, vec![w, other]).await.unwrap();
    // `Some("")` matches only values without a system.
    assert_eq!(
        s.find_ids(&ctx, "Patient", &[mrn_criterion(Some(""), "777")], 5)
            .await
            .unwrap(),
        vec!["ns1"]
    );
    // `None` matches any system.
    let mut any = s
        .find_ids(&ctx, "Patient", &[mrn_criterion(None, "777")], 5)
        .await
        .unwrap();
    any.sort();
    assert_eq!(any, vec!["ns1", "ns2"]);
    assert_eq!(
        s.find_ids(&ctx, "Patient", &[mrn_criterion(None, "777")], 1)
            .await
            .unwrap()
            .len(),
        1,
        "limit applies"
    );
    assert!(s
        .find_ids(&ctx, "Observation", &[mrn_criterion(None, "777")], 5)
        .await
        .unwrap()
        .is_empty());
}

async fn delete_clears_index_rows(s: &dyn Store, ctx: TenantContext) {
    let mut w = create("x1", "A");
    w.index.tokens.push(mrn(Some("urn:mrn"), "9"));
    s.commit(&ctx, vec![w]).await.unwrap();
    s.commit(&ctx, vec![delete("x1")]).await.unwrap();
    assert!(s
        .find_ids(&ctx, "Patient", &[mrn_criterion(None, "9")], 5)
        .await
        .unwrap()
        .is_empty());
    // Brought back without index rows: still not found by the old token.
    s.commit(&ctx, vec![update("x1", "B")]).await.unwrap();
    assert!(s
        .find_ids(&ctx, "Patient", &[mrn_criterion(None, "9")], 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.find_ids(&ctx, "Patient", &[Criterion::Id("x1".into())], 5)
            .await
            .unwrap(),
        vec!["x1"]
    );
}

async fn noop_delete_emits_no_event(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![delete("ghost")]).await.unwrap();
    assert!(s.changes_after(&ctx, 0, 10).await.unwrap().is_empty());
    s.commit(&ctx, vec![create("g1", "A")]).await.unwrap();
    s.commit(&ctx, vec![delete("g1")]).await.unwrap();
    s.commit(&ctx, vec![delete("g1")]).await.unwrap();
    assert_eq!(s.changes_after(&ctx, 0, 10).await.unwrap().len(), 2);
    let page = s
        .history(
            &ctx,
            &HistoryQuery {
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 2, "a no-op delete writes no version");
}

async fn if_match_on_missing_conflicts(s: &dyn Store, ctx: TenantContext) {
    let mut w = update("absent", "A");
    w.precondition = Precondition::VersionIs(1);
    let err = s.commit(&ctx, vec![w]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                expected: 1,
                current: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(s.read(&ctx, "Patient", "absent").await.unwrap().is_none());
    // A guarded delete checks the version too.
    s.commit(&ctx, vec![create("p1", "A")]).await.unwrap();
    let mut del = delete("p1");
    del.precondition = Precondition::VersionIs(3);
    assert!(matches!(
        s.commit(&ctx, vec![del]).await.unwrap_err(),
        StoreError::VersionConflict {
            expected: 3,
            current: Some(1),
            ..
        }
    ));
    let mut del = delete("p1");
    del.precondition = Precondition::VersionIs(1);
    let done = s.commit(&ctx, vec![del]).await.unwrap();
    assert_eq!(done[0].outcome, WriteOutcome::Deleted);
}

async fn failed_precondition_rolls_back_batch(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("base", "A")]).await.unwrap();
    let mut stale = update("base", "B");
    stale.precondition = Precondition::VersionIs(5);
    let obs = json!({"resourceType": "Observation", "id": "o2", "status": "final",
        "code": {"text": "x"}});
    let err = s
        .commit(
            &ctx,
            vec![
                write(WriteKind::Create, "Observation", "o2", Some(obs)),
                stale,
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict { .. }), "{err:?}");
    assert!(s.read(&ctx, "Observation", "o2").await.unwrap().is_none());
    assert_eq!(
        s.read(&ctx, "Patient", "base")
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    assert_eq!(s.changes_after(&ctx, 0, 10).await.unwrap().len(), 1);
}

async fn update_keeps_other_meta(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("mm", "A")]).await.unwrap();
    let body = json!({"resourceType": "Patient", "id": "mm",
        "meta": {"versionId": "99", "profile": ["http://example.org/p"]}});
    let done = s
        .commit(
            &ctx,
            vec![write(WriteKind::Update, "Patient", "mm", Some(body))],
        )
        .await
        .unwrap();
    assert_eq!(done[0].version, 2);
    let stored = parse(&done[0].content);
    assert_eq!(stored["meta"]["versionId"], "2");
    assert_eq!(stored["meta"]["profile"][0], "http://example.org/p");
    let read = s.read(&ctx, "Patient", "mm").await.unwrap().unwrap();
    assert_eq!(
        read.content, done[0].content,
        "read returns the stored text"
    );
    assert_eq!(read.last_updated, done[0].last_updated);
}

async fn history_includes_deletes(s: &dyn Store, ctx: TenantContext) {
    s.commit(&ctx, vec![create("hd", "A")]).await.unwrap();
    s.commit(&ctx, vec![delete("hd")]).await.unwrap();
    let page = s
        .history(
            &ctx,
            &HistoryQuery {
                resource_type: Some("Patient".into()),
                id: Some("hd".into()),
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let seen: Vec<(i64, bool)> = page
        .entries
        .iter()
        .map(|e| (e.version.version, e.version.is_deleted()))
        .collect();
    assert_eq!(seen, vec![(2, true), (1, false)]);
    assert!(page.entries[0].version.content.is_none());
    let v2 = s.vread(&ctx, "Patient", "hd", 2).await.unwrap().unwrap();
    assert!(v2.is_deleted());
    assert!(v2.content.is_none());
    assert_eq!(s.count_by_type(&ctx).await.unwrap(), vec![]);
}

async fn change_feed_is_per_tenant(s: &dyn Store, ctx: TenantContext) {
    let other = TenantContext::new(format!("{}-other", ctx.tenant), Actor::System, "other");
    s.commit(&other, vec![create("o", "O")]).await.unwrap();
    s.commit(&ctx, vec![create("m", "M")]).await.unwrap();
    let mine = s.changes_after(&ctx, 0, 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, "m");
    assert_eq!(mine[0].tenant, ctx.tenant);
    let page = s
        .history(
            &ctx,
            &HistoryQuery {
                count: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}

/// One row of every kind; `tag` varies the values between versions.
fn rows_of_every_kind(tag: &str) -> IndexRows {
    let p = |name: &str| format!("{name}-{tag}");
    IndexRows {
        tokens: vec![
            TokenIndex {
                param: "identifier".into(),
                system: Some("urn:mrn".into()),
                code: p("code"),
            },
            TokenIndex {
                param: "gender".into(),
                system: None,
                code: p("code"),
            },
        ],
        strings: vec![StringIndex {
            param: "name".into(),
            value: p("norm"),
            exact: p("Exact"),
        }],
        dates: vec![
            DateIndex {
                param: "birthdate".into(),
                low: 0,
                high: 86_399_999,
            },
            DateIndex {
                param: "death-date".into(),
                low: DateIndex::MIN,
                high: DateIndex::MAX,
            },
        ],
        references: vec![
            ReferenceIndex {
                param: "organization".into(),
                target_type: Some("Organization".into()),
                target_id: Some(p("org")),
                url: None,
            },
            ReferenceIndex {
                param: "general-practitioner".into(),
                target_type: None,
                target_id: None,
                url: Some(p("http://x.org/Practitioner")),
            },
        ],
        quantities: vec![QuantityIndex {
            param: "value-quantity".into(),
            value: 5.25,
            system: Some("http://unitsofmeasure.org".into()),
            code: Some(p("mg")),
        }],
        numbers: vec![NumberIndex {
            param: "probability".into(),
            value: 0.125,
        }],
        uris: vec![UriIndex {
            param: "_profile".into(),
            value: p("http://p"),
        }],
        composites: vec![CompositeIndex {
            param: "code-value-quantity".into(),
            value: p("a$b"),
            number: Some(120.5),
        }],
        compartments: vec![CompartmentIndex {
            compartment_type: "Patient".into(),
            compartment_id: p("pat"),
        }],
        fulltext: vec![
            FullTextIndex {
                param: "_text".into(),
                words: format!("narrative {}", p("words")),
            },
            FullTextIndex {
                param: "_content".into(),
                words: format!("content {}", p("words")),
            },
        ],
    }
}

/// Same rows, in any order.
fn assert_same_rows(got: &IndexRows, want: &IndexRows) {
    fn same<T: PartialEq + std::fmt::Debug>(kind: &str, got: &[T], want: &[T]) {
        assert_eq!(got.len(), want.len(), "{kind}: {got:?} vs {want:?}");
        for w in want {
            assert!(got.contains(w), "{kind}: {w:?} missing from {got:?}");
        }
    }
    same("tokens", &got.tokens, &want.tokens);
    same("strings", &got.strings, &want.strings);
    same("dates", &got.dates, &want.dates);
    same("references", &got.references, &want.references);
    same("quantities", &got.quantities, &want.quantities);
    same("numbers", &got.numbers, &want.numbers);
    same("uris", &got.uris, &want.uris);
    same("composites", &got.composites, &want.composites);
    same("compartments", &got.compartments, &want.compartments);
}

async fn index_rows_of_every_kind_written(s: &dyn Store, ctx: TenantContext) {
    let mut w = create("ix1", "A");
    w.index = rows_of_every_kind("v1");
    s.commit(&ctx, vec![w]).await.unwrap();
    let got = s.index_rows(&ctx, "Patient", "ix1").await.unwrap();
    assert_same_rows(&got, &rows_of_every_kind("v1"));
    // Another resource's rows are its own.
    assert!(s
        .index_rows(&ctx, "Patient", "other")
        .await
        .unwrap()
        .is_empty());
}

async fn index_rows_replaced_on_update(s: &dyn Store, ctx: TenantContext) {
    let mut w = create("ix2", "A");
    w.index = rows_of_every_kind("v1");
    s.commit(&ctx, vec![w]).await.unwrap();
    let mut u = update("ix2", "B");
    u.index = rows_of_every_kind("v2");
    s.commit(&ctx, vec![u]).await.unwrap();
    let got = s.index_rows(&ctx, "Patient", "ix2").await.unwrap();
    assert_same_rows(&got, &rows_of_every_kind("v2"));
}

async fn index_rows_removed_on_delete(s: &dyn Store, ctx: TenantContext) {
    let mut w = create("ix3", "A");
    w.index = rows_of_every_kind("v1");
    s.commit(&ctx, vec![w]).await.unwrap();
    s.commit(&ctx, vec![delete("ix3")]).await.unwrap();
    let got = s.index_rows(&ctx, "Patient", "ix3").await.unwrap();
    assert!(got.is_empty(), "{got:?}");
}

fn audit_record(tenant: &str, interaction: &str, patients: &[&str]) -> AuditRecord {
    AuditRecord {
        tenant: tenant.to_string(),
        recorded: 1_764_165_720_000,
        category: Category::Rest,
        interaction: interaction.to_string(),
        action: Action::Read,
        status: 200,
        agent: Agent {
            who: "user:u1".into(),
            fhir_user: Some("Practitioner/d1".into()),
            ..Agent::default()
        },
        address: Some("127.0.0.1".into()),
        resource: patients.first().map(|p| format!("Patient/{p}")),
        query: None,
        operation: None,
        patients: patients.iter().map(|p| p.to_string()).collect(),
        request_id: "req-1".into(),
        reason: None,
    }
}

/// The trail's events are stored as compact records with ids from their
/// sequence numbers; read, vread, search and count answer the rendered
/// AuditEvents; another source may not take an id of the trail's.
async fn audit_records_render_and_search(s: &dyn Store, ctx: TenantContext) {
    use crate::audit_log::{AuditAppend, AUDIT_TYPE};
    use crate::search::{CmpOp, Column, Condition, IndexTable, RowTest, SearchPlan, SqlValue};
    let events = vec![
        AuditAppend::of(&audit_record(&ctx.tenant, "read", &["p1"])),
        AuditAppend::of(&audit_record(&ctx.tenant, "search-type", &["p1", "p2"])),
        AuditAppend::of(&audit_record(&ctx.tenant, "read", &["p2"])),
    ];
    s.append_audit(&ctx, events.into()).await.unwrap();
    let mut plan = SearchPlan::new(vec![AUDIT_TYPE.into()], 10);
    plan.conditions = vec![Condition::Compartment {
        compartment_type: "Patient".into(),
        compartment_id: "p1".into(),
    }];
    let page = s.search(&ctx, &plan).await.unwrap();
    assert_eq!(page.hits.len(), 2, "{page:?}");
    assert!(page
        .hits
        .iter()
        .all(|h| h.id.bytes().all(|b| b.is_ascii_digit())));
    let id = &page.hits[0].id;
    let read = s.read(&ctx, AUDIT_TYPE, id).await.unwrap().expect("read");
    let event = parse(&read.content);
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["meta"]["versionId"], "1");
    assert_eq!(event["agent"][0]["altId"], "user:u1");
    assert!(event["entity"]
        .as_array()
        .expect("entities")
        .iter()
        .any(|e| e["what"]["reference"] == "Patient/p1"));
    assert!(s.vread(&ctx, AUDIT_TYPE, id, 1).await.unwrap().is_some());
    assert!(s.vread(&ctx, AUDIT_TYPE, id, 2).await.unwrap().is_none());
    let many = s
        .read_many(&ctx, &[(AUDIT_TYPE.to_string(), id.clone())])
        .await
        .unwrap();
    assert_eq!(many[0].as_ref().expect("read_many").content, read.content);
    plan.conditions.push(Condition::Row {
        table: IndexTable::Token,
        param: "subtype".into(),
        test: RowTest::Cmp(Column::Code, CmpOp::Eq, SqlValue::Text("read".into())),
        negate: false,
    });
    assert_eq!(s.count(&ctx, &plan).await.unwrap(), 1);
    plan.conditions.remove(0);
    assert_eq!(s.count(&ctx, &plan).await.unwrap(), 2);
    let other = TenantContext::new(format!("{}-other", ctx.tenant), ctx.actor.clone(), "t");
    assert_eq!(s.count(&other, &plan).await.unwrap(), 0);
    assert!(s.read(&other, AUDIT_TYPE, id).await.unwrap().is_none());
    // Another audit source may add events, but not under a trail id.
    let foreign = |id: &str| {
        json!({"resourceType": "AuditEvent", "id": id,
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "recorded": "2026-01-01T00:00:00Z", "agent": [{"requestor": true}],
        "source": {"observer": {"display": "test"}}})
    };
    let err = s
        .commit(
            &ctx,
            vec![write(
                WriteKind::Create,
                AUDIT_TYPE,
                "99999999999",
                Some(foreign("99999999999")),
            )],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
    s.commit(
        &ctx,
        vec![write(
            WriteKind::Create,
            AUDIT_TYPE,
            "ext-1",
            Some(foreign("ext-1")),
        )],
    )
    .await
    .unwrap();
    let ext = s
        .read(&ctx, AUDIT_TYPE, "ext-1")
        .await
        .unwrap()
        .expect("ext");
    assert_eq!(parse(&ext.content)["id"], "ext-1");
}

//! Deferred patient links of the audit trail: a patient's events are found
//! whether or not their links have been written yet, links are written in
//! bulk once `AUDIT_LINK_EVERY` events wait, and a reopened store (a crash
//! before the links) still finds every event.

use concord_store::audit_log::{AuditAppend, AUDIT_TYPE};
use concord_store::audit_record::{Action, Agent, AuditRecord, Category};
use concord_store::search::{Condition, SearchPlan};
use concord_store::{Actor, SearchStore, TenantContext};
use concord_store_sqlite::{SqliteStore, AUDIT_LINK_EVERY};

fn record(tenant: &str, patient: &str) -> AuditRecord {
    AuditRecord {
        tenant: tenant.to_string(),
        recorded: 1_764_165_720_000,
        category: Category::Rest,
        interaction: "read".into(),
        action: Action::Read,
        status: 200,
        agent: Agent {
            who: "user:u1".into(),
            ..Agent::default()
        },
        address: None,
        resource: Some(format!("Patient/{patient}")),
        query: None,
        operation: None,
        patients: vec![patient.to_string()],
        request_id: "req".into(),
        reason: None,
    }
}

async fn count_for(s: &SqliteStore, ctx: &TenantContext, patient: &str) -> u64 {
    let mut plan = SearchPlan::new(vec![AUDIT_TYPE.into()], 10);
    plan.conditions = vec![Condition::Compartment {
        compartment_type: "Patient".into(),
        compartment_id: patient.into(),
    }];
    s.count(ctx, &plan).await.unwrap()
}

/// Appends one batch of `n` trail events about `patients`, in turn.
async fn append_batch(s: &SqliteStore, ctx: &TenantContext, patients: &[&str], n: usize) {
    s.append_audit(
        ctx,
        (0..n)
            .map(|i| AuditAppend::of(&record("t", patients[i % patients.len()])))
            .collect::<Vec<_>>()
            .into(),
    )
    .await
    .unwrap();
}

fn links(path: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit_patient", [], |r| r.get(0))
        .unwrap();
    let upto: i64 = conn
        .query_row("SELECT seq FROM audit_links_upto", [], |r| r.get(0))
        .unwrap();
    (rows, upto)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_events_are_found_before_and_after_their_links_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("concord.db");
    let ctx = TenantContext::new("t", Actor::System, "r");
    let patients = ["p0", "p1", "p2"];
    let per_batch = 500usize;
    let batches = usize::try_from(AUDIT_LINK_EVERY).unwrap() / per_batch + 1;
    {
        let store = SqliteStore::open(&path).unwrap();
        // Below the mark: nothing linked yet, every event found.
        append_batch(&store, &ctx, &patients, per_batch).await;
        assert_eq!(links(&path), (0, 0));
        assert_eq!(count_for(&store, &ctx, "p1").await, 167);
        for _ in 1..batches {
            append_batch(&store, &ctx, &patients, per_batch).await;
        }
        // The batch that passed the mark wrote every link so far.
        let total = i64::try_from(batches * per_batch).unwrap();
        assert!(total >= AUDIT_LINK_EVERY);
        assert_eq!(links(&path), (total, total));
        let p1 = u64::try_from(batches * 167).unwrap();
        assert_eq!(count_for(&store, &ctx, "p1").await, p1);
        // More events after the mark: found too, not yet linked.
        append_batch(&store, &ctx, &["p1", "p9"], 2).await;
        assert_eq!(links(&path), (total, total));
        assert_eq!(count_for(&store, &ctx, "p1").await, p1 + 1);
        assert_eq!(count_for(&store, &ctx, "p9").await, 1);
        assert_eq!(count_for(&store, &ctx, "nobody").await, 0);
    }
    // Reopened (as after a crash before the next links): still all found.
    let store = SqliteStore::open(&path).unwrap();
    let p1 = u64::try_from(batches * 167).unwrap();
    assert_eq!(count_for(&store, &ctx, "p1").await, p1 + 1);
    assert_eq!(count_for(&store, &ctx, "p9").await, 1);
    // The reopened writer does not know the two unlinked events: passing
    // the mark again reads them from their rows, and links them with the
    // new ones (which it does know).
    for _ in 0..batches {
        append_batch(&store, &ctx, &patients, per_batch).await;
    }
    let all = i64::try_from(2 * batches * per_batch + 2).unwrap();
    assert_eq!(links(&path), (all, all));
    assert_eq!(linked(&path, "p9"), 1);
    assert_eq!(
        linked(&path, "p1"),
        i64::try_from(2 * batches * 167 + 1).unwrap()
    );
    assert_eq!(count_for(&store, &ctx, "p1").await, 2 * p1 + 1);
    assert_eq!(count_for(&store, &ctx, "p9").await, 1);
}

/// Link rows of one patient.
fn linked(path: &std::path::Path, patient: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM audit_patient WHERE patient = ?1",
        [patient],
        |r| r.get(0),
    )
    .unwrap()
}

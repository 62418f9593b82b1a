//! One commit = one `BEGIN IMMEDIATE` transaction: versions, history (which
//! is also the change feed, `read::changes_after`), index rows and ledger
//! entries, all or nothing.

use std::collections::HashSet;

use concord_store::meta::MetaTemplate;
use concord_store::{
    ledger, meta::stamp_meta, timestamp, CommittedWrite, PendingWrite, Precondition, StoreError,
    StoreResult, WriteKind, WriteOutcome,
};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use concord_store::audit_log::{ForeignAudit, AUDIT_TYPE};

use crate::error::backend;
use crate::group::Job;
use crate::pool::Writer;

/// Index tables cleared when a resource gets a new version.
pub(crate) const INDEX_TABLES: &[&str] = &[
    "idx_token",
    "idx_string",
    "idx_date",
    "idx_reference",
    "idx_quantity",
    "idx_number",
    "idx_uri",
    "idx_composite",
    "compartment",
];

/// Runs one statement (cached) in the transaction.
/// Deletes every index and compartment row of resource `rid`.
pub(crate) fn clear_index_rows(tx: &Transaction<'_>, rid: i64) -> StoreResult<()> {
    for table in INDEX_TABLES {
        exec(
            tx,
            &format!("DELETE FROM {table} WHERE rid = ?1"),
            params![rid],
        )?;
    }
    exec(tx, "DELETE FROM fulltext WHERE rowid = ?1", params![rid])?;
    exec(
        tx,
        "DELETE FROM patient_timeline WHERE rid = ?1",
        params![rid],
    )?;
    Ok(())
}

fn exec(tx: &Transaction<'_>, sql: &str, args: impl rusqlite::Params) -> StoreResult<usize> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .execute(args)
        .map_err(backend)
}

/// Checks that a batch names each resource once.
fn check_unique(writes: &[PendingWrite]) -> StoreResult<()> {
    let mut seen = HashSet::with_capacity(writes.len());
    for pw in writes {
        if !seen.insert((pw.resource_type.as_str(), pw.id.as_str())) {
            return Err(StoreError::DuplicateInBatch {
                resource_type: pw.resource_type.clone(),
                id: pw.id.clone(),
            });
        }
    }
    Ok(())
}

/// Commits the queued requests of `jobs` in one transaction and answers
/// each after the `COMMIT` (see `group`).
///
/// Several requests first go in without savepoints: a savepoint makes
/// SQLite copy every page a request touches first into the statement
/// journal, and makes FTS5 flush its pending terms into a segment of their
/// own — measured ~6% of an ingest's CPU with 8 Bundles in flight. Should
/// one of them fail, that transaction is rolled back and the group runs
/// again, each request in its own `SAVEPOINT`, so the failure rolls back
/// only itself (the requests before it are then written twice: failures
/// are rare, and the cost is bounded by one extra pass).
pub fn commit_group(w: &mut Writer, mut jobs: Vec<Job>) {
    let now = timestamp::now_millis();
    let answers = if jobs.len() > 1 {
        match commit_all(w, &mut jobs, now) {
            Some(answers) => answers,
            None => commit_each(w, &mut jobs, now),
        }
    } else {
        commit_each(w, &mut jobs, now)
    };
    for (job, outcome) in jobs.into_iter().zip(answers) {
        let _ = job.reply.send(outcome);
    }
}

type Answer = StoreResult<Vec<CommittedWrite>>;

fn begin(conn: &mut rusqlite::Connection) -> Result<Transaction<'_>, String> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| format!("begin: {e}"))
}

/// Every request of `jobs` in one transaction without savepoints; `None`
/// (rolled back) when one of them fails.
fn commit_all(w: &mut Writer, jobs: &mut [Job], now: i64) -> Option<Vec<Answer>> {
    let mut head = Head::of(w);
    let tx = match begin(&mut w.conn) {
        Ok(tx) => tx,
        Err(why) => return Some(failed(jobs.len(), &why)),
    };
    let mut done = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        // Dropping the transaction rolls it back.
        done.push(run_job(&tx, job, now, &mut head, false).ok()?);
    }
    if let Err(e) = tx.commit() {
        return Some(failed(jobs.len(), &format!("commit: {e}")));
    }
    head.store(w);
    Some(done.into_iter().map(Ok).collect())
}

fn failed(n: usize, why: &str) -> Vec<Answer> {
    (0..n)
        .map(|_| Err(StoreError::Backend(why.to_string())))
        .collect()
}

/// The requests of `jobs` in one transaction, each in its own savepoint
/// when there are several.
fn commit_each(w: &mut Writer, jobs: &mut [Job], now: i64) -> Vec<Answer> {
    let mut head = Head::of(w);
    let tx = match begin(&mut w.conn) {
        Ok(tx) => tx,
        Err(why) => return failed(jobs.len(), &why),
    };
    let single = jobs.len() == 1;
    let mut answers = Vec::with_capacity(jobs.len());
    let mut broken: Option<String> = None;
    for job in jobs.iter_mut() {
        let outcome = if broken.is_some() {
            Err(StoreError::Backend("group commit abandoned".into()))
        } else {
            let before = (head.hash, head.size);
            match run_job(&tx, job, now, &mut head, !single) {
                Ok(done) => Ok(done),
                Err(e) => {
                    head.hash = before.0;
                    head.size = before.1;
                    // A lone request needs no savepoint: dropping the
                    // transaction rolls it back.
                    let undo = if single {
                        Ok(())
                    } else {
                        tx.execute_batch("ROLLBACK TO job; RELEASE job;")
                    };
                    if let Err(u) = undo {
                        broken = Some(u.to_string());
                    }
                    Err(e)
                }
            }
        };
        answers.push(outcome);
    }
    // Dropping the transaction rolls it back.
    let committed = match broken {
        Some(why) => {
            drop(tx);
            Err(why)
        }
        None if single && answers.iter().any(|o| o.is_err()) => {
            drop(tx);
            Ok(false)
        }
        None => tx.commit().map(|()| true).map_err(|e| e.to_string()),
    };
    match committed {
        Ok(stored) => {
            if stored {
                head.store(w);
            }
            answers
        }
        Err(why) => answers
            .into_iter()
            .map(|o| o.and(Err(StoreError::Backend(format!("commit: {why}")))))
            .collect(),
    }
}

/// One request's writes inside the group's transaction (in a savepoint of
/// its own when `savepoint`). The writes stay with the request: a group
/// run again after a failure writes them again.
fn run_job(
    tx: &Transaction<'_>,
    job: &mut Job,
    now: i64,
    head: &mut Head,
    savepoint: bool,
) -> StoreResult<Vec<CommittedWrite>> {
    if savepoint {
        tx.execute_batch("SAVEPOINT job;").map_err(backend)?;
    }
    check_unique(&job.writes)?;
    let mut done = Vec::with_capacity(job.writes.len());
    for (i, pw) in job.writes.iter_mut().enumerate() {
        let content = job.contents.get(i).and_then(Option::as_ref);
        done.push(apply(tx, &job.tenant, pw, content, now, head)?);
    }
    if savepoint {
        tx.execute_batch("RELEASE job;").map_err(backend)?;
    }
    Ok(done)
}

/// The ledger's head hash and leaf count, advanced by each entry.
struct Head {
    hash: [u8; 32],
    size: i64,
}

impl Head {
    /// The writer's head, to advance inside a transaction.
    fn of(w: &Writer) -> Head {
        Head {
            hash: w.ledger_head,
            size: w.ledger_size,
        }
    }

    /// Makes it the writer's, once the transaction has committed.
    fn store(&self, w: &mut Writer) {
        w.ledger_head = self.hash;
        w.ledger_size = self.size;
    }
}

fn apply(
    tx: &Transaction<'_>,
    tenant: &str,
    pw: &mut PendingWrite,
    serialized: Option<&MetaTemplate>,
    now: i64,
    head: &mut Head,
) -> StoreResult<CommittedWrite> {
    if pw.resource_type == AUDIT_TYPE {
        return append_audit_event(tx, tenant, pw, now, head);
    }
    let current: Option<(i64, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT version, kind, rid FROM resources WHERE tenant = ?1 AND type = ?2 AND id = ?3",
        )
        .map_err(backend)?
        .query_row(params![tenant, pw.resource_type, pw.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(backend)?;
    let current_version = current.as_ref().map(|c| c.0);
    let current_live = matches!(&current, Some((_, kind, _)) if kind != "delete");
    if let Precondition::VersionIs(expected) = pw.precondition {
        if current_version != Some(expected) {
            return Err(StoreError::VersionConflict {
                resource_type: pw.resource_type.clone(),
                id: pw.id.clone(),
                expected,
                current: current_version,
            });
        }
    }
    let version = current_version.unwrap_or(0) + 1;
    let outcome = match pw.kind {
        WriteKind::Create if current.is_some() => {
            return Err(StoreError::AlreadyExists {
                resource_type: pw.resource_type.clone(),
                id: pw.id.clone(),
            })
        }
        WriteKind::Create => WriteOutcome::Created,
        WriteKind::Update if current_live => WriteOutcome::Updated,
        WriteKind::Update => WriteOutcome::Created,
        WriteKind::Delete if !current_live => {
            return Ok(CommittedWrite {
                resource_type: pw.resource_type.clone(),
                id: pw.id.clone(),
                version: current_version.unwrap_or(0),
                last_updated: now,
                outcome: WriteOutcome::NoOp,
                content: None,
            })
        }
        WriteKind::Delete => WriteOutcome::Deleted,
    };
    let content = match (pw.kind, serialized, pw.resource.as_mut()) {
        (WriteKind::Delete, _, _) => None,
        (_, Some(template), _) => Some(template.fill(version, now)),
        (_, None, Some(resource)) => {
            stamp_meta(resource, version, now);
            Some(
                serde_json::to_string(resource)
                    .map_err(|e| StoreError::Backend(format!("serialize: {e}")))?,
            )
        }
        (_, None, None) => {
            return Err(StoreError::Backend(
                "create/update without a resource".into(),
            ))
        }
    };
    let kind = pw.kind.as_str();
    exec(
        tx,
        "INSERT INTO resource_history (tenant, type, id, version, last_updated, kind, content)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![tenant, pw.resource_type, pw.id, version, now, kind, content],
    )?;
    let seq = tx.last_insert_rowid();
    // The resource's stable index key: the seq of its first version.
    let old_rid = current.as_ref().and_then(|c| c.2);
    let rid = old_rid.unwrap_or(seq);
    exec(
        tx,
        "INSERT INTO resources (tenant, type, id, version, last_updated, kind, seq, rid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (tenant, type, id) DO UPDATE SET version = excluded.version,
           last_updated = excluded.last_updated, kind = excluded.kind, seq = excluded.seq,
           rid = excluded.rid",
        params![
            tenant,
            pw.resource_type,
            pw.id,
            version,
            now,
            kind,
            seq,
            rid
        ],
    )?;
    if let Some(old) = old_rid {
        clear_index_rows(tx, old)?;
    }
    if pw.kind != WriteKind::Delete {
        crate::index::write(tx, tenant, &pw.resource_type, &pw.id, rid, &pw.index)?;
    }
    let content_hash = ledger::content_hash(content.as_deref());
    let entry = ledger::entry_hash(
        &head.hash,
        &pw.resource_type,
        &pw.id,
        version,
        &content_hash,
    );
    exec(
        tx,
        "INSERT INTO ledger (tenant, type, id, version, content_hash, prev_hash, entry_hash,
           leaf_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            tenant,
            pw.resource_type,
            pw.id,
            version,
            &content_hash[..],
            &head.hash[..],
            &entry[..],
            head.size
        ],
    )?;
    head.hash = entry;
    head.size += 1;
    Ok(CommittedWrite {
        resource_type: pw.resource_type.clone(),
        id: pw.id.clone(),
        version,
        last_updated: now,
        outcome,
        content,
    })
}

/// An AuditEvent sent by another system (`POST`, or `PUT` to a new id):
/// appended to the audit log as a batch of its own, in this transaction.
fn append_audit_event(
    tx: &Transaction<'_>,
    tenant: &str,
    pw: &PendingWrite,
    now: i64,
    head: &mut Head,
) -> StoreResult<CommittedWrite> {
    let (Some(resource), WriteKind::Create) = (pw.resource.clone(), pw.kind) else {
        return Err(StoreError::Backend(
            "AuditEvents are only ever created".into(),
        ));
    };
    let event = ForeignAudit {
        id: pw.id.clone(),
        resource,
        index: pw.index.clone(),
    };
    let stored =
        crate::audit::append_foreign(tx, tenant, now, (&mut head.hash, &mut head.size), event)?;
    Ok(CommittedWrite {
        resource_type: pw.resource_type.clone(),
        id: pw.id.clone(),
        version: 1,
        last_updated: now,
        outcome: WriteOutcome::Created,
        content: Some(stored),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use concord_store::IndexRows;
    use tokio::sync::oneshot;

    use crate::pool::Pool;

    /// A create of Patient `id` with no index rows.
    pub(crate) fn patient(id: &str) -> PendingWrite {
        PendingWrite {
            resource_type: "Patient".into(),
            id: id.into(),
            kind: WriteKind::Create,
            precondition: Precondition::None,
            resource: Some(serde_json::json!({"resourceType": "Patient", "id": id})),
            index: IndexRows::default(),
        }
    }

    /// Commits `batches` as one group in a new store; returns the store
    /// (with the directory that holds it) and each request's answer.
    fn group_in_new_store(
        batches: Vec<Vec<PendingWrite>>,
    ) -> (tempfile::TempDir, Pool, Vec<Answer>) {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::open(dir.path().join("g.db"), None).unwrap();
        let (jobs, replies): (Vec<Job>, Vec<_>) = batches
            .into_iter()
            .map(|writes| {
                let (reply, answer) = oneshot::channel();
                (Job::new("t".into(), writes, reply), answer)
            })
            .unzip();
        pool.with_writer(|w| {
            commit_group(w, jobs);
            Ok(())
        })
        .unwrap();
        let answers = replies
            .into_iter()
            .map(|mut r| r.try_recv().unwrap())
            .collect();
        (dir, pool, answers)
    }

    /// The ledger's rows in order: id, leaf index, previous entry's hash.
    fn ledger(pool: &Pool) -> Vec<(String, i64, String)> {
        stored(
            pool,
            "SELECT id, leaf_index, hex(prev_hash) FROM ledger ORDER BY seq",
        )
    }

    fn stored(pool: &Pool, sql: &str) -> Vec<(String, i64, String)> {
        pool.with_reader(|c| {
            let mut s = c.prepare(sql).unwrap();
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            Ok(rows)
        })
        .unwrap()
    }

    #[test]
    fn a_group_that_all_succeeds_is_stored_whole() {
        let (_dir, pool, answers) = group_in_new_store(vec![
            vec![patient("a"), patient("b")],
            vec![patient("c")],
            vec![patient("d")],
        ]);
        let versions: Vec<Vec<i64>> = answers
            .into_iter()
            .map(|a| a.unwrap().iter().map(|c| c.version).collect())
            .collect();
        assert_eq!(versions, [vec![1, 1], vec![1], vec![1]]);
        let ledger = ledger(&pool);
        let ids: Vec<&str> = ledger.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        let leaves: Vec<i64> = ledger.iter().map(|(_, leaf, _)| *leaf).collect();
        assert_eq!(leaves, [0, 1, 2, 3]);
    }

    /// A failing request makes the group run again with savepoints: the
    /// requests before it are stored once, at version 1, chained in the
    /// ledger without a trace of the first pass.
    #[test]
    fn a_failing_request_rolls_back_only_itself() {
        let (_dir, pool, answers) = group_in_new_store(vec![
            vec![patient("a")],
            vec![patient("x"), patient("x")],
            vec![patient("b")],
        ]);
        assert!(matches!(
            answers[1],
            Err(StoreError::DuplicateInBatch { .. })
        ));
        assert_eq!(answers[0].as_ref().unwrap()[0].version, 1);
        assert_eq!(answers[2].as_ref().unwrap()[0].version, 1);
        let history = stored(
            &pool,
            "SELECT id, version, json_extract(content, '$.meta.versionId') FROM resource_history ORDER BY seq",
        );
        assert_eq!(
            history,
            [("a".into(), 1, "1".into()), ("b".into(), 1, "1".into())]
        );
        let ledger = ledger(&pool);
        assert_eq!(ledger.len(), 2);
        assert_eq!((ledger[0].1, ledger[1].1), (0, 1));
        let first_entry = pool
            .with_reader(|c| {
                Ok(c.query_row(
                    "SELECT hex(entry_hash) FROM ledger ORDER BY seq LIMIT 1",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .unwrap())
            })
            .unwrap();
        assert_eq!(ledger[1].2, first_entry, "b chains to a");
    }
}

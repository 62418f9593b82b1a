//! One commit = one `BEGIN IMMEDIATE` transaction: versions, history, index
//! rows, outbox events and ledger entries, all or nothing.

use std::collections::HashSet;

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

/// Commits the queued requests of `jobs` in one transaction, each in its
/// own savepoint (see `group`), and answers each after the `COMMIT`.
pub fn commit_group(w: &mut Writer, jobs: Vec<Job>) {
    let now = timestamp::now_millis();
    let tx = match w
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
    {
        Ok(tx) => tx,
        Err(e) => {
            let why = e.to_string();
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(StoreError::Backend(format!("begin: {why}"))));
            }
            return;
        }
    };
    let mut head = Head {
        hash: w.ledger_head,
        size: w.ledger_size,
    };
    let single = jobs.len() == 1;
    let mut answers = Vec::with_capacity(jobs.len());
    let mut broken: Option<String> = None;
    for job in jobs {
        let outcome = if broken.is_some() {
            Err(StoreError::Backend("group commit abandoned".into()))
        } else {
            let before = (head.hash, head.size);
            match run_job(&tx, &job.tenant, job.writes, now, &mut head, single) {
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
        answers.push((job.reply, outcome));
    }
    let committed = match broken {
        Some(why) => Err(why),
        None if single && answers.iter().any(|(_, o)| o.is_err()) => Ok(false),
        None => tx.commit().map(|()| true).map_err(|e| e.to_string()),
    };
    match committed {
        Ok(stored) => {
            if stored {
                w.ledger_head = head.hash;
                w.ledger_size = head.size;
            }
            for (reply, outcome) in answers {
                let _ = reply.send(outcome);
            }
        }
        Err(why) => {
            for (reply, outcome) in answers {
                let outcome = outcome.and(Err(StoreError::Backend(format!("commit: {why}"))));
                let _ = reply.send(outcome);
            }
        }
    }
}

/// One request's writes inside the group's transaction.
fn run_job(
    tx: &Transaction<'_>,
    tenant: &str,
    writes: Vec<PendingWrite>,
    now: i64,
    head: &mut Head,
    single: bool,
) -> StoreResult<Vec<CommittedWrite>> {
    if !single {
        tx.execute_batch("SAVEPOINT job;").map_err(backend)?;
    }
    check_unique(&writes)?;
    let mut done = Vec::with_capacity(writes.len());
    for pw in writes {
        done.push(apply(tx, tenant, pw, now, head)?);
    }
    if !single {
        tx.execute_batch("RELEASE job;").map_err(backend)?;
    }
    Ok(done)
}

/// The ledger's head hash and leaf count, advanced by each entry.
struct Head {
    hash: [u8; 32],
    size: i64,
}

fn apply(
    tx: &Transaction<'_>,
    tenant: &str,
    pw: PendingWrite,
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
                resource_type: pw.resource_type,
                id: pw.id,
                expected,
                current: current_version,
            });
        }
    }
    let version = current_version.unwrap_or(0) + 1;
    let outcome = match pw.kind {
        WriteKind::Create if current.is_some() => {
            return Err(StoreError::AlreadyExists {
                resource_type: pw.resource_type,
                id: pw.id,
            })
        }
        WriteKind::Create => WriteOutcome::Created,
        WriteKind::Update if current_live => WriteOutcome::Updated,
        WriteKind::Update => WriteOutcome::Created,
        WriteKind::Delete if !current_live => {
            return Ok(CommittedWrite {
                resource_type: pw.resource_type,
                id: pw.id,
                version: current_version.unwrap_or(0),
                last_updated: now,
                outcome: WriteOutcome::NoOp,
                content: None,
            })
        }
        WriteKind::Delete => WriteOutcome::Deleted,
    };
    let content = match (pw.kind, pw.resource) {
        (WriteKind::Delete, _) => None,
        (_, Some(mut resource)) => {
            stamp_meta(&mut resource, version, now);
            Some(
                serde_json::to_string(&resource)
                    .map_err(|e| StoreError::Backend(format!("serialize: {e}")))?,
            )
        }
        (_, None) => {
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
    exec(
        tx,
        "INSERT INTO outbox (tenant, type, id, version, kind, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![tenant, pw.resource_type, pw.id, version, kind, now],
    )?;
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
        resource_type: pw.resource_type,
        id: pw.id,
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
    pw: PendingWrite,
    now: i64,
    head: &mut Head,
) -> StoreResult<CommittedWrite> {
    let (Some(resource), WriteKind::Create) = (pw.resource, pw.kind) else {
        return Err(StoreError::Backend(
            "AuditEvents are only ever created".into(),
        ));
    };
    let event = ForeignAudit {
        id: pw.id.clone(),
        resource,
        index: pw.index,
    };
    let stored =
        crate::audit::append_foreign(tx, tenant, now, (&mut head.hash, &mut head.size), event)?;
    Ok(CommittedWrite {
        resource_type: pw.resource_type,
        id: pw.id,
        version: 1,
        last_updated: now,
        outcome: WriteOutcome::Created,
        content: Some(stored),
    })
}

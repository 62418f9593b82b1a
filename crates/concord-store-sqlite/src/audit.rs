//! The compact audit log's SQL (see `concord_store::audit_log`): one
//! transaction per batch — the audit rows, their patient links and one
//! ledger leaf over the whole batch — and the reads that serve AuditEvent.

use concord_store::audit_log::{
    self, AuditAppend, AuditCandidate, AuditLogRow, BatchHasher, AUDIT_TYPE, BATCH_TYPE,
};
use concord_store::search::{SearchPage, SearchPlan};
use concord_store::{
    ledger, meta::stamp_meta, timestamp, StoreError, StoreResult, StoredVersion, WriteKind,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::backend;
use crate::pool::Writer;

pub fn append(w: &mut Writer, tenant: &str, events: Vec<AuditAppend>) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = timestamp::now_millis();
    let (mut hash, mut size) = (w.ledger_head, w.ledger_size);
    let tx = w
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    append_in(&tx, tenant, now, (&mut hash, &mut size), events)?;
    tx.commit().map_err(backend)?;
    w.ledger_head = hash;
    w.ledger_size = size;
    Ok(())
}

/// Appends `events` inside `tx` as one batch: their rows, patient links and
/// one ledger leaf, advancing the ledger `head` (hash, size). Returns each
/// event's stored JSON. An id already in the log is refused.
pub fn append_in(
    tx: &Transaction<'_>,
    tenant: &str,
    now: i64,
    head: (&mut [u8; 32], &mut i64),
    events: Vec<AuditAppend>,
) -> StoreResult<Vec<String>> {
    let (head_hash, head_size) = head;
    let leaf = *head_size;
    let mut hasher = BatchHasher::default();
    let mut first_seq = None;
    let mut stored = Vec::with_capacity(events.len());
    {
        let mut row = tx
            .prepare_cached(
                "INSERT INTO audit_log (tenant, id, stored_at, leaf_index, idx, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        let mut link = tx
            .prepare_cached("INSERT INTO audit_patient (tenant, patient, seq) VALUES (?1, ?2, ?3)")
            .map_err(backend)?;
        for e in events {
            let mut resource = e.resource;
            stamp_meta(&mut resource, 1, now);
            let content = serde_json::to_string(&resource)
                .map_err(|err| StoreError::Backend(format!("serialize: {err}")))?;
            let idx = audit_log::encode_index(&e.index);
            match row.execute(params![tenant, e.id, now, leaf, idx, content]) {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    return Err(StoreError::AlreadyExists {
                        resource_type: AUDIT_TYPE.to_string(),
                        id: e.id,
                    })
                }
                Err(err) => return Err(backend(err)),
            }
            let seq = tx.last_insert_rowid();
            first_seq.get_or_insert(seq);
            for p in audit_log::patients(&e.index) {
                link.execute(params![tenant, p, seq]).map_err(backend)?;
            }
            hasher.add(&e.id, &content);
            stored.push(content);
        }
    }
    let batch_id = first_seq.unwrap_or(0).to_string();
    let content_hash = hasher.finish();
    let entry = ledger::entry_hash(
        head_hash,
        BATCH_TYPE,
        &batch_id,
        hasher.count(),
        &content_hash,
    );
    tx.prepare_cached(
        "INSERT INTO ledger (tenant, type, id, version, content_hash, prev_hash, entry_hash,
           leaf_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(backend)?
    .execute(params![
        tenant,
        BATCH_TYPE,
        batch_id,
        hasher.count(),
        &content_hash[..],
        &head_hash[..],
        &entry[..],
        leaf
    ])
    .map_err(backend)?;
    *head_hash = entry;
    *head_size = leaf + 1;
    Ok(stored)
}

/// An AuditEvent by id (its one version).
pub fn read(c: &Connection, tenant: &str, id: &str) -> StoreResult<Option<StoredVersion>> {
    c.prepare_cached("SELECT stored_at, content FROM audit_log WHERE tenant = ?1 AND id = ?2")
        .map_err(backend)?
        .query_row(params![tenant, id], |r| {
            Ok(StoredVersion {
                resource_type: AUDIT_TYPE.to_string(),
                id: id.to_string(),
                version: 1,
                last_updated: r.get(0)?,
                kind: WriteKind::Create,
                content: r.get(1)?,
            })
        })
        .optional()
        .map_err(backend)
}

/// The audit rows a plan may match: one patient's when it names one.
fn candidates(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<Vec<AuditCandidate>> {
    let map = |r: &rusqlite::Row<'_>| -> rusqlite::Result<AuditCandidate> {
        let idx: String = r.get(2)?;
        Ok(AuditCandidate {
            id: r.get(0)?,
            stored_at: r.get(1)?,
            index: audit_log::decode_index(&idx),
        })
    };
    let out = match audit_log::patient_hint(plan) {
        Some(patient) => {
            let mut stmt = c
                .prepare_cached(
                    "SELECT a.id, a.stored_at, a.idx FROM audit_patient p
                     JOIN audit_log a ON a.seq = p.seq
                     WHERE p.tenant = ?1 AND p.patient = ?2",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![tenant, patient], map)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>()
        }
        None => {
            let mut stmt = c
                .prepare_cached("SELECT id, stored_at, idx FROM audit_log WHERE tenant = ?1")
                .map_err(backend)?;
            let rows = stmt.query_map(params![tenant], map).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>()
        }
    };
    out.map_err(backend)
}

pub fn search(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<SearchPage> {
    Ok(audit_log::search(plan, &candidates(c, tenant, plan)?))
}

pub fn count(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<u64> {
    Ok(audit_log::count(plan, &candidates(c, tenant, plan)?))
}

pub fn rows(c: &Connection, after: i64, limit: usize) -> StoreResult<Vec<AuditLogRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, tenant, id, leaf_index, content FROM audit_log
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![after, limit], |r| {
            Ok(AuditLogRow {
                seq: r.get(0)?,
                tenant: r.get(1)?,
                id: r.get(2)?,
                leaf_index: r.get(3)?,
                content: r.get(4)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

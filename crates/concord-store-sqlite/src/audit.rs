//! The compact audit log's SQL (see `concord_store::audit_log`): one
//! transaction per batch — the audit rows (compact records, ids from their
//! sequence numbers), their patient links and one ledger leaf over the
//! whole batch — and the reads that serve AuditEvent (rendered from the
//! records).
//!
//! **Patient links.** `audit_patient` (tenant, patient, seq) lets a
//! patient's events be read without the whole log. Its rows land at random
//! places of its B-tree (one per patient), so written per batch they made
//! most of a batch's WAL pages. The trail's own events are therefore
//! linked in bulk: once [`LINK_EVERY`] events are unlinked, the batch that
//! passes the mark also writes their links, sorted, and advances
//! `audit_links_upto` — in the same transaction, so the mark never claims
//! links that are not there (a crash loses nothing: the rows are the
//! truth, the links are derived from their records). The writer keeps the
//! links of the committed events after the mark in memory
//! ([`PendingLinks`]), so linking them reads nothing back; a writer that
//! opens a database with unlinked events reads those rows once instead. A
//! patient's events are then the linked rows up to the mark plus every
//! row after it (at most about [`LINK_EVERY`] plus one batch): rows naming
//! other patients are dropped after reading only their patients
//! ([`AuditRecord::patients_of`]), the rest the search filters like any
//! candidate. Events from other audit sources are linked at once.

use concord_store::audit_log::{
    self, AuditAppend, AuditCandidate, AuditLogRow, BatchHasher, ForeignAudit, BATCH_TYPE,
};
use concord_store::audit_record::AuditRecord;
use concord_store::search::{SearchPage, SearchPlan};
use concord_store::{ledger, meta::stamp_meta, timestamp, StoreError, StoreResult, StoredVersion};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::backend;
use crate::pool::Writer;

pub fn append(w: &mut Writer, tenant: &str, events: &[AuditAppend]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = timestamp::now_millis();
    let (mut hash, mut size) = (w.ledger_head, w.ledger_size);
    let tx = w
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let first = append_in(&tx, tenant, now, (&mut hash, &mut size), events)?;
    let batch = (first..).zip(events).flat_map(|(seq, e)| {
        e.patients
            .iter()
            .map(move |p| (tenant.to_string(), p.clone(), seq))
    });
    let mut pending = std::mem::take(&mut w.pending_links);
    let linked_upto = link_if_due(&tx, &mut pending, batch)?;
    tx.commit().map_err(backend)?;
    w.ledger_head = hash;
    w.ledger_size = size;
    if let Some(upto) = linked_upto {
        pending = PendingLinks {
            after: Some(upto),
            links: Vec::new(),
        };
    }
    w.pending_links = pending;
    Ok(())
}

const INSERT_ROW: &str =
    "INSERT INTO audit_log (seq, tenant, id, stored_at, leaf_index, idx, content)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const INSERT_LINK: &str = "INSERT INTO audit_patient (tenant, patient, seq) VALUES (?1, ?2, ?3)";

/// Unlinked trail events that make the next batch write their patient
/// links (see the module docs).
pub const LINK_EVERY: i64 = 16_384;

/// The patient links of the trail's committed events after the mark, kept
/// by the writer so that linking them needs no re-reading of their rows.
/// `after` is the mark they start at; `None` (a new writer, a batch that
/// failed) means they are not known, and the rows are read instead.
#[derive(Debug, Default)]
pub struct PendingLinks {
    after: Option<i64>,
    links: Vec<(String, String, i64)>,
}

impl PendingLinks {
    /// What a writer opening the database knows: nothing is pending when
    /// every event is linked; otherwise the rows after the mark are read
    /// when they are linked.
    pub fn at_open(conn: &Connection) -> StoreResult<PendingLinks> {
        let (upto, last) = mark_and_last(conn)?;
        Ok(PendingLinks {
            after: (upto == last).then_some(upto),
            links: Vec::new(),
        })
    }
}

/// The link mark and the last sequence number of the log.
fn mark_and_last(conn: &Connection) -> StoreResult<(i64, i64)> {
    conn.prepare_cached(
        "SELECT (SELECT seq FROM audit_links_upto),
                (SELECT COALESCE(MAX(seq), 0) FROM audit_log)",
    )
    .map_err(backend)?
    .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
    .map_err(backend)
}

/// Once [`LINK_EVERY`] trail events are unlinked, writes the patient links
/// of every one after the mark, sorted, and advances the mark to the last
/// (returned). Otherwise keeps `batch` (this transaction's links) in
/// `pending` for later, or forgets them when `pending` does not start at
/// the mark.
fn link_if_due(
    tx: &Transaction<'_>,
    pending: &mut PendingLinks,
    batch: impl Iterator<Item = (String, String, i64)>,
) -> StoreResult<Option<i64>> {
    let (upto, last) = mark_and_last(tx)?;
    let known = pending.after == Some(upto);
    if known {
        pending.links.extend(batch);
    } else {
        *pending = PendingLinks::default();
    }
    if last - upto < LINK_EVERY {
        return Ok(None);
    }
    let mut links = if known {
        std::mem::take(&mut pending.links)
    } else {
        stored_links(tx, upto, last)?
    };
    // In key order: each B-tree page is visited once.
    links.sort();
    links.dedup();
    let mut link = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO audit_patient (tenant, patient, seq) VALUES (?1, ?2, ?3)",
        )
        .map_err(backend)?;
    for (tenant, patient, seq) in &links {
        link.execute(params![tenant, patient, seq])
            .map_err(backend)?;
    }
    tx.prepare_cached("UPDATE audit_links_upto SET seq = ?1")
        .map_err(backend)?
        .execute(params![last])
        .map_err(backend)?;
    Ok(Some(last))
}

/// The patient links of the trail events with `upto < seq <= last`, read
/// from their rows (when the writer does not know them: after a restart).
fn stored_links(
    tx: &Transaction<'_>,
    upto: i64,
    last: i64,
) -> StoreResult<Vec<(String, String, i64)>> {
    let mut links = Vec::with_capacity(usize::try_from(last - upto).unwrap_or(0));
    let mut stmt = tx
        .prepare_cached(
            "SELECT seq, tenant, content FROM audit_log
             WHERE seq > ?1 AND seq <= ?2 AND idx = ''",
        )
        .map_err(backend)?;
    let mut rows = stmt.query(params![upto, last]).map_err(backend)?;
    while let Some(r) = rows.next().map_err(backend)? {
        let seq: i64 = r.get(0).map_err(backend)?;
        let tenant: String = r.get(1).map_err(backend)?;
        let content: String = r.get(2).map_err(backend)?;
        let patients = AuditRecord::patients_of(&content)
            .ok_or_else(|| StoreError::Backend(format!("audit row {seq} is not a record")))?;
        for p in patients {
            links.push((tenant.clone(), p, seq));
        }
    }
    Ok(links)
}

/// Appends the trail's `events` inside `tx` as one batch: one row each
/// (its compact record; the id its sequence number, assigned here — the
/// writer connection is the only one that writes) and one ledger leaf,
/// advancing the ledger `head` (hash, size); returns the first event's
/// sequence number. Their patient links are written later, in bulk
/// ([`link_if_due`]).
pub fn append_in(
    tx: &Transaction<'_>,
    tenant: &str,
    now: i64,
    head: (&mut [u8; 32], &mut i64),
    events: &[AuditAppend],
) -> StoreResult<i64> {
    let leaf = *head.1;
    let first: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log")
        .map_err(backend)?
        .query_row([], |r| r.get(0))
        .map_err(backend)?;
    let mut hasher = BatchHasher::default();
    {
        let mut row = tx.prepare_cached(INSERT_ROW).map_err(backend)?;
        for (seq, e) in (first..).zip(events) {
            let id = audit_log::trail_id(seq);
            row.execute(params![seq, tenant, id, now, leaf, "", e.record])
                .map_err(backend)?;
            hasher.add(&id, &e.record);
        }
    }
    close_batch(tx, tenant, head, first, &hasher)?;
    Ok(first)
}

/// Appends an AuditEvent from another audit source inside `tx` as a batch
/// of its own; returns its stored JSON. An id already in the log, or one
/// of the trail's (digits only), is refused.
pub fn append_foreign(
    tx: &Transaction<'_>,
    tenant: &str,
    now: i64,
    head: (&mut [u8; 32], &mut i64),
    event: ForeignAudit,
) -> StoreResult<String> {
    let taken = || audit_log::foreign_id_taken(&event.id);
    if audit_log::is_trail_id(&event.id) {
        return Err(taken());
    }
    let leaf = *head.1;
    let mut resource = event.resource.clone();
    stamp_meta(&mut resource, 1, now);
    let content = serde_json::to_string(&resource)
        .map_err(|err| StoreError::Backend(format!("serialize: {err}")))?;
    let idx = audit_log::encode_index(&event.index);
    let seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log")
        .map_err(backend)?
        .query_row([], |r| r.get(0))
        .map_err(backend)?;
    match tx
        .prepare_cached(INSERT_ROW)
        .map_err(backend)?
        .execute(params![seq, tenant, event.id, now, leaf, idx, content])
    {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(taken())
        }
        Err(err) => return Err(backend(err)),
    }
    let mut link = tx.prepare_cached(INSERT_LINK).map_err(backend)?;
    for p in audit_log::patients(&event.index) {
        link.execute(params![tenant, p, seq]).map_err(backend)?;
    }
    let mut hasher = BatchHasher::default();
    hasher.add(&event.id, &content);
    close_batch(tx, tenant, head, seq, &hasher)?;
    Ok(content)
}

/// The batch's ledger leaf (id = its first sequence number).
fn close_batch(
    tx: &Transaction<'_>,
    tenant: &str,
    head: (&mut [u8; 32], &mut i64),
    first_seq: i64,
    hasher: &BatchHasher,
) -> StoreResult<()> {
    let (head_hash, head_size) = head;
    let leaf = *head_size;
    let batch_id = first_seq.to_string();
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
    Ok(())
}

/// An AuditEvent by id (its one version).
/// An event by id: the trail's by its sequence number (the table's key),
/// another source's through the unique index of non-digit ids (migration 13).
pub fn read(c: &Connection, tenant: &str, id: &str) -> StoreResult<Option<StoredVersion>> {
    let get = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?));
    let row = if audit_log::is_trail_id(id) {
        let Ok(seq) = id.parse::<i64>() else {
            return Ok(None);
        };
        c.prepare_cached(
            "SELECT stored_at, content FROM audit_log WHERE seq = ?1 AND tenant = ?2 AND id = ?3",
        )
        .map_err(backend)?
        .query_row(params![seq, tenant, id], get)
    } else {
        c.prepare_cached(
            "SELECT stored_at, content FROM audit_log
             WHERE tenant = ?1 AND id = ?2 AND id GLOB '*[^0-9]*'",
        )
        .map_err(backend)?
        .query_row(params![tenant, id], get)
    }
    .optional()
    .map_err(backend)?;
    row.map(|(at, content)| audit_log::stored_version(tenant, id, at, content))
        .transpose()
}

/// The audit rows a plan may match: one patient's when it names one.
fn candidates(c: &Connection, tenant: &str, plan: &SearchPlan) -> StoreResult<Vec<AuditCandidate>> {
    // Columns: id, stored_at, idx, the record (trail rows only), and
    // whether the row is one of the unlinked tail's.
    let patient = audit_log::patient_hint(plan);
    let keep = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Option<AuditCandidate>> {
        let idx: String = r.get(2)?;
        let record: Option<String> = r.get(3)?;
        let tail: bool = r.get(4)?;
        // A tail row naming another patient cannot match: its patients are
        // read without decoding the rest of its record.
        if let (true, Some(p), Some(text)) = (tail, &patient, &record) {
            if AuditRecord::patients_of(text).is_some_and(|ps| !ps.contains(p)) {
                return Ok(None);
            }
        }
        Ok(Some(audit_log::candidate(
            tenant,
            r.get(0)?,
            r.get(1)?,
            &idx,
            record.as_deref(),
        )))
    };
    let (sql, args): (&str, Vec<&dyn rusqlite::ToSql>) = match &patient {
        Some(patient) => (
            // Linked rows up to the mark, then every row after it (the
            // plan's patient condition filters those).
            "SELECT a.id, a.stored_at, a.idx,
               CASE WHEN a.idx = '' THEN a.content END, 0
             FROM audit_patient p
             JOIN audit_log a ON a.seq = p.seq
             WHERE p.tenant = ?1 AND p.patient = ?2
               AND p.seq <= (SELECT seq FROM audit_links_upto)
             UNION ALL
             SELECT id, stored_at, idx, CASE WHEN idx = '' THEN content END, 1
             FROM audit_log
             WHERE tenant = ?1 AND seq > (SELECT seq FROM audit_links_upto)",
            vec![&tenant, patient],
        ),
        None => (
            "SELECT id, stored_at, idx, CASE WHEN idx = '' THEN content END, 0
             FROM audit_log WHERE tenant = ?1",
            vec![&tenant],
        ),
    };
    c.prepare_cached(sql)
        .map_err(backend)?
        .query_map(args.as_slice(), keep)
        .map_err(backend)?
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)
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

//! The compact audit log's SQL (see `concord_store::audit_log`): one
//! transaction per batch — the audit rows (compact records, ids from their
//! sequence numbers; one multi-row insert), their patient links and one
//! ledger leaf over the whole batch, taken under the `ledger_head` lock —
//! and the reads that serve AuditEvent (rendered from the records).

use concord_store::audit_log::{
    self, AuditAppend, AuditCandidate, AuditLogRow, BatchHasher, ForeignAudit, BATCH_TYPE,
};
use concord_store::search::{SearchPage, SearchPlan};
use concord_store::{StoreResult, StoredVersion};
use deadpool_postgres::{Pool, Transaction};
use tokio_postgres::error::SqlState;

use crate::{error, stamp};

const LOCK_HEAD: &str = "SELECT entry_hash, size FROM ledger_head WHERE singleton FOR UPDATE";

/// `n` sequence numbers for a batch's rows (its ids are derived from them).
const NEXT_SEQS: &str =
    "SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) FROM generate_series(1, $1::int8)";

const INSERT_RECORDS: &str =
    "INSERT INTO audit_log (seq, tenant, id, stored_at, leaf_index, idx, content)
SELECT u.seq, $1, u.seq::text, $2, $3, '', u.content
FROM unnest($4::int8[], $5::text[]) AS u(seq, content)";

const INSERT_FOREIGN: &str =
    "INSERT INTO audit_log (tenant, id, stored_at, leaf_index, idx, content)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq";

const INSERT_LINKS: &str = "INSERT INTO audit_patient (tenant, patient, seq)
SELECT $1, u.patient, u.seq FROM unnest($2::text[], $3::int8[]) AS u(patient, seq)";

const INSERT_LEDGER: &str =
    "INSERT INTO ledger (tenant, type, id, version, content_hash, prev_hash, entry_hash,
    leaf_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const UPDATE_HEAD: &str = "UPDATE ledger_head SET entry_hash = $1, size = $2 WHERE singleton";

/// Appends one batch of the trail's events in its own transaction.
pub(crate) async fn append(pool: &Pool, tenant: &str, events: &[AuditAppend]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await.map_err(error::pool)?;
    let tx = client.transaction().await.map_err(error::db)?;
    let now = concord_store::timestamp::now_millis();
    // Sequence numbers first, outside the head lock (they need not be
    // gapless); ids and hashes follow from them.
    let stmt = tx.prepare_cached(NEXT_SEQS).await.map_err(error::db)?;
    let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let mut seqs = Vec::with_capacity(events.len());
    for r in tx.query(&stmt, &[&n]).await.map_err(error::db)? {
        seqs.push(r.try_get::<_, i64>(0).map_err(error::db)?);
    }
    seqs.sort_unstable();
    let (head, leaf) = lock_head(&tx).await?;
    let mut hasher = BatchHasher::default();
    let mut records = Vec::with_capacity(events.len());
    let (mut link_patients, mut link_seqs) = (Vec::new(), Vec::new());
    for (seq, e) in seqs.iter().zip(events) {
        hasher.add(&audit_log::trail_id(*seq), &e.record);
        records.push(e.record.as_str());
        for p in &e.patients {
            link_patients.push(p.as_str());
            link_seqs.push(*seq);
        }
    }
    let stmt = tx.prepare_cached(INSERT_RECORDS).await.map_err(error::db)?;
    tx.execute(&stmt, &[&tenant, &now, &leaf, &seqs, &records])
        .await
        .map_err(error::db)?;
    insert_links(&tx, tenant, &link_patients, &link_seqs).await?;
    let first = seqs.first().copied().unwrap_or(0);
    close_batch(&tx, tenant, (&head, leaf), first, &hasher).await?;
    tx.commit().await.map_err(error::db)
}

async fn lock_head(tx: &Transaction<'_>) -> StoreResult<(Vec<u8>, i64)> {
    let head_row = tx.query_one(LOCK_HEAD, &[]).await.map_err(error::db)?;
    Ok((
        head_row.try_get(0).map_err(error::db)?,
        head_row.try_get(1).map_err(error::db)?,
    ))
}

async fn insert_links(
    tx: &Transaction<'_>,
    tenant: &str,
    patients: &[&str],
    seqs: &[i64],
) -> StoreResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let stmt = tx.prepare_cached(INSERT_LINKS).await.map_err(error::db)?;
    tx.execute(&stmt, &[&tenant, &patients, &seqs])
        .await
        .map_err(error::db)?;
    Ok(())
}

/// Appends an AuditEvent from another audit source inside `tx` as a batch
/// of its own; returns its stored JSON. An id already in the log, or one of
/// the trail's (digits only), is refused.
pub(crate) async fn append_foreign(
    tx: &Transaction<'_>,
    tenant: &str,
    now: i64,
    event: ForeignAudit,
) -> StoreResult<String> {
    let taken = || audit_log::foreign_id_taken(&event.id);
    if audit_log::is_trail_id(&event.id) {
        return Err(taken());
    }
    let (head, leaf) = lock_head(tx).await?;
    let mut resource = event.resource.clone();
    let content = stamp::stamp(&mut resource, 1, now)?;
    let idx = audit_log::encode_index(&event.index);
    let stmt = tx.prepare_cached(INSERT_FOREIGN).await.map_err(error::db)?;
    let seq: i64 = match tx
        .query_one(&stmt, &[&tenant, &event.id, &now, &leaf, &idx, &content])
        .await
    {
        Ok(row) => row.try_get(0).map_err(error::db)?,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Err(taken()),
        Err(e) => return Err(error::db(e)),
    };
    let patients = audit_log::patients(&event.index);
    let patients: Vec<&str> = patients.iter().map(String::as_str).collect();
    let seqs = vec![seq; patients.len()];
    insert_links(tx, tenant, &patients, &seqs).await?;
    let mut hasher = BatchHasher::default();
    hasher.add(&event.id, &content);
    close_batch(tx, tenant, (&head, leaf), seq, &hasher).await?;
    Ok(content)
}

/// The batch's ledger leaf (id = its first sequence number) and the new head.
async fn close_batch(
    tx: &Transaction<'_>,
    tenant: &str,
    (head, leaf): (&[u8], i64),
    first_seq: i64,
    hasher: &BatchHasher,
) -> StoreResult<()> {
    let batch_id = first_seq.to_string();
    let content_hash = hasher.finish();
    let mut prev = [0u8; 32];
    if head.len() == 32 {
        prev.copy_from_slice(head);
    }
    let entry = concord_store::ledger::entry_hash(
        &prev,
        BATCH_TYPE,
        &batch_id,
        hasher.count(),
        &content_hash,
    );
    let stmt = tx.prepare_cached(INSERT_LEDGER).await.map_err(error::db)?;
    tx.execute(
        &stmt,
        &[
            &tenant,
            &BATCH_TYPE,
            &batch_id,
            &hasher.count(),
            &content_hash.to_vec(),
            &prev.to_vec(),
            &entry.to_vec(),
            &leaf,
        ],
    )
    .await
    .map_err(error::db)?;
    let stmt = tx.prepare_cached(UPDATE_HEAD).await.map_err(error::db)?;
    tx.execute(&stmt, &[&entry.to_vec(), &(leaf + 1)])
        .await
        .map_err(error::db)?;
    Ok(())
}

/// An AuditEvent by id (its one version).
pub(crate) async fn read(
    pool: &Pool,
    tenant: &str,
    id: &str,
) -> StoreResult<Option<StoredVersion>> {
    let client = pool.get().await.map_err(error::pool)?;
    let stmt = client
        .prepare_cached("SELECT stored_at, content FROM audit_log WHERE tenant = $1 AND id = $2")
        .await
        .map_err(error::db)?;
    let Some(row) = client
        .query_opt(&stmt, &[&tenant, &id])
        .await
        .map_err(error::db)?
    else {
        return Ok(None);
    };
    audit_log::stored_version(
        tenant,
        id,
        row.try_get(0).map_err(error::db)?,
        row.try_get(1).map_err(error::db)?,
    )
    .map(Some)
}

async fn candidates(
    pool: &Pool,
    tenant: &str,
    plan: &SearchPlan,
) -> StoreResult<Vec<AuditCandidate>> {
    let client = pool.get().await.map_err(error::pool)?;
    let rows = match audit_log::patient_hint(plan) {
        Some(patient) => {
            let stmt = client
                .prepare_cached(
                    "SELECT a.id, a.stored_at, a.idx,
                       CASE WHEN a.idx = '' THEN a.content END
                     FROM audit_patient p
                     JOIN audit_log a ON a.seq = p.seq
                     WHERE p.tenant = $1 AND p.patient = $2",
                )
                .await
                .map_err(error::db)?;
            client.query(&stmt, &[&tenant, &patient]).await
        }
        None => {
            let stmt = client
                .prepare_cached(
                    "SELECT id, stored_at, idx, CASE WHEN idx = '' THEN content END
                     FROM audit_log WHERE tenant = $1",
                )
                .await
                .map_err(error::db)?;
            client.query(&stmt, &[&tenant]).await
        }
    }
    .map_err(error::db)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let idx: String = r.try_get(2).map_err(error::db)?;
        let record: Option<String> = r.try_get(3).map_err(error::db)?;
        out.push(audit_log::candidate(
            tenant,
            r.try_get(0).map_err(error::db)?,
            r.try_get(1).map_err(error::db)?,
            &idx,
            record.as_deref(),
        ));
    }
    Ok(out)
}

pub(crate) async fn search(
    pool: &Pool,
    tenant: &str,
    plan: &SearchPlan,
) -> StoreResult<SearchPage> {
    Ok(audit_log::search(
        plan,
        &candidates(pool, tenant, plan).await?,
    ))
}

pub(crate) async fn count(pool: &Pool, tenant: &str, plan: &SearchPlan) -> StoreResult<u64> {
    Ok(audit_log::count(
        plan,
        &candidates(pool, tenant, plan).await?,
    ))
}

pub(crate) async fn rows(pool: &Pool, after: i64, limit: usize) -> StoreResult<Vec<AuditLogRow>> {
    let client = pool.get().await.map_err(error::pool)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = client
        .prepare_cached(
            "SELECT seq, tenant, id, leaf_index, content FROM audit_log
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .await
        .map_err(error::db)?;
    let rows = client
        .query(&stmt, &[&after, &limit])
        .await
        .map_err(error::db)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(AuditLogRow {
            seq: r.try_get(0).map_err(error::db)?,
            tenant: r.try_get(1).map_err(error::db)?,
            id: r.try_get(2).map_err(error::db)?,
            leaf_index: r.try_get(3).map_err(error::db)?,
            content: r.try_get(4).map_err(error::db)?,
        });
    }
    Ok(out)
}

//! The compact audit log's SQL (see `concord_store::audit_log`): one
//! transaction per batch — the audit rows, their patient links and one
//! ledger leaf over the whole batch, taken under the `ledger_head` lock —
//! and the reads that serve AuditEvent.

use concord_store::audit_log::{
    self, AuditAppend, AuditCandidate, AuditLogRow, BatchHasher, AUDIT_TYPE, BATCH_TYPE,
};
use concord_store::search::{SearchPage, SearchPlan};
use concord_store::{StoreError, StoreResult, StoredVersion, WriteKind};
use deadpool_postgres::{Pool, Transaction};
use tokio_postgres::error::SqlState;

use crate::{error, stamp};

const LOCK_HEAD: &str = "SELECT entry_hash, size FROM ledger_head WHERE singleton FOR UPDATE";

const INSERT_ROWS: &str = "INSERT INTO audit_log (tenant, id, stored_at, leaf_index, idx, content)
SELECT $1, u.id, $2, $3, u.idx, u.content
FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(id, idx, content, n)
ORDER BY u.n
RETURNING seq, id";

const INSERT_LINKS: &str = "INSERT INTO audit_patient (tenant, patient, seq)
SELECT $1, u.patient, u.seq FROM unnest($2::text[], $3::int8[]) AS u(patient, seq)";

const INSERT_LEDGER: &str =
    "INSERT INTO ledger (tenant, type, id, version, content_hash, prev_hash, entry_hash,
    leaf_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const UPDATE_HEAD: &str = "UPDATE ledger_head SET entry_hash = $1, size = $2 WHERE singleton";

/// Appends one batch in its own transaction.
pub(crate) async fn append(pool: &Pool, tenant: &str, events: Vec<AuditAppend>) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await.map_err(error::pool)?;
    let tx = client.transaction().await.map_err(error::db)?;
    let now = concord_store::timestamp::now_millis();
    append_in(&tx, tenant, now, events).await?;
    tx.commit().await.map_err(error::db)
}

/// Appends `events` inside `tx` as one batch (rows, patient links, one
/// ledger leaf); returns each event's stored JSON, in order. An id already
/// in the log is refused.
pub(crate) async fn append_in(
    tx: &Transaction<'_>,
    tenant: &str,
    now: i64,
    events: Vec<AuditAppend>,
) -> StoreResult<Vec<String>> {
    let head_row = tx.query_one(LOCK_HEAD, &[]).await.map_err(error::db)?;
    let head: Vec<u8> = head_row.try_get(0).map_err(error::db)?;
    let leaf: i64 = head_row.try_get(1).map_err(error::db)?;
    let mut ids = Vec::with_capacity(events.len());
    let mut idxs = Vec::with_capacity(events.len());
    let mut contents = Vec::with_capacity(events.len());
    let mut patients = Vec::with_capacity(events.len());
    for e in events {
        let mut resource = e.resource;
        contents.push(stamp::stamp(&mut resource, 1, now)?);
        idxs.push(audit_log::encode_index(&e.index));
        patients.push(audit_log::patients(&e.index));
        ids.push(e.id);
    }
    let stmt = tx.prepare_cached(INSERT_ROWS).await.map_err(error::db)?;
    let rows = match tx
        .query(&stmt, &[&tenant, &now, &leaf, &ids, &idxs, &contents])
        .await
    {
        Ok(rows) => rows,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(StoreError::AlreadyExists {
                resource_type: AUDIT_TYPE.to_string(),
                id: ids.first().cloned().unwrap_or_default(),
            })
        }
        Err(e) => return Err(error::db(e)),
    };
    let mut seqs: Vec<(i64, String)> = Vec::with_capacity(rows.len());
    for r in rows {
        seqs.push((
            r.try_get(0).map_err(error::db)?,
            r.try_get(1).map_err(error::db)?,
        ));
    }
    seqs.sort();
    let position = |id: &str| ids.iter().position(|i| i == id);
    let mut hasher = BatchHasher::default();
    let (mut link_patients, mut link_seqs) = (Vec::new(), Vec::new());
    for (seq, id) in &seqs {
        let Some(i) = position(id) else { continue };
        hasher.add(id, &contents[i]);
        for p in &patients[i] {
            link_patients.push(p.clone());
            link_seqs.push(*seq);
        }
    }
    if !link_seqs.is_empty() {
        let stmt = tx.prepare_cached(INSERT_LINKS).await.map_err(error::db)?;
        tx.execute(&stmt, &[&tenant, &link_patients, &link_seqs])
            .await
            .map_err(error::db)?;
    }
    let batch_id = seqs.first().map_or(0, |s| s.0).to_string();
    let content_hash = hasher.finish();
    let mut prev = [0u8; 32];
    if head.len() == 32 {
        prev.copy_from_slice(&head);
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
    Ok(contents)
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
    Ok(Some(StoredVersion {
        resource_type: AUDIT_TYPE.to_string(),
        id: id.to_string(),
        version: 1,
        last_updated: row.try_get(0).map_err(error::db)?,
        kind: WriteKind::Create,
        content: row.try_get(1).map_err(error::db)?,
    }))
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
                    "SELECT a.id, a.stored_at, a.idx FROM audit_patient p
                     JOIN audit_log a ON a.seq = p.seq
                     WHERE p.tenant = $1 AND p.patient = $2",
                )
                .await
                .map_err(error::db)?;
            client.query(&stmt, &[&tenant, &patient]).await
        }
        None => {
            let stmt = client
                .prepare_cached("SELECT id, stored_at, idx FROM audit_log WHERE tenant = $1")
                .await
                .map_err(error::db)?;
            client.query(&stmt, &[&tenant]).await
        }
    }
    .map_err(error::db)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let idx: String = r.try_get(2).map_err(error::db)?;
        out.push(AuditCandidate {
            id: r.try_get(0).map_err(error::db)?,
            stored_at: r.try_get(1).map_err(error::db)?,
            index: audit_log::decode_index(&idx),
        });
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

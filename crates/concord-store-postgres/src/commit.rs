//! `commit`: all writes of a batch in one transaction, all or nothing.
//!
//! First the existing rows of the whole batch are locked (`SELECT ... FOR
//! UPDATE`, in type/id order). Then per write, in batch order: decide (see
//! [`crate::plan`]), write the `resources` row and its index rows; a new id is
//! inserted with `ON CONFLICT DO NOTHING`, and if a concurrent commit created it
//! first, the row is re-read and the write decided again. Then, under the
//! `ledger_head` lock, append history, outbox and ledger rows. Deadlocks and
//! serialization failures roll back and the whole batch is tried again.

use std::collections::{HashMap, HashSet};

use concord_store::audit_log::{ForeignAudit, AUDIT_TYPE};
use concord_store::{
    timestamp, CommittedWrite, PendingWrite, StoreError, StoreResult, WriteKind, WriteOutcome,
};
use deadpool_postgres::{Pool, Transaction};

use crate::plan::{plan, Current, Plan};
use crate::{error, index, journal, stamp};

/// How many times a batch is run when the database asks for a retry.
const ATTEMPTS: usize = 3;

/// How often one write re-reads a row that a concurrent commit created under it.
const ROW_RACES: usize = 3;

/// Locks the existing rows of a whole batch in (type, id) order, so that two
/// batches touching the same resources lock them in the same order.
const LOCK_BATCH: &str = "SELECT type, id, version, last_updated, kind FROM resources
WHERE tenant = $1 AND (type, id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
ORDER BY type, id FOR UPDATE";

const LOCK_CURRENT: &str = "SELECT version, last_updated, kind FROM resources
WHERE tenant = $1 AND type = $2 AND id = $3 FOR UPDATE";

const INSERT_NEW: &str =
    "INSERT INTO resources (tenant, type, id, version, last_updated, kind, content)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant, type, id) DO NOTHING";

const UPDATE_ROW: &str = "UPDATE resources
SET version = $4, last_updated = $5, kind = $6, content = $7
WHERE tenant = $1 AND type = $2 AND id = $3";

enum Failure {
    Store(StoreError),
    Retry(tokio_postgres::Error),
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Failure::Store(err)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(err: tokio_postgres::Error) -> Self {
        if error::is_retryable(&err) {
            Failure::Retry(err)
        } else {
            Failure::Store(error::db(err))
        }
    }
}

/// Commits `writes` for `tenant`, retrying transient conflicts.
pub(crate) async fn commit(
    pool: &Pool,
    tenant: &str,
    mut writes: Vec<PendingWrite>,
) -> StoreResult<Vec<CommittedWrite>> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    let duplicate_at = first_duplicate(&writes);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match run(pool, tenant, &mut writes, duplicate_at).await {
            Ok(done) => return Ok(done),
            Err(Failure::Store(err)) => return Err(err),
            Err(Failure::Retry(err)) if attempt < ATTEMPTS => {
                tracing::debug!(attempt, code = ?err.code(), "retrying commit");
            }
            Err(Failure::Retry(err)) => return Err(error::db(err)),
        }
    }
}

/// Index of the first write naming a type/id already named earlier in the batch.
fn first_duplicate(writes: &[PendingWrite]) -> Option<usize> {
    let mut seen = HashSet::with_capacity(writes.len());
    writes
        .iter()
        .position(|w| !seen.insert((w.resource_type.as_str(), w.id.as_str())))
}

async fn run(
    pool: &Pool,
    tenant: &str,
    writes: &mut [PendingWrite],
    duplicate_at: Option<usize>,
) -> Result<Vec<CommittedWrite>, Failure> {
    let mut client = pool.get().await.map_err(error::pool)?;
    let tx = client.transaction().await?;
    let now = timestamp::now_millis();
    let checked = duplicate_at.unwrap_or(writes.len());
    let mut current = lock_batch(&tx, tenant, &writes[..checked]).await?;
    let mut done = Vec::with_capacity(writes.len());
    let mut audit_at = Vec::new();
    for (i, write) in writes.iter_mut().enumerate() {
        if duplicate_at == Some(i) {
            return Err(Failure::Store(StoreError::DuplicateInBatch {
                resource_type: write.resource_type.clone(),
                id: write.id.clone(),
            }));
        }
        if write.resource_type == AUDIT_TYPE {
            // Appended to the audit log below (a batch of its own).
            audit_at.push(i);
            done.push(CommittedWrite {
                resource_type: write.resource_type.clone(),
                id: write.id.clone(),
                version: 1,
                last_updated: now,
                outcome: WriteOutcome::NoOp,
                content: None,
            });
            continue;
        }
        let found = current.remove(&(write.resource_type.clone(), write.id.clone()));
        done.push(apply(&tx, tenant, write, found, now).await?);
    }
    let written: Vec<(&CommittedWrite, WriteKind)> = done
        .iter()
        .zip(writes.iter())
        .filter(|(c, _)| c.outcome != WriteOutcome::NoOp)
        .map(|(c, w)| (c, w.kind))
        .collect();
    journal::append(&tx, tenant, &written).await?;
    for i in audit_at {
        let w = &writes[i];
        let (Some(resource), WriteKind::Create) = (w.resource.clone(), w.kind) else {
            return Err(Failure::Store(StoreError::Backend(
                "AuditEvents are only ever created".into(),
            )));
        };
        let event = ForeignAudit {
            id: w.id.clone(),
            resource,
            index: w.index.clone(),
        };
        let stored = crate::audit::append_foreign(&tx, tenant, now, event).await?;
        done[i].outcome = WriteOutcome::Created;
        done[i].content = Some(stored);
    }
    tx.commit().await?;
    Ok(done)
}

/// Applies one write to its `resources` row and index rows.
async fn apply(
    tx: &Transaction<'_>,
    tenant: &str,
    write: &mut PendingWrite,
    mut current: Option<Current>,
    now: i64,
) -> Result<CommittedWrite, Failure> {
    let rt = write.resource_type.as_str();
    let id = write.id.as_str();
    for race in 0..ROW_RACES {
        if race > 0 {
            current = lock_current(tx, tenant, rt, id).await?;
        }
        let (version, outcome) = match plan(write, current)? {
            Plan::NoOp => {
                return Ok(CommittedWrite {
                    resource_type: write.resource_type.clone(),
                    id: write.id.clone(),
                    version: current.map_or(0, |c| c.version),
                    last_updated: current.map_or(0, |c| c.last_updated),
                    outcome: WriteOutcome::NoOp,
                    content: None,
                })
            }
            Plan::Write { version, outcome } => (version, outcome),
        };
        let content = match (write.kind, write.resource.as_mut()) {
            (WriteKind::Delete, _) => None,
            (_, Some(resource)) => Some(stamp::stamp(resource, version, now)?),
            (_, None) => {
                return Err(Failure::Store(StoreError::Backend(format!(
                    "{} of {rt}/{id} has no resource",
                    write.kind.as_str()
                ))))
            }
        };
        let kind = write.kind.as_str();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] =
            [&tenant, &rt, &id, &version, &now, &kind, &content];
        if current.is_none() {
            let stmt = tx.prepare_cached(INSERT_NEW).await?;
            if tx.execute(&stmt, &params).await? == 0 {
                // A concurrent commit created this id after our read.
                if write.kind == WriteKind::Create {
                    return Err(Failure::Store(StoreError::AlreadyExists {
                        resource_type: rt.to_string(),
                        id: id.to_string(),
                    }));
                }
                continue;
            }
        } else {
            let stmt = tx.prepare_cached(UPDATE_ROW).await?;
            tx.execute(&stmt, &params).await?;
            index::clear(tx, tenant, rt, id).await?;
        }
        if write.kind != WriteKind::Delete {
            index::insert(tx, tenant, rt, id, &write.index).await?;
        }
        return Ok(CommittedWrite {
            resource_type: rt.to_string(),
            id: id.to_string(),
            version,
            last_updated: now,
            outcome,
            content,
        });
    }
    Err(Failure::Store(StoreError::Unavailable(format!(
        "{rt}/{id} kept changing under concurrent commits"
    ))))
}

/// Reads and locks the current rows of every resource the batch names.
async fn lock_batch(
    tx: &Transaction<'_>,
    tenant: &str,
    writes: &[PendingWrite],
) -> Result<HashMap<(String, String), Current>, Failure> {
    let types: Vec<&str> = writes.iter().map(|w| w.resource_type.as_str()).collect();
    let ids: Vec<&str> = writes.iter().map(|w| w.id.as_str()).collect();
    let stmt = tx.prepare_cached(LOCK_BATCH).await?;
    let rows = tx.query(&stmt, &[&tenant, &types, &ids]).await?;
    let mut current = HashMap::with_capacity(rows.len());
    for row in rows {
        let kind: &str = row.try_get(4)?;
        current.insert(
            (row.try_get(0)?, row.try_get(1)?),
            Current {
                version: row.try_get(2)?,
                last_updated: row.try_get(3)?,
                kind: crate::read::parse_kind(kind)?,
            },
        );
    }
    Ok(current)
}

/// Reads and locks the current row of a resource.
async fn lock_current(
    tx: &Transaction<'_>,
    tenant: &str,
    rt: &str,
    id: &str,
) -> Result<Option<Current>, Failure> {
    let stmt = tx.prepare_cached(LOCK_CURRENT).await?;
    let Some(row) = tx.query_opt(&stmt, &[&tenant, &rt, &id]).await? else {
        return Ok(None);
    };
    let kind: &str = row.try_get(2)?;
    Ok(Some(Current {
        version: row.try_get(0)?,
        last_updated: row.try_get(1)?,
        kind: crate::read::parse_kind(kind)?,
    }))
}

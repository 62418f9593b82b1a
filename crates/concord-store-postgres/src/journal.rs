//! History rows, outbox events and ledger entries of a commit, written after
//! every resource row is locked. Taking the `ledger_head` row lock first makes
//! commits append here one at a time, so `seq` order is commit order.

use concord_store::{CommittedWrite, WriteKind};
use deadpool_postgres::Transaction;

use crate::ledger;

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

const LOCK_HEAD: &str = "SELECT entry_hash, size FROM ledger_head WHERE singleton FOR UPDATE";

const INSERT_HISTORY: &str =
    "INSERT INTO resource_history (tenant, type, id, version, last_updated, kind, content)
SELECT $1, u.type, u.id, u.version, u.last_updated, u.kind, u.content
FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], $7::text[])
    WITH ORDINALITY AS u(type, id, version, last_updated, kind, content, n)
ORDER BY u.n";

const INSERT_OUTBOX: &str = "INSERT INTO outbox (tenant, type, id, version, kind, at)
SELECT $1, u.type, u.id, u.version, u.kind, u.at
FROM unnest($2::text[], $3::text[], $4::int8[], $5::text[], $6::int8[])
    WITH ORDINALITY AS u(type, id, version, kind, at, n)
ORDER BY u.n";

const INSERT_LEDGER: &str =
    "INSERT INTO ledger (tenant, type, id, version, content_hash, prev_hash, entry_hash,
    leaf_index)
SELECT $1, u.type, u.id, u.version, u.content_hash, u.prev_hash, u.entry_hash, $8 + u.n - 1
FROM unnest($2::text[], $3::text[], $4::int8[], $5::bytea[], $6::bytea[], $7::bytea[])
    WITH ORDINALITY AS u(type, id, version, content_hash, prev_hash, entry_hash, n)
ORDER BY u.n";

const UPDATE_HEAD: &str = "UPDATE ledger_head SET entry_hash = $1, size = $2 WHERE singleton";

/// Appends history, outbox and ledger rows for the written versions, in order.
pub(crate) async fn append(
    tx: &Transaction<'_>,
    tenant: &str,
    written: &[(&CommittedWrite, WriteKind)],
) -> Result<(), tokio_postgres::Error> {
    if written.is_empty() {
        return Ok(());
    }
    let lock = tx.prepare_cached(LOCK_HEAD).await?;
    let head_row = tx.query_one(&lock, &[]).await?;
    let head: Vec<u8> = head_row.try_get(0)?;
    let size: i64 = head_row.try_get(1)?;
    let new_size = size + i64::try_from(written.len()).unwrap_or(i64::MAX);

    let types: Vec<&str> = written
        .iter()
        .map(|(w, _)| w.resource_type.as_str())
        .collect();
    let ids: Vec<&str> = written.iter().map(|(w, _)| w.id.as_str()).collect();
    let versions: Vec<i64> = written.iter().map(|(w, _)| w.version).collect();
    let instants: Vec<i64> = written.iter().map(|(w, _)| w.last_updated).collect();
    let kinds: Vec<&str> = written.iter().map(|(_, k)| k.as_str()).collect();
    let contents: Vec<Option<&str>> = written.iter().map(|(w, _)| w.content.as_deref()).collect();

    let mut prev = head;
    let mut content_hashes = Vec::with_capacity(written.len());
    let mut prev_hashes = Vec::with_capacity(written.len());
    let mut entry_hashes = Vec::with_capacity(written.len());
    for (w, _) in written {
        let h = ledger::entry(
            &prev,
            &w.resource_type,
            &w.id,
            w.version,
            w.content.as_deref(),
        );
        prev = h.entry_hash.clone();
        content_hashes.push(h.content_hash);
        prev_hashes.push(h.prev_hash);
        entry_hashes.push(h.entry_hash);
    }

    let (history, outbox, ledger_rows, head_update) = tokio::try_join!(
        tx.prepare_cached(INSERT_HISTORY),
        tx.prepare_cached(INSERT_OUTBOX),
        tx.prepare_cached(INSERT_LEDGER),
        tx.prepare_cached(UPDATE_HEAD),
    )?;
    let history_params: [Param<'_>; 7] = [
        &tenant, &types, &ids, &versions, &instants, &kinds, &contents,
    ];
    let outbox_params: [Param<'_>; 6] = [&tenant, &types, &ids, &versions, &kinds, &instants];
    let ledger_params: [Param<'_>; 8] = [
        &tenant,
        &types,
        &ids,
        &versions,
        &content_hashes,
        &prev_hashes,
        &entry_hashes,
        &size,
    ];
    let head_params: [Param<'_>; 2] = [&prev, &new_size];
    // Pipelined: the four statements go out together, in this order.
    tokio::try_join!(
        tx.execute(&history, &history_params),
        tx.execute(&outbox, &outbox_params),
        tx.execute(&ledger_rows, &ledger_params),
        tx.execute(&head_update, &head_params),
    )?;
    Ok(())
}

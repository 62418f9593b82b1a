//! One writer connection (SQLite allows one writer at a time) and a pool of readers.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concord_store::{ledger, StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};

use crate::checkpoint::{self, Checkpointer};
use crate::error::backend;
use crate::key::{self, DbKey};
use crate::migrate;

/// The writer connection and the ledger head it extends.
pub struct Writer {
    pub conn: Connection,
    pub ledger_head: [u8; 32],
    /// Leaves in the Merkle log: the next ledger row's `leaf_index`.
    pub ledger_size: i64,
    /// Patient links of audit events not yet written (see `audit`).
    pub pending_links: crate::audit::PendingLinks,
}

pub struct Pool {
    /// Dropped first: commits what is queued while the writer and the
    /// checkpointer still exist.
    _writer_thread: crate::group::WriterThread,
    path: PathBuf,
    key: Option<DbKey>,
    /// Dropped first: its last checkpoint runs while the writer still exists.
    _checkpointer: Option<Checkpointer>,
    writer: Arc<Mutex<Writer>>,
    /// A `RESTART` checkpoint the writer runs between two transactions.
    checkpoints: Arc<checkpoint::Request>,
    /// Write requests waiting for the writer (group commit).
    queue: Arc<crate::group::Queue>,
    readers: Mutex<Vec<Connection>>,
}

const MAX_IDLE_READERS: usize = 16;

/// How long a statement waits for SQLite's locks (another process).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Page size of a new (unencrypted) database, bytes. 8 KiB against
/// SQLite's default 4 KiB measured ~10% faster ingest (fewer pages per
/// index b-tree: fewer splits and WAL frames per commit) and faster search
/// on every query of `concord bench search` (210,400 resources: name
/// 1.38 → 1.10 ms p50, birthdate 1.05 → 0.71 ms, `_has` 2.67 → 1.80 ms);
/// 16 and 32 KiB were no better. An encrypted database keeps SQLCipher's
/// page size: it must be known, unchanged, at every open.
pub(crate) const PAGE_SIZE: u32 = 8192;

/// The writer's page cache, KiB.
pub(crate) const WRITER_CACHE_KIB: i64 = 40_960;

/// Runs `f` holding the writer, then the checkpoint asked meanwhile, if any.
pub fn with_writer<T>(
    writer: &Mutex<Writer>,
    checkpoints: &checkpoint::Request,
    f: impl FnOnce(&mut Writer) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut guard = writer.lock().map_err(|_| writer_poisoned())?;
    let result = f(&mut guard);
    checkpoints.run_if_asked(&guard.conn, BUSY_TIMEOUT);
    result
}

fn writer_poisoned() -> StoreError {
    StoreError::Backend("writer lock poisoned".into())
}

fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;
         PRAGMA mmap_size = 67108864;",
    )
    .map_err(backend)
}

impl Pool {
    pub fn open(path: PathBuf, key: Option<DbKey>) -> StoreResult<Pool> {
        let mut conn = Connection::open(&path).map_err(backend)?;
        key::apply(&conn, &path, key.as_ref())?;
        if key.is_none() {
            // Takes effect only when this creates the database (see
            // [`PAGE_SIZE`]); an existing file keeps its page size.
            conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))
                .map_err(backend)?;
        }
        configure(&conn)?;
        // The writer inserts index rows at many places in many b-trees: a
        // larger cache and fewer checkpoints measured ~20% faster ingest.
        // 40 MiB, not more, and no memory map: a 256 MiB cache and map grew
        // with the database and took resident memory past 500 MiB during
        // ingest (the target is 300 MB); the writer's pages are its cache.
        // 40 instead of 64 MiB: 25-30 MiB less peak RSS with 4 Bundles in
        // flight and no measurable loss (six alternating pairs).
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA mmap_size = 0;
             PRAGMA wal_autocheckpoint = 16384;"
        ))
        .map_err(backend)?;
        migrate::run(&mut conn)?;
        let ledger_head = conn
            .query_row(
                "SELECT entry_hash FROM ledger ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .ok()
            .and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
            .unwrap_or(ledger::GENESIS);
        let ledger_size: i64 = conn
            .query_row(
                "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger",
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        let pending_links = crate::audit::PendingLinks::at_open(&conn)?;
        // Checkpoints move to their own thread (see `checkpoint`); without
        // it the writer keeps SQLite's automatic ones.
        let writer = Arc::new(Mutex::new(Writer {
            conn,
            ledger_head,
            ledger_size,
            pending_links,
        }));
        let checkpoints = Arc::new(checkpoint::Request::default());
        let checkpointer = Checkpointer::start(
            path.clone(),
            key.clone(),
            writer.clone(),
            checkpoints.clone(),
        );
        if checkpointer.is_some() {
            writer
                .lock()
                .map_err(|_| writer_poisoned())?
                .conn
                .execute_batch("PRAGMA wal_autocheckpoint = 0;")
                .map_err(backend)?;
        }
        let queue = Arc::new(crate::group::Queue::default());
        let writer_thread =
            crate::group::WriterThread::start(queue.clone(), writer.clone(), checkpoints.clone())?;
        Ok(Pool {
            _writer_thread: writer_thread,
            path,
            key,
            _checkpointer: checkpointer,
            writer,
            checkpoints,
            queue,
            readers: Mutex::new(Vec::new()),
        })
    }

    pub fn queue(&self) -> &crate::group::Queue {
        &self.queue
    }

    pub fn with_writer<T>(&self, f: impl FnOnce(&mut Writer) -> StoreResult<T>) -> StoreResult<T> {
        with_writer(&self.writer, &self.checkpoints, f)
    }

    pub fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self.readers.lock().ok().and_then(|mut r| r.pop());
        let conn = match taken {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(backend)?;
                key::apply(&c, &self.path, self.key.as_ref())?;
                configure(&c)?;
                c
            }
        };
        // One read transaction for everything `f` runs: its statements see
        // one snapshot, and SQLite checks the WAL (and, when another
        // connection has committed since, empties this connection's page
        // cache) once instead of once per statement — a page of search
        // results read resource by resource re-read its pages from the OS
        // on every row while audit batches were committing.
        let result = match conn.execute_batch("BEGIN") {
            Ok(()) => {
                let result = f(&conn);
                if conn.execute_batch("COMMIT").is_err() {
                    // A read transaction that cannot end leaves the
                    // connection unusable: do not return it to the pool.
                    return result;
                }
                result
            }
            Err(e) => return Err(backend(e)),
        };
        if let Ok(mut readers) = self.readers.lock() {
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_size(path: &std::path::Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn new_databases_get_the_larger_page_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        drop(Pool::open(fresh.clone(), None).unwrap());
        assert_eq!(page_size(&fresh), i64::from(PAGE_SIZE));

        // A database made before (SQLite's default page) opens, migrates
        // and keeps its page size.
        let old = dir.path().join("old.db");
        Connection::open(&old)
            .unwrap()
            .execute_batch(
                "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE x (v);",
            )
            .unwrap();
        let pool = Pool::open(old.clone(), None).unwrap();
        let tables: i64 = pool
            .with_reader(|c| {
                c.query_row("SELECT count(*) FROM resources", [], |r| r.get(0))
                    .map_err(backend)
            })
            .unwrap();
        assert_eq!(tables, 0);
        drop(pool);
        assert_eq!(page_size(&old), 4096);
    }
}

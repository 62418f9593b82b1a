//! WAL checkpoints off the writer's path.
//!
//! With SQLite's automatic checkpoints the connection that commits copies the
//! WAL back into the database file inside its `COMMIT` — measured at ~12% of
//! ingest time, all of it while holding the single writer. Instead the writer
//! runs with `wal_autocheckpoint = 0` and this thread, on its own connection,
//! runs a `PASSIVE` checkpoint (it never blocks readers or the writer) every
//! [`INTERVAL`]. When the WAL grows past [`TRUNCATE_PAGES`] anyway (a reader
//! held an old snapshot), a `TRUNCATE` checkpoint is tried to bound its size.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// Pages rewritten by several commits within one interval are copied to
/// the database once: at 250 ms the checkpointer took 13–17% of the CPU
/// of an HL7 v2 load, measurably less at 1 s (the WAL stays a few MB).
const INTERVAL: Duration = Duration::from_millis(1000);
/// WAL frames (4 KiB pages) after which the checkpointer truncates the WAL.
const TRUNCATE_PAGES: i64 = 65_536;

/// The running checkpointer; stops (after a final checkpoint) when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, or `None` if its connection cannot be opened (the
    /// caller then keeps SQLite's automatic checkpoints).
    pub fn start(path: PathBuf, key: Option<crate::key::DbKey>) -> Option<Checkpointer> {
        let conn = Connection::open(&path).ok()?;
        crate::key::apply(&conn, &path, key.as_ref()).ok()?;
        conn.execute_batch("PRAGMA busy_timeout = 10000;").ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(INTERVAL);
                    checkpoint(&conn, "PASSIVE");
                }
                checkpoint(&conn, "PASSIVE");
            })
            .ok()?;
        Some(Checkpointer {
            stop,
            handle: Some(handle),
        })
    }
}

/// One checkpoint; escalates to `TRUNCATE` when the WAL is large.
fn checkpoint(conn: &Connection, mode: &str) {
    let result = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    });
    match result {
        Ok((_, wal_pages)) if wal_pages > TRUNCATE_PAGES && mode == "PASSIVE" => {
            checkpoint(conn, "TRUNCATE")
        }
        Ok(_) => {}
        Err(e) => tracing::debug!(error = %e, "wal checkpoint skipped"),
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

//! WAL checkpoints off the writer's path.
//!
//! With SQLite's automatic checkpoints the connection that commits copies the
//! WAL back into the database file inside its `COMMIT` — measured at ~12% of
//! ingest time, all of it while holding the single writer. Instead the writer
//! runs with `wal_autocheckpoint = 0` and this thread, on its own connection,
//! runs a `PASSIVE` checkpoint (it never blocks readers or the writer) every
//! [`INTERVAL`].
//!
//! **Restarting the WAL.** A `PASSIVE` checkpoint copies frames back but
//! cannot make the writer start the WAL over while readers still read from
//! it — and under steady load some reader always is (an HL7 v2 feed's
//! patient matching, a busy API). The WAL then grows without bound (1.6 GB
//! in 16 s of an MLLP load, every frame written to fresh file blocks that
//! the kernel first zeroes: ~20% of that load's CPU), and readers search an
//! ever longer WAL index. So once the WAL holds more than
//! [`LIMITS`]`.restart_pages` frames, a `RESTART` checkpoint runs while this thread
//! holds the writer connection's lock (no commit is under way or can start,
//! so the checkpoint is not starved of SQLite's write lock by the group
//! commit's back-to-back transactions): it copies the few frames committed
//! since the `PASSIVE` one and waits (at most [`RESTART_WAIT_MS`]) for the
//! readers of old frames to finish, after which the writer writes from the
//! start of the file again, into blocks already in the page cache. Should the WAL still grow past
//! `truncate_pages`, a `TRUNCATE` checkpoint shrinks the file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::pool::Writer;

/// Pages rewritten by several commits within one interval are copied to
/// the database once: at 250 ms the checkpointer took 13–17% of the CPU
/// of an HL7 v2 load, measurably less at 1 s.
const INTERVAL: Duration = Duration::from_millis(1000);
/// When a `PASSIVE` checkpoint is followed by a `RESTART` or `TRUNCATE` one.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// WAL frames (4 KiB pages) after which the writer is made to start
    /// the WAL over (see the module docs).
    restart_pages: i64,
    /// WAL frames after which the WAL file is truncated.
    truncate_pages: i64,
}

/// 32 MiB and 256 MiB of WAL.
const LIMITS: Limits = Limits {
    restart_pages: 8_192,
    truncate_pages: 65_536,
};
/// How long a `RESTART` or `TRUNCATE` checkpoint waits for readers (it
/// holds up the writer meanwhile). One that times out — a long read, such
/// as an export, still holds old frames — is not tried again for the next
/// 1, 2, 4, then at most [`MAX_BACKOFF`] intervals, so a long reader costs
/// the writer at most this wait now and then.
const RESTART_WAIT_MS: u32 = 100;
const MAX_BACKOFF: u32 = 8;

/// The running checkpointer; stops (after a final checkpoint) when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, or `None` if its connection cannot be opened (the
    /// caller then keeps SQLite's automatic checkpoints).
    /// `writer` is held while a `RESTART` or `TRUNCATE` checkpoint runs.
    pub fn start(
        path: PathBuf,
        key: Option<crate::key::DbKey>,
        writer: Arc<Mutex<Writer>>,
    ) -> Option<Checkpointer> {
        let conn = Connection::open(&path).ok()?;
        crate::key::apply(&conn, &path, key.as_ref()).ok()?;
        conn.execute_batch(&format!("PRAGMA busy_timeout = {RESTART_WAIT_MS};"))
            .ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut backoff = Backoff::default();
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(INTERVAL);
                    checkpoint(&conn, &writer, LIMITS, &mut backoff);
                }
                checkpoint(&conn, &writer, LIMITS, &mut backoff);
            })
            .ok()?;
        Some(Checkpointer {
            stop,
            handle: Some(handle),
        })
    }
}

/// Intervals to let pass before the next `RESTART` or `TRUNCATE` attempt.
#[derive(Debug, Default)]
struct Backoff {
    skip: u32,
    next: u32,
}

impl Backoff {
    /// Whether an attempt is due (counts one interval down otherwise).
    fn due(&mut self) -> bool {
        if self.skip == 0 {
            return true;
        }
        self.skip -= 1;
        false
    }

    fn record(&mut self, completed: bool) {
        if completed {
            self.next = 0;
        } else {
            self.next = (self.next * 2).clamp(1, MAX_BACKOFF);
            self.skip = self.next;
        }
    }
}

/// A `PASSIVE` checkpoint, then a `RESTART` or `TRUNCATE` one (holding the
/// writer) when the WAL is large and the last attempt did not time out
/// just before.
fn checkpoint(conn: &Connection, writer: &Mutex<Writer>, limits: Limits, backoff: &mut Backoff) {
    let Some(mode) = (match run(conn, "PASSIVE") {
        Ok((_, wal_pages)) => escalation(wal_pages, limits),
        Err(e) => {
            tracing::debug!(error = %e, "wal checkpoint skipped");
            None
        }
    }) else {
        return;
    };
    if !backoff.due() {
        return;
    }
    // A poisoned lock means the writer is gone: nothing to do.
    let Ok(_held) = writer.lock() else {
        return;
    };
    match run(conn, mode) {
        Ok((completed, _)) => backoff.record(completed),
        Err(e) => {
            tracing::debug!(error = %e, mode, "wal checkpoint skipped");
            backoff.record(false);
        }
    }
}

/// Runs one checkpoint; returns whether it completed (was not blocked by
/// readers or another writer) and the frames the WAL held.
fn run(conn: &Connection, mode: &str) -> rusqlite::Result<(bool, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get::<_, i64>(0)? == 0, r.get::<_, i64>(1)?))
    })
}

/// The checkpoint that follows a `PASSIVE` one that left `wal_pages` frames.
fn escalation(wal_pages: i64, limits: Limits) -> Option<&'static str> {
    if wal_pages > limits.truncate_pages {
        Some("TRUNCATE")
    } else if wal_pages > limits.restart_pages {
        Some("RESTART")
    } else {
        None
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Under steady writes and a reader that reads again and again, the
    /// checkpoints keep the WAL small: the writer starts it over.
    #[test]
    fn the_wal_is_started_over_under_steady_reads_and_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             PRAGMA wal_autocheckpoint = 0; PRAGMA busy_timeout = 10000;
             CREATE TABLE t (v BLOB);",
        )
        .unwrap();
        let writer = Arc::new(Mutex::new(Writer {
            conn,
            ledger_head: [0; 32],
            ledger_size: 0,
            pending_links: Default::default(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let reading = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let r = Connection::open(&path).unwrap();
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    r.execute_batch("BEGIN").unwrap();
                    let _: i64 = r
                        .query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
                        .unwrap();
                    r.execute_batch("COMMIT").unwrap();
                    reads += 1;
                    // Requests come and go: a reader starts again soon.
                    std::thread::sleep(std::time::Duration::from_micros(500));
                }
                reads
            })
        };
        let ckpt = Connection::open(&path).unwrap();
        ckpt.execute_batch(&format!("PRAGMA busy_timeout = {RESTART_WAIT_MS};"))
            .unwrap();
        let mut backoff = Backoff::default();
        let limits = Limits {
            restart_pages: 64,
            truncate_pages: i64::MAX,
        };
        let page = vec![7u8; 4000];
        let writes = 3_000;
        for i in 0..writes {
            {
                let w = writer.lock().unwrap();
                w.conn
                    .execute("INSERT INTO t (v) VALUES (?1)", [&page])
                    .unwrap();
            }
            if i % 25 == 24 {
                checkpoint(&ckpt, &writer, limits, &mut backoff);
            }
        }
        stop.store(true, Ordering::Relaxed);
        let reads = reading.join().unwrap();
        assert!(reads > 0, "the reader never read");
        let wal = std::fs::metadata(dir.path().join("ckpt.db-wal"))
            .unwrap()
            .len();
        // 3,000 commits wrote ~3 frames each (~36 MB); without the
        // RESTART checkpoints the WAL keeps them all. Started over every
        // 25 commits — or, when a RESTART times out, after at most 8
        // skipped attempts — it holds far fewer.
        let frame = 4096 + 24;
        assert!(
            wal < 2_500 * frame,
            "WAL is {wal} bytes ({} frames)",
            wal / frame
        );
    }

    #[test]
    fn timed_out_restarts_back_off_up_to_a_limit() {
        let mut b = Backoff::default();
        assert!(b.due());
        let mut skipped = Vec::new();
        for _ in 0..6 {
            b.record(false);
            let mut n = 0;
            while !b.due() {
                n += 1;
            }
            skipped.push(n);
        }
        assert_eq!(skipped, [1, 2, 4, 8, 8, 8]);
        b.record(true);
        assert!(b.due());
    }

    #[test]
    fn large_wals_escalate_to_restart_then_truncate() {
        assert_eq!(escalation(10, LIMITS), None);
        assert_eq!(
            escalation(LIMITS.restart_pages + 1, LIMITS),
            Some("RESTART")
        );
        assert_eq!(
            escalation(LIMITS.truncate_pages + 1, LIMITS),
            Some("TRUNCATE")
        );
    }
}

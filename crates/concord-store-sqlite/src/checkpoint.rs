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
//! [`LIMITS`]`.restart_pages` frames, a `RESTART` checkpoint runs while no
//! commit is under way or can start (SQLite's own write lock would starve
//! it: the group commit's transactions follow each other back to back). It
//! copies the few frames committed since the `PASSIVE` one and waits (at
//! most [`RESTART_WAIT`]) for the readers of old frames to finish, after
//! which the writer writes from the start of the file again, into blocks
//! already in the page cache. Should the WAL still grow past
//! `truncate_pages`, a `TRUNCATE` checkpoint shrinks the file.
//!
//! **Who runs it.** This thread does not queue for the writer: it leaves a
//! [`Request`] that the writer runs on its own connection as soon as it has
//! finished its current group, right after the `PASSIVE` pass (so few frames
//! are left to copy). Waiting for the writer's lock instead took 0.4–0.9 s
//! under an ingest load (the lock is not fair to one thread among many
//! waiting requests), during which another second of frames piled up for
//! the `RESTART` to copy while it held every commit up: 180–310 ms each
//! time, every 2 s. A request the writer has not picked up by the next
//! interval (no commit came) is run here, holding the then idle writer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
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
    /// WAL frames (pages) after which the writer is made to start
    /// the WAL over (see the module docs).
    restart_pages: i64,
    /// WAL frames after which the WAL file is truncated.
    truncate_pages: i64,
}

/// 64 MiB and 512 MiB of WAL with 8 KiB pages (`pool::PAGE_SIZE`; half
/// that in a database made with 4 KiB pages). 256 MiB was tried (27 Nov):
/// the writer's share in `RESTART`s fell from ~6% to ~4%, but its WAL
/// writes rose from ~15% to ~22% (a longer WAL is written to fresh file
/// blocks for longer, and fills more of the page cache).
const LIMITS: Limits = Limits {
    restart_pages: 8_192,
    truncate_pages: 65_536,
};
/// How long a `RESTART` or `TRUNCATE` checkpoint waits for readers (it
/// holds up the writer meanwhile). One that times out — a long read, such
/// as an export, still holds old frames — is not tried again for the next
/// 1, 2, 4, then at most [`MAX_BACKOFF`] intervals, so a long reader costs
/// the writer at most this wait now and then.
const RESTART_WAIT: Duration = Duration::from_millis(100);
const MAX_BACKOFF: u32 = 8;

/// The running checkpointer; stops (after a final checkpoint) when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, or `None` if its connection cannot be opened (the
    /// caller then keeps SQLite's automatic checkpoints).
    /// `requests` is where the writer finds a `RESTART` or `TRUNCATE` to
    /// run; `writer` is held while one the writer left runs here.
    pub fn start(
        path: PathBuf,
        key: Option<crate::key::DbKey>,
        writer: Arc<Mutex<Writer>>,
        requests: Arc<Request>,
    ) -> Option<Checkpointer> {
        let conn = Connection::open(&path).ok()?;
        crate::key::apply(&conn, &path, key.as_ref()).ok()?;
        conn.busy_timeout(RESTART_WAIT).ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut backoff = Backoff::default();
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(INTERVAL);
                    checkpoint(&conn, &writer, &requests, LIMITS, &mut backoff);
                }
                checkpoint(&conn, &writer, &requests, LIMITS, &mut backoff);
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

/// A `RESTART` or `TRUNCATE` checkpoint asked of the writer (see the module
/// docs), and how the last one went.
#[derive(Debug, Default)]
pub struct Request {
    /// 0: none asked; else the index in [`MODES`] plus one.
    asked: AtomicU8,
    /// 0: nothing to report; 1: completed; 2: timed out or failed.
    outcome: AtomicU8,
}

const MODES: [&str; 2] = ["RESTART", "TRUNCATE"];

impl Request {
    fn ask(&self, mode: &'static str) {
        let code = MODES.iter().position(|m| *m == mode).map_or(0, |i| i + 1);
        self.asked.store(code as u8, Ordering::Release);
    }

    /// Takes the asked checkpoint, if any (only one taker gets it).
    fn take(&self) -> Option<&'static str> {
        // Read first: the writer asks after every transaction, and a
        // request is rare.
        if self.asked.load(Ordering::Acquire) == 0 {
            return None;
        }
        match self.asked.swap(0, Ordering::AcqRel) {
            0 => None,
            code => MODES.get(usize::from(code) - 1).copied(),
        }
    }

    fn report(&self, completed: bool) {
        self.outcome
            .store(if completed { 1 } else { 2 }, Ordering::Release);
    }

    /// The outcome of the last checkpoint the writer ran, once.
    fn reported(&self) -> Option<bool> {
        match self.outcome.swap(0, Ordering::AcqRel) {
            0 => None,
            code => Some(code == 1),
        }
    }

    /// Called by the writer between two transactions: runs the asked
    /// checkpoint, if any, on the writer's connection. Readers of old frames
    /// are waited for at most [`RESTART_WAIT`]; the connection's own busy
    /// timeout is put back afterwards.
    pub fn run_if_asked(&self, conn: &Connection, busy_timeout: Duration) {
        let Some(mode) = self.take() else {
            return;
        };
        let outcome = conn
            .busy_timeout(RESTART_WAIT)
            .and_then(|()| run(conn, mode));
        if let Err(e) = conn.busy_timeout(busy_timeout) {
            tracing::warn!(error = %e, "writer busy timeout not restored");
        }
        self.report(completed(mode, outcome));
    }
}

/// One interval's work: a `PASSIVE` checkpoint, then — when the WAL is
/// large and the last attempt did not time out just before — a `RESTART`
/// or `TRUNCATE` asked of the writer. One the writer has not taken since
/// the last interval runs here, holding the writer.
fn checkpoint(
    conn: &Connection,
    writer: &Mutex<Writer>,
    requests: &Request,
    limits: Limits,
    backoff: &mut Backoff,
) {
    if let Some(completed) = requests.reported() {
        backoff.record(completed);
    }
    run_unclaimed(conn, writer, requests, backoff);
    let Some(mode) = (match run(conn, "PASSIVE") {
        Ok((_, wal_pages)) => escalation(wal_pages, limits),
        Err(e) => {
            tracing::debug!(error = %e, "wal checkpoint skipped");
            None
        }
    }) else {
        return;
    };
    if backoff.due() {
        requests.ask(mode);
    }
}

/// Runs, holding the writer, a checkpoint asked at the last interval that
/// the writer has not taken (no commit came since); returns its mode.
fn run_unclaimed(
    conn: &Connection,
    writer: &Mutex<Writer>,
    requests: &Request,
    backoff: &mut Backoff,
) -> Option<&'static str> {
    let mode = requests.take()?;
    // A poisoned lock means the writer is gone: nothing to do.
    let _held = writer.lock().ok()?;
    backoff.record(completed(mode, run(conn, mode)));
    Some(mode)
}

/// Whether a `RESTART` or `TRUNCATE` checkpoint completed (a failure is
/// logged and counts as not completed).
fn completed(mode: &str, outcome: rusqlite::Result<(bool, i64)>) -> bool {
    match outcome {
        Ok((completed, _)) => completed,
        Err(e) => {
            tracing::debug!(error = %e, mode, "wal checkpoint skipped");
            false
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

    /// A WAL database with one table and its writer, as the pool opens it.
    fn wal_db(dir: &tempfile::TempDir) -> (PathBuf, Arc<Mutex<Writer>>) {
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
        (path, writer)
    }

    /// The checkpoint thread's side: its connection, the requests it
    /// leaves, its back-off, and limits small enough for a test.
    struct Side {
        conn: Connection,
        requests: Request,
        backoff: Backoff,
        limits: Limits,
    }

    impl Side {
        fn new(path: &PathBuf) -> Side {
            let conn = Connection::open(path).unwrap();
            conn.busy_timeout(RESTART_WAIT).unwrap();
            Side {
                conn,
                requests: Request::default(),
                backoff: Backoff::default(),
                limits: Limits {
                    restart_pages: 64,
                    truncate_pages: i64::MAX,
                },
            }
        }

        /// One interval's work.
        fn turn(&mut self, writer: &Mutex<Writer>) {
            checkpoint(
                &self.conn,
                writer,
                &self.requests,
                self.limits,
                &mut self.backoff,
            );
        }
    }

    const PAGE: [u8; 4000] = [7; 4000];

    const BUSY: Duration = Duration::from_secs(10);

    /// Under steady writes and a reader that reads again and again, the
    /// checkpoints keep the WAL small: the writer, asked between two
    /// commits, starts it over.
    #[test]
    fn the_wal_is_started_over_under_steady_reads_and_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_db(&dir);
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
        let mut side = Side::new(&path);
        let writes = 3_000;
        let mut run_by_writer = 0;
        for i in 0..writes {
            {
                // What `Pool::with_writer` does: the write, then the
                // checkpoint asked meanwhile, if any.
                let w = writer.lock().unwrap();
                w.conn
                    .execute("INSERT INTO t (v) VALUES (?1)", [&PAGE])
                    .unwrap();
                side.requests.run_if_asked(&w.conn, BUSY);
                if side.requests.outcome.load(Ordering::Acquire) != 0 {
                    run_by_writer += 1;
                }
            }
            if i % 25 == 24 {
                side.turn(&writer);
            }
        }
        stop.store(true, Ordering::Relaxed);
        let reads = reading.join().unwrap();
        assert!(reads > 0, "the reader never read");
        assert!(
            run_by_writer > 10,
            "the writer ran {run_by_writer} checkpoints"
        );
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

    /// A checkpoint asked while no commit comes (the writer never looks)
    /// runs on the checkpointer's next turn, holding the idle writer.
    #[test]
    fn an_idle_writers_checkpoint_runs_on_the_next_interval() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_db(&dir);
        let mut side = Side::new(&path);
        let insert = || {
            writer
                .lock()
                .unwrap()
                .conn
                .execute("INSERT INTO t (v) VALUES (?1)", [&PAGE])
                .unwrap();
        };
        for _ in 0..200 {
            insert();
        }
        side.turn(&writer);
        assert_eq!(
            side.requests.asked.load(Ordering::Acquire),
            1,
            "RESTART asked"
        );
        let (conn, requests, backoff) = (&side.conn, &side.requests, &mut side.backoff);
        assert_eq!(
            run_unclaimed(conn, &writer, requests, backoff),
            Some("RESTART")
        );
        assert_eq!(run_unclaimed(conn, &writer, requests, backoff), None);
        // Started over: the next commit writes from the WAL's first frame.
        insert();
        let (_, frames) = run(&side.conn, "PASSIVE").unwrap();
        assert!(frames < 10, "WAL holds {frames} frames after a restart");
        assert_eq!(
            writer
                .lock()
                .unwrap()
                .conn
                .query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            201
        );
    }

    #[test]
    fn asked_checkpoints_are_taken_once() {
        let requests = Request::default();
        assert_eq!(requests.take(), None);
        requests.ask("TRUNCATE");
        assert_eq!(requests.take(), Some("TRUNCATE"));
        assert_eq!(requests.take(), None);
        assert_eq!(requests.reported(), None);
        requests.report(false);
        assert_eq!(requests.reported(), Some(false));
        assert_eq!(requests.reported(), None);
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

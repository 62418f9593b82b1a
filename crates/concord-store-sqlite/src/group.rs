//! Group commit: concurrent write requests share one SQLite transaction.
//!
//! SQLite has one writer, and with many index b-trees most of a commit's
//! cost is writing the dirty pages to the WAL at `COMMIT`. Requests queue
//! here; one thread ([`WriterThread`]) takes every queued request and runs
//! them in ONE transaction (see `commit::commit_group`: without savepoints
//! first, each in its own `SAVEPOINT` if one fails, so one request's failure
//! — a version conflict, an existing id, … — rolls back only itself). Every
//! request is answered only after the shared `COMMIT` has returned: nothing
//! is acknowledged before it is in the database, exactly as with one
//! transaction per request. If the `COMMIT` itself fails every request of
//! the group gets the error and none of them is stored.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use concord_store::audit_log::AUDIT_TYPE;
use concord_store::meta::MetaTemplate;
use concord_store::{CommittedWrite, PendingWrite, StoreError, StoreResult, WriteKind};
use tokio::sync::oneshot;

use crate::checkpoint;
use crate::commit;
use crate::pool::{self, Writer};

/// One queued request: its writes and where to send the outcome.
pub struct Job {
    pub tenant: String,
    pub writes: Vec<PendingWrite>,
    /// Each write's resource, already serialized (see [`Job::new`]).
    pub contents: Vec<Option<MetaTemplate>>,
    pub reply: oneshot::Sender<StoreResult<Vec<CommittedWrite>>>,
}

impl Job {
    /// A request for the writer. Its resources are serialized here, on the
    /// requester's thread, with slots for the version and time only the
    /// writer knows (and their parsed form is dropped here): serializing and
    /// freeing them took ~8% of the single writer's time during ingest.
    pub fn new(
        tenant: String,
        mut writes: Vec<PendingWrite>,
        reply: oneshot::Sender<StoreResult<Vec<CommittedWrite>>>,
    ) -> Job {
        let contents = writes
            .iter_mut()
            .map(|pw| {
                if pw.resource_type == AUDIT_TYPE || pw.kind == WriteKind::Delete {
                    return None;
                }
                let template = MetaTemplate::new(pw.resource.as_mut()?).ok()?;
                pw.resource = None;
                Some(template)
            })
            .collect();
        Job {
            tenant,
            writes,
            contents,
            reply,
        }
    }
}

/// Requests waiting for the writer, in arrival order.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Default)]
struct State {
    jobs: Vec<Job>,
    /// Set when the store closes: the writer thread finishes the queue and
    /// ends.
    closed: bool,
}

/// At most this many writes (resources) go into one shared transaction;
/// later requests wait for the next one. Bounds the transaction's size
/// (memory, WAL growth) when many large Bundles arrive at once.
const MAX_WRITES: usize = 4_096;

impl Queue {
    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| StoreError::Backend("commit queue poisoned".into()))
    }

    /// Queues a request for the writer thread.
    pub fn push(&self, job: Job) -> StoreResult<()> {
        let mut state = self.lock()?;
        if state.closed {
            return Err(StoreError::Backend("the store is closed".into()));
        }
        state.jobs.push(job);
        self.ready.notify_one();
        Ok(())
    }

    /// Waits for requests and takes the oldest, up to [`MAX_WRITES`] writes
    /// (at least one request); `None` once closed and empty.
    fn next_group(&self) -> Option<Vec<Job>> {
        let mut state = self.lock().ok()?;
        while state.jobs.is_empty() {
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).ok()?;
        }
        let mut total = 0;
        let mut n = 0;
        for job in state.jobs.iter() {
            if n > 0 && total + job.writes.len() > MAX_WRITES {
                break;
            }
            total += job.writes.len();
            n += 1;
        }
        Some(state.jobs.drain(..n).collect())
    }

    fn close(&self) {
        if let Ok(mut state) = self.lock() {
            state.closed = true;
        }
        self.ready.notify_all();
    }
}

/// The thread that commits every queued request. One thread that stays on
/// the job, instead of the writer's lock passing from one request's thread
/// to the next: each hand-over woke a thread that then waited for a core
/// while the requests behind it waited for the writer.
pub struct WriterThread {
    queue: Arc<Queue>,
    handle: Option<JoinHandle<()>>,
}

impl WriterThread {
    pub fn start(
        queue: Arc<Queue>,
        writer: Arc<Mutex<Writer>>,
        checkpoints: Arc<checkpoint::Request>,
    ) -> StoreResult<WriterThread> {
        let q = queue.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                crate::priority::raise_for_writer();
                while let Some(jobs) = q.next_group() {
                    let mut jobs = Some(jobs);
                    let done = pool::with_writer(&writer, &checkpoints, |w| {
                        if let Some(jobs) = jobs.take() {
                            commit::commit_group(w, jobs);
                        }
                        Ok(())
                    });
                    if let Err(e) = done {
                        // The writer is gone (a poisoned lock): answer.
                        for job in jobs.into_iter().flatten() {
                            let _ = job.reply.send(Err(StoreError::Backend(e.to_string())));
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("writer thread: {e}")))?;
        Ok(WriterThread {
            queue,
            handle: Some(handle),
        })
    }
}

impl Drop for WriterThread {
    /// Commits what is still queued, then ends the thread.
    fn drop(&mut self) {
        self.queue.close();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::commit::tests::patient;
    use crate::pool::Pool;

    fn job(id: &str) -> (Job, oneshot::Receiver<StoreResult<Vec<CommittedWrite>>>) {
        let (reply, answer) = oneshot::channel();
        let job = Job::new("t".into(), vec![patient(id)], reply);
        (job, answer)
    }

    /// Closing the store commits what is queued before the thread ends;
    /// nothing queued is lost or left unanswered.
    #[test]
    fn closing_commits_the_queue_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let pool = Pool::open(path.clone(), None).unwrap();
        let answers: Vec<_> = (0..50)
            .map(|n| {
                let (job, answer) = job(&format!("p{n}"));
                pool.queue().push(job).unwrap();
                answer
            })
            .collect();
        drop(pool);
        for mut answer in answers {
            assert_eq!(answer.try_recv().unwrap().unwrap()[0].version, 1);
        }
        let stored: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM resources", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 50);
    }

    #[test]
    fn a_closed_queue_refuses_requests() {
        let queue = Queue::default();
        queue.close();
        let (job, mut answer) = job("late");
        assert!(queue.push(job).is_err());
        assert!(answer.try_recv().is_err(), "dropped, never answered Ok");
        assert!(queue.next_group().is_none());
    }
}

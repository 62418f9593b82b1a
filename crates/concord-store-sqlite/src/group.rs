//! Group commit: concurrent write requests share one SQLite transaction.
//!
//! SQLite has one writer, and with many index b-trees most of a commit's
//! cost is writing the dirty pages to the WAL at `COMMIT`. Requests that
//! arrive while the writer is busy wait in a queue; the next thread to get
//! the writer takes every queued request and runs them in ONE transaction,
//! each inside its own `SAVEPOINT`, so one request's failure (a version
//! conflict, an existing id, …) rolls back only itself. Every request is
//! answered only after the shared `COMMIT` has returned: nothing is
//! acknowledged before it is in the database, exactly as with one
//! transaction per request. If the `COMMIT` itself fails every request of
//! the group gets the error and none of them is stored.

use std::sync::Mutex;

use concord_store::{CommittedWrite, PendingWrite, StoreError, StoreResult};
use tokio::sync::oneshot;

use crate::commit;
use crate::pool::Pool;

/// One queued request: its writes and where to send the outcome.
pub struct Job {
    pub tenant: String,
    pub writes: Vec<PendingWrite>,
    pub reply: oneshot::Sender<StoreResult<Vec<CommittedWrite>>>,
}

/// Requests waiting for the writer, numbered in arrival order.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    jobs: Vec<Job>,
    /// The number the next request gets.
    next: u64,
    /// Every request numbered below this has been taken into a group.
    taken: u64,
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

    /// Queues a request; returns its number for [`drain`].
    pub fn push(&self, job: Job) -> StoreResult<u64> {
        let mut state = self.lock()?;
        let ticket = state.next;
        state.next += 1;
        state.jobs.push(job);
        Ok(ticket)
    }

    /// Whether request `ticket` is already in a group.
    fn is_taken(&self, ticket: u64) -> bool {
        self.lock().map_or(true, |state| state.taken > ticket)
    }

    /// Takes the oldest requests, up to [`MAX_WRITES`] writes (at least one
    /// request).
    fn take(&self) -> Vec<Job> {
        let Ok(mut state) = self.lock() else {
            return Vec::new();
        };
        let mut total = 0;
        let mut n = 0;
        for job in state.jobs.iter() {
            if n > 0 && total + job.writes.len() > MAX_WRITES {
                break;
            }
            total += job.writes.len();
            n += 1;
        }
        state.taken += n as u64;
        state.jobs.drain(..n).collect()
    }
}

/// Runs on a blocking thread for request `ticket`, which waits for its
/// answer after this returns: unless an earlier thread's group has taken
/// the request already (that thread answers it), takes the writer and
/// commits every queued request, this one among them.
pub fn drain(pool: &Pool, ticket: u64) {
    if pool.queue().is_taken(ticket) {
        return;
    }
    let result = pool.with_writer(|w| {
        // Taken while this thread waited for the writer: its group has
        // committed by now, so its answer is there.
        while !pool.queue().is_taken(ticket) {
            let jobs = pool.queue().take();
            if jobs.is_empty() {
                break;
            }
            commit::commit_group(w, jobs);
        }
        Ok(())
    });
    if let Err(e) = result {
        // The writer could not be had: answer whoever is still queued.
        for job in pool.queue().take() {
            let _ = job.reply.send(Err(StoreError::Backend(e.to_string())));
        }
    }
}

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

/// Requests waiting for the writer.
#[derive(Default)]
pub struct Queue {
    jobs: Mutex<Vec<Job>>,
}

/// At most this many writes (resources) go into one shared transaction;
/// later requests wait for the next one. Bounds the transaction's size
/// (memory, WAL growth) when many large Bundles arrive at once.
const MAX_WRITES: usize = 4_096;

impl Queue {
    pub fn push(&self, job: Job) -> StoreResult<()> {
        self.jobs
            .lock()
            .map_err(|_| StoreError::Backend("commit queue poisoned".into()))?
            .push(job);
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.jobs.lock().is_ok_and(|jobs| jobs.is_empty())
    }

    /// Takes the oldest requests, up to [`MAX_WRITES`] writes (at least one
    /// request).
    fn take(&self) -> Vec<Job> {
        let Ok(mut jobs) = self.jobs.lock() else {
            return Vec::new();
        };
        let mut total = 0;
        let mut n = 0;
        for job in jobs.iter() {
            if n > 0 && total + job.writes.len() > MAX_WRITES {
                break;
            }
            total += job.writes.len();
            n += 1;
        }
        jobs.drain(..n).collect()
    }
}

/// Runs on a blocking thread after a request was queued: takes the writer
/// and commits whatever is queued (possibly nothing, when an earlier
/// thread already took this request into its group).
pub fn drain(pool: &Pool) {
    if pool.queue().is_empty() {
        // An earlier thread's group took this request; it answers it.
        return;
    }
    let result = pool.with_writer(|w| {
        loop {
            let jobs = pool.queue().take();
            if jobs.is_empty() {
                return Ok(());
            }
            commit::commit_group(w, jobs);
        }
    });
    if let Err(e) = result {
        // The writer could not be had: answer whoever is still queued.
        for job in pool.queue().take() {
            let _ = job.reply.send(Err(StoreError::Backend(e.to_string())));
        }
    }
}

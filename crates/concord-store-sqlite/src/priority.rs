//! The writer thread's scheduling priority.
//!
//! Every write of the store waits for the one `sqlite-writer` thread, and
//! on a 2-core machine the request threads preparing the next writes
//! (parsing, validating, extracting index rows) keep both cores busy: during
//! a Synthea ingest with 4 Bundles in flight the writer sat runnable but
//! preempted for ~1.5 s of a 12 s run. At niceness −10 it runs ahead of
//! them (+3–13% resources/s in four alternating pairs). Raising a thread's
//! priority needs `CAP_SYS_NICE` (or root, or an `RLIMIT_NICE` allowance);
//! without it the writer keeps the default and says so once.

/// The writer's niceness (Linux: −20 is the highest priority, 0 the
/// default).
pub(crate) const WRITER_NICE: i32 = -10;

/// Gives the calling thread [`WRITER_NICE`], if the process may.
pub(crate) fn raise_for_writer() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), WRITER_NICE) {
            tracing::info!(
                error = %e,
                "the SQLite writer keeps the default priority (CAP_SYS_NICE lets it run ahead of request threads)"
            );
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The niceness of this process's thread named `name` (field 19 of
    /// `/proc/self/task/TID/stat`, after the parenthesised name).
    fn niceness_of(name: &str) -> Option<i32> {
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let dir = task.ok()?.path();
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            if comm.trim() != name {
                continue;
            }
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            let after_name = &stat[stat.rfind(')')? + 2..];
            // Fields from the 3rd on: state is index 0, nice (19th) is 16.
            return after_name.split(' ').nth(16)?.parse().ok();
        }
        None
    }

    /// The writer thread runs at WRITER_NICE when the process may raise
    /// priorities, at the default otherwise.
    #[test]
    fn the_writer_thread_runs_at_its_priority() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::pool::Pool::open(dir.path().join("p.db"), None).unwrap();
        let mut nice = None;
        for _ in 0..100 {
            nice = niceness_of("sqlite-writer");
            if nice == Some(WRITER_NICE) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Whether this process may raise a thread's priority at all (root
        // in a container can lack CAP_SYS_NICE): asked of a scratch thread.
        let privileged = std::thread::spawn(|| {
            rustix::process::setpriority_process(Some(rustix::thread::gettid()), WRITER_NICE)
                .is_ok()
        })
        .join()
        .unwrap();
        let expected = if privileged { WRITER_NICE } else { 0 };
        assert_eq!(nice, Some(expected), "may raise priorities: {privileged}");
        drop(pool);
    }
}

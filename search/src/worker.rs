//! [`IndexWorker`]: the one thread that changes the index, at a lower CPU priority.
//!
//! Indexing is background work: when appends keep both cores busy, it should yield to them and
//! fall behind (then catch up), not take a core from them. On Linux a thread's nice value is its
//! own and is inherited by the threads it starts, so the index is opened (tantivy starts its
//! segment updater and merge threads then) and committed (tantivy starts its indexing threads
//! then) on this thread, niced to [`NICE`]: every thread that indexes runs at that priority. Its
//! CPU share when the machine is saturated is then about a tenth of a normal thread's; when the
//! machine is idle it runs at full speed. Searches do not run here.

use std::sync::mpsc;

use crate::{SearchError, SearchResult};

/// The nice value of the index threads (0 is normal, 19 the lowest priority).
pub const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// A thread running index jobs one at a time, in order; it ends when the worker is dropped.
pub struct IndexWorker {
    jobs: mpsc::Sender<Job>,
}

impl IndexWorker {
    /// Starts the thread.
    pub fn start() -> SearchResult<Self> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("threadstore-index".into())
            .spawn(move || {
                lower_priority();
                while let Ok(job) = receiver.recv() {
                    job();
                }
            })
            .map_err(|e| SearchError::Damaged(format!("cannot start the index thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// Runs `job` on the thread and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> SearchResult<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(job());
            }))
            .map_err(|_| SearchError::Damaged("the index thread is gone".into()))?;
        result
            .await
            .map_err(|_| SearchError::Damaged("an index job panicked".into()))
    }

    /// Runs `job` on the thread, blocking the caller until it is done (for callers outside an
    /// async runtime).
    pub fn run_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> SearchResult<T> {
        let (done, result) = mpsc::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(job());
            }))
            .map_err(|_| SearchError::Damaged("the index thread is gone".into()))?;
        result
            .recv()
            .map_err(|_| SearchError::Damaged("an index job panicked".into()))
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid and setpriority have no memory-safety preconditions; PRIO_PROCESS with a
    // thread id sets that thread's nice value on Linux. A failure leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, NICE);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_on_one_thread() {
        let worker = IndexWorker::start().unwrap();
        let first = worker.run_blocking(|| std::thread::current().id()).unwrap();
        let second = worker.run_blocking(|| std::thread::current().id()).unwrap();
        assert_eq!(first, second);
        assert_ne!(first, std::thread::current().id());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_thread_and_those_it_starts_run_niced() {
        let worker = IndexWorker::start().unwrap();
        // SAFETY: getpriority has no preconditions.
        let nice = |tid: libc::id_t| unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) };
        let gettid = || unsafe { libc::syscall(libc::SYS_gettid) as libc::id_t };
        let own = worker.run_blocking(move || nice(gettid())).unwrap();
        let child = worker
            .run_blocking(move || std::thread::spawn(move || nice(gettid())).join().unwrap())
            .unwrap();
        assert_eq!((own, child), (NICE, NICE));
    }
}

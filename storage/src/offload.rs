//! Where blocking storage work runs: never on a tokio async worker while other tasks wait for
//! longer than a hand-off would cost.
//!
//! Three kinds of work, three places:
//! - **The fsync** ([`wait`]): a wait for the disk of milliseconds, with no data to hand back. It
//!   goes to the blocking pool, so the committer task simply waits and its worker keeps running
//!   its other tasks on the same thread (under `block_in_place` the worker's tasks would move to
//!   another thread at every fsync: measured, W1 with 64 writers at ~10,500 items/s instead of
//!   ~13,700/s).
//! - **Scans** ([`read`]): pages, histories, listings, feed ranges and deletes may touch many
//!   pages, some from disk. On a multi-threaded runtime they run on the calling thread inside
//!   [`tokio::task::block_in_place`]: the worker's other tasks are handed to another thread
//!   first, so nothing queues behind a slow disk, and the data is not moved to another thread (measured on the 2-vCPU VM: with every read hopping to the blocking pool,
//!   `load_history` of 10,000 items took ~80 ms instead of ~30 ms). On a current-thread runtime
//!   (there is no other worker to hand tasks to) they go to the blocking pool; outside a runtime
//!   they run inline.
//! - **Point reads** ([`point`]): one key (a thread record, a turn, a turn id, a request id, one
//!   log record). They run inline: a lookup touches one root-to-leaf path of cached tree pages
//!   and takes microseconds, while handing the worker off costs a thread wake-up (~100-200 µs
//!   here) on every append that needs one.
//! - **A write group's apply** ([`apply`]): sled's `apply_batch` copies the batch into its IO
//!   buffer and leaves the disk writes to its own IO threads. A group smaller than
//!   [`INLINE_APPLY_BYTES`] is applied inline; a bigger one (a large append, a delete, a group of
//!   many concurrent commits) under `block_in_place`, where the hand-off costs little against the
//!   work. Measured with one writer appending to 1,000 threads from a tokio task (the way servers
//!   and agents call the store): every apply under `block_in_place` gave ~2,500 appends/s, inline
//!   ~5,500/s, as before the change (see BENCHMARKS.md).

use std::sync::Arc;

use threadstore_api::ThreadStoreError;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::engine::KvEngine;
use crate::StorageResult;

/// A write group whose keys and values add up to more than this is applied off the async worker.
pub const INLINE_APPLY_BYTES: usize = 64 * 1024;

fn on_multi_thread_worker() -> Option<bool> {
    Handle::try_current()
        .ok()
        .map(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Runs a scan: in place on a multi-threaded runtime, on the blocking pool on a
/// current-thread runtime, inline outside a runtime.
pub async fn read<T, F>(engine: &Arc<dyn KvEngine>, f: F) -> StorageResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn KvEngine) -> StorageResult<T> + Send + 'static,
{
    match on_multi_thread_worker() {
        Some(true) => tokio::task::block_in_place(|| f(engine.as_ref())),
        Some(false) => on_blocking_pool(engine, f).await,
        None => f(engine.as_ref()),
    }
}

/// Runs a wait for the disk (the fsync) on the blocking pool (inline outside a runtime).
pub async fn wait<T, F>(engine: &Arc<dyn KvEngine>, f: F) -> StorageResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn KvEngine) -> StorageResult<T> + Send + 'static,
{
    if Handle::try_current().is_err() {
        return f(engine.as_ref());
    }
    on_blocking_pool(engine, f).await
}

async fn on_blocking_pool<T, F>(engine: &Arc<dyn KvEngine>, f: F) -> StorageResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn KvEngine) -> StorageResult<T> + Send + 'static,
{
    let engine = engine.clone();
    tokio::task::spawn_blocking(move || f(engine.as_ref()))
        .await
        .map_err(|e| ThreadStoreError::internal(format!("storage task failed: {e}")))?
}

/// Runs a point read (one key) inline; for a [remote](KvEngine::remote) engine (a round trip
/// to a database server) in place on a multi-threaded runtime, as a scan.
pub fn point<T>(engine: &Arc<dyn KvEngine>, f: impl FnOnce(&dyn KvEngine) -> T) -> T {
    if engine.remote() && on_multi_thread_worker() == Some(true) {
        return tokio::task::block_in_place(|| f(engine.as_ref()));
    }
    f(engine.as_ref())
}

/// Runs a write group's apply of `bytes` bytes: inline when small, else in place on a
/// multi-threaded runtime (inline elsewhere).
pub fn apply<T>(bytes: usize, f: impl FnOnce() -> T) -> T {
    match on_multi_thread_worker() {
        Some(true) if bytes > INLINE_APPLY_BYTES => tokio::task::block_in_place(f),
        _ => f(),
    }
}

//! Where blocking storage work runs: never on a tokio async worker while other tasks wait.
//!
//! On a multi-threaded runtime the work runs on the calling thread inside
//! [`tokio::task::block_in_place`]: the worker's other tasks are handed to another thread first,
//! so nothing queues behind a slow disk, and the caller pays no hop to another thread (measured on
//! the 2-vCPU VM: with every read hopping to the blocking pool, `load_history` of 10,000 items took
//! ~80 ms instead of ~30 ms, and a newest-50-turns page ~600-900 µs instead of ~400 µs; in place,
//! both are back at the baseline's figures). On a current-thread runtime (there is no other worker
//! to hand tasks to) reads go to the blocking pool, and outside a runtime everything runs inline.

use std::sync::Arc;

use threadstore_api::ThreadStoreError;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::engine::KvEngine;
use crate::StorageResult;

fn on_multi_thread_worker() -> Option<bool> {
    Handle::try_current()
        .ok()
        .map(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Runs a read: in place on a multi-threaded runtime, on the blocking pool on a current-thread
/// runtime, inline outside a runtime.
pub async fn read<T, F>(engine: &Arc<dyn KvEngine>, f: F) -> StorageResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn KvEngine) -> StorageResult<T> + Send + 'static,
{
    match on_multi_thread_worker() {
        Some(true) => tokio::task::block_in_place(|| f(engine.as_ref())),
        Some(false) => {
            let engine = engine.clone();
            tokio::task::spawn_blocking(move || f(engine.as_ref()))
                .await
                .map_err(|e| ThreadStoreError::internal(format!("storage task failed: {e}")))?
        }
        None => f(engine.as_ref()),
    }
}

/// Runs a short blocking step that borrows its inputs (a write group's apply): in place on a
/// multi-threaded runtime, inline elsewhere.
pub fn in_place<T>(f: impl FnOnce() -> T) -> T {
    match on_multi_thread_worker() {
        Some(true) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

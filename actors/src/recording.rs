//! A wrapper that counts calls per operation on any store (replaces Codex's built-in counters).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[allow(unused_imports)]
use threadstore_api::*;

/// Any store in, call counts out.
pub struct RecordingThreadStore {
    inner: Arc<dyn ThreadStore>,
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl RecordingThreadStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ThreadStore>) -> Self {
        Self {
            inner,
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Calls of one operation so far (by method name, e.g. `"append_items"`).
    pub fn call_count(&self, operation: &str) -> u64 {
        self.counts().get(operation).copied().unwrap_or(0)
    }

    /// Every operation's call count.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn ThreadStore> {
        &self.inner
    }

    fn record(&self, op: &'static str) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(op)
            .or_default() += 1;
    }
}

crate::forward_thread_store!(RecordingThreadStore, |s| s.inner, |h, op| h.record(op));

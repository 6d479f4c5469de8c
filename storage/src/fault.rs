//! A fault-injecting engine wrapper, for tests that prove what a fault costs: fsyncs that hang
//! or fail, reads of some keys that hang, an apply that panics.
//!
//! Every hold is bounded ([`Gate::MAX_HOLD`]), so a test whose code under test blocks where it
//! must not fails instead of hanging.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use threadstore_api::ThreadStoreError;

use crate::engine::{KvEngine, Scan, WriteBatch};
use crate::StorageResult;

/// A gate that blocks callers while held (at most [`Gate::MAX_HOLD`] each).
#[derive(Default)]
pub struct Gate {
    held: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    /// The longest a caller waits at a held gate.
    pub const MAX_HOLD: Duration = Duration::from_secs(10);

    /// Makes callers wait.
    pub fn hold(&self) {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }

    /// Lets every waiting and later caller through.
    pub fn release(&self) {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.opened.notify_all();
    }

    fn pass(&self) {
        let deadline = Instant::now() + Self::MAX_HOLD;
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        while *held {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            held = match self.opened.wait_timeout(held, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// The faults a [`FaultEngine`] injects; shared with the test that controls them.
#[derive(Default)]
pub struct Faults {
    /// Held: `flush` waits.
    pub flush_gate: Gate,
    /// Set: `flush` fails (as a failing fsync would).
    pub fail_flush: AtomicBool,
    /// Held: reads of keys starting with [`Faults::set_slow_prefix`]'s prefix wait.
    pub read_gate: Gate,
    slow_prefix: Mutex<Option<Vec<u8>>>,
    /// Set: the next `apply` panics (then the flag clears).
    pub panic_next_apply: AtomicBool,
}

impl Faults {
    /// Reads of keys with this prefix wait at `read_gate` while it is held.
    pub fn set_slow_prefix(&self, prefix: Vec<u8>) {
        *self.slow_prefix.lock().unwrap_or_else(|p| p.into_inner()) = Some(prefix);
    }

    fn maybe_slow(&self, key: &[u8]) {
        let slow = self
            .slow_prefix
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|p| key.starts_with(p));
        if slow {
            self.read_gate.pass();
        }
    }
}

/// Wraps an engine and injects the faults of its [`Faults`].
pub struct FaultEngine<E> {
    inner: E,
    faults: Arc<Faults>,
}

impl<E: KvEngine> FaultEngine<E> {
    /// Wraps `inner`; the returned faults control the wrapper.
    pub fn new(inner: E) -> (Self, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        (
            Self {
                inner,
                faults: faults.clone(),
            },
            faults,
        )
    }
}

impl<E: KvEngine> KvEngine for FaultEngine<E> {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        self.faults.maybe_slow(key);
        self.inner.get(key)
    }

    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_> {
        if let Bound::Included(k) | Bound::Excluded(k) = &start {
            self.faults.maybe_slow(k);
        }
        self.inner.scan(start, end, rev)
    }

    fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
        if self.faults.panic_next_apply.swap(false, Ordering::SeqCst) {
            panic!("fault injection: the engine panics while applying");
        }
        self.inner.apply(batch)
    }

    fn flush(&self) -> StorageResult<()> {
        self.faults.flush_gate.pass();
        if self.faults.fail_flush.load(Ordering::SeqCst) {
            return Err(ThreadStoreError::internal(
                "fault injection: fsync failed (EIO)",
            ));
        }
        self.inner.flush()
    }

    fn size_on_disk(&self) -> u64 {
        self.inner.size_on_disk()
    }
}

//! Ordered key-value engines under the journal: sled on disk ([`sled_engine`], feature `sled`),
//! a `BTreeMap` in memory, and a wrapper that counts record reads (tests prove page reads are
//! O(page) with it).
//!
//! An engine only stores bytes under the layout of [`crate::keys`]; it knows nothing about threads.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use threadstore_api::{SortDirection, ThreadStoreError};

use crate::keys;
use crate::StorageResult;

#[cfg(feature = "sled")]
pub mod sled_engine;
#[cfg(feature = "sled")]
pub use sled_engine::{
    lock_data_dir, remove_torn_snapshots, sled_err, SledEngine, SledOptions, LOCK_FILE,
};

/// One key/value pair.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An atomic set of writes: `Some(value)` inserts, `None` removes.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    /// The writes, applied in order.
    pub ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    /// Inserts `key = value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    /// Bytes of its keys and values.
    pub fn bytes(&self) -> usize {
        self.ops
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum()
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }
}

/// A forward or backward range scan.
pub type Scan<'a> = Box<dyn Iterator<Item = StorageResult<Entry>> + Send + 'a>;

/// An ordered, transactional-per-batch key-value engine.
pub trait KvEngine: Send + Sync + 'static {
    /// Point read.
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>>;
    /// Range scan between `start` and `end`, ascending or (`rev`) descending.
    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_>;
    /// Applies a batch atomically (all or nothing, also across a crash).
    fn apply(&self, batch: WriteBatch) -> StorageResult<()>;
    /// Makes every applied batch durable (fsync). Blocking.
    fn flush(&self) -> StorageResult<()>;
    /// Bytes used on disk (0 in memory).
    fn size_on_disk(&self) -> u64;
    /// Point reads of several keys, in their order (a remote engine reads them in one trip).
    fn get_many(&self, keys: &[Vec<u8>]) -> StorageResult<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(k)).collect()
    }
    /// Whether every call is a network round trip (a database server): even point reads then
    /// leave the async worker (see [`crate::offload::point`]).
    fn remote(&self) -> bool {
        false
    }
}

/// In-memory engine: the same layout in a `BTreeMap` (used by `InMemoryThreadStore`).
#[derive(Default)]
pub struct MemEngine {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemEngine {
    fn lock(&self) -> StorageResult<std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>>> {
        self.map
            .lock()
            .map_err(|_| ThreadStoreError::internal("in-memory engine lock poisoned"))
    }
}

/// Walks a `MemEngine` range one entry at a time, re-locking per step so no lock is held
/// between steps.
struct MemScan<'a> {
    engine: &'a MemEngine,
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    rev: bool,
    done: bool,
}

impl Iterator for MemScan<'_> {
    type Item = StorageResult<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let map = match self.engine.lock() {
            Ok(m) => m,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let mut range = map.range::<Vec<u8>, _>((self.start.clone(), self.end.clone()));
        let next = if self.rev {
            range.next_back()
        } else {
            range.next()
        };
        match next {
            Some((k, v)) => {
                if self.rev {
                    self.end = Bound::Excluded(k.clone());
                } else {
                    self.start = Bound::Excluded(k.clone());
                }
                Some(Ok((k.clone(), v.clone())))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

impl KvEngine for MemEngine {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        Ok(self.lock()?.get(key).cloned())
    }

    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_> {
        Box::new(MemScan {
            engine: self,
            start,
            end,
            rev,
            done: false,
        })
    }

    fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
        let mut map = self.lock()?;
        for (k, v) in batch.ops {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn flush(&self) -> StorageResult<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> u64 {
        0
    }
}

/// Wraps an engine and counts records read (point reads plus entries yielded by scans) and bytes
/// written (keys and values of applied batches, see [`WriteBatch::bytes`]).
pub struct CountingEngine<E> {
    inner: E,
    reads: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl<E: KvEngine> CountingEngine<E> {
    /// Wraps `inner`; the returned counter is shared with the wrapper.
    pub fn new(inner: E) -> (Self, Arc<AtomicU64>) {
        let reads = Arc::new(AtomicU64::new(0));
        (
            Self {
                inner,
                reads: reads.clone(),
                written: Arc::default(),
            },
            reads,
        )
    }

    /// The counter of bytes written (shared with the wrapper).
    pub fn written(&self) -> Arc<AtomicU64> {
        self.written.clone()
    }
}

impl<E: KvEngine> KvEngine for CountingEngine<E> {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(key)
    }

    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_> {
        let reads = self.reads.clone();
        Box::new(self.inner.scan(start, end, rev).inspect(move |_| {
            reads.fetch_add(1, Ordering::Relaxed);
        }))
    }

    fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
        self.written
            .fetch_add(batch.bytes() as u64, Ordering::Relaxed);
        self.inner.apply(batch)
    }

    fn flush(&self) -> StorageResult<()> {
        self.inner.flush()
    }

    fn size_on_disk(&self) -> u64 {
        self.inner.size_on_disk()
    }
}

/// Every entry whose key starts with `prefix`, forward or (`rev`) backward.
pub(crate) fn prefix_scan(
    engine: &dyn KvEngine,
    prefix: Vec<u8>,
    rev: bool,
) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
    let end = keys::prefix_end(&prefix);
    engine.scan(Bound::Included(prefix), Bound::Excluded(end), rev)
}

/// Keys `base ++ n` for `n` in `[from, to)`, in `direction`, at most `limit` (nothing when
/// the window is empty).
pub(crate) fn bounded_scan(
    engine: &dyn KvEngine,
    base: Vec<u8>,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
    let mut lo = base.clone();
    lo.extend_from_slice(&from.to_be_bytes());
    let mut hi = base;
    hi.extend_from_slice(&to.max(from).to_be_bytes());
    engine
        .scan(
            Bound::Included(lo),
            Bound::Excluded(hi),
            direction == SortDirection::Desc,
        )
        .take(if from < to { limit } else { 0 })
}

//! Durability modes and poison: a failed flush stops acknowledging writes, reads keep working.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use threadstore::layers::storage::engine::{KvEngine, MemEngine, Scan, WriteBatch};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, LoadThreadHistoryParams, RolloutItem,
    SledThreadStore, StoreConfig, ThreadStore, ThreadStoreError, ThreadStoreResult,
};

/// An engine whose flush fails once `fail` is set (an fsync error, e.g. EIO).
struct FlakyDisk {
    inner: MemEngine,
    fail: Arc<AtomicBool>,
}

impl KvEngine for FlakyDisk {
    fn get(&self, key: &[u8]) -> ThreadStoreResult<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_> {
        self.inner.scan(start, end, rev)
    }
    fn apply(&self, batch: WriteBatch) -> ThreadStoreResult<()> {
        self.inner.apply(batch)
    }
    fn flush(&self) -> ThreadStoreResult<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(ThreadStoreError::internal(
                "fsync: input/output error (injected)",
            ));
        }
        Ok(())
    }
    fn size_on_disk(&self) -> u64 {
        0
    }
}

async fn flaky_store(durability: Durability) -> (SledThreadStore, Arc<AtomicBool>) {
    let fail = Arc::new(AtomicBool::new(false));
    let engine = FlakyDisk {
        inner: MemEngine::default(),
        fail: fail.clone(),
    };
    let config = StoreConfig {
        durability,
        ..Default::default()
    };
    let store = SledThreadStore::builder("flaky")
        .config(config)
        .engine(Arc::new(engine))
        .open()
        .await
        .unwrap();
    (store, fail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fsync_poisons_writes_but_not_reads() {
    let (store, fail) = flaky_store(Durability::Sync).await;
    let w = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let ok = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("kept")],
        ))
        .await
        .unwrap();
    assert_eq!(ok.first_position, 1);

    fail.store(true, Ordering::SeqCst);
    let first = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("unsure")],
        ))
        .await;
    assert!(
        matches!(first, Err(ThreadStoreError::Poisoned { .. })),
        "{first:?}"
    );
    // The disk recovers, but the store does not pretend: every later write is refused.
    fail.store(false, Ordering::SeqCst);
    let later = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("refused")],
        ))
        .await;
    assert!(
        matches!(later, Err(ThreadStoreError::Poisoned { .. })),
        "{later:?}"
    );
    let create = store.create_thread(CreateThreadParams::default()).await;
    assert!(
        matches!(create, Err(ThreadStoreError::Poisoned { .. })),
        "{create:?}"
    );
    let flush = store.flush_thread(w.thread_id).await;
    assert!(
        matches!(flush, Err(ThreadStoreError::Poisoned { .. })),
        "{flush:?}"
    );

    // Reads keep working and show what was acknowledged.
    let h = store
        .load_history(LoadThreadHistoryParams {
            thread_id: w.thread_id,
            include_archived: false,
        })
        .await
        .unwrap();
    assert_eq!(h.items[1].item.payload_value()["message"], "kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_appends_are_acknowledged_before_fsync_and_flush_reports_failure() {
    let (store, fail) = flaky_store(Durability::Buffered).await;
    let w = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    fail.store(true, Ordering::SeqCst);
    // Buffered: acknowledged without an fsync, so the failing disk is not seen yet ...
    store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("buffered")],
        ))
        .await
        .unwrap();
    // ... until flush_thread forces durability, which fails and poisons the store.
    let flush = store.flush_thread(w.thread_id).await;
    assert!(
        matches!(flush, Err(ThreadStoreError::Poisoned { .. })),
        "{flush:?}"
    );
    let later = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("refused")],
        ))
        .await;
    assert!(
        matches!(later, Err(ThreadStoreError::Poisoned { .. })),
        "{later:?}"
    );
}

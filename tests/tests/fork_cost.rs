//! CONTRACT.md §7, `fork_thread`: a fork is made by reference, in O(1) of the prefix. Proven by
//! counting the bytes the storage engine writes while forking a 1,000-item thread and a
//! 100,000-item thread at each boundary: the same, a few hundred bytes (the fork's record, its
//! link, its header line and the feed block), whatever the prefix's length. And the fork reads
//! as its parent does: its newest turns page at the same cost (reads counted).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadstore::layers::storage::engine::{CountingEngine, SledEngine};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, ForkBoundary, ForkThreadParams,
    ListTurnsParams, RolloutItem, SledThreadStore, StoreConfig, StoredTurnItemsView, ThreadId,
    ThreadStore,
};

/// Items per turn: task_started, user_message, agent_message ×2, task_complete.
const ITEMS_PER_TURN: usize = 5;

fn turn(i: usize) -> Vec<RolloutItem> {
    let id = format!("turn-{i}");
    vec![
        RolloutItem::task_started(&id),
        RolloutItem::user_message(&format!("prompt {i}")),
        RolloutItem::agent_message(&format!("thinking about {i}")),
        RolloutItem::agent_message(&format!("answer {i}")),
        RolloutItem::task_complete(&id, Some("done")),
    ]
}

struct Counted {
    store: SledThreadStore,
    reads: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    _dir: tempfile::TempDir,
}

impl Counted {
    async fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (engine, reads) =
            CountingEngine::new(SledEngine::open(dir.path(), &Default::default()).unwrap());
        let written = engine.written();
        let store = SledThreadStore::builder(dir.path())
            .config(StoreConfig {
                durability: Durability::Buffered,
                idle_timeout: std::time::Duration::from_secs(3600),
                // The search indexer reads the logs in the background: its reads are not the
                // fork's or the page's.
                search_index: false,
                ..Default::default()
            })
            .engine(Arc::new(engine))
            .open()
            .await
            .unwrap();
        Self {
            store,
            reads,
            written,
            _dir: dir,
        }
    }

    async fn thread(&self, items: usize) -> ThreadId {
        let id = self
            .store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        let turns = items / ITEMS_PER_TURN;
        let mut start = 0;
        while start < turns {
            let end = (start + 500).min(turns);
            let items: Vec<RolloutItem> = (start..end).flat_map(turn).collect();
            self.store
                .append_items(AppendThreadItemsParams::new(id, items))
                .await
                .unwrap();
            start = end;
        }
        id
    }

    /// Bytes written by one fork.
    async fn fork_bytes(&self, id: ThreadId, boundary: ForkBoundary) -> (ThreadId, u64) {
        let before = self.written.load(Ordering::SeqCst);
        let w = self
            .store
            .fork_thread(ForkThreadParams::new(id, boundary))
            .await
            .unwrap();
        (w.thread_id, self.written.load(Ordering::SeqCst) - before)
    }

    /// Records read by a page of the 10 newest turns with their summaries.
    async fn newest_page_reads(&self, id: ThreadId) -> u64 {
        let before = self.reads.load(Ordering::SeqCst);
        let page = self
            .store
            .list_turns(ListTurnsParams {
                page_size: 10,
                items_view: StoredTurnItemsView::Summary,
                ..ListTurnsParams::new(id)
            })
            .await
            .unwrap();
        assert_eq!(page.turns.len(), 10);
        self.reads.load(Ordering::SeqCst) - before
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forking_writes_the_same_bytes_whatever_the_prefix() {
    let c = Counted::open().await;
    let small = c.thread(1_000).await;
    let large = c.thread(100_000).await;
    let boundaries = |turns: usize| {
        let middle = format!("turn-{}", turns / 2);
        [
            ForkBoundary::Latest,
            ForkBoundary::ThroughTurn(middle.clone()),
            ForkBoundary::BeforeTurn(middle),
        ]
    };
    for (b_small, b_large) in boundaries(200).into_iter().zip(boundaries(20_000)) {
        let (_, s) = c.fork_bytes(small, b_small.clone()).await;
        let (fork, l) = c.fork_bytes(large, b_large.clone()).await;
        println!("fork {b_large:?}: {s} bytes at 1,000 items, {l} bytes at 100,000 items");
        // Only numbers (positions, turn seqs, times) are longer in the large thread's header.
        assert!(
            l <= s + 64,
            "{b_large:?}: forking 100,000 items wrote {l} bytes, 1,000 items {s} bytes"
        );
        assert!(l < 4_096, "{b_large:?}: a fork wrote {l} bytes");
        // The fork pages its newest turns as its parent does.
        let parent_reads = c.newest_page_reads(large).await;
        let fork_reads = c.newest_page_reads(fork).await;
        assert!(
            fork_reads <= 2 * parent_reads + 10,
            "{b_large:?}: the fork's page read {fork_reads} records, the parent's {parent_reads}"
        );
    }
}

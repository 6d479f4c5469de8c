//! `threadstore`: the sled-backed store with all its projections, through the `ThreadStore` API.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, ListTurnsParams,
    LoadThreadHistoryParams, RolloutItem, SledThreadStore, ThreadId, ThreadStore,
};

use super::{Contender, Mode};

/// `SledThreadStore` with `Durability::Sync` (durable) or `Durability::Buffered`.
pub struct Threadstore {
    store: SledThreadStore,
    ids: Vec<ThreadId>,
}

impl Threadstore {
    /// Opens a store in `dir` and creates `threads` threads (concurrently, 64 at a time).
    pub async fn open(dir: &Path, mode: Mode, threads: usize) -> anyhow::Result<Self> {
        Self::open_with(dir, mode, threads, true).await
    }

    /// [`Self::open`], with the full-text index on or off (W10's cost of indexing).
    pub async fn open_with(
        dir: &Path,
        mode: Mode,
        threads: usize,
        search_index: bool,
    ) -> anyhow::Result<Self> {
        let durability = match mode {
            Mode::Durable => Durability::Sync,
            Mode::Buffered => Durability::Buffered,
        };
        let store = SledThreadStore::builder(dir)
            .durability(durability)
            .search_index(search_index)
            .open()
            .await?;
        let mut ids = Vec::with_capacity(threads);
        let mut left = threads;
        while left > 0 {
            let chunk = left.min(64);
            let created = futures::future::try_join_all(
                (0..chunk).map(|_| store.create_thread(CreateThreadParams::default())),
            )
            .await?;
            ids.extend(created.into_iter().map(|w| w.thread_id));
            left -= chunk;
        }
        Ok(Self { store, ids })
    }
}

impl Threadstore {
    /// The store (W10 reads its search index's lag).
    pub fn store(&self) -> &SledThreadStore {
        &self.store
    }
}

#[async_trait]
impl Contender for Threadstore {
    fn name(&self) -> &'static str {
        "threadstore"
    }

    async fn append(&self, thread: usize, items: &[RolloutItem]) -> anyhow::Result<()> {
        self.store
            .append_items(AppendThreadItemsParams::new(
                self.ids[thread],
                items.to_vec(),
            ))
            .await?;
        Ok(())
    }

    async fn turns_page_newest(&self, thread: usize, n: usize) -> anyhow::Result<usize> {
        let page = self
            .store
            .list_turns(ListTurnsParams {
                page_size: n,
                ..ListTurnsParams::new(self.ids[thread])
            })
            .await?;
        Ok(page.turns.len())
    }

    async fn load_history(&self, thread: usize) -> anyhow::Result<usize> {
        let history = self
            .store
            .load_history(LoadThreadHistoryParams {
                thread_id: self.ids[thread],
                include_archived: false,
            })
            .await?;
        Ok(history.items.len())
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        // The last handle closes the store cleanly; otherwise dropping it does.
        if let Ok(me) = Arc::try_unwrap(self) {
            me.store.close().await?;
        }
        Ok(())
    }
}

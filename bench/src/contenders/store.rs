//! `threadstore`: the sled-backed store with all its projections, through the `ThreadStore` API;
//! and `threadstore-pg`, the same store on PostgreSQL (a fresh schema per run).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use threadstore::layers::actors::store::ActorStore;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, ListTurnsParams,
    LoadThreadHistoryParams, PostgresThreadStore, RolloutItem, SledThreadStore, ThreadId,
    ThreadStore,
};

use super::{Contender, Mode};

/// `SledThreadStore` with `Durability::Sync` (durable) or `Durability::Buffered`, or
/// `PostgresThreadStore` (every commit is durable: PostgreSQL's own group commit).
pub struct Threadstore {
    store: Backing,
    ids: Vec<ThreadId>,
}

enum Backing {
    Sled(SledThreadStore),
    Postgres(PostgresThreadStore),
}

impl Backing {
    fn api(&self) -> &dyn ThreadStore {
        match self {
            Backing::Sled(s) => s,
            Backing::Postgres(s) => s,
        }
    }
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
        Self::with_threads(Backing::Sled(store), threads).await
    }

    /// The store on the PostgreSQL database at `url`, in a fresh schema, with `threads` threads
    /// (no search index: each node's index is in memory, not what these workloads measure).
    pub async fn open_postgres(url: &str, threads: usize) -> anyhow::Result<Self> {
        let schema = format!("bench_{}", chrono::Utc::now().format("%Y%m%d%H%M%S%f"));
        let store = PostgresThreadStore::builder(url)
            .schema(schema)
            .search_index(false)
            .open()
            .await?;
        Self::with_threads(Backing::Postgres(store), threads).await
    }

    async fn with_threads(store: Backing, threads: usize) -> anyhow::Result<Self> {
        let mut ids = Vec::with_capacity(threads);
        let mut left = threads;
        while left > 0 {
            let chunk = left.min(64);
            let created = futures::future::try_join_all(
                (0..chunk).map(|_| store.api().create_thread(CreateThreadParams::default())),
            )
            .await?;
            ids.extend(created.into_iter().map(|w| w.thread_id));
            left -= chunk;
        }
        Ok(Self { store, ids })
    }
}

impl Threadstore {
    /// The actor store underneath (W10 reads its search index's lag).
    pub fn actor_store(&self) -> &ActorStore {
        match &self.store {
            Backing::Sled(s) => s.actor_store(),
            Backing::Postgres(s) => s.actor_store(),
        }
    }

    /// The store, through the API.
    pub fn api(&self) -> &dyn ThreadStore {
        self.store.api()
    }
}

#[async_trait]
impl Contender for Threadstore {
    fn name(&self) -> &'static str {
        match self.store {
            Backing::Sled(_) => "threadstore",
            Backing::Postgres(_) => "threadstore-pg",
        }
    }

    async fn append(&self, thread: usize, items: &[RolloutItem]) -> anyhow::Result<()> {
        self.api()
            .append_items(AppendThreadItemsParams::new(
                self.ids[thread],
                items.to_vec(),
            ))
            .await?;
        Ok(())
    }

    async fn turns_page_newest(&self, thread: usize, n: usize) -> anyhow::Result<usize> {
        let page = self
            .api()
            .list_turns(ListTurnsParams {
                page_size: n,
                ..ListTurnsParams::new(self.ids[thread])
            })
            .await?;
        Ok(page.turns.len())
    }

    async fn load_history(&self, thread: usize) -> anyhow::Result<usize> {
        let history = self
            .api()
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
            match me.store {
                Backing::Sled(s) => s.close().await?,
                Backing::Postgres(s) => s.close().await?,
            }
        }
        Ok(())
    }
}

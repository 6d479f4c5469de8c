//! The two embedded backends: the same actor store over sled on disk, or over memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[allow(unused_imports)]
use threadstore_api::*;
use threadstore_storage::engine::{KvEngine, MemEngine, SledEngine, SledOptions};
use threadstore_storage::{Journal, KvJournal};

use crate::config::StoreConfig;
use crate::store::ActorStore;

/// The embedded default: threads in a sled database under one directory.
pub struct SledThreadStore {
    inner: ActorStore,
    path: PathBuf,
}

impl SledThreadStore {
    /// Opens (or creates) a store in `path` with the default settings (`Sync` durability).
    pub async fn open(path: impl AsRef<Path>) -> ThreadStoreResult<Self> {
        Self::open_with(path, StoreConfig::default(), SledOptions::default()).await
    }

    /// Opens with explicit settings. A second process gets `Locked`, naming the directory.
    pub async fn open_with(
        path: impl AsRef<Path>,
        config: StoreConfig,
        sled: SledOptions,
    ) -> ThreadStoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = path.clone();
        let engine = tokio::task::spawn_blocking(move || SledEngine::open(&dir, &sled))
            .await
            .map_err(|e| {
                threadstore_api::ThreadStoreError::internal(format!("open task failed: {e}"))
            })??;
        Self::over_engine(Arc::new(engine), config, path).await
    }

    /// A store over any engine (tests wrap sled in a read-counting engine).
    pub async fn over_engine(
        engine: Arc<dyn KvEngine>,
        config: StoreConfig,
        path: PathBuf,
    ) -> ThreadStoreResult<Self> {
        let journal: Arc<dyn Journal> = Arc::new(KvJournal::new(engine)?);
        let cleared = journal.clear_writers().await?;
        if cleared > 0 {
            tracing::info!(cleared, "released writer leases of a previous process");
        }
        Ok(Self {
            inner: ActorStore::new(journal, config),
            path,
        })
    }

    /// Flushes, stops every actor and releases the directory; reopening right after works.
    pub async fn close(self) -> ThreadStoreResult<()> {
        self.inner.close().await
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The actor store underneath (stats, verify).
    pub fn actor_store(&self) -> &ActorStore {
        &self.inner
    }
}

crate::forward_thread_store!(SledThreadStore, |s| s.inner, |_h, _op| ());

/// The same store with nothing on disk: identical semantics, for tests and ephemeral sessions.
pub struct InMemoryThreadStore {
    inner: ActorStore,
}

impl Default for InMemoryThreadStore {
    fn default() -> Self {
        Self::with_config(StoreConfig::default())
    }
}

fn named() -> &'static Mutex<HashMap<String, Arc<InMemoryThreadStore>>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemoryThreadStore>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

impl InMemoryThreadStore {
    /// An empty store with the given settings.
    pub fn with_config(config: StoreConfig) -> Self {
        let engine: Arc<dyn KvEngine> = Arc::new(MemEngine::default());
        Self {
            inner: ActorStore::new(Arc::new(KvJournal::empty(engine)), config),
        }
    }

    /// The process-wide store named `id` (created on first use), as Codex tests share stores.
    /// Its actors run on the tokio runtime of its first call.
    pub fn for_id(id: &str) -> Arc<Self> {
        let mut map = named().lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_owned())
            .or_insert_with(|| Arc::new(Self::default()))
            .clone()
    }

    /// Forgets the process-wide store named `id`.
    pub fn remove_id(id: &str) {
        named().lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// The actor store underneath.
    pub fn actor_store(&self) -> &ActorStore {
        &self.inner
    }
}

crate::forward_thread_store!(InMemoryThreadStore, |s| s.inner, |_h, _op| ());

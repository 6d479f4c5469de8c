//! The two embedded backends: the same actor store over sled on disk (feature `sled`), or over
//! memory.

use std::collections::HashMap;
#[cfg(feature = "sled")]
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[allow(unused_imports)]
use threadstore_api::*;
use threadstore_storage::engine::{KvEngine, MemEngine};
#[cfg(feature = "sled")]
use threadstore_storage::engine::{SledEngine, SledOptions};
use threadstore_storage::{JournalMaintenance, KvJournal};

use crate::config::StoreConfig;
use crate::store::ActorStore;

/// The full-text index's directory inside a sled store's data directory.
#[cfg(feature = "sled")]
pub const SEARCH_DIR: &str = "search";

/// The embedded default: threads in a sled database under one directory (feature `sled`).
#[cfg(feature = "sled")]
pub struct SledThreadStore {
    inner: ActorStore,
    path: PathBuf,
}

#[cfg(feature = "sled")]
impl SledThreadStore {
    /// Opens with settings the builder (`crate::builder`, which also has `open` and `builder`)
    /// has validated: over `engine` when given, else over sled
    /// in `path`.
    pub(crate) async fn open_validated(
        path: PathBuf,
        config: StoreConfig,
        sled: SledOptions,
        engine: Option<Arc<dyn KvEngine>>,
    ) -> ThreadStoreResult<Self> {
        // A store over an engine of the caller's (tests, fault injection) keeps its search index
        // in memory: its directory need not be one.
        let search = if engine.is_some() {
            crate::store::SearchPlace::Memory
        } else {
            crate::store::SearchPlace::Dir(path.join(SEARCH_DIR))
        };
        let engine = match engine {
            Some(engine) => engine,
            None => {
                let dir = path.clone();
                let engine = tokio::task::spawn_blocking(move || SledEngine::open(&dir, &sled))
                    .await
                    .map_err(|e| ThreadStoreError::internal(format!("open task failed: {e}")))??;
                Arc::new(engine)
            }
        };
        let options = config.write_group();
        // Migration and the feed-head scan read the store: off the async workers.
        let journal = tokio::task::spawn_blocking(move || KvJournal::new(engine, &options))
            .await
            .map_err(|e| ThreadStoreError::internal(format!("open task failed: {e}")))??;
        let journal: Arc<dyn JournalMaintenance> = Arc::new(journal);
        let cleared = journal.clear_writers().await?;
        if cleared > 0 {
            tracing::info!(cleared, "released writer leases of a previous process");
        }
        let inner = ActorStore::new(journal, config).with_search_place(search);
        // The index catches up with the feed now, not at the first search.
        inner.start_search().await;
        Ok(Self { inner, path })
    }

    /// Flushes, stops every actor and releases the directory; reopening right after works. The
    /// engine is closed (sled's flush and checkpoint) on the blocking pool, not on an async worker.
    pub async fn close(self) -> ThreadStoreResult<()> {
        self.inner.close().await?;
        let journal = self.inner.journal().clone();
        drop(self);
        tokio::task::spawn_blocking(move || drop(journal))
            .await
            .map_err(|e| ThreadStoreError::internal(format!("close task failed: {e}")))
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

#[cfg(feature = "sled")]
crate::forward_thread_store!(SledThreadStore, |s| s.inner, |_h, _op| ());

/// The same store on PostgreSQL (feature `postgres`): any number of nodes (processes, machines)
/// open it on one database and share every thread, with one feed (CONTRACT.md §10). Each node
/// keeps its own search index in memory, following the global feed.
#[cfg(feature = "postgres")]
pub struct PostgresThreadStore {
    inner: ActorStore,
    /// Weak: the actor store owns the journal (its `close` waits to hold the only reference).
    journal: std::sync::Weak<threadstore_storage::pg::PgJournal>,
}

#[cfg(feature = "postgres")]
impl PostgresThreadStore {
    /// Opens with settings the builder has validated: connects, creates or migrates the schema,
    /// starts this node's feed and its search index.
    pub(crate) async fn open_validated(
        options: threadstore_storage::pg::PgOptions,
        config: StoreConfig,
    ) -> ThreadStoreResult<Self> {
        let journal = Arc::new(threadstore_storage::pg::PgJournal::open(&options).await?);
        let maintenance: Arc<dyn JournalMaintenance> = journal.clone();
        let inner = ActorStore::new(maintenance, config)
            .with_search_place(crate::store::SearchPlace::Memory);
        inner.start_search().await;
        Ok(Self {
            inner,
            journal: Arc::downgrade(&journal),
        })
    }

    fn journal(&self) -> ThreadStoreResult<Arc<threadstore_storage::pg::PgJournal>> {
        self.journal
            .upgrade()
            .ok_or_else(|| ThreadStoreError::internal("the store is closed"))
    }

    /// Flushes and stops every actor, then releases the writer leases this node opened (their
    /// threads are no longer live). The database keeps everything; the store can be used again
    /// only by opening it anew.
    pub async fn close(&self) -> ThreadStoreResult<()> {
        self.inner.close().await?;
        let released = self.journal()?.release_leases().await?;
        if released > 0 {
            tracing::info!(released, "released this node's writer leases");
        }
        Ok(())
    }

    /// The actor store underneath (stats, verify).
    pub fn actor_store(&self) -> &ActorStore {
        &self.inner
    }

    /// The feed as this node sees it: its head, the database's, and events waiting for a
    /// position (the lag).
    pub async fn feed_status(&self) -> ThreadStoreResult<threadstore_storage::pg::FeedStatus> {
        self.journal()?.feed_status().await
    }
}

#[cfg(feature = "postgres")]
crate::forward_thread_store!(PostgresThreadStore, |s| s.inner, |_h, _op| ());

/// The same store with nothing on disk: identical semantics, for tests and ephemeral sessions.
///
/// A store made with `default`/`with_config` runs its actors on the runtime of its first call.
/// The process-wide stores of [`InMemoryThreadStore::for_id`] run theirs on a runtime of their
/// own (one background thread), so they can be used from any runtime, one after another or at
/// once, as Codex's tests do (a runtime per test).
pub struct InMemoryThreadStore {
    inner: Arc<ActorStore>,
    own: Option<OwnRuntime>,
}

/// A background thread driving a runtime that one store's actors live on; stopped on drop.
struct OwnRuntime {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl OwnRuntime {
    fn start() -> ThreadStoreResult<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ThreadStoreError::internal(format!("cannot build a runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("threadstore-memory".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| ThreadStoreError::internal(format!("cannot start a thread: {e}")))?;
        Ok(Self {
            handle,
            stop: Some(stop),
        })
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Default for InMemoryThreadStore {
    /// An empty store with the default settings.
    fn default() -> Self {
        Self::over_memory(StoreConfig::default(), None)
    }
}

fn named() -> &'static Mutex<HashMap<String, Arc<InMemoryThreadStore>>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemoryThreadStore>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

impl InMemoryThreadStore {
    /// An empty store with settings the builder has validated.
    pub(crate) fn with_valid_config(config: StoreConfig) -> Self {
        Self::over_memory(config, None)
    }

    /// A store whose settings are valid (the defaults, or checked by `with_config`).
    fn over_memory(config: StoreConfig, own: Option<OwnRuntime>) -> Self {
        let engine: Arc<dyn KvEngine> = Arc::new(MemEngine::default());
        let journal: Arc<dyn JournalMaintenance> =
            Arc::new(KvJournal::empty(engine, &config.write_group()));
        Self {
            inner: Arc::new(ActorStore::new(journal, config)),
            own,
        }
    }

    /// The process-wide store named `id` (created on first use), as Codex tests share stores.
    /// Its actors run on a runtime of its own, so any runtime may call it.
    pub fn for_id(id: &str) -> Arc<Self> {
        let mut map = named().lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_owned())
            .or_insert_with(|| {
                let own = match OwnRuntime::start() {
                    Ok(own) => Some(own),
                    Err(e) => {
                        tracing::error!(error = %e, "no runtime of its own for a shared in-memory store; it runs on its first caller's");
                        None
                    }
                };
                Arc::new(Self::over_memory(StoreConfig::default(), own))
            })
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

    /// Runs `op` on the store's own runtime when it has one, else right here.
    async fn run<T, F, Fut>(&self, op: F) -> ThreadStoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<ActorStore>) -> Fut,
        Fut: std::future::Future<Output = ThreadStoreResult<T>> + Send + 'static,
    {
        let future = op(self.inner.clone());
        match &self.own {
            Some(own) => own.handle.spawn(future).await.map_err(|e| {
                ThreadStoreError::internal(format!("the store's runtime dropped the call: {e}"))
            })?,
            None => future.await,
        }
    }
}

crate::forward_thread_store!(@spawn InMemoryThreadStore, |s, op| s.run(op));

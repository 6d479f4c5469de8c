//! The one way to open a store: `SledStoreBuilder` (from `SledThreadStore::builder`, feature
//! `sled`) and [`InMemoryStoreBuilder`] (from [`InMemoryThreadStore::builder`]). Each setting has a method;
//! `open`/`build` validates every setting first and refuses one that cannot work with
//! `InvalidRequest` naming it, before anything is created on disk.
//!
//! ```no_run
//! # async fn demo() -> threadstore_api::ThreadStoreResult<()> {
//! use threadstore_actors::{Durability, SledThreadStore};
//! let store = SledThreadStore::builder("./threadstore-data")
//!     .durability(Durability::Buffered)
//!     .max_live_actors(1_000)
//!     .open()
//!     .await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "sled")]
use std::path::{Path, PathBuf};
#[cfg(feature = "sled")]
use std::sync::Arc;
use std::time::Duration;

use threadstore_api::ThreadStoreResult;
#[cfg(feature = "sled")]
use threadstore_storage::engine::{KvEngine, SledOptions};

use crate::backends::InMemoryThreadStore;
#[cfg(feature = "sled")]
use crate::backends::SledThreadStore;
use crate::config::{Durability, StoreConfig};

/// Setters for the settings every store has ([`StoreConfig`]'s fields), on both builders.
macro_rules! store_settings {
    () => {
        /// When appends are acknowledged (default `Sync`: once fsynced).
        pub fn durability(mut self, durability: Durability) -> Self {
            self.config.durability = durability;
            self
        }

        /// An actor idle this long is passivated (default 30 s; longer than zero).
        pub fn idle_timeout(mut self, timeout: Duration) -> Self {
            self.config.idle_timeout = timeout;
            self
        }

        /// At most this many live thread actors (default 10,000; at least 1).
        pub fn max_live_actors(mut self, n: usize) -> Self {
            self.config.max_live_actors = n;
            self
        }

        /// Mailbox capacity of each thread actor (default 256; at least 1).
        pub fn mailbox_capacity(mut self, n: usize) -> Self {
            self.config.mailbox_capacity = n;
            self
        }

        /// How long a call waits for room in a full mailbox (default 10 s; longer than zero).
        pub fn mailbox_timeout(mut self, timeout: Duration) -> Self {
            self.config.mailbox_timeout = timeout;
            self
        }

        /// Largest item, kind plus payload bytes (default 16 MiB; at most
        /// [`crate::config::MAX_ITEM_BYTES`]).
        pub fn max_item_bytes(mut self, bytes: usize) -> Self {
            self.config.max_item_bytes = bytes;
            self
        }

        /// Most items in one append (default 10,000; at least 1).
        pub fn max_batch_items(mut self, n: usize) -> Self {
            self.config.max_batch_items = n;
            self
        }

        /// Longest string field a caller supplies (default 64 KiB; at most
        /// [`crate::config::MAX_FIELD_BYTES`]).
        pub fn max_field_bytes(mut self, bytes: usize) -> Self {
            self.config.max_field_bytes = bytes;
            self
        }

        /// Events the bus keeps for momentarily slow subscribers (default 4,096; at least 1).
        pub fn bus_ring_capacity(mut self, n: usize) -> Self {
            self.config.bus_ring_capacity = n;
            self
        }

        /// Commits waiting for the writer thread, and appends waiting for an fsync (default
        /// 1,024; at least 1).
        pub fn queue_capacity(mut self, n: usize) -> Self {
            self.config.queue_capacity = n;
            self
        }

        /// How long a writer waits for room in a full queue (default 10 s; longer than zero).
        pub fn queue_timeout(mut self, timeout: Duration) -> Self {
            self.config.queue_timeout = timeout;
            self
        }

        /// Keep the full-text index (default on); see [`StoreConfig::search_index`].
        pub fn search_index(mut self, on: bool) -> Self {
            self.config.search_index = on;
            self
        }

        /// Every store setting at once (e.g. a config shared by several stores).
        pub fn config(mut self, config: StoreConfig) -> Self {
            self.config = config;
            self
        }
    };
}

#[cfg(feature = "sled")]
impl SledThreadStore {
    /// Opens (or creates) a store in `path` with the default settings (`Sync` durability).
    pub async fn open(path: impl AsRef<Path>) -> ThreadStoreResult<Self> {
        Self::builder(path).open().await
    }

    /// A builder for a store in `path` with other settings (see [`SledStoreBuilder`]).
    pub fn builder(path: impl AsRef<Path>) -> SledStoreBuilder {
        SledStoreBuilder::new(path)
    }
}

impl InMemoryThreadStore {
    /// A builder for an empty store with other settings (see [`InMemoryStoreBuilder`]).
    pub fn builder() -> InMemoryStoreBuilder {
        InMemoryStoreBuilder::new()
    }
}

/// Opens a `SledThreadStore` (feature `sled`); see the [module docs](self).
#[cfg(feature = "sled")]
#[must_use = "a builder does nothing until `open` is awaited"]
pub struct SledStoreBuilder {
    path: PathBuf,
    config: StoreConfig,
    sled: SledOptions,
    engine: Option<Arc<dyn KvEngine>>,
}

#[cfg(feature = "sled")]
impl SledStoreBuilder {
    fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            config: StoreConfig::default(),
            sled: SledOptions::default(),
            engine: None,
        }
    }

    store_settings!();

    /// sled's page cache, in bytes (default 256 MiB).
    pub fn cache_bytes(mut self, bytes: u64) -> Self {
        self.sled.cache_bytes = bytes;
        self
    }

    /// sled's background flush interval, the bound on loss in `Buffered` mode (default 500 ms;
    /// `None`: only explicit flushes).
    pub fn flush_every(mut self, every: Option<Duration>) -> Self {
        self.sled.flush_every_ms = every.map(|d| d.as_millis().max(1) as u64);
        self
    }

    /// Write sled's snapshot on close, so the next open is fast (default on).
    pub fn checkpoint_on_close(mut self, on: bool) -> Self {
        self.sled.checkpoint_on_close = on;
        self
    }

    /// sled's log segment size for a new store: a power of two from 256 bytes to 16 MiB
    /// (default 8 MiB; an existing store keeps its own).
    pub fn segment_bytes(mut self, bytes: usize) -> Self {
        self.sled.segment_bytes = bytes;
        self
    }

    /// Every sled setting at once.
    pub fn sled_options(mut self, sled: SledOptions) -> Self {
        self.sled = sled;
        self
    }

    /// Runs the store over `engine` instead of opening sled in the path (tests wrap sled or
    /// memory in a read-counting or fault-injecting engine); the path is then only a label.
    pub fn engine(mut self, engine: Arc<dyn KvEngine>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Validates every setting, then opens (or creates) the store. A second process gets
    /// `Locked`, naming the directory; a setting that cannot work is `InvalidRequest` naming it.
    pub async fn open(self) -> ThreadStoreResult<SledThreadStore> {
        self.config.validate()?;
        self.sled.validate()?;
        SledThreadStore::open_validated(self.path, self.config, self.sled, self.engine).await
    }
}

/// Opens a `PostgresThreadStore` (feature `postgres`); see the [module docs](self).
#[cfg(feature = "postgres")]
#[must_use = "a builder does nothing until `open` is called"]
pub struct PostgresStoreBuilder {
    config: StoreConfig,
    options: threadstore_storage::pg::PgOptions,
}

#[cfg(feature = "postgres")]
impl crate::backends::PostgresThreadStore {
    /// A builder for the store on the database at `url` (a libpq connection string or URL).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            config: StoreConfig::default(),
            options: threadstore_storage::pg::PgOptions::new(url),
        }
    }

    /// Opens the store at `url` with the default settings (schema `threadstore`).
    pub async fn open(url: impl Into<String>) -> ThreadStoreResult<Self> {
        Self::builder(url).open().await
    }
}

#[cfg(feature = "postgres")]
impl PostgresStoreBuilder {
    store_settings!();

    /// The schema holding the store's tables (default `threadstore`; created when missing).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.options.schema = schema.into();
        self
    }

    /// Connections in this node's pool (default 16).
    pub fn pool_size(mut self, n: usize) -> Self {
        self.options.pool_size = n;
        self
    }

    /// The bound on every call to the database (default 5 s): beyond it a call is
    /// `Unavailable`.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.options.call_timeout = timeout;
        self
    }

    /// Validates every setting, then connects and opens the store.
    pub async fn open(self) -> ThreadStoreResult<crate::backends::PostgresThreadStore> {
        self.config.validate()?;
        self.options.validate()?;
        crate::backends::PostgresThreadStore::open_validated(self.options, self.config).await
    }
}

/// Builds an [`InMemoryThreadStore`]; see the [module docs](self).
#[must_use = "a builder does nothing until `build` is called"]
pub struct InMemoryStoreBuilder {
    config: StoreConfig,
}

impl InMemoryStoreBuilder {
    fn new() -> Self {
        Self {
            config: StoreConfig::default(),
        }
    }

    store_settings!();

    /// Validates every setting, then builds the (empty) store.
    pub fn build(self) -> ThreadStoreResult<InMemoryThreadStore> {
        self.config.validate()?;
        Ok(InMemoryThreadStore::with_valid_config(self.config))
    }
}

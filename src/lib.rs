//! # threadstore
//!
//! An event-sourced, actor-based store for AI-agent conversation threads, implementing the
//! OpenAI Codex `ThreadStore` contract — faster (turn pages cost O(page), not O(thread)) and more
//! complete (turn and item pagination, typed errors, fencing, idempotent appends).
//!
//! ```text
//!  caller ──ThreadStore call──► registry ──► thread actor (one per active thread)
//!                                              │ owns epoch, next position, turn state
//!                                              ▼
//!                                   write group ─► journal (sled): log ─► projections, indexes
//!                                                                  └─► feed ─► event bus
//!                                                                          └─► search index
//! ```
//!
//! - [`threadstore_api`] (re-exported here): the trait, params, results, errors, rollout items.
//! - [`threadstore_storage`]: key layout, codec, reducers, journal, write group, engines.
//! - [`threadstore_search`]: the full-text index, a tantivy projection of the logs that follows
//!   the feed (what is indexed, ranking, snippets, verify).
//! - [`threadstore_actors`]: thread actors, registry, group commit, event bus, the stores.
//! - `threadstore_rpc` (features `rpc-client`, `rpc-server`): the JSON-RPC protocol, the server
//!   behind `threadstore serve`, and `RemoteThreadStore`, a `ThreadStore` over it for other
//!   processes.
//! - `codex` (feature `codex`): reading Codex rollout files of every format era, importing a
//!   Codex home, exporting back to Codex's layout.
//!
//! Features: `sled` (default) the embedded durable store; `postgres` the same store on PostgreSQL
//! for many nodes; `rpc-client`; `rpc-server`; `codex`.
//! With default features an embedder compiles the contract, the storage engine, the search index
//! and the actors, and nothing of the command line or the benchmark harness (those are the
//! `threadstore-cli` and `threadstore-bench` crates).
//!
//! Embedding it: `examples/embed.rs` (the README's code, run in CI):
//!
//! ```no_run
#![doc = include_str!("../examples/embed.rs")]
//! ```

/// Codex rollout files: reader, importer, exporter, generator (feature `codex`).
#[cfg(feature = "codex")]
pub use threadstore_codex as codex;

#[cfg(feature = "sled")]
pub use threadstore_actors::rebuild::{rebuild, RebuildOptions, RebuildReport};
pub use threadstore_actors::{
    Durability, InMemoryStoreBuilder, InMemoryThreadStore, RecordingThreadStore, StoreConfig,
};
#[cfg(feature = "postgres")]
pub use threadstore_actors::{PostgresStoreBuilder, PostgresThreadStore};
#[cfg(feature = "sled")]
pub use threadstore_actors::{SledStoreBuilder, SledThreadStore};
pub use threadstore_api::*;
#[cfg(feature = "rpc-client")]
pub use threadstore_rpc::{RemoteOptions, RemoteThreadStore};
#[cfg(feature = "sled")]
pub use threadstore_storage::engine::SledOptions;
#[cfg(feature = "postgres")]
pub use threadstore_storage::pg::{FeedStatus, PgOptions};

/// The layers, for callers that need more than the facade.
pub mod layers {
    pub use threadstore_actors as actors;
    pub use threadstore_api as api;
    #[cfg(any(feature = "rpc-client", feature = "rpc-server"))]
    pub use threadstore_rpc as rpc;
    pub use threadstore_search as search;
    pub use threadstore_storage as storage;
}

//! # threadstore-actors: the thread actors and the stores built on them
//!
//! A call becomes a message to the thread's actor; the actor appends to the thread's log; the
//! commit updates the thread's projections atomically.
//!
//! - [`thread`]: [`thread::ThreadActor`], one kameo actor per active thread. It owns the writer
//!   epoch, the next position, the turn reducer's state and the cached tail turn; one message type
//!   per operation, handled one at a time, so a thread has exactly one writer. Every change runs
//!   the pure reducers of `threadstore_storage::projection` over a turn overlay (the turns the
//!   next item may touch, prefetched from the journal) and commits through the journal's core
//!   trait, `threadstore_storage::Journal`.
//! - [`registry`]: activates thread actors on first use and passivates idle ones (idle timeout and
//!   a cap on live actors). A re-activated actor loads its projection state; it never replays the log.
//! - [`bus`]: the event bus: live and catch-up subscriptions over the durable feed.
//! - [`commit`]: the group committer: one task that fsyncs for every waiting append at once,
//!   behind a bounded queue (backpressure).
//! - [`store`]: [`store::ActorStore`], which implements `ThreadStore` by routing each write to the
//!   right actor, and serves reads of committed state straight from the journal, bounded by the
//!   thread's committed record (no actor involved; an unknown id costs no actor). It holds the
//!   journal with its maintenance side (`threadstore_storage::JournalMaintenance`: lease release
//!   on open, `verify`, tools); actors, committer and bus get the core only.
//! - [`backends`]: `SledThreadStore` (embedded default, feature `sled`),
//!   `PostgresThreadStore` (many nodes on one database, feature `postgres`) and
//!   [`InMemoryThreadStore`], the same store over three journals, opened through [`builder`] (one
//!   method per setting, validated); `rebuild` (feature `sled`) recomputes a sled store's
//!   projections from its logs; [`recording::RecordingThreadStore`] counts calls on any store.
//! - Tracing: every store operation and every actor message runs in a `debug` span named after
//!   it (`append_items`, `thread.append`, `thread.commit`, …) with the thread id, counts and
//!   positions.

pub mod backends;
pub mod builder;
pub mod bus;
pub mod commit;
pub mod config;
mod forward;
#[cfg(feature = "sled")]
pub mod rebuild;
pub mod recording;
pub mod registry;
pub mod store;
pub mod thread;

pub use backends::InMemoryThreadStore;
#[cfg(feature = "postgres")]
pub use backends::PostgresThreadStore;
#[cfg(feature = "sled")]
pub use backends::SledThreadStore;
pub use builder::InMemoryStoreBuilder;
#[cfg(feature = "postgres")]
pub use builder::PostgresStoreBuilder;
#[cfg(feature = "sled")]
pub use builder::SledStoreBuilder;
pub use bus::Bus;
pub use config::{Durability, StoreConfig};
pub use recording::RecordingThreadStore;

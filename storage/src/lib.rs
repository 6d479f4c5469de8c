//! # threadstore-storage: the journal
//!
//! The durable side of threadstore. A thread's **log** (its rollout items, in order) is the only
//! source of truth; everything else here is a **projection** of it, maintained incrementally by the
//! thread actor and committed atomically with the items that caused it.
//!
//! The contract, which any backend implements:
//! - [`journal`]: the async boundary the actors talk to: [`Journal`] (the core: commit, sync,
//!   feed and the reads of actors and store), [`JournalMaintenance`] (opening, `verify`, tools),
//!   and the values that cross them ([`ThreadCommit`], [`TurnChanges`], index scans, pages).
//! - [`records`]: the records a journal stores (log, thread, turn, feed) and the reducer state.
//!
//! Pure, no I/O:
//! - [`projection`]: the reducers — [`projection::meta`] (thread metadata) and
//!   [`projection::turns`] (turn summaries) — over items classified once by
//!   [`projection::classify`](mod@projection::classify); [`projection::rebuild`] replays a log from scratch.
//! - [`codec`]: the versioned bincode record codec (`Corrupt` on anything undecodable).
//! - [`cursor`]: opaque, versioned page cursors bound to thread, scope and direction.
//!
//! The journal over an ordered key-value engine (sled on disk, or memory):
//! - [`kv_journal`]: [`KvJournal`], both traits over any engine: where each call runs, and the
//!   write group behind every commit.
//! - [`keys`]: the on-disk key layout, one table for every prefix.
//! - [`reads`]: reads of that layout (records, pages, turn members, lookups).
//! - [`lineage`]: forks by reference: a fork's base, the chain every read walks, copy on write.
//! - [`index`]: the thread-list indexes: the entries a thread implies, the keyset scan, the check.
//! - [`batch`]: the engine batches of a commit, a deletion and the lease release.
//! - [`write_group`]: combines concurrent commits into one engine batch (leader/follower, bounded,
//!   cancel- and panic-safe), and owns the feed's next position.
//! - [`feed`]: the durable feed on disk, one block of events per write group.
//! - `pg` (feature `postgres`): the journal on PostgreSQL, shared by many nodes: the same
//!   layout in one table, commits checked against the thread's stored state, a global feed.
//! - [`migrate`]: brings a store written by an older version to the current layout when it opens.
//! - [`offload`]: where blocking engine work runs (never holding up an async worker's tasks).
//! - [`engine`]: ordered key-value engines (sled in `engine::sled_engine`, feature `sled`, on by
//!   default; in-memory; and a read-counting wrapper);
//!   `fault` (feature `fault-injection`): a wrapper that injects faults (hung or failing fsyncs,
//!   hung reads, panics) for tests.
//!
//! Over any journal:
//! - [`verify`]: checks every projection against a rebuild from the log.
//!
//! Dependencies point one way: the KV modules use the contract and the pure modules, never the
//! reverse, and no module imports one that imports it back (`tests/tests/module_graph.rs`).

pub mod batch;
pub mod codec;
pub mod cursor;
pub mod engine;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod feed;
pub mod index;
pub mod journal;
pub mod keys;
pub mod kv_journal;
pub mod lineage;
pub mod migrate;
pub mod offload;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod projection;
pub mod reads;
pub mod records;
pub mod verify;
pub mod write_group;

pub use journal::{
    ForkLink, IndexHit, Journal, JournalMaintenance, ThreadCommit, ThreadState, TurnChanges,
    WriterChange,
};
pub use kv_journal::KvJournal;
pub use records::{HistoryMode, LogRecord, ThreadMeta, ThreadRecord, TurnCursor, TurnRecord};
pub use write_group::WriteGroupOptions;

/// Errors of the storage layer are the contract's errors: typed where born, no second taxonomy.
pub type StorageResult<T> = threadstore_api::ThreadStoreResult<T>;

//! # threadstore-storage: the journal
//!
//! The durable side of threadstore. A thread's **log** (its rollout items, in order) is the only
//! source of truth; everything else here is a **projection** of it, maintained incrementally by the
//! thread actor and committed atomically with the items that caused it:
//!
//! - [`projection`]: the pure reducers — [`projection::meta`] (thread metadata) and
//!   [`projection::turns`] (turn summaries) — over items classified once by
//!   [`projection::classify`]; [`projection::rebuild`] replays a log from scratch.
//! - [`keys`]: the on-disk key layout, one table for every prefix.
//! - [`migrate`]: brings a store written by an older version to the current layout when it opens.
//! - [`codec`]: the versioned bincode record codec (`Corrupt` on anything undecodable).
//! - [`engine`]: ordered key-value engines (sled, in-memory, and a read-counting wrapper);
//!   `fault` (feature `fault-injection`): a wrapper that injects faults (hung or failing fsyncs, hung reads, panics) for tests.
//! - [`journal`]: the narrow async [`journal::Journal`] trait the actors talk to, and
//!   [`journal::KvJournal`], its implementation over any engine.
//! - [`offload`]: where blocking engine work runs (never holding up an async worker's tasks).
//! - [`feed`]: the durable feed on disk, one block of events per write group.
//! - [`write_group`]: combines concurrent commits into one engine batch (leader/follower, bounded,
//!   cancel- and panic-safe), and owns the feed's next position.
//! - [`verify`]: checks every projection against a rebuild from the log.
//! - [`cursor`]: opaque, versioned page cursors bound to thread, scope and direction.

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
pub mod migrate;
pub mod offload;
pub mod projection;
pub mod reads;
pub mod records;
pub mod verify;
pub mod write_group;

pub use journal::{
    IndexHit, Journal, JournalMaintenance, ThreadCommit, ThreadState, TurnChanges, WriterChange,
};
pub use kv_journal::KvJournal;
pub use records::{LogRecord, ThreadMeta, ThreadRecord, TurnCursor, TurnRecord};
pub use write_group::WriteGroupOptions;

/// Errors of the storage layer are the contract's errors: typed where born, no second taxonomy.
pub type StorageResult<T> = threadstore_api::ThreadStoreResult<T>;

//! The journal on PostgreSQL (feature `postgres`): the same store for many nodes
//! (CONTRACT.md §10).
//!
//! The thread actors, reducers and key layout are the sled store's; what changes is where a
//! commit goes and how the feed gets its order:
//! - [`client`]: connections (a runtime of their own, a pool, a bound on every call, error
//!   mapping: an outage is `Unavailable`, never a hang).
//! - [`schema`]: the tables and their embedded, versioned migrations.
//! - [`engine`]: the key layout's reads over the `kv` table.
//! - [`writes`]: a batch as the last write of each key, and the statements that apply it.
//! - [`journal`]: [`PgJournal`]: a commit in one transaction that checks the thread's record and
//!   lease first (fencing, expected positions and request ids hold across nodes).
//! - [`copy`]: copying a store (sled) into an empty schema, record for record.
//! - [`feed`]: one gapless feed in commit order for every node (transaction-id horizon,
//!   sequencer, follower).

pub mod client;
pub mod copy;
pub mod engine;
pub mod feed;
pub mod journal;
pub mod schema;
pub mod writes;

pub use client::PgOptions;
pub use copy::{copy_into, CopyReport};
pub use feed::FeedStatus;
pub use journal::PgJournal;

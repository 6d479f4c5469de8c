//! # threadstore-api: the contract
//!
//! Everything a caller of threadstore needs to name, and nothing that does I/O:
//!
//! - [`ThreadStore`], the async, object-safe trait with every operation of the Codex
//!   `ThreadStore` contract plus threadstore's additions (turn and item pages, search, delete,
//!   and [`ThreadStore::subscribe`] to the event feed, `Unsupported` by default);
//! - the typed params and results of each operation ([`params`]: one constructor per params
//!   struct for its required fields; [`types`]: [`ThreadWriter::append`] writes through a
//!   writer handle, fenced by its epoch);
//! - the feed's events and subscriptions ([`event`]: [`FeedEvent`], the typed [`FeedKind`]
//!   filter, [`FeedMessage`], [`FeedStream`]);
//! - [`ThreadStoreError`], the storage-neutral error every backend returns;
//! - [`RolloutItem`] and [`RolloutLine`], which read and write the Codex JSON line shape
//!   byte-for-byte in meaning, unknown kinds and fields included;
//! - Codex's views of a thread's lines, pure functions every backend shares: [`thread_item`]
//!   (v2 `ThreadItem`s) and [`occurrence`] (what `search_thread_occurrences` matches and how it
//!   cuts a snippet).
//!
//! Backends live in other crates (`threadstore-actors` for the sled and in-memory stores);
//! they all pass the same conformance suite in `threadstore-tests`.

mod error;
pub mod event;
mod id;
pub mod item;
pub mod occurrence;
pub mod params;
mod store;
pub mod thread_item;
pub mod types;

pub use error::{ThreadStoreError, ThreadStoreResult};
pub use event::{
    FeedEvent, FeedEventKind, FeedKind, FeedMessage, FeedStart, FeedStream, SubscribeParams,
};
pub use id::ThreadId;
pub use item::{RolloutItem, RolloutLine};
pub use params::*;
pub use store::ThreadStore;
pub use types::*;

/// Page size used when a request says 0.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size a request may ask for; more is `InvalidRequest`, never clamped.
pub const MAX_PAGE_SIZE: usize = 200;

/// Resolves a requested page size: 0 means [`DEFAULT_PAGE_SIZE`], above [`MAX_PAGE_SIZE`] is rejected.
pub fn resolve_page_size(requested: usize) -> ThreadStoreResult<usize> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n > MAX_PAGE_SIZE => Err(ThreadStoreError::InvalidRequest {
            message: format!("page size {n} is over the maximum of {MAX_PAGE_SIZE}"),
        }),
        n => Ok(n),
    }
}

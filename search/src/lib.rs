//! # threadstore-search: full-text search over whole threads
//!
//! A projection of the thread logs into a [tantivy](https://docs.rs/tantivy) index, maintained
//! incrementally off the append's path and rebuildable from the log (CONTRACT.md §8).
//!
//! - [`extract`]: what is indexed — the searchable text of a log record of any era (messages,
//!   reasoning summaries, tool commands and bounded outputs) and of a thread (name, preview, cwd,
//!   id). Pure functions: the indexer, `verify` and the highlighter share them.
//! - [`tokenizer`]: the words of a text (ideographs one by one), lowercased and accent-folded.
//! - [`index`]: [`SearchIndex`], the tantivy index (one document per indexed record and one per
//!   thread), its writer and reader; each commit records the feed position it covers.
//! - [`indexer`]: [`Indexer`], the task that follows the store's durable feed into the index,
//!   commits every 700 ms while there is something new, catches up after a crash from its last
//!   commit, and on failure falls behind (reporting its lag) rather than blocking a write.
//! - [`query`]: the query syntax (words, `"phrases"`, `prefix*`), ranking (summed BM25 per
//!   thread), snippets with UTF-16 match ranges.
//! - [`verify`]: the index against the log: documents per thread.
//! - [`worker`]: [`IndexWorker`], the lower-priority thread every change to the index runs on,
//!   so indexing yields the CPU to appends when both compete.
//!
//! **On disk** (a sled store's `<data>/search/`): tantivy's own files; the last commit's payload
//! is `{"version": FORMAT_VERSION, "applied": <feed position>}`. The directory can be deleted at
//! any time: the next open rebuilds it from the feed.
//!
//! **Invariants.** *Covered prefix*: after a commit with payload `applied = n`, the index holds
//! exactly the documents of the feed events below `n` (every record appended by them, minus
//! deleted threads). *Off the path*: no append waits for the index.

pub mod extract;
pub mod index;
pub mod indexer;
pub mod query;
pub mod tokenizer;
pub mod verify;
pub mod worker;

use std::path::Path;

use threadstore_api::ThreadStoreError;

pub use extract::DocKind;
pub use index::SearchIndex;
pub use indexer::{Indexer, IndexerStatus};
pub use query::{Hit, SearchQuery};
pub use worker::IndexWorker;

/// What can go wrong in the index. Each becomes a `ThreadStoreError` for callers.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index's files cannot be read or are of another format: rebuild it (the store does
    /// so by itself on open; `threadstore rebuild` does so on demand).
    #[error("the search index is damaged: {0}")]
    Damaged(String),
    /// A file operation failed (disk full, permissions): fix the cause; the indexer retries.
    #[error("search index I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// tantivy failed: the indexer retries from its last commit.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// Reading the store failed.
    #[error(transparent)]
    Store(ThreadStoreError),
}

impl SearchError {
    /// Whether another writer holds the index (a store reopened before the last one let go).
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Tantivy(tantivy::TantivyError::LockFailure(..)))
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<SearchError> for ThreadStoreError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Store(e) => e,
            SearchError::Damaged(message) => ThreadStoreError::Corrupt {
                thread_id: None,
                position: None,
                message: format!("search index: {message}"),
            },
            other => ThreadStoreError::Internal {
                message: other.to_string(),
            },
        }
    }
}

/// Results of this crate.
pub type SearchResult<T> = Result<T, SearchError>;

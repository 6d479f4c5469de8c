use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ThreadId;

/// Result of every [`crate::ThreadStore`] operation.
pub type ThreadStoreResult<T> = Result<T, ThreadStoreError>;

/// Storage-neutral errors. Codex's variants first, then threadstore's more precise ones.
/// Each message says what happened and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ThreadStoreError {
    /// The thread does not exist, or (for writes) has no live writer: create or resume it first.
    #[error("thread {thread_id} not found (or it has no live writer): create or resume it first")]
    ThreadNotFound {
        /// The thread asked for.
        thread_id: ThreadId,
    },
    /// The request itself is wrong (bad cursor, page size over the maximum, empty search term…): fix it.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// The thread's state does not allow this now (a live writer exists, the id is taken, or the
    /// expected position does not match): re-read and retry.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicted.
        message: String,
        /// For an expected-position mismatch: the position the next item would really get.
        actual_position: Option<u64>,
    },
    /// This backend cannot do the operation at all.
    #[error("{operation} is not supported by this store")]
    Unsupported {
        /// Stable operation name, e.g. `"list_turns"`.
        operation: String,
    },
    /// A limit was hit (mailbox full, too many live threads, size limit): back off and retry.
    #[error("resource exhausted: {message}")]
    ResourceExhausted {
        /// Which limit.
        message: String,
    },
    /// Something failed inside the store (I/O, a bug): retry later; report if it persists.
    #[error("internal error: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
    /// The thread is archived and the request did not set `include_archived`.
    #[error("thread {thread_id} is archived: pass include_archived or unarchive it")]
    Archived {
        /// The archived thread.
        thread_id: ThreadId,
    },
    /// The writer handle was fenced by a newer create/resume or a discard: resume to get a new one.
    #[error("stale writer for thread {thread_id}: handle epoch {epoch}, current epoch {current_epoch}; resume the thread to write again")]
    StaleWriter {
        /// The thread.
        thread_id: ThreadId,
        /// The epoch the caller presented.
        epoch: u64,
        /// The thread's current epoch.
        current_epoch: u64,
    },
    /// A record on disk failed to decode. Nothing was dropped; run `verify`/`rebuild` or restore.
    #[error("corrupt record{}{}: {message}", thread_id.map(|t| format!(" in thread {t}")).unwrap_or_default(), position.map(|p| format!(" at position {p}")).unwrap_or_default())]
    Corrupt {
        /// Thread of the record, when known.
        thread_id: Option<ThreadId>,
        /// Position of the record, when known.
        position: Option<u64>,
        /// Decoder message.
        message: String,
    },
    /// A flush failed, so the store no longer acknowledges writes (reads keep working): fix the
    /// disk, then reopen the store; everything acknowledged before the failure is intact.
    #[error("the store stopped accepting writes after a failed flush: {message}; reopen it once the disk is fixed")]
    Poisoned {
        /// The failure that poisoned the store.
        message: String,
    },
    /// Another node changed the thread between this node's read of it and its write (a store
    /// shared by many nodes, e.g. on PostgreSQL); nothing was written. The store retries such
    /// calls itself a few times; retry the call if it still comes back.
    #[error("thread {thread_id} was changed by another node at the same moment; nothing was written: retry")]
    Contended {
        /// The thread.
        thread_id: ThreadId,
    },
    /// The database behind the store did not answer within the configured bound (an outage, a
    /// network partition). A write's outcome is unknown: retry it with the same request id once
    /// the database is back (the store reconnects by itself).
    #[error("the database is unavailable: {message}; retry once it is back (writes with a request id are safe to retry)")]
    Unavailable {
        /// What failed.
        message: String,
    },
    /// Another process holds the data directory: stop it or use another directory.
    #[error("data directory {} is locked by another process: {message}", path.display())]
    Locked {
        /// The data directory.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
}

impl ThreadStoreError {
    /// A stable, camelCase name of the variant (used in JSON-RPC error data and logs).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ThreadNotFound { .. } => "threadNotFound",
            Self::InvalidRequest { .. } => "invalidRequest",
            Self::Conflict { .. } => "conflict",
            Self::Unsupported { .. } => "unsupported",
            Self::ResourceExhausted { .. } => "resourceExhausted",
            Self::Internal { .. } => "internal",
            Self::Archived { .. } => "archived",
            Self::StaleWriter { .. } => "staleWriter",
            Self::Corrupt { .. } => "corrupt",
            Self::Locked { .. } => "locked",
            Self::Poisoned { .. } => "poisoned",
            Self::Contended { .. } => "contended",
            Self::Unavailable { .. } => "unavailable",
        }
    }

    /// Shorthand for [`ThreadStoreError::InvalidRequest`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
        }
    }

    /// Shorthand for [`ThreadStoreError::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
        }
    }
}

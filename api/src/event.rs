//! Events of the durable global feed (CONTRACT.md §6): every committed change, in commit order,
//! with a strictly increasing feed position, and subscriptions to it
//! ([`crate::ThreadStore::subscribe`]).

use std::collections::HashSet;
use std::fmt;
use std::pin::Pin;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::types::StoredTurnStatus;
use crate::{ThreadId, ThreadStoreError, ThreadStoreResult};

/// What happened to a thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FeedEventKind {
    /// The thread was created (its first items follow as `ItemsAppended`).
    ThreadCreated,
    /// Items were appended at `first_position .. first_position + count`.
    ItemsAppended {
        /// Position of the first item.
        first_position: u64,
        /// Number of items.
        count: u64,
    },
    /// A turn started.
    TurnStarted {
        /// Turn id.
        turn_id: String,
    },
    /// A turn reached a terminal state (completed, interrupted or failed).
    TurnCompleted {
        /// Turn id.
        turn_id: String,
        /// Final status.
        status: StoredTurnStatus,
        /// Positions of the turn's summary items (first user message, last agent message).
        summary_positions: Vec<u64>,
        /// Duration, ms.
        duration_ms: Option<i64>,
    },
    /// Metadata changed (name or patch).
    MetadataUpdated,
    /// Moved to the archived collection.
    Archived,
    /// Moved back to the active collection.
    Unarchived,
    /// Deleted with every item.
    Deleted,
    /// A live writer was opened (create or resume) with this epoch.
    WriterOpened {
        /// The writer's epoch.
        epoch: u64,
    },
    /// The live writer was closed (shutdown or discard).
    WriterClosed,
    /// The thread was reverted: `turn_id` and every later turn are hidden (`revert_thread`).
    ThreadReverted {
        /// The first turn hidden.
        turn_id: String,
    },
}

impl FeedEventKind {
    /// Which kind of event this is, without its data (subscription filters).
    pub fn kind(&self) -> FeedKind {
        match self {
            Self::ThreadCreated => FeedKind::ThreadCreated,
            Self::ItemsAppended { .. } => FeedKind::ItemsAppended,
            Self::TurnStarted { .. } => FeedKind::TurnStarted,
            Self::TurnCompleted { .. } => FeedKind::TurnCompleted,
            Self::MetadataUpdated => FeedKind::MetadataUpdated,
            Self::Archived => FeedKind::Archived,
            Self::Unarchived => FeedKind::Unarchived,
            Self::Deleted => FeedKind::Deleted,
            Self::WriterOpened { .. } => FeedKind::WriterOpened,
            Self::WriterClosed => FeedKind::WriterClosed,
            Self::ThreadReverted { .. } => FeedKind::ThreadReverted,
        }
    }

    /// The kind's stable camelCase name (JSON-RPC notifications, the CLI).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// The kinds of [`FeedEventKind`], without their data: what a subscription filters on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FeedKind {
    /// [`FeedEventKind::ThreadCreated`].
    ThreadCreated,
    /// [`FeedEventKind::ItemsAppended`].
    ItemsAppended,
    /// [`FeedEventKind::TurnStarted`].
    TurnStarted,
    /// [`FeedEventKind::TurnCompleted`].
    TurnCompleted,
    /// [`FeedEventKind::MetadataUpdated`].
    MetadataUpdated,
    /// [`FeedEventKind::Archived`].
    Archived,
    /// [`FeedEventKind::Unarchived`].
    Unarchived,
    /// [`FeedEventKind::Deleted`].
    Deleted,
    /// [`FeedEventKind::WriterOpened`].
    WriterOpened,
    /// [`FeedEventKind::WriterClosed`].
    WriterClosed,
    /// [`FeedEventKind::ThreadReverted`].
    ThreadReverted,
}

impl FeedKind {
    /// Every kind.
    pub const ALL: [FeedKind; 11] = [
        Self::ThreadCreated,
        Self::ItemsAppended,
        Self::TurnStarted,
        Self::TurnCompleted,
        Self::MetadataUpdated,
        Self::Archived,
        Self::Unarchived,
        Self::Deleted,
        Self::WriterOpened,
        Self::WriterClosed,
        Self::ThreadReverted,
    ];

    /// The stable camelCase name (`"turnCompleted"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::ThreadCreated => "threadCreated",
            Self::ItemsAppended => "itemsAppended",
            Self::TurnStarted => "turnStarted",
            Self::TurnCompleted => "turnCompleted",
            Self::MetadataUpdated => "metadataUpdated",
            Self::Archived => "archived",
            Self::Unarchived => "unarchived",
            Self::Deleted => "deleted",
            Self::WriterOpened => "writerOpened",
            Self::WriterClosed => "writerClosed",
            Self::ThreadReverted => "threadReverted",
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeedKind {
    type Err = ThreadStoreError;

    /// Parses a camelCase name; an unknown one is `InvalidRequest` listing the known names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                ThreadStoreError::invalid(format!(
                    "unknown feed event kind {s:?} (known: {})",
                    known.join(", ")
                ))
            })
    }
}

/// One event of the global feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// Feed position: strictly increasing in commit order, gapless, durable.
    pub position: u64,
    /// The thread.
    pub thread_id: ThreadId,
    /// Commit time.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: FeedEventKind,
}

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FeedStart {
    /// Only events committed after subscribing.
    #[default]
    Now,
    /// Every event since the store was created.
    Beginning,
    /// Events with a position strictly greater than this one.
    After(u64),
    /// Events from this position on (what [`FeedMessage::Lagged`] says to resume from).
    At(u64),
}

/// What to subscribe to.
#[derive(Clone, Debug, Default)]
pub struct SubscribeParams {
    /// Only these threads (`None`: every thread).
    pub threads: Option<HashSet<ThreadId>>,
    /// Only these kinds of event (`None`: every kind).
    pub kinds: Option<HashSet<FeedKind>>,
    /// Where to start.
    pub start: FeedStart,
    /// Events buffered towards a slow consumer (0 = 1024).
    pub buffer: usize,
}

/// One message of a subscription stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedMessage {
    /// A committed event.
    Event(FeedEvent),
    /// Catch-up is done: every committed event before `next_position` was delivered, and what
    /// follows arrives live. Sent once per subscription.
    Live {
        /// The position of the next event.
        next_position: u64,
    },
    /// The subscriber fell behind the live ring; subscribe again with `FeedStart::At(resume_from)`
    /// to continue from the durable feed without losing anything. The stream ends after this.
    /// (A remote store's server resubscribes by itself, so its streams never lag.)
    Lagged {
        /// The first position not delivered.
        resume_from: u64,
    },
}

/// A subscription: committed events in feed order, as [`crate::ThreadStore::subscribe`] returns
/// them. Dropping it ends the subscription.
pub type FeedStream = Pin<Box<dyn Stream<Item = ThreadStoreResult<FeedMessage>> + Send + 'static>>;

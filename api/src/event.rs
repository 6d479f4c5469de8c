//! Events of the durable global feed (CONTRACT.md §6): every committed change, in commit order,
//! with a strictly increasing feed position.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::StoredTurnStatus;
use crate::ThreadId;

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
}

impl FeedEventKind {
    /// The kind's stable camelCase name (filters, JSON-RPC notifications).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ThreadCreated => "threadCreated",
            Self::ItemsAppended { .. } => "itemsAppended",
            Self::TurnStarted { .. } => "turnStarted",
            Self::TurnCompleted { .. } => "turnCompleted",
            Self::MetadataUpdated => "metadataUpdated",
            Self::Archived => "archived",
            Self::Unarchived => "unarchived",
            Self::Deleted => "deleted",
            Self::WriterOpened { .. } => "writerOpened",
            Self::WriterClosed => "writerClosed",
        }
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

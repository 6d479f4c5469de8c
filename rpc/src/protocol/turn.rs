//! The turn object of `thread/turns/list` (and of `threadstore turns --json`): Codex's `Turn`
//! (`id`, `items`, `itemsView`, `status`, `error`, `startedAt`, `completedAt`, `durationMs`) plus
//! threadstore's `turnId` (the same id) and `itemCount`.

use serde::{Deserialize, Serialize};
use threadstore_api::{StoredTurn, StoredTurnError, StoredTurnItemsView, StoredTurnStatus};

use super::item::Item;

/// A turn as camelCase JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// The turn id (Codex's name).
    pub id: String,
    /// The same id, under threadstore's name.
    pub turn_id: String,
    /// `completed`, `interrupted`, `failed` or `inProgress`.
    pub status: StoredTurnStatus,
    /// Why it failed.
    pub error: Option<TurnError>,
    /// `notLoaded`, `summary` or `full`.
    pub items_view: StoredTurnItemsView,
    /// Items in log order, filtered by the view.
    pub items: Vec<Item>,
    /// Items in the whole turn.
    pub item_count: u64,
    /// Start, unix seconds.
    pub started_at: Option<i64>,
    /// Completion, unix seconds.
    pub completed_at: Option<i64>,
    /// Duration in milliseconds.
    pub duration_ms: Option<i64>,
}

/// A failed turn's error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnError {
    /// The message.
    pub message: String,
    /// Extra details (JSON text).
    pub additional_details: Option<String>,
}

impl From<&StoredTurn> for Turn {
    fn from(t: &StoredTurn) -> Self {
        Self {
            id: t.turn_id.clone(),
            turn_id: t.turn_id.clone(),
            status: t.status,
            error: t.error.as_ref().map(|e| TurnError {
                message: e.message.clone(),
                additional_details: e.additional_details.clone(),
            }),
            items_view: t.items_view,
            items: t.items.iter().map(Item::from).collect(),
            item_count: t.item_count,
            started_at: t.started_at,
            completed_at: t.completed_at,
            duration_ms: t.duration_ms,
        }
    }
}

impl From<Turn> for StoredTurn {
    fn from(t: Turn) -> Self {
        Self {
            turn_id: t.turn_id,
            status: t.status,
            error: t.error.map(|e| StoredTurnError {
                message: e.message,
                additional_details: e.additional_details,
            }),
            items_view: t.items_view,
            items: t.items.into_iter().map(|i| i.0).collect(),
            started_at: t.started_at,
            completed_at: t.completed_at,
            duration_ms: t.duration_ms,
            item_count: t.item_count,
        }
    }
}

/// Codex's camelCase name of a turn status.
pub fn status_name(status: StoredTurnStatus) -> &'static str {
    match status {
        StoredTurnStatus::Completed => "completed",
        StoredTurnStatus::Interrupted => "interrupted",
        StoredTurnStatus::Failed => "failed",
        StoredTurnStatus::InProgress => "inProgress",
    }
}

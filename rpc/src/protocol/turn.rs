//! The turn object of `thread/turns/list` (and of `threadstore turns --json`): Codex's `Turn`
//! (`id`, `items`, `itemsView`, `status`, `error`, `startedAt`, `completedAt`, `durationMs`) plus
//! threadstore's `turnId` (the same id), `itemCount` and `lines`.
//!
//! `items` are Codex's v2 `ThreadItem`s of the view's lines
//! ([`threadstore_api::thread_item::thread_item_of_line`]: lines that are no item are left
//! out); `lines` are the same lines as stored (the item objects of `thread/turns/items/list`),
//! which a remote client reads back. `error.codexErrorInfo` is Codex's `CodexErrorInfo` of the
//! stored `codex_error_info` (camelCase; a value Codex does not know is `other`).

use serde::{Deserialize, Serialize};
use threadstore_api::{StoredTurn, StoredTurnError, StoredTurnItemsView, StoredTurnStatus};

use threadstore_api::thread_item::{camel_case, thread_item_of_line};

use super::item::Item;

/// A turn as camelCase JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// The turn id (Codex's name).
    pub id: String,
    /// The same id, under threadstore's name.
    pub turn_id: String,
    /// Codex's `rootTurnId`: the turn itself (threadstore stores no turn that continues another).
    #[serde(default)]
    pub root_turn_id: Option<String>,
    /// `completed`, `interrupted`, `failed` or `inProgress`.
    pub status: StoredTurnStatus,
    /// Why it failed.
    pub error: Option<TurnError>,
    /// `notLoaded`, `summary` or `full`.
    pub items_view: StoredTurnItemsView,
    /// Codex's v2 ThreadItems of the view's lines.
    pub items: Vec<serde_json::Value>,
    /// The view's lines as stored, in log order.
    pub lines: Vec<Item>,
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
    /// Codex's `CodexErrorInfo` of the stored details.
    pub codex_error_info: Option<serde_json::Value>,
    /// Extra details: the stored `codex_error_info` as JSON text.
    pub additional_details: Option<String>,
}

/// Codex's unit `CodexErrorInfo` values.
const ERROR_INFOS: [&str; 12] = [
    "contextWindowExceeded",
    "sessionBudgetExceeded",
    "usageLimitExceeded",
    "serverOverloaded",
    "cyberPolicy",
    "misalignmentPolicyViolation",
    "internalServerError",
    "unauthorized",
    "badRequest",
    "threadRollbackFailed",
    "sandboxError",
    "other",
];

/// Codex's data-carrying `CodexErrorInfo` variants.
const ERROR_INFOS_WITH_DATA: [&str; 5] = [
    "httpConnectionFailed",
    "responseStreamConnectionFailed",
    "responseStreamDisconnected",
    "responseTooManyFailedAttempts",
    "activeTurnNotSteerable",
];

/// Codex's `CodexErrorInfo` of a stored `codex_error_info` (JSON text).
fn codex_error_info(details: Option<&str>) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(details?).ok()?;
    Some(match value {
        serde_json::Value::String(s) => {
            let name = camel_case(&s);
            serde_json::json!(if ERROR_INFOS.contains(&name.as_str()) {
                name
            } else {
                "other".to_owned()
            })
        }
        serde_json::Value::Object(map) => match map.into_iter().next() {
            Some((key, data)) if ERROR_INFOS_WITH_DATA.contains(&camel_case(&key).as_str()) => {
                let data = match data {
                    serde_json::Value::Object(fields) => serde_json::Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (camel_case(&k), v))
                            .collect(),
                    ),
                    other => other,
                };
                serde_json::json!({ camel_case(&key): data })
            }
            _ => serde_json::json!("other"),
        },
        serde_json::Value::Null => return None,
        _ => serde_json::json!("other"),
    })
}

impl From<&StoredTurn> for Turn {
    fn from(t: &StoredTurn) -> Self {
        Self {
            id: t.turn_id.clone(),
            turn_id: t.turn_id.clone(),
            root_turn_id: Some(t.turn_id.clone()),
            status: t.status,
            error: t.error.as_ref().map(|e| TurnError {
                message: e.message.clone(),
                codex_error_info: codex_error_info(e.additional_details.as_deref()),
                additional_details: e.additional_details.clone(),
            }),
            items_view: t.items_view,
            items: t
                .items
                .iter()
                .filter_map(|i| thread_item_of_line(&i.line.item, i.position))
                .collect(),
            lines: t.items.iter().map(Item::from).collect(),
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
            items: t.lines.into_iter().map(|i| i.0).collect(),
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

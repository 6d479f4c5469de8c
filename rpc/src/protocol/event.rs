//! The feed event object of `feed/event` notifications (and of `threadstore tail --json`):
//! `position`, `threadId`, `at` (RFC 3339), `kind` (the kind's stable name) and the kind's
//! details in camelCase (`firstPosition`, `count`, `turnId`, `status`, `summaryPositions`,
//! `durationMs`, `epoch`).
//!
//! A subscription also receives one marker, `{"kind": "live", "nextPosition": n}`, when it has
//! caught up with the durable feed and what follows arrives live.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use threadstore_api::item::format_timestamp;
use threadstore_api::{
    FeedEvent, FeedEventKind, FeedMessage, StoredTurnStatus, ThreadId, ThreadStoreError,
};

use super::turn::status_name;

/// `kind` of the marker sent once a subscription is live.
pub const LIVE_MARKER: &str = "live";

/// A feed event as camelCase JSON.
pub fn event_json(e: &FeedEvent) -> Value {
    let mut value = json!({
        "position": e.position,
        "threadId": e.thread_id.to_string(),
        "at": format_timestamp(&e.at),
        "kind": e.kind.name(),
    });
    let details = match &e.kind {
        FeedEventKind::ItemsAppended {
            first_position,
            count,
        } => json!({"firstPosition": first_position, "count": count}),
        FeedEventKind::TurnStarted { turn_id } | FeedEventKind::ThreadReverted { turn_id } => {
            json!({"turnId": turn_id})
        }
        FeedEventKind::TurnCompleted {
            turn_id,
            status,
            summary_positions,
            duration_ms,
        } => json!({
            "turnId": turn_id,
            "status": status_name(*status),
            "summaryPositions": summary_positions,
            "durationMs": duration_ms,
        }),
        FeedEventKind::WriterOpened { epoch } => json!({"epoch": epoch}),
        _ => json!({}),
    };
    if let (Value::Object(map), Value::Object(extra)) = (&mut value, details) {
        map.extend(extra);
    }
    value
}

/// The live marker as JSON.
pub fn live_json(next_position: u64) -> Value {
    json!({"kind": LIVE_MARKER, "nextPosition": next_position})
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventIn {
    kind: String,
    position: Option<u64>,
    thread_id: Option<ThreadId>,
    at: Option<DateTime<Utc>>,
    next_position: Option<u64>,
    first_position: Option<u64>,
    count: Option<u64>,
    turn_id: Option<String>,
    status: Option<StoredTurnStatus>,
    summary_positions: Option<Vec<u64>>,
    duration_ms: Option<i64>,
    epoch: Option<u64>,
}

/// Parses a `feed/event` notification's payload back into a [`FeedMessage`].
pub fn parse_feed_message(value: &str) -> Result<FeedMessage, ThreadStoreError> {
    let e: EventIn = serde_json::from_str(value)
        .map_err(|err| ThreadStoreError::internal(format!("bad feed event {value}: {err}")))?;
    let missing =
        |what: &str| ThreadStoreError::internal(format!("feed event without {what}: {value}"));
    if e.kind == LIVE_MARKER {
        return Ok(FeedMessage::Live {
            next_position: e.next_position.ok_or_else(|| missing("nextPosition"))?,
        });
    }
    let kind = match e.kind.as_str() {
        "threadCreated" => FeedEventKind::ThreadCreated,
        "itemsAppended" => FeedEventKind::ItemsAppended {
            first_position: e.first_position.ok_or_else(|| missing("firstPosition"))?,
            count: e.count.ok_or_else(|| missing("count"))?,
        },
        "turnStarted" => FeedEventKind::TurnStarted {
            turn_id: e.turn_id.clone().ok_or_else(|| missing("turnId"))?,
        },
        "turnCompleted" => FeedEventKind::TurnCompleted {
            turn_id: e.turn_id.clone().ok_or_else(|| missing("turnId"))?,
            status: e.status.ok_or_else(|| missing("status"))?,
            summary_positions: e.summary_positions.clone().unwrap_or_default(),
            duration_ms: e.duration_ms,
        },
        "metadataUpdated" => FeedEventKind::MetadataUpdated,
        "archived" => FeedEventKind::Archived,
        "unarchived" => FeedEventKind::Unarchived,
        "deleted" => FeedEventKind::Deleted,
        "writerOpened" => FeedEventKind::WriterOpened {
            epoch: e.epoch.ok_or_else(|| missing("epoch"))?,
        },
        "writerClosed" => FeedEventKind::WriterClosed,
        "threadReverted" => FeedEventKind::ThreadReverted {
            turn_id: e.turn_id.clone().ok_or_else(|| missing("turnId"))?,
        },
        other => {
            return Err(ThreadStoreError::internal(format!(
                "unknown feed event kind {other:?}"
            )))
        }
    };
    Ok(FeedMessage::Event(FeedEvent {
        position: e.position.ok_or_else(|| missing("position"))?,
        thread_id: e.thread_id.ok_or_else(|| missing("threadId"))?,
        at: e.at.ok_or_else(|| missing("at"))?,
        kind,
    }))
}

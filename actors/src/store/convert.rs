//! Records to contract types.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use threadstore_api::types::{StoredTurnError, StoredTurnItemsView};
use threadstore_api::*;
use threadstore_storage::{HistoryMode, LogRecord, ThreadRecord, TurnRecord};

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A thread record as the contract's `StoredThread` (without history).
pub fn stored_thread(r: &ThreadRecord, live: bool) -> StoredThread {
    let m = &r.meta;
    StoredThread {
        thread_id: r.thread_id,
        session_id: m.session_id,
        name: m.name.clone(),
        preview: m.preview.clone(),
        first_user_message: m.first_user_message.clone(),
        created_at: time(m.created_ms),
        updated_at: time(m.updated_ms),
        recency_at: time(m.recency_ms),
        archived_at: m.archived_ms.map(time),
        cwd: m.cwd.as_ref().map(PathBuf::from),
        model_provider: m.model_provider.clone(),
        model: m.model.clone(),
        reasoning_effort: m.reasoning_effort.clone(),
        source: m.source.clone(),
        thread_source: m.thread_source.clone(),
        parent_thread_id: m.parent_thread_id,
        forked_from_id: m.forked_from_id,
        agent_nickname: m.agent_nickname.clone(),
        agent_role: m.agent_role.clone(),
        agent_path: m.agent_path.clone(),
        git_info: m.git_info.clone(),
        token_usage: m.token_usage.clone(),
        cli_version: m.cli_version.clone(),
        originator: m.originator.clone(),
        rollout_path: m.rollout_path.as_ref().map(PathBuf::from),
        item_count: r.next_position,
        turn_count: r.turns.visible,
        live,
        history_mode: match r.turns.mode {
            HistoryMode::Paginated { .. } => StoredHistoryMode::Paginated,
            HistoryMode::Standard | HistoryMode::PreEnvelope => StoredHistoryMode::Legacy,
        },
        history: None,
    }
}

/// A log record as a rollout line; a payload that is not JSON is `Corrupt`.
pub fn line(thread: ThreadId, position: u64, r: LogRecord) -> ThreadStoreResult<RolloutLine> {
    let (timestamp, ordinal) = (r.timestamp(), r.ordinal);
    let item =
        RolloutItem::from_json_text(r.kind, r.payload).map_err(|e| ThreadStoreError::Corrupt {
            thread_id: Some(thread),
            position: Some(position),
            message: e.to_string(),
        })?;
    Ok(RolloutLine {
        timestamp,
        ordinal,
        item,
    })
}

/// A log record as a positioned item.
pub fn item(thread: ThreadId, position: u64, r: LogRecord) -> ThreadStoreResult<StoredItem> {
    Ok(StoredItem {
        position,
        line: line(thread, position, r)?,
    })
}

/// A turn record with its (already chosen) items.
pub fn stored_turn(
    t: &TurnRecord,
    view: StoredTurnItemsView,
    items: Vec<StoredItem>,
) -> StoredTurn {
    StoredTurn {
        turn_id: t.turn_id.clone(),
        status: t.status,
        error: t.error.as_ref().map(|(message, details)| StoredTurnError {
            message: message.clone(),
            additional_details: details.clone(),
        }),
        items_view: view,
        items,
        started_at: t.started_at,
        completed_at: t.completed_at,
        duration_ms: t.duration_ms,
        item_count: t.item_count,
    }
}

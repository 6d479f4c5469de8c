//! Record types stored under the keys of [`crate::keys`]. Plain structs with positional fields
//! (bincode has no schema): adding a field means a new record version in [`crate::codec`].

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use threadstore_api::types::{GitInfo, StoredTurnStatus, TokenUsage};
use threadstore_api::{FeedEventKind, ThreadId};

/// One log entry: a rollout line as recorded. The payload is the item's JSON text, verbatim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Recording time, unix milliseconds.
    pub ts_ms: i64,
    /// Codex's optional per-line ordinal.
    pub ordinal: Option<u64>,
    /// Item kind.
    pub kind: String,
    /// Payload JSON text.
    pub payload: String,
    /// Nanoseconds below the millisecond (kept so sub-millisecond timestamps round-trip).
    pub sub_ms_nanos: u32,
}

impl LogRecord {
    /// A record of `kind`/`payload` recorded at `at`.
    pub fn new(at: DateTime<Utc>, ordinal: Option<u64>, kind: String, payload: String) -> Self {
        Self {
            ts_ms: at.timestamp_millis(),
            ordinal,
            kind,
            payload,
            sub_ms_nanos: at.timestamp_subsec_nanos() % 1_000_000,
        }
    }

    /// The record of a rollout line, as recorded (timestamp, ordinal, kind, payload text).
    pub fn from_line(line: &threadstore_api::RolloutLine) -> Self {
        Self::new(
            line.timestamp,
            line.ordinal,
            line.item.kind().to_owned(),
            line.item.payload_json().to_owned(),
        )
    }

    /// The full recording time.
    pub fn timestamp(&self) -> DateTime<Utc> {
        let ms = Utc
            .timestamp_millis_opt(self.ts_ms)
            .single()
            .unwrap_or_default();
        ms + chrono::Duration::nanoseconds(i64::from(self.sub_ms_nanos % 1_000_000))
    }
}

/// Thread metadata, derived from the log by [`crate::projection::meta`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadMeta {
    /// Session shared with sub-agents.
    pub session_id: Option<ThreadId>,
    /// Title.
    pub name: Option<String>,
    /// Preview (the first user message), `""` if none.
    pub preview: String,
    /// First user message.
    pub first_user_message: Option<String>,
    /// Creation time, unix ms.
    pub created_ms: i64,
    /// Latest append time, unix ms.
    pub updated_ms: i64,
    /// Latest turn start, unix ms.
    pub recency_ms: i64,
    /// Archive time, unix ms.
    pub archived_ms: Option<i64>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Model provider.
    pub model_provider: Option<String>,
    /// Latest model.
    pub model: Option<String>,
    /// Latest reasoning effort.
    pub reasoning_effort: Option<String>,
    /// Source kind.
    pub source: Option<String>,
    /// Thread source.
    pub thread_source: Option<String>,
    /// Parent thread.
    pub parent_thread_id: Option<ThreadId>,
    /// Forked-from thread.
    pub forked_from_id: Option<ThreadId>,
    /// Sub-agent nickname.
    pub agent_nickname: Option<String>,
    /// Sub-agent role.
    pub agent_role: Option<String>,
    /// Sub-agent path.
    pub agent_path: Option<String>,
    /// Git state.
    pub git_info: Option<GitInfo>,
    /// Last token usage.
    pub token_usage: Option<TokenUsage>,
    /// Client version.
    pub cli_version: Option<String>,
    /// Client name.
    pub originator: Option<String>,
    /// Rollout file path.
    pub rollout_path: Option<String>,
    /// Whether the thread's header has been seen (the first `session_meta` sets identity fields).
    pub header_seen: bool,
}

/// Which rules derive a thread's turns and items, from its header (CONTRACT.md §3, §7).
///
/// Encoded as the variant index, so layout-2 records (where this was a `legacy: bool`) read as
/// `Standard` (0) or `PreEnvelope` (1) unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryMode {
    /// Envelope streams without `history_mode: "paginated"` (Codex's "legacy" history mode):
    /// turns from turn events, else from `user_message` events (§3).
    #[default]
    Standard,
    /// Pre-envelope stream (the importer marks its header): `response_item` user messages open
    /// implicit turns.
    PreEnvelope,
    /// `session_meta.history_mode: "paginated"`: turns only from turn events, items are the
    /// `item_completed` lines attached by their own `turn_id`, the first terminal event wins (§7).
    Paginated {
        /// Lines with a smaller ordinal are copied parent context (a sub-agent's
        /// `subagent_history_start_ordinal`): not the thread's own turns, items or preview.
        own_from_ordinal: u64,
    },
}

impl HistoryMode {
    /// Whether the line with `ordinal` is the thread's own (not copied parent context).
    pub fn owns(&self, ordinal: Option<u64>) -> bool {
        match self {
            Self::Paginated { own_from_ordinal } => ordinal.is_none_or(|o| o >= *own_from_ordinal),
            _ => true,
        }
    }

    /// Whether the thread follows Codex's paginated rules.
    pub fn is_paginated(&self) -> bool {
        matches!(self, Self::Paginated { .. })
    }
}

/// Incremental state of the turn reducer that is not stored per turn.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnCursor {
    /// Sequence number the next turn gets (never reused, so rolled-back anchors are detectable).
    pub next_seq: u64,
    /// The most recent visible turn.
    pub tail: Option<u64>,
    /// Whether the tail turn is still open (current).
    pub open: bool,
    /// Which rules derive the thread's turns (set by its header).
    pub mode: HistoryMode,
    /// Number of visible turns.
    pub visible: u64,
    /// Reverted position ranges `[from, to)`, oldest first: their lines stay in the log but are
    /// no thread's history, turns or items any more (CONTRACT.md §7, `revert_thread`).
    pub hidden: Vec<(u64, u64)>,
}

impl TurnCursor {
    /// The parts of `[from, to)` outside every reverted range, ascending.
    pub fn visible_ranges(&self, from: u64, to: u64) -> Vec<(u64, u64)> {
        let mut hidden = self.hidden.clone();
        hidden.sort_unstable();
        let mut out = Vec::new();
        let mut at = from;
        for (h_from, h_to) in hidden {
            if h_to <= at {
                continue;
            }
            if h_from >= to {
                break;
            }
            if h_from > at {
                out.push((at, h_from));
            }
            at = at.max(h_to);
        }
        if at < to {
            out.push((at, to));
        }
        out
    }
}

/// The per-thread record: metadata, turn reducer state, next position and writer epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    /// The thread.
    pub thread_id: ThreadId,
    /// Derived metadata.
    pub meta: ThreadMeta,
    /// Turn reducer state.
    pub turns: TurnCursor,
    /// Position the next item gets (= number of log records).
    pub next_position: u64,
    /// Latest writer epoch handed out (a lease, not derived from the log).
    pub epoch: u64,
}

impl ThreadRecord {
    /// The record of a thread with no items yet and no writer epoch handed out.
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            meta: ThreadMeta::default(),
            turns: TurnCursor::default(),
            next_position: 0,
            epoch: 0,
        }
    }
}

/// One turn, derived from the log by [`crate::projection::turns`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Sequence number (key order).
    pub seq: u64,
    /// Previous visible turn when this one opened (rollbacks pop this chain).
    pub prev: Option<u64>,
    /// Turn id.
    pub turn_id: String,
    /// The visible turn this id named before this turn reused it (restored if this one is rolled back).
    pub shadows: Option<u64>,
    /// Opened by `task_started` (else implicit).
    pub explicit: bool,
    /// Status.
    pub status: StoredTurnStatus,
    /// Error message and details of a failed turn.
    pub error: Option<(String, Option<String>)>,
    /// Start, unix seconds.
    pub started_at: Option<i64>,
    /// Completion, unix seconds.
    pub completed_at: Option<i64>,
    /// Duration, ms.
    pub duration_ms: Option<i64>,
    /// Recording time of the opening item, ms (fallback for durations).
    pub opened_ms: i64,
    /// Position of the line that opened the turn (a revert hides from here on).
    pub opened_at: u64,
    /// Position of the opening item.
    pub first_position: u64,
    /// Position of the latest item.
    pub last_position: u64,
    /// Number of items.
    pub item_count: u64,
    /// Position of the first user message.
    pub first_user: Option<u64>,
    /// Position of the last agent message (paginated threads: the last one without a phase,
    /// the summary's fallback once the turn has ended).
    pub last_agent: Option<u64>,
    /// Paginated threads: position of the last `final_answer` AgentMessage item.
    pub final_answer: Option<u64>,
    /// Derived by the paginated rules (see [`HistoryMode::Paginated`]).
    pub paginated: bool,
}

impl TurnRecord {
    /// Positions of the turn's summary items, in log order: its first user message and
    /// [`summary_agent`](Self::summary_agent).
    pub fn summary_positions(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .first_user
            .into_iter()
            .chain(self.summary_agent())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The agent message of the turn's summary (CONTRACT.md §3, §7): the last agent message;
    /// for a paginated turn the last `final_answer`, else, once the turn has ended, the last one
    /// without a phase (never commentary).
    pub fn summary_agent(&self) -> Option<u64> {
        if !self.paginated {
            return self.last_agent;
        }
        self.final_answer.or_else(|| {
            self.last_agent
                .filter(|_| self.status != StoredTurnStatus::InProgress)
        })
    }

    /// Whether the turn's members are exactly the positions `first_position..=last_position`.
    /// Most turns are (items arrive in order and join the open turn); only those that are not
    /// need membership keys (see [`crate::keys`]).
    pub fn is_contiguous(&self) -> bool {
        self.last_position
            .checked_sub(self.first_position)
            .is_some_and(|span| span + 1 == self.item_count)
    }
}

/// One feed entry: which thread, when, what (its position is its block's key plus its index).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedRecord {
    /// The thread.
    pub thread_id: ThreadId,
    /// Commit time, unix ms.
    pub ts_ms: i64,
    /// What happened.
    pub kind: FeedEventKind,
}

/// The feed entries of one write group, stored under `F first_position`: entry `i` has feed
/// position `first_position + i`. One key per group instead of per event keeps the feed's cost
/// per append small (see [`crate::feed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedBlock {
    /// The entries, in position order.
    pub records: Vec<FeedRecord>,
}

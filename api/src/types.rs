//! Results: threads, turns, items and the pages that carry them.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{RolloutLine, ThreadId};

/// Git state recorded for a thread (Codex `GitInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    /// Commit hash.
    pub commit_hash: Option<String>,
    /// Branch name.
    pub branch: Option<String>,
    /// Remote URL.
    pub repository_url: Option<String>,
}

/// Last observed token usage (Codex `token_count.info.total_token_usage`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Input tokens.
    pub input_tokens: i64,
    /// Input tokens served from cache.
    pub cached_input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// Reasoning output tokens.
    pub reasoning_output_tokens: i64,
    /// Total tokens.
    pub total_tokens: i64,
}

/// A thread's summary: what `read_thread`, `list_threads` and the metadata operations return.
/// Every field is derived from the thread's log (explicit patches are log events too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredThread {
    /// Id.
    pub thread_id: ThreadId,
    /// Session id shared by a root thread and its sub-agents.
    pub session_id: Option<ThreadId>,
    /// User-given title.
    pub name: Option<String>,
    /// Best user-facing preview (the first user message); `""` if none.
    pub preview: String,
    /// The first user message.
    pub first_user_message: Option<String>,
    /// Creation time (from the session header).
    pub created_at: DateTime<Utc>,
    /// Time of the latest append.
    pub updated_at: DateTime<Utc>,
    /// Time of the latest user turn start (`task_started`), else creation.
    pub recency_at: DateTime<Utc>,
    /// When the thread was archived; `None` when active.
    pub archived_at: Option<DateTime<Utc>>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Model provider.
    pub model_provider: Option<String>,
    /// Latest model seen in a `turn_context`.
    pub model: Option<String>,
    /// Latest reasoning effort seen in a `turn_context`.
    pub reasoning_effort: Option<String>,
    /// Session source kind (`cli`, `vscode`, `exec`, `mcp`, `subagent`, …).
    pub source: Option<String>,
    /// Thread source (`user`, `subagent`, `memory_consolidation`).
    pub thread_source: Option<String>,
    /// Parent thread (sub-agents).
    pub parent_thread_id: Option<ThreadId>,
    /// Thread this one was forked from.
    pub forked_from_id: Option<ThreadId>,
    /// Sub-agent nickname.
    pub agent_nickname: Option<String>,
    /// Sub-agent role.
    pub agent_role: Option<String>,
    /// Sub-agent path.
    pub agent_path: Option<String>,
    /// Git state.
    pub git_info: Option<GitInfo>,
    /// Last observed token usage.
    pub token_usage: Option<TokenUsage>,
    /// Version of the writing client.
    pub cli_version: Option<String>,
    /// Writing client (`codex_cli_rs`, `codex_vscode`, …).
    pub originator: Option<String>,
    /// Rollout file this thread was imported from or exported to.
    pub rollout_path: Option<PathBuf>,
    /// Number of items in the log (the next position).
    pub item_count: u64,
    /// Number of visible turns.
    pub turn_count: u64,
    /// Whether a live writer currently holds the thread.
    pub live: bool,
    /// Which rules derive the thread's turns and items (Codex's `historyMode`).
    pub history_mode: StoredHistoryMode,
    /// Full history, only when asked for.
    pub history: Option<StoredThreadHistory>,
}

/// A thread's history mode, as Codex names it: how its turns and items are derived from its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoredHistoryMode {
    /// Every era before paginated rollouts: turns from turn events, else from user messages;
    /// items from the lines one by one (Codex's `legacy`).
    #[default]
    Legacy,
    /// `session_meta.history_mode: "paginated"`: turns from turn events, items from
    /// `item_completed` lines (Codex's `paginated`).
    Paginated,
}

impl StoredHistoryMode {
    /// Codex's name of the mode (`legacy`, `paginated`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Paginated => "paginated",
        }
    }
}

/// Every persisted item of a thread, in log order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredThreadHistory {
    /// The thread.
    pub thread_id: ThreadId,
    /// Items in log order; the index of an item is its position, unless the thread was reverted
    /// (reverted lines are left out).
    pub items: Vec<RolloutLine>,
}

/// What a resume needs to rebuild the model's context: the history from the last compaction on
/// (`load_latest_model_context`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredModelContext {
    /// The thread.
    pub thread_id: ThreadId,
    /// Position of the first line: the last `compacted` line, or 0 when there is none.
    pub from_position: u64,
    /// The lines from there to the end, in log order (reverted lines left out).
    pub items: Vec<RolloutLine>,
}

/// One item with its position in the thread's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredItem {
    /// Position in the thread's log (0-based, dense).
    pub position: u64,
    /// The line as recorded.
    pub line: RolloutLine,
}

/// A page of threads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadPage {
    /// Threads, in the requested order.
    pub items: Vec<StoredThread>,
    /// Cursor for the next page; present only when more threads exist.
    pub next_cursor: Option<String>,
    /// Inclusive cursor at the first thread, for the opposite direction; present when the page
    /// is not empty.
    pub backwards_cursor: Option<String>,
}

/// One search hit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredThreadSearchResult {
    /// The matching thread.
    pub thread: StoredThread,
    /// The text around the thread's best match (from the item that matched best, or the
    /// thread's name, preview, cwd or id).
    pub snippet: String,
    /// Every match in `snippet`, `[start, end)` in UTF-16 code units, in order.
    pub match_ranges: Vec<(usize, usize)>,
    /// The thread's relevance score (`None` when the page is sorted by a time key).
    pub score: Option<f32>,
}

/// A page of search hits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadSearchPage {
    /// Hits, in the requested order.
    pub items: Vec<StoredThreadSearchResult>,
    /// Cursor for the next page; present only when more hits may exist.
    pub next_cursor: Option<String>,
}

/// A turn's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoredTurnStatus {
    /// Finished normally (implicit turns of old streams count as completed).
    Completed,
    /// Aborted (`turn_aborted`).
    Interrupted,
    /// An error affected it.
    Failed,
    /// Still running: no terminal event yet.
    InProgress,
}

/// Why a turn failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTurnError {
    /// The error message.
    pub message: String,
    /// Extra details (Codex's `codex_error_info`, as JSON text).
    pub additional_details: Option<String>,
}

/// Which items a turn page carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoredTurnItemsView {
    /// No items; status, error and timestamps only.
    NotLoaded,
    /// The first user message and the last agent message (at most two items, log order).
    #[default]
    Summary,
    /// Every item of the turn.
    Full,
}

/// One turn, derived from the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredTurn {
    /// Explicit id (`task_started.turn_id`) or, for old streams, `rollout-<position>`.
    pub turn_id: String,
    /// Status.
    pub status: StoredTurnStatus,
    /// Error of a failed turn.
    pub error: Option<StoredTurnError>,
    /// The view the items follow.
    pub items_view: StoredTurnItemsView,
    /// Items in log order, filtered by the view.
    pub items: Vec<StoredItem>,
    /// Start time, unix seconds.
    pub started_at: Option<i64>,
    /// Completion time, unix seconds.
    pub completed_at: Option<i64>,
    /// Duration in milliseconds.
    pub duration_ms: Option<i64>,
    /// Number of items in the turn.
    pub item_count: u64,
}

/// A page of turns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnPage {
    /// Turns, in the requested order.
    pub turns: Vec<StoredTurn>,
    /// Cursor after the last turn; present only when more turns exist.
    pub next_cursor: Option<String>,
    /// Cursor at the first turn (inclusive), for the opposite direction; present when the page is not empty.
    pub backwards_cursor: Option<String>,
}

/// What `revert_thread` returns (Codex's `ThreadRevertResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevertedThread {
    /// The thread after the revert.
    pub thread: StoredThread,
    /// A `list_turns` cursor for `Desc` pages, inclusive, at the newest retained turn (`None`
    /// when none is left).
    pub turns_backwards_cursor: Option<String>,
    /// A `list_thread_items` cursor for `Desc` pages, inclusive, at the newest retained item of
    /// Codex's item view (`None` when none is left or the thread is not paginated).
    pub items_backwards_cursor: Option<String>,
}

/// One item of Codex's item view: the v2 `ThreadItem` of a log line, with its turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredThreadItem {
    /// The turn it belongs to.
    pub turn_id: String,
    /// Position of its line in the thread's log (see [`StoredItem::position`]).
    pub position: u64,
    /// Codex's v2 `ThreadItem` JSON.
    pub item: serde_json::Value,
}

/// A page of Codex's item view.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadItemPage {
    /// Items, in the requested order.
    pub items: Vec<StoredThreadItem>,
    /// Cursor after the last item; present only when more items exist.
    pub next_cursor: Option<String>,
    /// Cursor at the first item (inclusive), for the opposite direction; present when the page is not empty.
    pub backwards_cursor: Option<String>,
}

/// One occurrence of a term in a thread (`search_thread_occurrences`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadOccurrence {
    /// The turn holding the item.
    pub turn_id: String,
    /// The item's id (its ThreadItem `id`).
    pub item_id: String,
    /// Position of the item's line in the thread's log.
    pub position: u64,
    /// Text around the match (see [`crate::occurrence`]).
    pub snippet: String,
    /// The match in `snippet`, `[start, end)` in UTF-16 code units.
    pub snippet_match_range: (usize, usize),
    /// An inclusive `list_turns` cursor at the item's turn, in ascending order: passed to
    /// `list_turns`, the page starts with that turn.
    pub turn_cursor: Option<String>,
}

/// A page of occurrences, in log order (then text order within an item).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccurrencePage {
    /// Occurrences, oldest first.
    pub occurrences: Vec<ThreadOccurrence>,
    /// Cursor after the last one; present only when more exist.
    pub next_cursor: Option<String>,
}

/// A store's counters (`store_stats`): its feed, its size on disk and its live actors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// The feed head: the position the next event gets.
    pub feed_head: u64,
    /// Bytes the store takes on disk (0 for a store in memory).
    pub bytes_on_disk: u64,
    /// Thread actors alive now.
    pub live_actors: u64,
    /// Live feed subscribers.
    pub subscribers: u64,
    /// The full-text index (`None` when the store keeps none).
    #[serde(default)]
    pub search_index: Option<SearchIndexStats>,
    /// Events committed that this store's subscribers have not been given yet: on a store
    /// shared by many nodes (PostgreSQL), the events waiting for a feed position (an open
    /// transaction in the database holds them back) plus those not yet delivered to this node.
    /// `None` where events take their position as they commit.
    #[serde(default)]
    pub feed_lag: Option<u64>,
}

/// Where the full-text index stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchIndexStats {
    /// Every feed event below this position is searchable.
    pub applied: u64,
    /// Feed events committed but not yet searchable.
    pub lag: u64,
    /// Bytes of the index on disk.
    pub bytes_on_disk: u64,
    /// Why the last indexing attempt failed, while it keeps failing.
    pub failure: Option<String>,
}

/// A page of items.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemPage {
    /// Items, in the requested order.
    pub items: Vec<StoredItem>,
    /// Cursor after the last item; present only when more items exist.
    pub next_cursor: Option<String>,
    /// Cursor at the first item (inclusive), for the opposite direction; present when the page is not empty.
    pub backwards_cursor: Option<String>,
}

/// A live writer handle: the epoch fences older handles (see `AppendThreadItemsParams::writer_epoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadWriter {
    /// The thread.
    pub thread_id: ThreadId,
    /// This handle's epoch; a later create/resume/discard makes it stale.
    pub epoch: u64,
    /// Position the next appended item will get.
    pub next_position: u64,
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResult {
    /// Position of the first appended item (the next position when nothing was appended).
    pub first_position: u64,
    /// Number of items appended.
    pub item_count: u64,
    /// True when the request id had been seen: the original positions are returned, nothing written.
    pub deduplicated: bool,
}

impl AppendResult {
    /// Position of the last appended item, if any.
    pub fn last_position(&self) -> Option<u64> {
        (self.item_count > 0).then(|| self.first_position + self.item_count - 1)
    }

    /// Position the next item will get.
    pub fn next_position(&self) -> u64 {
        self.first_position + self.item_count
    }
}

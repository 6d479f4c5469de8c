//! Results of every method, in camelCase. Pages follow Codex: `{data, nextCursor}` for threads,
//! `{data, nextCursor, backwardsCursor}` for turns and items.

use serde::{Deserialize, Serialize};
use threadstore_api::{
    AppendResult, ItemPage, OccurrencePage, RolloutLine, StoreStats, StoredThreadItem,
    StoredThreadSearchResult, ThreadId, ThreadItemPage, ThreadOccurrence, ThreadPage,
    ThreadSearchPage, ThreadWriter, TurnPage,
};

use super::item::Item;
use super::settings::SessionSettings;
use super::thread::Thread;
use super::turn::Turn;

/// `thread/list`: one page of threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListResult {
    /// Threads, in the requested order.
    pub data: Vec<Thread>,
    /// Cursor for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Inclusive cursor at the first thread, for the opposite direction; `null` when empty.
    #[serde(default)]
    pub backwards_cursor: Option<String>,
}

impl From<&ThreadPage> for ThreadListResult {
    fn from(p: &ThreadPage) -> Self {
        Self {
            data: p.items.iter().map(Thread::from).collect(),
            next_cursor: p.next_cursor.clone(),
            backwards_cursor: p.backwards_cursor.clone(),
        }
    }
}

impl From<ThreadListResult> for ThreadPage {
    fn from(r: ThreadListResult) -> Self {
        Self {
            items: r.data.into_iter().map(|t| t.into_stored(None)).collect(),
            next_cursor: r.next_cursor,
            backwards_cursor: r.backwards_cursor,
        }
    }
}

/// One `thread/search` hit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// The matching thread.
    pub thread: Thread,
    /// Text around the best match.
    pub snippet: String,
    /// threadstore's own: every match in `snippet`, in UTF-16 code units.
    #[serde(default)]
    pub match_ranges: Vec<MatchRange>,
    /// threadstore's own: the relevance score (`null` when sorted by a time key).
    #[serde(default)]
    pub score: Option<f32>,
}

/// `thread/search`: one page of hits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// Hits, in the requested order.
    pub data: Vec<SearchHit>,
    /// Cursor for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl From<&ThreadSearchPage> for SearchResult {
    fn from(p: &ThreadSearchPage) -> Self {
        Self {
            data: p
                .items
                .iter()
                .map(|h| SearchHit {
                    thread: Thread::from(&h.thread),
                    snippet: h.snippet.clone(),
                    match_ranges: h
                        .match_ranges
                        .iter()
                        .map(|&(start, end)| MatchRange { start, end })
                        .collect(),
                    score: h.score,
                })
                .collect(),
            next_cursor: p.next_cursor.clone(),
        }
    }
}

impl From<SearchResult> for ThreadSearchPage {
    fn from(r: SearchResult) -> Self {
        Self {
            items: r
                .data
                .into_iter()
                .map(|h| StoredThreadSearchResult {
                    thread: h.thread.into_stored(None),
                    snippet: h.snippet,
                    match_ranges: h.match_ranges.iter().map(|r| (r.start, r.end)).collect(),
                    score: h.score,
                })
                .collect(),
            next_cursor: r.next_cursor,
        }
    }
}

/// `thread/turns/list`: one page of turns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnListResult {
    /// Turns, in the requested order.
    pub data: Vec<Turn>,
    /// Cursor after the last turn; `null` when no more turns exist.
    pub next_cursor: Option<String>,
    /// Cursor at the first turn (inclusive), for the opposite direction.
    pub backwards_cursor: Option<String>,
}

impl From<&TurnPage> for TurnListResult {
    fn from(p: &TurnPage) -> Self {
        Self {
            data: p.turns.iter().map(Turn::from).collect(),
            next_cursor: p.next_cursor.clone(),
            backwards_cursor: p.backwards_cursor.clone(),
        }
    }
}

impl From<TurnListResult> for TurnPage {
    fn from(r: TurnListResult) -> Self {
        Self {
            turns: r.data.into_iter().map(Into::into).collect(),
            next_cursor: r.next_cursor,
            backwards_cursor: r.backwards_cursor,
        }
    }
}

/// One entry of `thread/items/list`: Codex's `ThreadItemEntry`, plus threadstore's `position`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItemEntry {
    /// The turn the item belongs to.
    pub turn_id: String,
    /// Codex's v2 `ThreadItem`.
    pub item: serde_json::Value,
    /// When the item started, unix milliseconds (the item's own `startedAtMs`).
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// When the item completed, unix milliseconds (the item's own `completedAtMs`).
    #[serde(default)]
    pub completed_at_ms: Option<i64>,
    /// Position of the item's line in the thread's log.
    pub position: u64,
}

/// `thread/items/list`: one page of Codex's item view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItemsListResult {
    /// Entries, in the requested order.
    pub data: Vec<ThreadItemEntry>,
    /// Cursor after the last entry; `null` when no more exist.
    pub next_cursor: Option<String>,
    /// Cursor at the first entry (inclusive), for the opposite direction; `null` when empty.
    pub backwards_cursor: Option<String>,
}

impl From<ThreadItemPage> for ThreadItemsListResult {
    fn from(p: ThreadItemPage) -> Self {
        Self {
            data: p
                .items
                .into_iter()
                .map(|i| {
                    let ms = |key: &str| i.item.get(key).and_then(serde_json::Value::as_i64);
                    ThreadItemEntry {
                        started_at_ms: ms("startedAtMs"),
                        completed_at_ms: ms("completedAtMs"),
                        turn_id: i.turn_id,
                        item: i.item,
                        position: i.position,
                    }
                })
                .collect(),
            next_cursor: p.next_cursor,
            backwards_cursor: p.backwards_cursor,
        }
    }
}

impl From<ThreadItemsListResult> for ThreadItemPage {
    fn from(r: ThreadItemsListResult) -> Self {
        Self {
            items: r
                .data
                .into_iter()
                .map(|e| StoredThreadItem {
                    turn_id: e.turn_id,
                    position: e.position,
                    item: e.item,
                })
                .collect(),
            next_cursor: r.next_cursor,
            backwards_cursor: r.backwards_cursor,
        }
    }
}

/// One entry of `thread/searchOccurrences`: Codex's, plus threadstore's `position`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceEntry {
    /// The turn holding the item.
    pub turn_id: String,
    /// The item's id.
    pub item_id: String,
    /// Text around the match.
    pub snippet: String,
    /// The match in `snippet`, in UTF-16 code units.
    pub snippet_match_range: MatchRange,
    /// An inclusive, ascending `thread/turns/list` cursor at the item's turn.
    pub turn_cursor: Option<String>,
    /// Position of the item's line in the thread's log.
    pub position: u64,
}

/// `[start, end)` in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRange {
    /// First unit of the match.
    pub start: usize,
    /// One past its last unit.
    pub end: usize,
}

/// `thread/searchOccurrences`: one page of a term's occurrences in a thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOccurrencesResult {
    /// Occurrences, in log order.
    pub data: Vec<OccurrenceEntry>,
    /// Cursor after the last one; `null` when no more exist.
    pub next_cursor: Option<String>,
}

impl From<OccurrencePage> for SearchOccurrencesResult {
    fn from(p: OccurrencePage) -> Self {
        Self {
            data: p
                .occurrences
                .into_iter()
                .map(|o| OccurrenceEntry {
                    turn_id: o.turn_id,
                    item_id: o.item_id,
                    snippet: o.snippet,
                    snippet_match_range: MatchRange {
                        start: o.snippet_match_range.0,
                        end: o.snippet_match_range.1,
                    },
                    turn_cursor: o.turn_cursor,
                    position: o.position,
                })
                .collect(),
            next_cursor: p.next_cursor,
        }
    }
}

impl From<SearchOccurrencesResult> for OccurrencePage {
    fn from(r: SearchOccurrencesResult) -> Self {
        Self {
            occurrences: r
                .data
                .into_iter()
                .map(|e| ThreadOccurrence {
                    turn_id: e.turn_id,
                    item_id: e.item_id,
                    position: e.position,
                    snippet: e.snippet,
                    snippet_match_range: (e.snippet_match_range.start, e.snippet_match_range.end),
                    turn_cursor: e.turn_cursor,
                })
                .collect(),
            next_cursor: r.next_cursor,
        }
    }
}

/// `store/stats`: the store's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStatsResult {
    /// The position the next event gets.
    pub feed_head: u64,
    /// Bytes the store takes on disk.
    pub bytes_on_disk: u64,
    /// Thread actors alive now.
    pub live_actors: u64,
    /// Live feed subscribers (this server's own subscriptions included).
    pub subscribers: u64,
    /// The full-text index (`null` when the store keeps none).
    #[serde(default)]
    pub search_index: Option<threadstore_api::SearchIndexStats>,
    /// Events committed but not yet delivered here (`null` where the feed has no lag: a store
    /// that is not shared by many nodes).
    #[serde(default)]
    pub feed_lag: Option<u64>,
}

impl From<StoreStats> for StoreStatsResult {
    fn from(s: StoreStats) -> Self {
        Self {
            feed_head: s.feed_head,
            bytes_on_disk: s.bytes_on_disk,
            live_actors: s.live_actors,
            subscribers: s.subscribers,
            search_index: s.search_index,
            feed_lag: s.feed_lag,
        }
    }
}

impl From<StoreStatsResult> for StoreStats {
    fn from(s: StoreStatsResult) -> Self {
        Self {
            feed_head: s.feed_head,
            bytes_on_disk: s.bytes_on_disk,
            live_actors: s.live_actors,
            subscribers: s.subscribers,
            search_index: s.search_index,
            feed_lag: s.feed_lag,
        }
    }
}

/// `thread/turns/items/list`: one page of items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemListResult {
    /// Items, in the requested order.
    pub data: Vec<Item>,
    /// Cursor after the last item; `null` when no more items exist.
    pub next_cursor: Option<String>,
    /// Cursor at the first item (inclusive), for the opposite direction.
    pub backwards_cursor: Option<String>,
}

impl From<&ItemPage> for ItemListResult {
    fn from(p: &ItemPage) -> Self {
        Self {
            data: p.items.iter().map(Item::from).collect(),
            next_cursor: p.next_cursor.clone(),
            backwards_cursor: p.backwards_cursor.clone(),
        }
    }
}

impl From<ItemListResult> for ItemPage {
    fn from(r: ItemListResult) -> Self {
        Self {
            items: r.data.into_iter().map(|i| i.0).collect(),
            next_cursor: r.next_cursor,
            backwards_cursor: r.backwards_cursor,
        }
    }
}

/// `thread/read` and `thread/readByRolloutPath`: the thread, and its history when asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadThreadResult {
    /// The thread.
    pub thread: Thread,
    /// Every persisted line, in order (only with `includeHistory`).
    pub history: Option<Vec<RolloutLine>>,
}

/// Results that carry the thread's current state (`thread/archive`, `unarchive`, `name/set`,
/// `metadata/update`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResult {
    /// The thread after the change.
    pub thread: Thread,
}

/// `thread/revert`: Codex's `ThreadRevertResponse` (its `thread.turns` is empty).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevertResult {
    /// The thread after the revert.
    pub thread: Thread,
    /// For `thread/turns/list` with `desc`: inclusive, at the newest retained turn.
    pub turns_backwards_cursor: Option<String>,
    /// For `thread/items/list` with `desc`: inclusive, at the newest retained item.
    pub items_backwards_cursor: Option<String>,
}

/// `thread/fork` (Codex's `ThreadForkResponse`): the fork (its turns filled unless
/// `excludeTurns`, as Codex's), its live writer, and its session settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForkResult {
    /// The fork.
    pub thread: Thread,
    /// The fork's writer handle (epoch 1).
    pub writer: WriterJson,
    /// Model, provider, cwd, approval policy, sandbox… (see [`SessionSettings`]).
    #[serde(flatten)]
    pub settings: SessionSettings,
}

/// `thread/resume` (Codex's `ThreadResumeResponse`): the writer handle, the thread, and its
/// session settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeResult {
    /// The writer handle.
    pub writer: WriterJson,
    /// The thread right after the resume.
    pub thread: Thread,
    /// Model, provider, cwd, approval policy, sandbox… (see [`SessionSettings`]).
    #[serde(flatten)]
    pub settings: SessionSettings,
}

/// `thread/history/load`: every persisted line; a line's index is its position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResult {
    /// The thread.
    pub thread_id: ThreadId,
    /// Lines in log order.
    pub items: Vec<RolloutLine>,
}

impl From<threadstore_api::StoredThreadHistory> for HistoryResult {
    fn from(h: threadstore_api::StoredThreadHistory) -> Self {
        Self {
            thread_id: h.thread_id,
            items: h.items,
        }
    }
}

impl From<HistoryResult> for threadstore_api::StoredThreadHistory {
    fn from(h: HistoryResult) -> Self {
        Self {
            thread_id: h.thread_id,
            items: h.items,
        }
    }
}

/// `thread/modelContext/load`: the lines from the last compaction on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelContextResult {
    /// The thread.
    pub thread_id: ThreadId,
    /// Position of the first line (the last `compacted` line, else 0).
    pub from_position: u64,
    /// Lines in log order.
    pub items: Vec<RolloutLine>,
}

/// A writer handle on the wire: pass `epoch` back as `writerEpoch` on appends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriterJson {
    /// The thread.
    pub thread_id: ThreadId,
    /// The handle's epoch; a later create/resume/discard makes it stale.
    pub epoch: u64,
    /// Position the next item will get.
    pub next_position: u64,
}

impl From<ThreadWriter> for WriterJson {
    fn from(w: ThreadWriter) -> Self {
        Self {
            thread_id: w.thread_id,
            epoch: w.epoch,
            next_position: w.next_position,
        }
    }
}

impl From<WriterJson> for ThreadWriter {
    fn from(w: WriterJson) -> Self {
        Self {
            thread_id: w.thread_id,
            epoch: w.epoch,
            next_position: w.next_position,
        }
    }
}

/// `thread/create`: the writer handle and the thread's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriterResult {
    /// The writer handle.
    pub writer: WriterJson,
    /// The thread right after the call (`null` if it could not be read back, e.g. deleted meanwhile).
    pub thread: Option<Thread>,
}

/// `thread/items/append`: the positions written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendResponse {
    /// Position of the first item (the next position when nothing was appended).
    pub first_position: u64,
    /// Position of the last item; `null` when nothing was appended.
    pub last_position: Option<u64>,
    /// Number of items appended.
    pub item_count: u64,
    /// Position the next item will get.
    pub next_position: u64,
    /// True when the request id had been seen: original positions, nothing written.
    pub deduplicated: bool,
}

impl From<AppendResult> for AppendResponse {
    fn from(r: AppendResult) -> Self {
        Self {
            first_position: r.first_position,
            last_position: r.last_position(),
            item_count: r.item_count,
            next_position: r.next_position(),
            deduplicated: r.deduplicated,
        }
    }
}

impl From<AppendResponse> for AppendResult {
    fn from(r: AppendResponse) -> Self {
        Self {
            first_position: r.first_position,
            item_count: r.item_count,
            deduplicated: r.deduplicated,
        }
    }
}

/// The empty result `{}` of methods that return nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `server/info`: what the client needs to know before sending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// Always `threadstore`.
    pub name: String,
    /// The server's version.
    pub version: String,
    /// Largest request message the server accepts, in bytes.
    pub max_message_bytes: u64,
    /// Every method the server answers.
    pub methods: Vec<String>,
}

//! Typed params of every operation. Each has public fields and one constructor for its required
//! fields that leaves every optional field at its default, so callers write
//! `ListTurnsParams::new(id)` or `ListTurnsParams { page_size: 10, ..ListTurnsParams::new(id) }`;
//! params without a required field (`CreateThreadParams`, `ListThreadsParams`) implement
//! `Default` instead.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::types::{GitInfo, StoredTurnItemsView};
use crate::{RolloutItem, RolloutLine, ThreadId};

/// Opens a live writer for a new thread. The store writes the thread's header (a Codex
/// `session_meta` item built from these fields) as position 0, unless `history` is given, in which
/// case those lines are the thread's first items (used by importers, which keep the original header
/// and timestamps).
#[derive(Clone, Debug, Default)]
pub struct CreateThreadParams {
    /// Id of the new thread; `None` gives a fresh UUID v7.
    pub thread_id: Option<ThreadId>,
    /// Session shared with sub-agents.
    pub session_id: Option<ThreadId>,
    /// Session source kind (`cli`, `vscode`, `exec`, `mcp`, `subagent`, …).
    pub source: Option<String>,
    /// Thread source (`user`, `subagent`, `memory_consolidation`).
    pub thread_source: Option<String>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Model provider.
    pub model_provider: Option<String>,
    /// Writing client name.
    pub originator: Option<String>,
    /// Writing client version.
    pub cli_version: Option<String>,
    /// Parent thread (sub-agents).
    pub parent_thread_id: Option<ThreadId>,
    /// Thread this one forks.
    pub forked_from_id: Option<ThreadId>,
    /// Sub-agent nickname.
    pub agent_nickname: Option<String>,
    /// Sub-agent role.
    pub agent_role: Option<String>,
    /// Sub-agent path.
    pub agent_path: Option<String>,
    /// Git state.
    pub git_info: Option<GitInfo>,
    /// Rollout file this thread mirrors (import), for `read_thread_by_rollout_path`.
    pub rollout_path: Option<PathBuf>,
    /// Initial lines, written atomically instead of a generated header.
    pub history: Vec<RolloutLine>,
}

/// Reopens an existing thread for appends, after its durable prefix.
#[derive(Clone, Debug)]
pub struct ResumeThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow resuming an archived thread.
    pub include_archived: bool,
}

impl ResumeThreadParams {
    /// Resumes `thread_id` (not archived).
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            include_archived: false,
        }
    }
}

/// Appends items, in order, to a live thread.
#[derive(Clone, Debug)]
pub struct AppendThreadItemsParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Items to append, in order; one call is all-or-nothing.
    pub items: Vec<RolloutItem>,
    /// Original timestamps, one per item (importers); empty means "now".
    pub timestamps: Vec<DateTime<Utc>>,
    /// Original line ordinals (newer Codex rollouts number their lines), one per item or none;
    /// kept so an import exports the same lines.
    pub ordinals: Vec<Option<u64>>,
    /// Optimistic concurrency: the position the first item must get, else `Conflict`.
    pub expected_position: Option<u64>,
    /// Idempotency key, remembered for the thread's lifetime: a retry returns the original positions.
    pub request_id: Option<String>,
    /// Writer handle epoch from create/resume; an older epoch gets `StaleWriter`. `None` writes
    /// through whichever writer is live (Codex's behaviour).
    pub writer_epoch: Option<u64>,
}

impl AppendThreadItemsParams {
    /// Plain append of `items` to `thread_id`.
    pub fn new(thread_id: ThreadId, items: Vec<RolloutItem>) -> Self {
        Self {
            thread_id,
            items,
            timestamps: Vec::new(),
            ordinals: Vec::new(),
            expected_position: None,
            request_id: None,
            writer_epoch: None,
        }
    }
}

/// Loads every persisted item of a thread.
#[derive(Clone, Debug)]
pub struct LoadThreadHistoryParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    pub include_archived: bool,
}

impl LoadThreadHistoryParams {
    /// Loads `thread_id`'s history (not archived).
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            include_archived: false,
        }
    }
}

/// Reads a thread's summary.
#[derive(Clone, Debug)]
pub struct ReadThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    pub include_archived: bool,
    /// Also return the full history.
    pub include_history: bool,
}

impl ReadThreadParams {
    /// Reads `thread_id`'s summary (not archived, without history).
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            include_archived: false,
            include_history: false,
        }
    }
}

/// Reads a thread by the rollout path recorded at import or creation.
#[derive(Clone, Debug, Default)]
pub struct ReadThreadByRolloutPathParams {
    /// The rollout path.
    pub rollout_path: PathBuf,
    /// Allow an archived thread.
    pub include_archived: bool,
    /// Also return the full history.
    pub include_history: bool,
}

impl ReadThreadByRolloutPathParams {
    /// Reads the thread recorded with `rollout_path` (not archived, without history).
    pub fn new(rollout_path: impl Into<PathBuf>) -> Self {
        Self {
            rollout_path: rollout_path.into(),
            include_archived: false,
            include_history: false,
        }
    }
}

/// Sort key for thread listings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadSortKey {
    /// Creation time (default).
    #[default]
    CreatedAt,
    /// Time of the latest append.
    UpdatedAt,
    /// Time of the latest user turn start.
    RecencyAt,
}

/// Sort direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    /// Oldest / first first.
    Asc,
    /// Newest / last first (default).
    #[default]
    Desc,
}

impl SortDirection {
    /// The opposite direction.
    pub fn reversed(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }
}

/// Spawn relation filter for listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadRelationFilter {
    /// Threads whose parent is this thread.
    DirectChildrenOf(ThreadId),
    /// Every thread below this one (transitively), not the thread itself.
    DescendantsOf(ThreadId),
}

/// One page of threads, sorted and filtered.
#[derive(Clone, Debug, Default)]
pub struct ListThreadsParams {
    /// Page size: 0 = default (50), over 200 = `InvalidRequest`.
    pub page_size: usize,
    /// Cursor from a previous page of the same listing.
    pub cursor: Option<String>,
    /// Sort key.
    pub sort_key: ThreadSortKey,
    /// Sort direction; ties are broken by thread id in the same direction.
    pub sort_direction: SortDirection,
    /// Allowed source kinds; empty means every source.
    pub allowed_sources: Vec<String>,
    /// Allowed model providers; `None` or empty means every provider.
    pub model_providers: Option<Vec<String>>,
    /// Allowed working directories (exact match); `None` means all, empty matches nothing.
    pub cwd_filters: Option<Vec<PathBuf>>,
    /// List the archived collection instead of the active one.
    pub archived: bool,
    /// Substring (case-insensitive) of the name or preview.
    pub search_term: Option<String>,
    /// Spawn relation filter.
    pub relation_filter: Option<ThreadRelationFilter>,
}

/// Searches threads by content (CONTRACT.md §8).
#[derive(Clone, Debug, Default)]
pub struct SearchThreadsParams {
    /// The term (required): words that must all occur in the thread, `"an exact phrase"`,
    /// `prefix*`; case-insensitive and accent-folded. A term with no word is `InvalidRequest`.
    pub search_term: String,
    /// Page size: 0 = default (50), over 200 = `InvalidRequest`.
    pub page_size: usize,
    /// Cursor from a previous page.
    pub cursor: Option<String>,
    /// `None` (default): best match first (summed BM25 over the thread's matching items, ties by
    /// thread id). `Some(key)`: the matching threads sorted by `key` in `sort_direction`.
    pub sort_key: Option<ThreadSortKey>,
    /// Sort direction of a `sort_key` order.
    pub sort_direction: SortDirection,
    /// Allowed source kinds; empty means every source.
    pub allowed_sources: Vec<String>,
    /// Allowed model providers; `None` or empty means every provider.
    pub model_providers: Option<Vec<String>>,
    /// Allowed working directories (exact match); `None` means all, empty matches nothing.
    pub cwd_filters: Option<Vec<PathBuf>>,
    /// Search the archived collection instead of the active one.
    pub archived: bool,
    /// Spawn relation filter.
    pub relation_filter: Option<ThreadRelationFilter>,
}

impl SearchThreadsParams {
    /// Searches the active threads for `search_term`, best match first.
    pub fn new(search_term: impl Into<String>) -> Self {
        Self {
            search_term: search_term.into(),
            ..Self::default()
        }
    }
}

/// One page of a thread's turns.
#[derive(Clone, Debug)]
pub struct ListTurnsParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    pub include_archived: bool,
    /// Cursor from a previous page of this thread's turns.
    pub cursor: Option<String>,
    /// Page size: 0 = default (50), over 200 = `InvalidRequest`.
    pub page_size: usize,
    /// Direction (default newest first).
    pub sort_direction: SortDirection,
    /// Items carried per turn (default summary).
    pub items_view: StoredTurnItemsView,
}

impl ListTurnsParams {
    /// The first page of `thread_id`'s turns: newest first, default page size, summary items.
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            include_archived: false,
            cursor: None,
            page_size: 0,
            sort_direction: SortDirection::Desc,
            items_view: StoredTurnItemsView::default(),
        }
    }
}

/// One page of items, of one turn or of the whole thread.
#[derive(Clone, Debug)]
pub struct ListItemsParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    pub include_archived: bool,
    /// Only this turn's items; `None` = the whole thread.
    pub turn_id: Option<String>,
    /// Cursor from a previous page of the same scope.
    pub cursor: Option<String>,
    /// Page size: 0 = default (50), over 200 = `InvalidRequest`.
    pub page_size: usize,
    /// Direction (default oldest first).
    pub sort_direction: SortDirection,
}

impl ListItemsParams {
    /// The first page of `thread_id`'s items (the whole thread): oldest first, default page size.
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            include_archived: false,
            turn_id: None,
            cursor: None,
            page_size: 0,
            sort_direction: SortDirection::Asc,
        }
    }
}

/// The store's counters (`store_stats`); nothing to choose yet.
#[derive(Clone, Debug, Default)]
pub struct StoreStatsParams {}

/// Every occurrence of a term in one thread (`search_thread_occurrences`), one page.
#[derive(Clone, Debug)]
pub struct SearchOccurrencesParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The term: matched literally, case-insensitively; blank is `InvalidRequest`.
    pub search_term: String,
    /// Cursor from a previous page of the same thread and term.
    pub cursor: Option<String>,
    /// Page size: 0 = default (50), over 250 = `InvalidRequest`.
    pub page_size: usize,
}

impl SearchOccurrencesParams {
    /// The first page of `search_term`'s occurrences in `thread_id`, default page size.
    pub fn new(thread_id: ThreadId, search_term: impl Into<String>) -> Self {
        Self {
            thread_id,
            search_term: search_term.into(),
            cursor: None,
            page_size: 0,
        }
    }
}

/// Git fields of a metadata patch; each is omitted (unchanged), `null` (cleared) or a value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfoPatch {
    /// Commit hash.
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub sha: Option<Option<String>>,
    /// Branch.
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch: Option<Option<String>>,
    /// Remote URL.
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub origin_url: Option<Option<String>>,
}

impl GitInfoPatch {
    /// Clears every git field: the thread's git info reads back as `None`.
    pub fn clear() -> Self {
        Self {
            sha: Some(None),
            branch: Some(None),
            origin_url: Some(None),
        }
    }
}

/// A literal metadata patch: omitted = unchanged; for clearable fields (`Option<Option<_>>`),
/// `Some(None)` / JSON `null` clears. Patches are appended to the log as events, so a rebuild
/// reproduces them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadMetadataPatch {
    /// Title (clearable).
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Option<String>>,
    /// Preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// First user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_user_message: Option<String>,
    /// Model provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Reasoning effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// Client version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_version: Option<String>,
    /// Source kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Thread source (clearable).
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub thread_source: Option<Option<String>>,
    /// Sub-agent nickname (clearable).
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub agent_nickname: Option<Option<String>>,
    /// Sub-agent role (clearable).
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub agent_role: Option<Option<String>>,
    /// Sub-agent path (clearable).
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub agent_path: Option<Option<String>>,
    /// Git fields, merged field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_info: Option<GitInfoPatch>,
}

impl ThreadMetadataPatch {
    /// True when the patch sets nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Merges a later patch over this one: every field present in `later` wins, clears included.
    pub fn merge(&mut self, later: ThreadMetadataPatch) {
        macro_rules! take {
            ($($f:ident),*) => { $( if later.$f.is_some() { self.$f = later.$f; } )* };
        }
        take!(
            name,
            preview,
            first_user_message,
            model_provider,
            model,
            reasoning_effort,
            cwd,
            cli_version,
            source,
            thread_source,
            agent_nickname,
            agent_role,
            agent_path
        );
        if let Some(g) = later.git_info {
            let mine = self.git_info.get_or_insert_with(GitInfoPatch::default);
            if g.sha.is_some() {
                mine.sha = g.sha;
            }
            if g.branch.is_some() {
                mine.branch = g.branch;
            }
            if g.origin_url.is_some() {
                mine.origin_url = g.origin_url;
            }
        }
    }
}

/// A present field deserializes to `Some(value)`, a present `null` to `Some(None)`.
fn clearable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Applies a metadata patch to a thread.
#[derive(Clone, Debug)]
pub struct UpdateThreadMetadataParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The patch.
    pub patch: ThreadMetadataPatch,
    /// Allow an archived thread.
    pub include_archived: bool,
    /// When the change happened, as its log event records it; `None` = now. An import gives a
    /// change it derives (a name from Codex's session index) the time of the thread's last line.
    pub at: Option<DateTime<Utc>>,
}

impl UpdateThreadMetadataParams {
    /// Applies `patch` to `thread_id` (not archived), now.
    pub fn new(thread_id: ThreadId, patch: ThreadMetadataPatch) -> Self {
        Self {
            thread_id,
            patch,
            include_archived: false,
            at: None,
        }
    }
}

/// Archives or unarchives a thread.
#[derive(Clone, Debug)]
pub struct ArchiveThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// When the change happened, as its log event records it; `None` = now. An import gives
    /// the archiving of a file found in `archived_sessions/` the time of its last line.
    pub at: Option<DateTime<Utc>>,
}

impl ArchiveThreadParams {
    /// Archives (or unarchives) `thread_id`, now.
    pub fn new(thread_id: ThreadId) -> Self {
        Self {
            thread_id,
            at: None,
        }
    }
}

/// Deletes a thread with its log, projections and index entries.
#[derive(Clone, Debug)]
pub struct DeleteThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
}

impl DeleteThreadParams {
    /// Deletes `thread_id`.
    pub fn new(thread_id: ThreadId) -> Self {
        Self { thread_id }
    }
}

/// Drops the last turns of a thread of an older era (Codex's deprecated `thread/rollback`).
#[derive(Clone, Copy, Debug)]
pub struct RollbackThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// How many turns to drop from the end (at least 1).
    pub num_turns: u32,
}

/// Reverts a thread: hides `before_turn_id` and every later turn (Codex's `revert_thread`).
#[derive(Clone, Debug)]
pub struct RevertThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The first turn hidden.
    pub before_turn_id: String,
    /// An identifier recorded with the revert (the importer records the id of Codex's revert
    /// rollout, so a re-import knows it was applied).
    pub revision: Option<String>,
}

impl RevertThreadParams {
    /// Reverts `thread_id` to before `before_turn_id`.
    pub fn new(thread_id: ThreadId, before_turn_id: impl Into<String>) -> Self {
        Self {
            thread_id,
            before_turn_id: before_turn_id.into(),
            revision: None,
        }
    }
}

/// Why a thread is persisted (Codex's `PersistContext`): threadstore materializes a thread when
/// it is created, so both are the same durability barrier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PersistContext {
    /// An explicit persist.
    #[default]
    Standard,
    /// The persist Codex makes when the first turn starts.
    TurnStart,
}

/// Persists a thread with its context (Codex's `persist_thread(id, context)`).
#[derive(Clone, Copy, Debug)]
pub struct PersistThreadParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// Why.
    pub context: PersistContext,
}

/// Where a fork's history ends in the thread forked (Codex's `ForkThreadBoundary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "turnId")]
pub enum ForkBoundary {
    /// Everything the thread has now; a turn in progress is interrupted in the fork.
    Latest,
    /// Through the end of this turn (Codex's `lastTurnId`); an in-progress turn is refused.
    ThroughTurn(String),
    /// Up to the start of this turn (Codex's `beforeTurnId`).
    BeforeTurn(String),
}

/// Forks a thread by reference (CONTRACT.md §7, `fork_thread`).
#[derive(Clone, Debug)]
pub struct ForkThreadParams {
    /// The thread forked.
    pub thread_id: ThreadId,
    /// Where the fork's inherited history ends.
    pub boundary: ForkBoundary,
    /// The fork's id (a new one when `None`).
    pub new_thread_id: Option<ThreadId>,
    /// The fork's rollout path, recorded like `create_thread`'s.
    pub rollout_path: Option<PathBuf>,
    /// The fork's first own line, a `session_meta` (an imported Codex fork's header, with its
    /// `forked_from_ordinal_exclusive`); `None`: threadstore writes one. With a header given, a
    /// fork mid-turn gets no generated `turn_aborted` (the fork's file says what happened).
    pub header: Option<RolloutLine>,
}

impl ForkThreadParams {
    /// Forks `thread_id` at `boundary` into a new thread.
    pub fn new(thread_id: ThreadId, boundary: ForkBoundary) -> Self {
        Self {
            thread_id,
            boundary,
            new_thread_id: None,
            rollout_path: None,
            header: None,
        }
    }
}

/// Archives several threads, in order (Codex's `archive_threads`).
#[derive(Clone, Debug)]
pub struct ArchiveThreadsParams {
    /// The threads, in the order they are archived.
    pub thread_ids: Vec<ThreadId>,
}

impl ArchiveThreadsParams {
    /// Archives `thread_ids` in order.
    pub fn new(thread_ids: Vec<ThreadId>) -> Self {
        Self { thread_ids }
    }
}

/// Deletes several threads, in order (Codex's `delete_threads`).
#[derive(Clone, Debug)]
pub struct DeleteThreadsParams {
    /// The threads, in the order they are deleted.
    pub thread_ids: Vec<ThreadId>,
}

impl DeleteThreadsParams {
    /// Deletes `thread_ids` in order.
    pub fn new(thread_ids: Vec<ThreadId>) -> Self {
        Self { thread_ids }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_presence_semantics() {
        let p: ThreadMetadataPatch = serde_json::from_str(r#"{}"#).unwrap();
        assert!(p.is_empty());
        let p: ThreadMetadataPatch =
            serde_json::from_str(r#"{"name":null,"agent_role":"r","git_info":{"sha":null}}"#)
                .unwrap();
        assert_eq!(p.name, Some(None));
        assert_eq!(p.agent_role, Some(Some("r".into())));
        assert_eq!(p.agent_nickname, None);
        assert_eq!(p.git_info.as_ref().unwrap().sha, Some(None));
        let text = serde_json::to_string(&p).unwrap();
        let back: ThreadMetadataPatch = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn merge_uses_presence() {
        let mut a: ThreadMetadataPatch =
            serde_json::from_str(r#"{"name":"a","model":"m","git_info":{"branch":"x"}}"#).unwrap();
        let b: ThreadMetadataPatch =
            serde_json::from_str(r#"{"name":null,"git_info":{"sha":"s"}}"#).unwrap();
        a.merge(b);
        assert_eq!(a.name, Some(None));
        assert_eq!(a.model.as_deref(), Some("m"));
        let g = a.git_info.unwrap();
        assert_eq!(g.branch, Some(Some("x".into())));
        assert_eq!(g.sha, Some(Some("s".into())));
    }
}

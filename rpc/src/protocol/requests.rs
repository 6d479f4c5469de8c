//! Params of every method, in camelCase. Optional fields may be omitted; booleans default to
//! `false`, page sizes (`limit`) to 0 (the store's default of 50; over 200 is `InvalidRequest`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use threadstore_api::{
    FeedKind, FeedStart, GitInfoPatch, ListItemsParams, ListThreadsParams, ListTurnsParams,
    RolloutItem, RolloutLine, SearchOccurrencesParams, SearchThreadsParams, SortDirection,
    StoredTurnItemsView, SubscribeParams, ThreadId, ThreadMetadataPatch, ThreadRelationFilter,
    ThreadSortKey,
};

use super::thread::GitInfoJson;

/// `thread/create`: the fields of `CreateThreadParams`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThreadRequest {
    /// Id of the new thread; omitted gives a fresh UUID v7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// Session shared with sub-agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<ThreadId>,
    /// Session source kind (`cli`, `vscode`, `exec`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Thread source (`user`, `subagent`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_source: Option<String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// Model provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// Writing client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator: Option<String>,
    /// Writing client version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_version: Option<String>,
    /// Parent thread (sub-agents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_thread_id: Option<ThreadId>,
    /// Thread this one forks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from_id: Option<ThreadId>,
    /// Sub-agent nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_nickname: Option<String>,
    /// Sub-agent role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_role: Option<String>,
    /// Sub-agent path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_path: Option<String>,
    /// Git state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_info: Option<GitInfoJson>,
    /// Rollout file this thread mirrors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_path: Option<PathBuf>,
    /// Initial rollout lines, written instead of a generated header (importers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<RolloutLine>,
}

/// `thread/resume`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeThreadRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    #[serde(default)]
    pub include_archived: bool,
}

/// `thread/items/append`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Codex rollout items (`{"type", "payload"}`), in order; all or nothing.
    pub items: Vec<RolloutItem>,
    /// Original timestamps (RFC 3339), one per item; omitted means "now".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<DateTime<Utc>>,
    /// Original line ordinals, one per item (`null` for none); omitted means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ordinals: Vec<Option<u64>>,
    /// The position the first item must get, else `Conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_position: Option<u64>,
    /// Idempotency key: a retry returns the original positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The writer handle's epoch (from create/resume); an older one gets `StaleWriter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_epoch: Option<u64>,
}

/// Methods that take only a thread id (`thread/persist`, `flush`, `shutdown`, `discard`,
/// `archive`, `unarchive`, `delete`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadIdRequest {
    /// The thread.
    pub thread_id: ThreadId,
}

/// `thread/archive` and `thread/unarchive` (Codex's `{threadId}`, plus threadstore's `at`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// When the change happened (RFC 3339), as its log event records it; omitted = now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// `thread/history/load`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadHistoryRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    #[serde(default)]
    pub include_archived: bool,
}

impl From<LoadHistoryRequest> for threadstore_api::LoadThreadHistoryParams {
    fn from(r: LoadHistoryRequest) -> Self {
        Self {
            thread_id: r.thread_id,
            include_archived: r.include_archived,
        }
    }
}

impl From<&threadstore_api::LoadThreadHistoryParams> for LoadHistoryRequest {
    fn from(p: &threadstore_api::LoadThreadHistoryParams) -> Self {
        Self {
            thread_id: p.thread_id,
            include_archived: p.include_archived,
        }
    }
}

/// Codex's reads serve archived threads: the default of `includeArchived` where Codex has the
/// method.
fn archived_readable() -> bool {
    true
}

/// `thread/read`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadThreadRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread: `true` when omitted, as Codex's `thread/read` reads archived
    /// threads (`RemoteThreadStore` always sends it).
    #[serde(default = "archived_readable")]
    pub include_archived: bool,
    /// Also return the history.
    #[serde(default)]
    pub include_history: bool,
    /// Codex's: fill `thread.turns` (every turn with its items).
    #[serde(default)]
    pub include_turns: bool,
}

/// `thread/readByRolloutPath`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadByRolloutPathRequest {
    /// The rollout path recorded at import or creation.
    pub rollout_path: PathBuf,
    /// Allow an archived thread.
    #[serde(default)]
    pub include_archived: bool,
    /// Also return the history.
    #[serde(default)]
    pub include_history: bool,
}

/// A spawn-relation filter: `{"directChildrenOf": id}` or `{"descendantsOf": id}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RelationFilter {
    /// Threads whose parent is this thread.
    DirectChildrenOf(ThreadId),
    /// Every thread below this one.
    DescendantsOf(ThreadId),
}

impl RelationFilter {
    /// The store's filter.
    pub fn into_params(self) -> ThreadRelationFilter {
        match self {
            Self::DirectChildrenOf(id) => ThreadRelationFilter::DirectChildrenOf(id),
            Self::DescendantsOf(id) => ThreadRelationFilter::DescendantsOf(id),
        }
    }

    /// The wire's filter.
    pub fn from_params(f: ThreadRelationFilter) -> Self {
        match f {
            ThreadRelationFilter::DirectChildrenOf(id) => Self::DirectChildrenOf(id),
            ThreadRelationFilter::DescendantsOf(id) => Self::DescendantsOf(id),
        }
    }
}

/// A `cwd` filter: one path or a list (Codex accepts both); `[]` matches nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CwdFilter {
    /// One directory.
    One(PathBuf),
    /// Any of these directories.
    Many(Vec<PathBuf>),
}

impl CwdFilter {
    /// The directories it allows.
    pub fn into_paths(self) -> Vec<PathBuf> {
        match self {
            Self::One(p) => vec![p],
            Self::Many(v) => v,
        }
    }
}

/// Codex's `sourceKinds` filter of `thread/list` and `thread/search`, as the stored source
/// kinds the store filters on.
pub struct SourceKinds;

impl SourceKinds {
    /// Codex's interactive sources: what an omitted or empty filter lists.
    pub const INTERACTIVE: [&'static str; 2] = ["cli", "vscode"];

    /// The stored kinds `kinds` allows (empty = every source): Codex's `appServer` is stored as
    /// `app_server`, `appServer` or `mcp`; each `subAgent…` kind as `subagent` (threadstore keeps
    /// no sub-agent variant, so every variant matches every sub-agent); other names as given.
    /// No kinds means the interactive ones, unless `any` asks for every source.
    pub fn stored(kinds: Vec<String>, any: bool) -> Vec<String> {
        if any {
            return Vec::new();
        }
        if kinds.is_empty() {
            return Self::INTERACTIVE.iter().map(|k| k.to_string()).collect();
        }
        let mut stored: Vec<String> = Vec::new();
        for kind in kinds {
            let names: Vec<String> = match kind.as_str() {
                "appServer" => vec!["appServer".into(), "app_server".into(), "mcp".into()],
                k if k.starts_with("subAgent") => vec!["subagent".into()],
                _ => vec![kind],
            };
            for name in names {
                if !stored.contains(&name) {
                    stored.push(name);
                }
            }
        }
        stored
    }
}

/// `thread/list`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListThreadsRequest {
    /// Page size (0 = 50, at most 200).
    #[serde(default)]
    pub limit: usize,
    /// Cursor from a previous page of the same listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `created_at` (default), `updated_at` or `recency_at`.
    #[serde(default)]
    pub sort_key: ThreadSortKey,
    /// `desc` (default) or `asc`.
    #[serde(default)]
    pub sort_direction: SortDirection,
    /// Allowed source kinds, by Codex's names or as stored (see [`SourceKinds`]); omitted or
    /// empty means Codex's interactive sources (`cli`, `vscode`) unless `anySource` is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_kinds: Vec<String>,
    /// threadstore's own: every source (what `RemoteThreadStore` sends for an empty filter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_source: bool,
    /// Allowed model providers; omitted or empty means every provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_providers: Option<Vec<String>>,
    /// Allowed working directories; omitted means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<CwdFilter>,
    /// List the archived collection instead of the active one.
    #[serde(default)]
    pub archived: bool,
    /// Case-insensitive substring of the name or preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_term: Option<String>,
    /// Spawn relation filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<RelationFilter>,
}

impl From<ListThreadsRequest> for ListThreadsParams {
    fn from(r: ListThreadsRequest) -> Self {
        Self {
            page_size: r.limit,
            cursor: r.cursor,
            sort_key: r.sort_key,
            sort_direction: r.sort_direction,
            allowed_sources: SourceKinds::stored(r.source_kinds, r.any_source),
            model_providers: r.model_providers,
            cwd_filters: r.cwd.map(CwdFilter::into_paths),
            archived: r.archived,
            search_term: r.search_term,
            relation_filter: r.relation.map(RelationFilter::into_params),
        }
    }
}

impl From<ListThreadsParams> for ListThreadsRequest {
    fn from(p: ListThreadsParams) -> Self {
        Self {
            limit: p.page_size,
            cursor: p.cursor,
            sort_key: p.sort_key,
            sort_direction: p.sort_direction,
            any_source: p.allowed_sources.is_empty(),
            source_kinds: p.allowed_sources,
            model_providers: p.model_providers,
            cwd: p.cwd_filters.map(CwdFilter::Many),
            archived: p.archived,
            search_term: p.search_term,
            relation: p.relation_filter.map(RelationFilter::from_params),
        }
    }
}

/// `thread/search`: Codex's params, plus the `thread/list` filters. Without `sortKey` the hits
/// are ranked by relevance; with it, sorted by that key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchThreadsRequest {
    /// The term (required): words, `"phrases"`, `prefix*`.
    pub search_term: String,
    /// Page size (0 = 50, at most 200).
    #[serde(default)]
    pub limit: usize,
    /// Cursor from a previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Sort key; omitted: by relevance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<ThreadSortKey>,
    /// Sort direction (with `sortKey`).
    #[serde(default)]
    pub sort_direction: SortDirection,
    /// Allowed source kinds, by Codex's names or as stored (see [`SourceKinds`]); omitted or
    /// empty means Codex's interactive sources (`cli`, `vscode`) unless `anySource` is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_kinds: Vec<String>,
    /// threadstore's own: every source (what `RemoteThreadStore` sends for an empty filter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_source: bool,
    /// Allowed model providers; omitted or empty means every provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_providers: Option<Vec<String>>,
    /// Allowed working directories; omitted means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<CwdFilter>,
    /// Search the archived collection instead.
    #[serde(default)]
    pub archived: bool,
    /// Spawn relation filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<RelationFilter>,
}

impl From<SearchThreadsRequest> for SearchThreadsParams {
    fn from(r: SearchThreadsRequest) -> Self {
        Self {
            search_term: r.search_term,
            page_size: r.limit,
            cursor: r.cursor,
            sort_key: r.sort_key,
            sort_direction: r.sort_direction,
            allowed_sources: SourceKinds::stored(r.source_kinds, r.any_source),
            model_providers: r.model_providers,
            cwd_filters: r.cwd.map(CwdFilter::into_paths),
            archived: r.archived,
            relation_filter: r.relation.map(RelationFilter::into_params),
        }
    }
}

impl From<SearchThreadsParams> for SearchThreadsRequest {
    fn from(p: SearchThreadsParams) -> Self {
        Self {
            search_term: p.search_term,
            limit: p.page_size,
            cursor: p.cursor,
            sort_key: p.sort_key,
            sort_direction: p.sort_direction,
            any_source: p.allowed_sources.is_empty(),
            source_kinds: p.allowed_sources,
            model_providers: p.model_providers,
            cwd: p.cwd_filters.map(CwdFilter::Many),
            archived: p.archived,
            relation: p.relation_filter.map(RelationFilter::from_params),
        }
    }
}

/// `thread/turns/list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTurnsRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread: `true` when omitted, as in Codex's `thread/turns/list`
    /// (`RemoteThreadStore` always sends it).
    #[serde(default = "archived_readable")]
    pub include_archived: bool,
    /// Cursor from a previous page of this thread's turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size (0 = 50, at most 200).
    #[serde(default)]
    pub limit: usize,
    /// `desc` (default, newest first) or `asc`.
    #[serde(default)]
    pub sort_direction: SortDirection,
    /// `notLoaded`, `summary` (default) or `full`.
    #[serde(default)]
    pub items_view: StoredTurnItemsView,
}

impl From<ListTurnsRequest> for ListTurnsParams {
    fn from(r: ListTurnsRequest) -> Self {
        Self {
            thread_id: r.thread_id,
            include_archived: r.include_archived,
            cursor: r.cursor,
            page_size: r.limit,
            sort_direction: r.sort_direction,
            items_view: r.items_view,
        }
    }
}

impl From<ListTurnsParams> for ListTurnsRequest {
    fn from(p: ListTurnsParams) -> Self {
        Self {
            thread_id: p.thread_id,
            include_archived: p.include_archived,
            cursor: p.cursor,
            limit: p.page_size,
            sort_direction: p.sort_direction,
            items_view: p.items_view,
        }
    }
}

fn ascending() -> SortDirection {
    SortDirection::Asc
}

/// `thread/turns/items/list`: items of one turn (`turnId`) or of the whole thread.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListItemsRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Only this turn's items; omitted = the whole thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    /// Allow an archived thread.
    #[serde(default)]
    pub include_archived: bool,
    /// Cursor from a previous page of the same scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size (0 = 50, at most 200).
    #[serde(default)]
    pub limit: usize,
    /// `asc` (default, oldest first) or `desc`.
    #[serde(default = "ascending")]
    pub sort_direction: SortDirection,
}

impl From<ListItemsRequest> for ListItemsParams {
    fn from(r: ListItemsRequest) -> Self {
        Self {
            thread_id: r.thread_id,
            include_archived: r.include_archived,
            turn_id: r.turn_id,
            cursor: r.cursor,
            page_size: r.limit,
            sort_direction: r.sort_direction,
        }
    }
}

impl From<ListItemsParams> for ListItemsRequest {
    fn from(p: ListItemsParams) -> Self {
        Self {
            thread_id: p.thread_id,
            turn_id: p.turn_id,
            include_archived: p.include_archived,
            cursor: p.cursor,
            limit: p.page_size,
            sort_direction: p.sort_direction,
        }
    }
}

/// `thread/items/list` (Codex's params): `limit` defaults to 25 and is clamped to 1..=100, as
/// Codex does; archived threads are readable.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItemsListRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Only this turn's items; omitted or `null` = the whole thread.
    #[serde(default)]
    pub turn_id: Option<String>,
    /// Cursor from a previous page (with or without the turn filter).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size: default 25, clamped to 1..=100.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    pub sort_direction: Option<SortDirection>,
}

/// `thread/searchOccurrences` (Codex's params): `limit` defaults to 50 and is clamped to
/// 1..=250, as Codex does.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOccurrencesRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// The term (required, not blank).
    pub search_term: String,
    /// Cursor from a previous page of the same thread and term.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size: default 50, clamped to 1..=250.
    #[serde(default)]
    pub limit: Option<u32>,
}

impl From<SearchOccurrencesRequest> for SearchOccurrencesParams {
    fn from(r: SearchOccurrencesRequest) -> Self {
        Self {
            thread_id: r.thread_id,
            search_term: r.search_term,
            cursor: r.cursor,
            page_size: r.limit.unwrap_or(50).clamp(1, 250) as usize,
        }
    }
}

impl From<SearchOccurrencesParams> for SearchOccurrencesRequest {
    fn from(p: SearchOccurrencesParams) -> Self {
        Self {
            thread_id: p.thread_id,
            search_term: p.search_term,
            cursor: p.cursor,
            limit: (p.page_size > 0).then(|| u32::try_from(p.page_size).unwrap_or(u32::MAX)),
        }
    }
}

/// Codex's default page size of `thread/items/list`.
pub const THREAD_ITEMS_DEFAULT_LIMIT: u32 = 25;
/// Codex's largest page of `thread/items/list` (larger limits are clamped).
pub const THREAD_ITEMS_MAX_LIMIT: u32 = 100;

impl From<ThreadItemsListRequest> for ListItemsParams {
    fn from(r: ThreadItemsListRequest) -> Self {
        let limit = r
            .limit
            .unwrap_or(THREAD_ITEMS_DEFAULT_LIMIT)
            .clamp(1, THREAD_ITEMS_MAX_LIMIT);
        Self {
            thread_id: r.thread_id,
            include_archived: true,
            turn_id: r.turn_id,
            cursor: r.cursor,
            page_size: limit as usize,
            sort_direction: r.sort_direction.unwrap_or(SortDirection::Asc),
        }
    }
}

impl From<ListItemsParams> for ThreadItemsListRequest {
    fn from(p: ListItemsParams) -> Self {
        Self {
            thread_id: p.thread_id,
            turn_id: p.turn_id,
            cursor: p.cursor,
            // 0 is the Rust API's default (50); the wire caps pages at 100 (a larger page comes
            // back as pages of 100, with cursors).
            limit: Some(if p.page_size == 0 {
                threadstore_api::DEFAULT_PAGE_SIZE as u32
            } else {
                p.page_size.min(THREAD_ITEMS_MAX_LIMIT as usize) as u32
            }),
            sort_direction: Some(p.sort_direction),
        }
    }
}

/// `thread/revert` (Codex's params).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevertRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// The first turn hidden.
    pub before_turn_id: String,
    /// threadstore's: an identifier recorded with the revert (`RevertThreadParams::revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// `thread/rollback` (Codex's params).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// How many turns to drop from the end (at least 1).
    pub num_turns: u32,
}

/// `thread/fork` (Codex's params that a store answers; the agent settings Codex also takes,
/// such as `model` or `sandbox`, belong to the runtime that runs the fork).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForkRequest {
    /// The thread forked.
    pub thread_id: ThreadId,
    /// Fork through the end of this turn (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_turn_id: Option<String>,
    /// Fork up to the start of this turn (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_turn_id: Option<String>,
    /// Leave `thread.turns` empty in the result.
    #[serde(default)]
    pub exclude_turns: bool,
    /// threadstore's: the fork's id (a new one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_thread_id: Option<ThreadId>,
    /// threadstore's: the fork's rollout path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_path: Option<PathBuf>,
    /// threadstore's: the fork's first own line (`ForkThreadParams::header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RolloutLine>,
}

/// `thread/name/set`: a name, or `null` to clear it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetNameRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// The new name (not empty), or `null` to clear it.
    pub name: Option<String>,
    /// Allow an archived thread.
    #[serde(default)]
    pub include_archived: bool,
}

/// A present field deserializes to `Some(value)`, a present `null` to `Some(None)`.
fn clearable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Git fields of a metadata patch: each omitted (unchanged), `null` (cleared) or a value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitInfoPatchJson {
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

/// `thread/metadata/update`: the thread id and the patch's fields side by side (Codex puts
/// `gitInfo` at the top level). Omitted = unchanged; `null` clears a clearable field (`name`,
/// `threadSource`, `agentNickname`, `agentRole`, `agentPath`, the `gitInfo` fields).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataUpdateRequest {
    /// The thread.
    pub thread_id: ThreadId,
    /// Allow an archived thread.
    #[serde(default)]
    pub include_archived: bool,
    /// When the change happened (RFC 3339), as its log event records it; omitted = now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
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
    /// Git fields, merged field by field; `null` clears the git info.
    #[serde(
        default,
        deserialize_with = "clearable",
        skip_serializing_if = "Option::is_none"
    )]
    pub git_info: Option<Option<GitInfoPatchJson>>,
}

impl MetadataUpdateRequest {
    /// The request for `patch` on `thread_id`.
    pub fn new(thread_id: ThreadId, include_archived: bool, p: ThreadMetadataPatch) -> Self {
        Self {
            thread_id,
            include_archived,
            at: None,
            name: p.name,
            preview: p.preview,
            first_user_message: p.first_user_message,
            model_provider: p.model_provider,
            model: p.model,
            reasoning_effort: p.reasoning_effort,
            cwd: p.cwd,
            cli_version: p.cli_version,
            source: p.source,
            thread_source: p.thread_source,
            agent_nickname: p.agent_nickname,
            agent_role: p.agent_role,
            agent_path: p.agent_path,
            git_info: p.git_info.map(|g| {
                Some(GitInfoPatchJson {
                    sha: g.sha,
                    branch: g.branch,
                    origin_url: g.origin_url,
                })
            }),
        }
    }

    /// The store's patch.
    pub fn patch(&self) -> ThreadMetadataPatch {
        ThreadMetadataPatch {
            name: self.name.clone(),
            preview: self.preview.clone(),
            first_user_message: self.first_user_message.clone(),
            model_provider: self.model_provider.clone(),
            model: self.model.clone(),
            reasoning_effort: self.reasoning_effort.clone(),
            cwd: self.cwd.clone(),
            cli_version: self.cli_version.clone(),
            source: self.source.clone(),
            thread_source: self.thread_source.clone(),
            agent_nickname: self.agent_nickname.clone(),
            agent_role: self.agent_role.clone(),
            agent_path: self.agent_path.clone(),
            git_info: self.git_info.clone().map(|g| match g {
                Some(g) => GitInfoPatch {
                    sha: g.sha,
                    branch: g.branch,
                    origin_url: g.origin_url,
                },
                None => GitInfoPatch::clear(),
            }),
        }
    }
}

/// `feed/subscribe`: which threads and kinds, and where to start.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedSubscribeRequest {
    /// Only these threads; omitted = every thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ids: Option<Vec<ThreadId>>,
    /// Only these event kinds (`itemsAppended`, `turnCompleted`, …); omitted = every kind; an
    /// unknown kind is an invalid request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<FeedKind>>,
    /// Replay the durable feed from this position (inclusive) first; omitted = only new events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
}

impl From<&SubscribeParams> for FeedSubscribeRequest {
    /// The request a client sends for `params` (`buffer` is the client's own business).
    fn from(p: &SubscribeParams) -> Self {
        Self {
            thread_ids: p.threads.as_ref().map(|t| t.iter().copied().collect()),
            kinds: p.kinds.as_ref().map(|k| k.iter().copied().collect()),
            from: match p.start {
                FeedStart::Now => None,
                FeedStart::Beginning => Some(0),
                FeedStart::After(position) => Some(position.saturating_add(1)),
                FeedStart::At(position) => Some(position),
            },
        }
    }
}

impl From<FeedSubscribeRequest> for SubscribeParams {
    fn from(r: FeedSubscribeRequest) -> Self {
        Self {
            threads: r.thread_ids.map(|ids| ids.into_iter().collect()),
            kinds: r.kinds.map(|k| k.into_iter().collect()),
            start: r.from.map_or(FeedStart::Now, FeedStart::At),
            buffer: 0,
        }
    }
}

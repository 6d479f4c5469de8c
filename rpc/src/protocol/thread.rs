//! The thread object of `thread/list`, `thread/read` and friends (and of `threadstore threads
//! --json` / `show --json`).
//!
//! Field names follow Codex's app-server v2 `Thread` where Codex has the field, threadstore's own
//! camelCase names for the rest. `createdAt`, `updatedAt`, `recencyAt` and `archivedAt` are unix
//! seconds like Codex's; `times` carries the same instants exactly (RFC 3339), so a remote client
//! rebuilds a `StoredThread` equal to the server's. Absent values are `null`, never omitted.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use threadstore_api::{GitInfo, StoredThread, StoredThreadHistory, ThreadId, TokenUsage};

/// A thread as camelCase JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    /// The thread id (Codex's name).
    pub id: ThreadId,
    /// The same id, under threadstore's name.
    pub thread_id: ThreadId,
    /// User-given title.
    pub name: Option<String>,
    /// Best user-facing preview; `""` if none.
    pub preview: String,
    /// The first user message.
    pub first_user_message: Option<String>,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Time of the latest append, unix seconds.
    pub updated_at: i64,
    /// Time of the latest user turn start, unix seconds.
    pub recency_at: i64,
    /// Whether the thread is in the archived collection.
    pub archived: bool,
    /// When it was archived, unix seconds.
    pub archived_at: Option<i64>,
    /// The same instants, exact.
    pub times: ThreadTimes,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Rollout file the thread was imported from or mirrors (Codex's `path`).
    pub path: Option<PathBuf>,
    /// Model provider.
    pub model_provider: Option<String>,
    /// Latest model.
    pub model: Option<String>,
    /// Latest reasoning effort.
    pub reasoning_effort: Option<String>,
    /// Session source kind.
    pub source: Option<String>,
    /// Thread source.
    pub thread_source: Option<String>,
    /// Session shared with sub-agents.
    pub session_id: Option<ThreadId>,
    /// Parent thread.
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
    pub git_info: Option<GitInfoJson>,
    /// Last observed token usage.
    pub token_usage: Option<TokenUsageJson>,
    /// Writing client version.
    pub cli_version: Option<String>,
    /// Writing client.
    pub originator: Option<String>,
    /// Items in the log.
    pub item_count: u64,
    /// Visible turns.
    pub turn_count: u64,
    /// Whether a live writer holds the thread.
    pub live: bool,
}

/// A thread's times, exact (RFC 3339 with every digit the store has).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTimes {
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Latest append.
    pub updated_at: DateTime<Utc>,
    /// Latest user turn start.
    pub recency_at: DateTime<Utc>,
    /// Archiving, if archived.
    pub archived_at: Option<DateTime<Utc>>,
}

/// Git state in Codex's app-server names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitInfoJson {
    /// Commit hash.
    pub sha: Option<String>,
    /// Branch.
    pub branch: Option<String>,
    /// Remote URL.
    pub origin_url: Option<String>,
}

impl From<&GitInfo> for GitInfoJson {
    fn from(g: &GitInfo) -> Self {
        Self {
            sha: g.commit_hash.clone(),
            branch: g.branch.clone(),
            origin_url: g.repository_url.clone(),
        }
    }
}

impl From<GitInfoJson> for GitInfo {
    fn from(g: GitInfoJson) -> Self {
        Self {
            commit_hash: g.sha,
            branch: g.branch,
            repository_url: g.origin_url,
        }
    }
}

/// Token usage in camelCase.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsageJson {
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

impl From<&TokenUsage> for TokenUsageJson {
    fn from(u: &TokenUsage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            output_tokens: u.output_tokens,
            reasoning_output_tokens: u.reasoning_output_tokens,
            total_tokens: u.total_tokens,
        }
    }
}

impl From<TokenUsageJson> for TokenUsage {
    fn from(u: TokenUsageJson) -> Self {
        Self {
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            output_tokens: u.output_tokens,
            reasoning_output_tokens: u.reasoning_output_tokens,
            total_tokens: u.total_tokens,
        }
    }
}

impl From<&StoredThread> for Thread {
    fn from(t: &StoredThread) -> Self {
        Self {
            id: t.thread_id,
            thread_id: t.thread_id,
            name: t.name.clone(),
            preview: t.preview.clone(),
            first_user_message: t.first_user_message.clone(),
            created_at: t.created_at.timestamp(),
            updated_at: t.updated_at.timestamp(),
            recency_at: t.recency_at.timestamp(),
            archived: t.archived_at.is_some(),
            archived_at: t.archived_at.map(|a| a.timestamp()),
            times: ThreadTimes {
                created_at: t.created_at,
                updated_at: t.updated_at,
                recency_at: t.recency_at,
                archived_at: t.archived_at,
            },
            cwd: t.cwd.clone(),
            path: t.rollout_path.clone(),
            model_provider: t.model_provider.clone(),
            model: t.model.clone(),
            reasoning_effort: t.reasoning_effort.clone(),
            source: t.source.clone(),
            thread_source: t.thread_source.clone(),
            session_id: t.session_id,
            parent_thread_id: t.parent_thread_id,
            forked_from_id: t.forked_from_id,
            agent_nickname: t.agent_nickname.clone(),
            agent_role: t.agent_role.clone(),
            agent_path: t.agent_path.clone(),
            git_info: t.git_info.as_ref().map(GitInfoJson::from),
            token_usage: t.token_usage.as_ref().map(TokenUsageJson::from),
            cli_version: t.cli_version.clone(),
            originator: t.originator.clone(),
            item_count: t.item_count,
            turn_count: t.turn_count,
            live: t.live,
        }
    }
}

impl Thread {
    /// Back to the store's type, with the history when one was sent beside the thread.
    pub fn into_stored(self, history: Option<StoredThreadHistory>) -> StoredThread {
        StoredThread {
            thread_id: self.thread_id,
            session_id: self.session_id,
            name: self.name,
            preview: self.preview,
            first_user_message: self.first_user_message,
            created_at: self.times.created_at,
            updated_at: self.times.updated_at,
            recency_at: self.times.recency_at,
            archived_at: self.times.archived_at,
            cwd: self.cwd,
            model_provider: self.model_provider,
            model: self.model,
            reasoning_effort: self.reasoning_effort,
            source: self.source,
            thread_source: self.thread_source,
            parent_thread_id: self.parent_thread_id,
            forked_from_id: self.forked_from_id,
            agent_nickname: self.agent_nickname,
            agent_role: self.agent_role,
            agent_path: self.agent_path,
            git_info: self.git_info.map(GitInfo::from),
            token_usage: self.token_usage.map(TokenUsage::from),
            cli_version: self.cli_version,
            originator: self.originator,
            rollout_path: self.path,
            item_count: self.item_count,
            turn_count: self.turn_count,
            live: self.live,
            history,
        }
    }
}

//! The thread object of `thread/list`, `thread/read` and friends (and of `threadstore threads
//! --json` / `show --json`).
//!
//! Field names follow Codex's app-server v2 `Thread` where Codex has the field, threadstore's own
//! camelCase names for the rest. `createdAt`, `updatedAt`, `recencyAt` and `archivedAt` are unix
//! seconds like Codex's; `times` carries the same instants exactly (RFC 3339), so a remote client
//! rebuilds a `StoredThread` equal to the server's. Absent values are `null`, never omitted.
//!
//! Codex's required fields have Codex's types (its published schema validates every `Thread`):
//! - `status` is a `ThreadStatus`: `{"type": "idle"}` while a live writer holds the thread (it is
//!   loaded), `{"type": "notLoaded"}` otherwise; threadstore runs no turns itself, so never
//!   `active`.
//! - `turns` is `[]` (no method of threadstore's fills it yet), `ephemeral` is `false` (threadstore
//!   persists every thread) and `projectId` is `null`.
//! - Strings where a rollout may have none: `cliVersion`, `modelProvider` and `cwd` are `""` when
//!   unknown, `sessionId` is the thread's own id when it has no session of its own.
//! - `historyMode` is `legacy` or `paginated`, as Codex names them; Codex's session-only keys
//!   (`attachedToThreadId`, `canAcceptDirectInput`, `daybreakEnabled`, `environments`, `extra`,
//!   `section`, `sectionEnteredAt`) are `null`.
//! - `source` is a `SessionSource`: `cli`, `vscode`, `exec` as recorded; `app_server`, `appServer`
//!   and `mcp` as `appServer`; `subagent` as `{"subAgent": {"other": "subagent"}}`; any other kind
//!   as `{"custom": kind}`; none as `unknown`.
//!
//! `stored` carries the values as stored (each may be `null`), so a remote client rebuilds the
//! exact `StoredThread`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use threadstore_api::{
    GitInfo, StoredHistoryMode, StoredThread, StoredThreadHistory, ThreadId, TokenUsage,
};

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
    /// Working directory (`""` when unknown).
    pub cwd: String,
    /// Rollout file the thread was imported from or mirrors (Codex's `path`).
    pub path: Option<PathBuf>,
    /// Model provider (`""` when unknown).
    pub model_provider: String,
    /// Latest model.
    pub model: Option<String>,
    /// Latest reasoning effort.
    pub reasoning_effort: Option<String>,
    /// Codex's `SessionSource` of the stored source kind (see the module docs).
    pub source: serde_json::Value,
    /// Thread source.
    pub thread_source: Option<String>,
    /// Session shared with sub-agents (the thread's own id when it has none).
    pub session_id: String,
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
    /// Writing client version (`""` when unknown).
    pub cli_version: String,
    /// Writing client.
    pub originator: Option<String>,
    /// Items in the log.
    pub item_count: u64,
    /// Visible turns.
    pub turn_count: u64,
    /// Whether a live writer holds the thread.
    pub live: bool,
    /// Codex's `ThreadStatus` (see the module docs).
    pub status: serde_json::Value,
    /// Codex's turns (empty).
    pub turns: Vec<serde_json::Value>,
    /// Codex's `ephemeral`: always `false`.
    pub ephemeral: bool,
    /// Codex's `projectId`: always `null`.
    pub project_id: Option<String>,
    /// Codex's `historyMode`: `legacy` or `paginated`.
    pub history_mode: StoredHistoryMode,
    /// Codex's app-server session fields threadstore has no value for (`attachedToThreadId`,
    /// `canAcceptDirectInput`, `daybreakEnabled`, `environments`, `extra`, `section`,
    /// `sectionEnteredAt`): always `null`, so a client reading Codex 0.171's keys finds them.
    #[serde(flatten)]
    pub session_only: SessionOnlyFields,
    /// The values as stored, where Codex's fields need a value the store may not have.
    pub stored: StoredFields,
}

/// Keys of Codex 0.171's `Thread` that belong to a running app-server session (attachments,
/// sidebar sections, environments), not to the stored thread: `null` in every answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionOnlyFields {
    /// Thread this one is attached to in a running session.
    pub attached_to_thread_id: Option<serde_json::Value>,
    /// Whether a running session accepts direct input.
    pub can_accept_direct_input: Option<serde_json::Value>,
    /// A running session's daybreak flag.
    pub daybreak_enabled: Option<serde_json::Value>,
    /// A running session's environments.
    pub environments: Option<serde_json::Value>,
    /// A running session's extra data.
    pub extra: Option<serde_json::Value>,
    /// The sidebar section.
    pub section: Option<serde_json::Value>,
    /// When the thread entered its section.
    pub section_entered_at: Option<serde_json::Value>,
}

/// A thread's stored values behind Codex's required strings and enums.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredFields {
    /// Session shared with sub-agents.
    pub session_id: Option<ThreadId>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Model provider.
    pub model_provider: Option<String>,
    /// Session source kind.
    pub source: Option<String>,
    /// Writing client version.
    pub cli_version: Option<String>,
}

/// Codex's `SessionSource` of a stored source kind (see the module docs).
pub fn session_source(kind: Option<&str>) -> serde_json::Value {
    match kind {
        None => serde_json::json!("unknown"),
        Some(k @ ("cli" | "vscode" | "exec" | "unknown")) => serde_json::json!(k),
        Some("app_server" | "appServer" | "mcp") => serde_json::json!("appServer"),
        Some(k @ ("subagent" | "sub_agent" | "subAgent")) => {
            serde_json::json!({"subAgent": {"other": k}})
        }
        Some(other) => serde_json::json!({"custom": other}),
    }
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
            cwd: t
                .cwd
                .as_ref()
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: t.rollout_path.clone(),
            model_provider: t.model_provider.clone().unwrap_or_default(),
            model: t.model.clone(),
            reasoning_effort: t.reasoning_effort.clone(),
            source: session_source(t.source.as_deref()),
            thread_source: t.thread_source.clone(),
            session_id: t.session_id.unwrap_or(t.thread_id).to_string(),
            parent_thread_id: t.parent_thread_id,
            forked_from_id: t.forked_from_id,
            agent_nickname: t.agent_nickname.clone(),
            agent_role: t.agent_role.clone(),
            agent_path: t.agent_path.clone(),
            git_info: t.git_info.as_ref().map(GitInfoJson::from),
            token_usage: t.token_usage.as_ref().map(TokenUsageJson::from),
            cli_version: t.cli_version.clone().unwrap_or_default(),
            originator: t.originator.clone(),
            item_count: t.item_count,
            turn_count: t.turn_count,
            live: t.live,
            status: if t.live {
                serde_json::json!({"type": "idle"})
            } else {
                serde_json::json!({"type": "notLoaded"})
            },
            turns: Vec::new(),
            ephemeral: false,
            project_id: None,
            history_mode: t.history_mode,
            session_only: SessionOnlyFields::default(),
            stored: StoredFields {
                session_id: t.session_id,
                cwd: t.cwd.clone(),
                model_provider: t.model_provider.clone(),
                source: t.source.clone(),
                cli_version: t.cli_version.clone(),
            },
        }
    }
}

impl Thread {
    /// Back to the store's type, with the history when one was sent beside the thread.
    pub fn into_stored(self, history: Option<StoredThreadHistory>) -> StoredThread {
        StoredThread {
            thread_id: self.thread_id,
            session_id: self.stored.session_id,
            name: self.name,
            preview: self.preview,
            first_user_message: self.first_user_message,
            created_at: self.times.created_at,
            updated_at: self.times.updated_at,
            recency_at: self.times.recency_at,
            archived_at: self.times.archived_at,
            cwd: self.stored.cwd,
            model_provider: self.stored.model_provider,
            model: self.model,
            reasoning_effort: self.reasoning_effort,
            source: self.stored.source,
            thread_source: self.thread_source,
            parent_thread_id: self.parent_thread_id,
            forked_from_id: self.forked_from_id,
            agent_nickname: self.agent_nickname,
            agent_role: self.agent_role,
            agent_path: self.agent_path,
            git_info: self.git_info.map(GitInfo::from),
            token_usage: self.token_usage.map(TokenUsage::from),
            cli_version: self.stored.cli_version,
            originator: self.originator,
            rollout_path: self.path,
            item_count: self.item_count,
            turn_count: self.turn_count,
            live: self.live,
            history_mode: self.history_mode,
            history,
        }
    }
}

//! Reads what the projections need out of an item, once per item. Unknown kinds and fields are
//! simply `Other`: classification never fails and never changes what is stored.

use serde::Deserialize;
use threadstore_api::item::kinds;
use threadstore_api::params::ThreadMetadataPatch;
use threadstore_api::types::{GitInfo, TokenUsage};
use threadstore_api::ThreadId;

/// Event type threadstore appends for a metadata patch (other than a name-only patch).
pub const METADATA_UPDATED: &str = "thread_metadata_updated";
/// Event type for a name change (Codex's own).
pub const NAME_UPDATED: &str = "thread_name_updated";
/// Event type threadstore appends when a thread is archived.
pub const ARCHIVED: &str = "thread_archived";
/// Event type threadstore appends when a thread is unarchived.
pub const UNARCHIVED: &str = "thread_unarchived";
/// Event type threadstore appends when a thread is reverted (`revert_thread`): its `turn_id`
/// and every later turn are hidden from then on.
pub const REVERTED: &str = "thread_reverted";
/// Marker field the importer adds to the header of a pre-envelope (legacy) rollout.
pub const LEGACY_MARKER_FIELD: &str = "record_format";
/// Value of [`LEGACY_MARKER_FIELD`] for legacy rollouts.
pub const LEGACY_MARKER_VALUE: &str = "legacy";

/// What an item means to the projections.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemClass {
    /// Thread header.
    SessionMeta(Box<SessionMetaInfo>),
    /// `task_started` / `turn_started`.
    TurnStarted {
        /// Explicit turn id.
        turn_id: Option<String>,
        /// Start, unix seconds.
        started_at: Option<i64>,
    },
    /// `task_complete` / `turn_complete`.
    TurnComplete {
        /// Turn it names.
        turn_id: Option<String>,
        /// Completion, unix seconds.
        completed_at: Option<i64>,
        /// Duration, ms.
        duration_ms: Option<i64>,
        /// Its `error` (message, `codex_error_info` as JSON text): the turn failed.
        error: Option<(String, Option<String>)>,
    },
    /// `turn_aborted`.
    TurnAborted {
        /// Turn it names.
        turn_id: Option<String>,
        /// Completion, unix seconds.
        completed_at: Option<i64>,
        /// Duration, ms.
        duration_ms: Option<i64>,
    },
    /// `event_msg/error`.
    Error {
        /// Message.
        message: String,
        /// `codex_error_info`, as JSON text.
        details: Option<String>,
        /// Whether it fails the current turn.
        affects_turn: bool,
    },
    /// `event_msg/user_message`.
    UserMessage {
        /// Preview text.
        text: String,
    },
    /// `event_msg/agent_message`.
    AgentMessage,
    /// `event_msg/item_completed`: a TurnItem of a paginated thread.
    CompletedItem {
        /// The turn it belongs to.
        turn_id: Option<String>,
        /// What the projections need of the item.
        item: TurnItemClass,
    },
    /// `response_item` message.
    ResponseMessage {
        /// Role.
        role: String,
        /// Text of the first text part.
        text: String,
        /// Client-injected context (environment, AGENTS.md, instructions).
        contextual: bool,
    },
    /// `event_msg/token_count`.
    TokenCount(Option<TokenUsage>),
    /// `event_msg/thread_rolled_back`.
    RolledBack {
        /// Turns to drop.
        num_turns: u64,
    },
    /// `turn_context`.
    TurnContext {
        /// Turn it belongs to.
        turn_id: Option<String>,
        /// Model.
        model: Option<String>,
        /// Reasoning effort.
        effort: Option<String>,
        /// Working directory.
        cwd: Option<String>,
    },
    /// `compacted`.
    Compacted,
    /// `event_msg/thread_name_updated`.
    NameUpdated(Option<String>),
    /// threadstore's `event_msg/thread_metadata_updated`.
    MetadataPatched(Box<ThreadMetadataPatch>),
    /// threadstore's `event_msg/thread_archived`.
    Archived,
    /// threadstore's `event_msg/thread_unarchived`.
    Unarchived,
    /// threadstore's `event_msg/thread_reverted`: hides this turn and every later one.
    Reverted {
        /// The first turn hidden.
        turn_id: String,
    },
    /// Anything else.
    Other,
}

impl ItemClass {
    /// Items that belong to no turn (thread-level facts).
    pub fn is_thread_level(&self) -> bool {
        matches!(
            self,
            Self::SessionMeta(_)
                | Self::Reverted { .. }
                | Self::NameUpdated(_)
                | Self::MetadataPatched(_)
                | Self::Archived
                | Self::Unarchived
        )
    }
}

/// What the projections need of an `item_completed` TurnItem.
#[derive(Clone, Debug, PartialEq)]
pub enum TurnItemClass {
    /// `UserMessage`, with its preview text.
    UserMessage {
        /// Preview text (its text parts).
        text: String,
    },
    /// `AgentMessage`.
    AgentMessage {
        /// `commentary`, `final_answer` or none.
        phase: Option<String>,
    },
    /// Any other TurnItem.
    Other,
}

/// Value of `session_meta.history_mode` for paginated threads.
pub const PAGINATED: &str = "paginated";

/// Fields of a `session_meta` payload the projections use.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SessionMetaInfo {
    /// Thread id.
    pub id: Option<ThreadId>,
    /// Session id.
    pub session_id: Option<ThreadId>,
    /// Creation time (RFC 3339 or Codex's file-name form).
    pub timestamp: Option<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Client name.
    pub originator: Option<String>,
    /// Client version.
    pub cli_version: Option<String>,
    /// Source (a string or an object whose single key is the kind).
    pub source: Option<serde_json::Value>,
    /// Thread source.
    pub thread_source: Option<String>,
    /// Model provider.
    pub model_provider: Option<String>,
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
    pub git: Option<GitInfo>,
    /// Legacy marker (see [`LEGACY_MARKER_FIELD`]).
    pub record_format: Option<String>,
    /// Codex's history mode: `"legacy"` or [`PAGINATED`].
    pub history_mode: Option<String>,
    /// A sub-agent's first own ordinal: lines before it are copied parent context.
    pub subagent_history_start_ordinal: Option<u64>,
    /// A fork header's name for the fork (threadstore's forks carry their parent's name, as
    /// Codex's forks keep theirs).
    pub thread_name: Option<String>,
    /// Codex's fork header: the parent's ordinal the fork starts at (= the header's own ordinal).
    pub forked_from_ordinal_exclusive: Option<u64>,
    /// Set on the first line of a fork made by `fork_thread` (see [`FORK_BASE_FIELD`]).
    pub threadstore_fork_base: Option<ForkBaseInfo>,
}

/// Field of the `session_meta` line that starts a fork made by threadstore's `fork_thread`: the
/// prefix of the parent the fork reads through. The line is the fork's own first line (at
/// position `end_position`); the metadata reducer starts the fork's identity from it.
pub const FORK_BASE_FIELD: &str = "threadstore_fork_base";

/// The value of [`FORK_BASE_FIELD`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ForkBaseInfo {
    /// The thread forked.
    pub thread_id: Option<ThreadId>,
    /// The first position that is the fork's own.
    pub end_position: u64,
    /// The first turn seq that is the fork's own.
    pub seq_base: u64,
}

impl SessionMetaInfo {
    /// Whether this header, at `at`, is a fork's own first line: threadstore's
    /// [`FORK_BASE_FIELD`] naming this position, or Codex's `forked_from_ordinal_exclusive` equal
    /// to the line's own ordinal past the first line (a paginated fork's file starts there; its
    /// parent's lines come before it by reference).
    pub fn starts_fork(&self, position: u64, ordinal: Option<u64>) -> bool {
        position > 0
            && (self
                .threadstore_fork_base
                .as_ref()
                .is_some_and(|f| f.end_position == position)
                || (self.forked_from_ordinal_exclusive.is_some()
                    && self.forked_from_ordinal_exclusive == ordinal))
    }

    /// The rules this header asks for: the importer's pre-envelope marker, Codex's
    /// `history_mode: "paginated"` (with a sub-agent's own start ordinal), else the standard ones.
    pub fn history_mode(&self) -> crate::records::HistoryMode {
        use crate::records::HistoryMode;
        if self.record_format.as_deref() == Some(LEGACY_MARKER_VALUE) {
            HistoryMode::PreEnvelope
        } else if self.history_mode.as_deref() == Some(PAGINATED) {
            HistoryMode::Paginated {
                own_from_ordinal: self.subagent_history_start_ordinal.unwrap_or(0),
            }
        } else {
            HistoryMode::Standard
        }
    }

    /// The source kind: a string source as is, an object source by its single key.
    pub fn source_kind(&self) -> Option<String> {
        match &self.source {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Object(m)) => m.keys().next().cloned(),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct EventProbe {
    #[serde(rename = "type")]
    ty: Option<String>,
    turn_id: Option<String>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
    message: Option<serde_json::Value>,
    images: Option<serde_json::Value>,
    codex_error_info: Option<serde_json::Value>,
    num_turns: Option<u64>,
    thread_name: Option<String>,
    info: Option<serde_json::Value>,
    patch: Option<ThreadMetadataPatch>,
    // Values, not probes: other events use these names with other shapes, and a probe that did
    // not fit would make the whole event `Other`.
    error: Option<serde_json::Value>,
    item: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorProbe {
    message: Option<String>,
    codex_error_info: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TurnItemProbe {
    #[serde(rename = "type")]
    ty: Option<String>,
    phase: Option<String>,
    content: Option<serde_json::Value>,
}

impl TurnItemProbe {
    fn class(self) -> TurnItemClass {
        match self.ty.as_deref() {
            Some("UserMessage") => {
                let parts = self.content.as_ref().and_then(|c| c.as_array());
                let text: Vec<&str> = parts
                    .into_iter()
                    .flatten()
                    .filter(|p| p.get("type").and_then(|t| t.as_str()) == Some("text"))
                    .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
                    .collect();
                let has_images = parts.into_iter().flatten().any(|p| {
                    matches!(
                        p.get("type").and_then(|t| t.as_str()),
                        Some("image" | "local_image")
                    )
                });
                TurnItemClass::UserMessage {
                    text: preview_text(&text.join("\n"), has_images),
                }
            }
            Some("AgentMessage") => TurnItemClass::AgentMessage { phase: self.phase },
            _ => TurnItemClass::Other,
        }
    }
}

#[derive(Deserialize)]
struct MessageProbe {
    #[serde(rename = "type")]
    ty: Option<String>,
    role: Option<String>,
    content: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TurnContextProbe {
    turn_id: Option<String>,
    model: Option<String>,
    effort: Option<String>,
    cwd: Option<String>,
}

/// Classifies one item by its kind and payload text.
pub fn classify(kind: &str, payload: &str) -> ItemClass {
    match kind {
        kinds::SESSION_META => serde_json::from_str::<SessionMetaInfo>(payload)
            .map(|m| ItemClass::SessionMeta(Box::new(m)))
            .unwrap_or(ItemClass::Other),
        kinds::EVENT_MSG => serde_json::from_str::<EventProbe>(payload)
            .map(classify_event)
            .unwrap_or(ItemClass::Other),
        kinds::RESPONSE_ITEM => serde_json::from_str::<MessageProbe>(payload)
            .map(classify_response)
            .unwrap_or(ItemClass::Other),
        kinds::TURN_CONTEXT => serde_json::from_str::<TurnContextProbe>(payload)
            .map(|t| ItemClass::TurnContext {
                turn_id: t.turn_id,
                model: t.model,
                effort: t.effort,
                cwd: t.cwd,
            })
            .unwrap_or(ItemClass::Other),
        kinds::COMPACTED => ItemClass::Compacted,
        _ => ItemClass::Other,
    }
}

fn classify_event(e: EventProbe) -> ItemClass {
    match e.ty.as_deref() {
        Some("task_started" | "turn_started") => ItemClass::TurnStarted {
            turn_id: e.turn_id,
            started_at: e.started_at,
        },
        Some("task_complete" | "turn_complete") => ItemClass::TurnComplete {
            turn_id: e.turn_id,
            completed_at: e.completed_at,
            duration_ms: e.duration_ms,
            error: e
                .error
                .and_then(|v| serde_json::from_value::<ErrorProbe>(v).ok())
                .map(|err| {
                    (
                        err.message.unwrap_or_default(),
                        err.codex_error_info.map(|v| v.to_string()),
                    )
                }),
        },
        Some("item_completed") => ItemClass::CompletedItem {
            turn_id: e.turn_id,
            item: e
                .item
                .and_then(|v| serde_json::from_value::<TurnItemProbe>(v).ok())
                .map_or(TurnItemClass::Other, TurnItemProbe::class),
        },
        Some("turn_aborted") => ItemClass::TurnAborted {
            turn_id: e.turn_id,
            completed_at: e.completed_at,
            duration_ms: e.duration_ms,
        },
        Some("error") => {
            let info = e.codex_error_info;
            let affects_turn = !matches!(
                info.as_ref().and_then(|v| v.as_str()),
                Some("thread_rollback_failed" | "active_turn_not_steerable")
            );
            ItemClass::Error {
                message: e
                    .message
                    .as_ref()
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                details: info.map(|v| v.to_string()),
                affects_turn,
            }
        }
        Some("user_message") => {
            let text = e
                .message
                .as_ref()
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            let has_images =
                matches!(&e.images, Some(serde_json::Value::Array(a)) if !a.is_empty());
            ItemClass::UserMessage {
                text: preview_text(text, has_images),
            }
        }
        Some("agent_message") => ItemClass::AgentMessage,
        Some("token_count") => ItemClass::TokenCount(
            e.info
                .as_ref()
                .and_then(|i| i.get("total_token_usage"))
                .and_then(|u| serde_json::from_value::<TokenUsageProbe>(u.clone()).ok())
                .map(Into::into),
        ),
        Some("thread_rolled_back") => ItemClass::RolledBack {
            num_turns: e.num_turns.unwrap_or(0),
        },
        Some(NAME_UPDATED) => ItemClass::NameUpdated(e.thread_name),
        Some(METADATA_UPDATED) => match e.patch {
            Some(p) => ItemClass::MetadataPatched(Box::new(p)),
            None => ItemClass::Other,
        },
        Some(ARCHIVED) => ItemClass::Archived,
        Some(UNARCHIVED) => ItemClass::Unarchived,
        Some(REVERTED) => match e.turn_id {
            Some(turn_id) => ItemClass::Reverted { turn_id },
            None => ItemClass::Other,
        },
        _ => ItemClass::Other,
    }
}

#[derive(Deserialize)]
struct TokenUsageProbe {
    #[serde(default)]
    input_tokens: i64,
    #[serde(default)]
    cached_input_tokens: i64,
    #[serde(default)]
    output_tokens: i64,
    #[serde(default)]
    reasoning_output_tokens: i64,
    #[serde(default)]
    total_tokens: i64,
}

impl From<TokenUsageProbe> for TokenUsage {
    fn from(p: TokenUsageProbe) -> Self {
        Self {
            input_tokens: p.input_tokens,
            cached_input_tokens: p.cached_input_tokens,
            output_tokens: p.output_tokens,
            reasoning_output_tokens: p.reasoning_output_tokens,
            total_tokens: p.total_tokens,
        }
    }
}

fn classify_response(m: MessageProbe) -> ItemClass {
    if m.ty.as_deref() != Some("message") {
        return ItemClass::Other;
    }
    let role = m.role.unwrap_or_default();
    let text = m
        .content
        .as_ref()
        .and_then(|c| c.as_array())
        .and_then(|parts| {
            parts
                .iter()
                .find_map(|p| p.get("text").and_then(|t| t.as_str()))
        })
        .unwrap_or_default()
        .to_owned();
    let contextual = role == "user" && is_contextual(&text);
    ItemClass::ResponseMessage {
        role,
        text,
        contextual,
    }
}

/// Client-injected user messages (environment context, AGENTS.md, user instructions) are not prompts.
pub fn is_contextual(text: &str) -> bool {
    let t = text.trim_start();
    [
        "<environment_context>",
        "<user_instructions>",
        "<INSTRUCTIONS>",
        "# AGENTS.md instructions",
        "<user_shell_command>",
        "<turn_aborted>",
        "<subagent_notification>",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

/// Marker Codex puts before the user's actual request in some prompts.
const USER_MESSAGE_BEGIN: &str = "## My request for Codex:";

/// Preview text of a user message: after Codex's request marker, trimmed; `[Image]` for image-only.
pub fn preview_text(text: &str, has_images: bool) -> String {
    let body = match text.find(USER_MESSAGE_BEGIN) {
        Some(i) => &text[i + USER_MESSAGE_BEGIN.len()..],
        None => text,
    };
    let body = body.trim();
    if body.is_empty() && has_images {
        "[Image]".to_owned()
    } else {
        body.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_turn_events() {
        assert_eq!(
            classify(
                "event_msg",
                r#"{"type":"task_started","turn_id":"t1","started_at":5}"#
            ),
            ItemClass::TurnStarted {
                turn_id: Some("t1".into()),
                started_at: Some(5)
            }
        );
        assert!(matches!(
            classify("event_msg", r#"{"type":"turn_complete"}"#),
            ItemClass::TurnComplete { turn_id: None, .. }
        ));
        assert!(matches!(
            classify(
                "event_msg",
                r#"{"type":"error","message":"x","codex_error_info":"thread_rollback_failed"}"#
            ),
            ItemClass::Error {
                affects_turn: false,
                ..
            }
        ));
        assert!(matches!(
            classify("event_msg", r#"{"type":"error","message":"x"}"#),
            ItemClass::Error {
                affects_turn: true,
                ..
            }
        ));
    }

    #[test]
    fn contextual_user_messages_are_detected() {
        let c = classify(
            "response_item",
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n<cwd>/x</cwd>"}]}"#,
        );
        assert!(matches!(
            c,
            ItemClass::ResponseMessage {
                contextual: true,
                ..
            }
        ));
        let c = classify(
            "response_item",
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"fix the bug"}]}"#,
        );
        assert!(matches!(
            c,
            ItemClass::ResponseMessage {
                contextual: false,
                ..
            }
        ));
    }

    #[test]
    fn garbage_is_other() {
        assert_eq!(classify("event_msg", "not json"), ItemClass::Other);
        assert_eq!(classify("session_meta", "[1,2]"), ItemClass::Other);
        assert_eq!(classify("weird", "{}"), ItemClass::Other);
    }

    #[test]
    fn preview_strips_request_marker() {
        assert_eq!(
            preview_text("ctx\n## My request for Codex:\n do it ", false),
            "do it"
        );
        assert_eq!(preview_text("  ", true), "[Image]");
    }
}

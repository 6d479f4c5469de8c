//! The thread-metadata reducer: `(meta, item) -> meta'`, deterministic, no I/O.
//!
//! Rules (CONTRACT.md §4): the first `session_meta` sets identity and creation time; the first user
//! message sets preview and first message; `turn_context` sets model, effort and (once) cwd;
//! `token_count` sets token usage; `task_started` advances recency; every item advances `updated`;
//! name, patch, archive and unarchive events apply literally.

use chrono::{DateTime, NaiveDateTime};
use threadstore_api::params::ThreadMetadataPatch;
use threadstore_api::types::GitInfo;

use super::classify::{ItemClass, TurnItemClass};
use super::At;
use crate::records::{HistoryMode, ThreadMeta};

/// Applies one item to the metadata; `mode` is the thread's history mode before the item.
pub fn apply(meta: &mut ThreadMeta, mode: HistoryMode, at: At, class: &ItemClass) {
    let At {
        position, ts_ms, ..
    } = at;
    if position == 0 {
        meta.created_ms = ts_ms;
        meta.recency_ms = ts_ms;
        meta.updated_ms = ts_ms;
    }
    meta.updated_ms = meta.updated_ms.max(ts_ms);
    if !mode.owns(at.ordinal) && !matches!(class, ItemClass::SessionMeta(_)) {
        // A sub-agent's copied parent context: not its preview, model or recency.
        return;
    }
    let paginated = mode.is_paginated();
    match class {
        ItemClass::SessionMeta(info) => {
            if let Some(git) = info.git.as_ref().filter(|g| **g != GitInfo::default()) {
                meta.git_info = Some(git.clone());
            }
            if info.starts_fork(position, at.ordinal) {
                // A fork's own first line: the thread starts here as a new thread that shares
                // its parent's history (`fork_thread`), not as its parent. (The rollout path is
                // the store's, not the log's: it stays.)
                meta.header_seen = false;
                meta.name = info.thread_name.clone();
                meta.archived_ms = None;
                meta.session_id = None;
                meta.parent_thread_id = None;
                meta.agent_nickname = None;
                meta.agent_role = None;
                meta.agent_path = None;
                meta.created_ms = ts_ms;
                meta.recency_ms = ts_ms;
            }
            if meta.header_seen {
                return;
            }
            meta.header_seen = true;
            if let Some(created) = info.timestamp.as_deref().and_then(parse_time_ms) {
                if meta.recency_ms == meta.created_ms {
                    meta.recency_ms = created;
                }
                meta.created_ms = created;
            }
            meta.session_id = info.session_id.or(meta.session_id);
            set_if(&mut meta.cwd, &info.cwd);
            set_if(&mut meta.originator, &info.originator);
            set_if(&mut meta.cli_version, &info.cli_version);
            set_if(&mut meta.source, &info.source_kind());
            set_if(&mut meta.thread_source, &info.thread_source);
            set_if(&mut meta.model_provider, &info.model_provider);
            meta.parent_thread_id = info.parent_thread_id.or(meta.parent_thread_id);
            meta.forked_from_id = info.forked_from_id.or(meta.forked_from_id);
            set_if(&mut meta.agent_nickname, &info.agent_nickname);
            set_if(&mut meta.agent_role, &info.agent_role);
            set_if(&mut meta.agent_path, &info.agent_path);
        }
        ItemClass::UserMessage { text } if !paginated => first_message(meta, text),
        ItemClass::CompletedItem {
            item: TurnItemClass::UserMessage { text },
            ..
        } if paginated => first_message(meta, text),
        ItemClass::ResponseMessage {
            role,
            text,
            contextual: false,
        } if mode == HistoryMode::PreEnvelope && role == "user" => first_message(meta, text),
        ItemClass::TurnContext {
            model, effort, cwd, ..
        } => {
            set_if(&mut meta.model, model);
            set_if(&mut meta.reasoning_effort, effort);
            if meta.cwd.is_none() {
                meta.cwd.clone_from(cwd);
            }
        }
        ItemClass::TokenCount(Some(usage)) => meta.token_usage = Some(usage.clone()),
        ItemClass::TurnStarted { .. } => meta.recency_ms = meta.recency_ms.max(ts_ms),
        ItemClass::NameUpdated(name) => {
            meta.name = name.as_deref().filter(|n| !n.trim().is_empty()).map(clip);
        }
        ItemClass::MetadataPatched(patch) => apply_patch(meta, patch),
        ItemClass::Archived => {
            meta.archived_ms.get_or_insert(ts_ms);
        }
        ItemClass::Unarchived => meta.archived_ms = None,
        _ => {}
    }
}

/// Longest derived text kept in a thread record (preview, first user message, a name read from
/// the log), in bytes. Longer texts are cut at a character boundary and end with `…`, so one huge
/// message cannot make the thread record (read by every listing) huge.
pub const MAX_DERIVED_BYTES: usize = 16 * 1024;

/// `text` cut to at most [`MAX_DERIVED_BYTES`] (plus the 3-byte `…`) at a character boundary.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_DERIVED_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_DERIVED_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn first_message(meta: &mut ThreadMeta, text: &str) {
    if meta.first_user_message.is_none() && !text.is_empty() {
        let clipped = clip(text);
        if meta.preview.is_empty() {
            meta.preview.clone_from(&clipped);
        }
        meta.first_user_message = Some(clipped);
    }
}

fn set_if(slot: &mut Option<String>, value: &Option<String>) {
    if let Some(v) = value {
        *slot = Some(v.clone());
    }
}

/// Applies a literal patch: omitted fields stay, clears clear.
pub fn apply_patch(meta: &mut ThreadMeta, p: &ThreadMetadataPatch) {
    if let Some(v) = &p.name {
        meta.name = v.clone();
    }
    if let Some(v) = &p.preview {
        meta.preview = v.clone();
    }
    if let Some(v) = &p.first_user_message {
        meta.first_user_message = Some(v.clone());
    }
    set_if(&mut meta.model_provider, &p.model_provider);
    set_if(&mut meta.model, &p.model);
    set_if(&mut meta.reasoning_effort, &p.reasoning_effort);
    if let Some(cwd) = &p.cwd {
        meta.cwd = Some(cwd.to_string_lossy().into_owned());
    }
    set_if(&mut meta.cli_version, &p.cli_version);
    set_if(&mut meta.source, &p.source);
    for (slot, value) in [
        (&mut meta.thread_source, &p.thread_source),
        (&mut meta.agent_nickname, &p.agent_nickname),
        (&mut meta.agent_role, &p.agent_role),
        (&mut meta.agent_path, &p.agent_path),
    ] {
        if let Some(v) = value {
            *slot = v.clone();
        }
    }
    if let Some(g) = &p.git_info {
        let git = meta.git_info.get_or_insert_with(GitInfo::default);
        if let Some(v) = &g.sha {
            git.commit_hash = v.clone();
        }
        if let Some(v) = &g.branch {
            git.branch = v.clone();
        }
        if let Some(v) = &g.origin_url {
            git.repository_url = v.clone();
        }
        if git == &GitInfo::default() {
            // Every field cleared: the thread has no git info (not an object of nulls).
            meta.git_info = None;
        }
    }
}

/// Parses a Codex time: RFC 3339, or the legacy file-name form `YYYY-MM-DDThh-mm-ss`.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H-%M-%S")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::classify;

    fn feed(items: &[(&str, &str, i64)]) -> ThreadMeta {
        let mut m = ThreadMeta::default();
        for (pos, (kind, payload, ts)) in items.iter().enumerate() {
            let at = At {
                position: pos as u64,
                ts_ms: *ts,
                ordinal: None,
            };
            apply(&mut m, HistoryMode::Standard, at, &classify(kind, payload));
        }
        m
    }

    #[test]
    fn derives_codex_metadata() {
        let m = feed(&[
            (
                "session_meta",
                r#"{"id":"019a806e-0b39-7043-90ac-24bab2a6e202","timestamp":"2025-11-14T03:34:46.841Z","cwd":"/repo","originator":"codex_cli_rs","cli_version":"0.58.0","source":"cli","model_provider":"openai","git":{"commit_hash":"abc","branch":"main","repository_url":null}}"#,
                10,
            ),
            (
                "event_msg",
                r#"{"type":"user_message","message":"Hello from user"}"#,
                20,
            ),
            (
                "turn_context",
                r#"{"cwd":"/other","model":"gpt-5","effort":"high"}"#,
                30,
            ),
            (
                "event_msg",
                r#"{"type":"agent_message","message":"hi"}"#,
                40,
            ),
            (
                "event_msg",
                r#"{"type":"user_message","message":"second"}"#,
                50,
            ),
        ]);
        assert_eq!(m.preview, "Hello from user");
        assert_eq!(m.first_user_message.as_deref(), Some("Hello from user"));
        assert_eq!(m.cwd.as_deref(), Some("/repo"));
        assert_eq!(m.model.as_deref(), Some("gpt-5"));
        assert_eq!(m.source.as_deref(), Some("cli"));
        assert_eq!(
            m.created_ms,
            parse_time_ms("2025-11-14T03:34:46.841Z").unwrap()
        );
        assert_eq!(m.updated_ms, 50);
        assert_eq!(
            m.recency_ms, m.created_ms,
            "agent output does not move recency"
        );
        assert_eq!(m.git_info.unwrap().branch.as_deref(), Some("main"));
    }

    #[test]
    fn task_started_moves_recency() {
        let m = feed(&[
            ("session_meta", r#"{}"#, 10),
            ("event_msg", r#"{"type":"task_started","turn_id":"t"}"#, 99),
        ]);
        assert_eq!(m.recency_ms, 99);
    }
}

//! What is indexed: the searchable text of one log record, by the rules below, and of a
//! thread's metadata. A pure function of the record, so the indexer, `verify` (documents per
//! thread) and the highlighter (which re-reads the record for a snippet) agree by construction.
//!
//! | record | kind | text |
//! |---|---|---|
//! | user message: `event_msg/user_message`, a `response_item` user `message`, a paginated `UserMessage` | [`DocKind::User`] | its text parts (not images) |
//! | agent message: `event_msg/agent_message`, an assistant `message`, `AgentMessage`, `Plan` | [`DocKind::Agent`] | its text |
//! | reasoning summary: `event_msg/agent_reasoning`, `response_item/reasoning`, `Reasoning` | [`DocKind::Reasoning`] | the summary (never raw or encrypted content) |
//! | tool call or output: `function_call[_output]`, `custom_tool_call[_output]`, `local_shell_call`, `web_search_call`, `exec_command_end`, `CommandExecution`, `FileChange`, `WebSearch`, tool calls | [`DocKind::Tool`] | command, arguments, paths, query; output cut at [`MAX_TOOL_BYTES`] |
//! | anything else (turn events, token counts, contexts, compactions, snapshots) | — | not indexed |
//!
//! Each text is cut at [`MAX_TEXT_BYTES`]. A `response_item` user message that is context the
//! client injected (`<environment_context>`, `<user_instructions>`, …: it starts with `<`) is not
//! indexed. The pre-envelope era's records (`message`, `function_call`, … as the record type) are
//! read as `response_item`s. The thread's own document ([`DocKind::Meta`]) holds its name,
//! preview, working directory and id.

use serde_json::Value;
use threadstore_api::ThreadId;
use threadstore_storage::records::ThreadMeta;

/// Tool output (and arguments) indexed per record.
pub const MAX_TOOL_BYTES: usize = 8 * 1024;
/// Any indexed text.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// The thread itself: name, preview, cwd, id.
    Meta = 0,
    /// A user message.
    User = 1,
    /// An agent message (answer, commentary, plan).
    Agent = 2,
    /// A reasoning summary.
    Reasoning = 3,
    /// A tool call or its output.
    Tool = 4,
}

/// The searchable text of a record of `kind` with payload JSON text `payload`; `None` when it
/// holds nothing searched (or is not JSON).
pub fn record_text(kind: &str, payload: &str) -> Option<(DocKind, String)> {
    let payload: Value = serde_json::from_str(payload).ok()?;
    let (doc, text) = match kind {
        "event_msg" => event_text(&payload)?,
        "response_item" => response_text(&payload)?,
        // The pre-envelope era: the record type is the response item's type.
        "message"
        | "reasoning"
        | "function_call"
        | "function_call_output"
        | "custom_tool_call"
        | "custom_tool_call_output"
        | "local_shell_call"
        | "web_search_call" => response_text(&payload)?,
        _ => return None,
    };
    let text = cut(text.trim(), MAX_TEXT_BYTES);
    (!text.is_empty()).then(|| (doc, text.to_owned()))
}

/// The thread document's text: name, preview, cwd and id, one per line.
pub fn meta_text(thread: ThreadId, meta: &ThreadMeta) -> String {
    let mut out = String::new();
    for part in [
        meta.name.as_deref(),
        Some(meta.preview.as_str()),
        meta.cwd.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.is_empty())
    {
        out.push_str(cut(part, MAX_TOOL_BYTES));
        out.push('\n');
    }
    out.push_str(&thread.to_string());
    out
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn list(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

/// A command given as a string or an argv array, as one line.
fn command(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(c)) => c.clone(),
        Some(Value::Array(argv)) => argv
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Any JSON as text to search: a string as itself, anything else as its JSON.
fn loose(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
    }
}

/// A tool's text: its parts joined by newlines, each cut at [`MAX_TOOL_BYTES`].
fn tool(parts: &[&str]) -> Option<(DocKind, String)> {
    let text: Vec<&str> = parts
        .iter()
        .map(|p| cut(p.trim(), MAX_TOOL_BYTES))
        .filter(|p| !p.is_empty())
        .collect();
    (!text.is_empty()).then(|| (DocKind::Tool, text.join("\n")))
}

fn event_text(p: &Value) -> Option<(DocKind, String)> {
    match s(p, "type") {
        "user_message" => Some((DocKind::User, s(p, "message").to_owned())),
        "agent_message" => Some((DocKind::Agent, s(p, "message").to_owned())),
        "agent_reasoning" => Some((DocKind::Reasoning, s(p, "text").to_owned())),
        "exec_command_end" => {
            let output = match s(p, "aggregated_output") {
                "" => s(p, "stdout"),
                o => o,
            };
            tool(&[&command(p.get("command")), output])
        }
        "web_search_end" => tool(&[s(p, "query")]),
        "item_completed" => turn_item_text(p.get("item")?),
        _ => None,
    }
}

/// A paginated era's TurnItem.
fn turn_item_text(item: &Value) -> Option<(DocKind, String)> {
    let texts = |key: &str| -> String {
        list(item.get(key))
            .filter_map(|c| c.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match s(item, "type") {
        "UserMessage" => Some((DocKind::User, texts("content"))),
        "AgentMessage" => Some((DocKind::Agent, texts("content"))),
        "Plan" => Some((DocKind::Agent, s(item, "text").to_owned())),
        "Reasoning" => Some((
            DocKind::Reasoning,
            list(item.get("summary_text"))
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        "CommandExecution" => {
            let output = match s(item, "aggregated_output") {
                "" => s(item, "stdout"),
                o => o,
            };
            tool(&[&command(item.get("command")), output])
        }
        "FileChange" => {
            let paths: Vec<String> = match item.get("changes") {
                Some(Value::Object(map)) => map.keys().cloned().collect(),
                other => list(other)
                    .filter_map(|c| c.get("path").and_then(Value::as_str).map(str::to_owned))
                    .collect(),
            };
            tool(&[&paths.join("\n")])
        }
        "WebSearch" => tool(&[s(item, "query")]),
        "McpToolCall" | "DynamicToolCall" => tool(&[
            s(item, "server"),
            s(item, "tool"),
            &loose(item.get("arguments")),
            &loose(item.get("result")),
        ]),
        "CollabAgentToolCall" => tool(&[s(item, "prompt")]),
        _ => None,
    }
}

fn response_text(p: &Value) -> Option<(DocKind, String)> {
    match s(p, "type") {
        "message" => {
            let doc = match s(p, "role") {
                "user" => DocKind::User,
                "assistant" => DocKind::Agent,
                _ => return None,
            };
            let text: Vec<&str> = list(p.get("content"))
                .filter(|c| matches!(s(c, "type"), "input_text" | "output_text" | "text"))
                .map(|c| s(c, "text"))
                .filter(|t| !(doc == DocKind::User && t.trim_start().starts_with('<')))
                .collect();
            Some((doc, text.join("\n")))
        }
        "reasoning" => Some((
            DocKind::Reasoning,
            list(p.get("summary"))
                .map(|c| s(c, "text"))
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        "function_call" => tool(&[s(p, "name"), &loose(p.get("arguments"))]),
        "custom_tool_call" => tool(&[s(p, "name"), &loose(p.get("input"))]),
        "function_call_output" | "custom_tool_call_output" => {
            let output = match p.get("output") {
                Some(Value::Object(o)) => loose(o.get("content")),
                other => loose(other),
            };
            tool(&[&output])
        }
        "local_shell_call" => tool(&[&command(p.get("action").and_then(|a| a.get("command")))]),
        "web_search_call" => tool(&[s(p.get("action").unwrap_or(&Value::Null), "query")]),
        _ => None,
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(kind: &str, payload: Value) -> Option<(DocKind, String)> {
        record_text(kind, &payload.to_string())
    }

    #[test]
    fn messages_of_every_era_are_indexed() {
        assert_eq!(
            text(
                "event_msg",
                json!({"type": "user_message", "message": "fix the parser"})
            ),
            Some((DocKind::User, "fix the parser".into()))
        );
        assert_eq!(
            text(
                "response_item",
                json!({"type": "message", "role": "assistant",
                       "content": [{"type": "output_text", "text": "done"}]})
            ),
            Some((DocKind::Agent, "done".into()))
        );
        assert_eq!(
            text(
                "event_msg",
                json!({"type": "item_completed", "item": {"type": "AgentMessage",
                       "content": [{"type": "Text", "text": "paginated answer"}]}})
            ),
            Some((DocKind::Agent, "paginated answer".into()))
        );
        assert_eq!(
            text(
                "message",
                json!({"type": "message", "role": "user",
                       "content": [{"type": "input_text", "text": "pre-envelope"}]})
            ),
            Some((DocKind::User, "pre-envelope".into()))
        );
    }

    #[test]
    fn injected_context_turn_events_and_encrypted_reasoning_are_not() {
        assert_eq!(
            text(
                "response_item",
                json!({"type": "message", "role": "user",
                       "content": [{"type": "input_text", "text": "<environment_context>x"}]})
            ),
            None
        );
        assert_eq!(text("event_msg", json!({"type": "task_started"})), None);
        assert_eq!(
            text(
                "response_item",
                json!({"type": "reasoning", "summary": [], "encrypted_content": "c2VjcmV0"})
            ),
            None
        );
    }

    #[test]
    fn tool_output_is_bounded_and_commands_are_joined() {
        let big = "word ".repeat(10_000);
        let (kind, t) = text(
            "event_msg",
            json!({"type": "exec_command_end", "command": ["bash", "-lc", "cargo test"],
                   "aggregated_output": big}),
        )
        .unwrap();
        assert_eq!(kind, DocKind::Tool);
        assert!(t.starts_with("bash -lc cargo test\n"));
        assert!(t.len() <= MAX_TOOL_BYTES * 2);
    }

    #[test]
    fn cut_keeps_characters_whole() {
        assert_eq!(cut("修复", 4), "修");
        assert_eq!(cut("ab", 4), "ab");
    }
}

//! Codex's v2 `ThreadItem` view of a paginated thread's items (CONTRACT.md §7): the
//! `event_msg/item_completed` TurnItem of a rollout line, in the JSON Codex's app-server sends
//! (`reference/codex-thread-items.md` §1–§2). A pure function of one line, so a page of items is
//! projected in O(page).
//!
//! The mapping follows Codex's `impl From<CoreTurnItem> for ThreadItem`: PascalCase TurnItems with
//! snake_case fields become camelCase `type`s and fields; optional fields are always present
//! (`null` when empty) except `mcpAppResourceUri` and `imageGeneration.savedPath`; snake_case enum
//! values become camelCase (`in_progress` → `inProgress`), except `agentMessage.phase`.
//! Where threadstore differs: a command is shell-quoted but not secret-redacted (the rollout
//! holds it as written). A TurnItem of a kind this version does not know has no view (`None`);
//! its raw line is still in the log.

use serde_json::{json, Map, Value};

use crate::item::{kinds, RolloutItem};

/// The turn id and v2 ThreadItem of an `item_completed` line; `None` for any other line or an
/// unknown TurnItem kind.
pub fn thread_item_of(item: &RolloutItem) -> Option<(String, Value)> {
    if item.kind() != kinds::EVENT_MSG {
        return None;
    }
    let payload = item.payload_value();
    if payload.get("type").and_then(Value::as_str) != Some("item_completed") {
        return None;
    }
    let turn_id = payload.get("turn_id").and_then(Value::as_str)?.to_owned();
    Some((turn_id, completed_item(&payload)?))
}

/// The ThreadItem of an `item_completed` payload, with the line's `startedAtMs` and
/// `completedAtMs` beside its fields (`null` where the line has none), as Codex 0.171 sends them.
fn completed_item(payload: &Value) -> Option<Value> {
    let mut item = thread_item(payload.get("item")?)?;
    if let Some(fields) = item.as_object_mut() {
        fields.insert("startedAtMs".into(), field(payload, "started_at_ms"));
        fields.insert("completedAtMs".into(), field(payload, "completed_at_ms"));
    }
    Some(item)
}

/// Codex's v2 ThreadItem of one rollout line of any era, on its own: an `item_completed`
/// TurnItem as [`thread_item`]; in older eras the line's own item, as Codex's replay of a legacy
/// rollout builds it (`user_message`, `agent_message`, `agent_reasoning[_raw_content]`,
/// `context_compacted`, `entered_review_mode`, `exited_review_mode`, and a `response_item`
/// user or assistant message: the pre-envelope era's prompts and answers), with the id
/// `item-<position>` where Codex would count (threadstore's choice: stable, where Codex's
/// counter shifts with rollbacks). `None` for lines that are no item (turn events, token counts,
/// raw reasoning, …). Lines are mapped one by one: consecutive reasoning lines, which Codex's replay
/// merges into one item, stay separate items.
pub fn thread_item_of_line(item: &RolloutItem, position: u64) -> Option<Value> {
    let payload = item.payload_value();
    let text_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let id = format!("item-{position}");
    match item.kind() {
        kinds::EVENT_MSG => {
            let f = |name: &str| field(&payload, name);
            match payload.get("type")?.as_str()? {
                "item_completed" => completed_item(&payload),
                "user_message" => {
                    let message = text_of(&f("message"));
                    let mut content = Vec::new();
                    if !message.trim().is_empty() {
                        let elements = text_elements(payload.get("text_elements"));
                        content.push(
                            json!({"type": "text", "text": message, "text_elements": elements}),
                        );
                    }
                    let details = array(payload.get("image_details"));
                    for (i, url) in array(payload.get("images")).iter().enumerate() {
                        let detail = details.get(i).cloned().unwrap_or(Value::Null);
                        content.push(json!({"type": "image", "url": url, "detail": detail}));
                    }
                    let details = array(payload.get("local_image_details"));
                    for (i, path) in array(payload.get("local_images")).iter().enumerate() {
                        let detail = details.get(i).cloned().unwrap_or(Value::Null);
                        content.push(json!({"type": "localImage", "path": path, "detail": detail}));
                    }
                    Some(
                        json!({"type": "userMessage", "id": id, "clientId": f("client_id"), "content": content}),
                    )
                }
                "agent_message" => {
                    let message = text_of(&f("message"));
                    (!message.is_empty()).then(|| {
                        json!({
                            "type": "agentMessage", "id": id, "text": message, "phase": f("phase"),
                            "memoryCitation": null, "delivery": f("delivery"), "moderation": null,
                            "questions": null,
                        })
                    })
                }
                "agent_reasoning" => {
                    let text = text_of(&f("text"));
                    (!text.is_empty()).then(
                        || json!({"type": "reasoning", "id": id, "summary": [text], "content": []}),
                    )
                }
                "agent_reasoning_raw_content" => {
                    let text = text_of(&f("text"));
                    (!text.is_empty()).then(
                        || json!({"type": "reasoning", "id": id, "summary": [], "content": [text]}),
                    )
                }
                "context_compacted" => Some(json!({"type": "contextCompaction", "id": id})),
                "entered_review_mode" => Some(json!({
                    "type": "enteredReviewMode",
                    "id": payload.get("item_id").cloned().unwrap_or(json!(id)),
                    "review": payload.get("user_facing_hint").cloned().filter(|h| !h.is_null()).unwrap_or_else(|| json!("Review requested.")),
                })),
                "exited_review_mode" => Some(json!({
                    "type": "exitedReviewMode",
                    "id": payload.get("item_id").cloned().unwrap_or(json!(id)),
                    "review": render_review(payload.get("review_output")),
                })),
                _ => None,
            }
        }
        kinds::RESPONSE_ITEM if payload.get("type").and_then(Value::as_str) == Some("message") => {
            let parts = array(payload.get("content"));
            let texts = |ty: &str| -> Vec<String> {
                parts
                    .iter()
                    .filter(|p| p.get("type").and_then(Value::as_str) == Some(ty))
                    .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            };
            match payload.get("role").and_then(Value::as_str)? {
                "user" => {
                    let content: Vec<Value> = texts("input_text")
                        .into_iter()
                        .map(|t| json!({"type": "text", "text": t, "text_elements": []}))
                        .collect();
                    Some(
                        json!({"type": "userMessage", "id": id, "clientId": null, "content": content}),
                    )
                }
                "assistant" => Some(json!({
                    "type": "agentMessage", "id": id, "text": texts("output_text").concat(),
                    "phase": null, "memoryCitation": null, "delivery": null, "moderation": null,
                    "questions": null,
                })),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Codex's v2 ThreadItem of one TurnItem (the `item` of an `item_completed` payload).
pub fn thread_item(item: &Value) -> Option<Value> {
    let f = |name: &str| field(item, name);
    let id = f("id");
    let v = match item.get("type")?.as_str()? {
        "UserMessage" => json!({
            "type": "userMessage",
            "id": id,
            "clientId": f("client_id"),
            "content": array(item.get("content")).iter().map(user_input).collect::<Vec<_>>(),
        }),
        "HookPrompt" => {
            json!({"type": "hookPrompt", "id": id, "fragments": list(item.get("fragments"))})
        }
        "AgentMessage" => json!({
            "type": "agentMessage",
            "id": id,
            "text": array(item.get("content"))
                .iter()
                .filter_map(|c| c.get("text").and_then(Value::as_str))
                .collect::<String>(),
            "phase": f("phase"),
            "memoryCitation": item.get("memory_citation").filter(|m| !m.is_null()).map(|m| json!({
                "entries": list(m.get("entries")),
                "threadIds": list(m.get("rolloutIds").or_else(|| m.get("rollout_ids"))),
            })),
            "delivery": f("delivery"),
            "moderation": f("moderation"),
            "questions": f("questions"),
        }),
        "Plan" => json!({"type": "plan", "id": id, "text": f("text")}),
        "Reasoning" => json!({
            "type": "reasoning",
            "id": id,
            "summary": list(item.get("summary_text")),
            "content": list(item.get("raw_content")),
        }),
        "CommandExecution" => command_execution(item, id),
        "FileChange" => json!({
            "type": "fileChange",
            "id": id,
            "changes": file_changes(item.get("changes")),
            "status": item.get("status").and_then(Value::as_str).map_or("inProgress".to_owned(), camel_case),
        }),
        "McpToolCall" => mcp_tool_call(item, id),
        "DynamicToolCall" => json!({
            "type": "dynamicToolCall",
            "id": id,
            "namespace": f("namespace"),
            "tool": f("tool"),
            "arguments": f("arguments"),
            "status": camel_of(item.get("status")),
            "contentItems": item.get("content_items").filter(|c| !c.is_null()).map(|c| {
                array(Some(c)).iter().map(camel_keys).collect::<Vec<_>>()
            }),
            "success": f("success"),
            "durationMs": duration_ms(item.get("duration")),
        }),
        "CollabAgentToolCall" => json!({
            "type": "collabAgentToolCall",
            "id": id,
            "tool": camel_of(item.get("tool")),
            "status": camel_of(item.get("status")),
            "senderThreadId": f("sender_thread_id"),
            "receiverThreadIds": list(item.get("receiver_thread_ids")),
            "prompt": f("prompt"),
            "model": f("model"),
            "reasoningEffort": f("reasoning_effort"),
            "agentsStates": agents_states(item.get("agents_states")),
        }),
        "SubAgentActivity" => json!({
            "type": "subAgentActivity",
            "id": id,
            "kind": f("kind"),
            "agentThreadId": f("agent_thread_id"),
            "agentPath": f("agent_path"),
        }),
        "WebSearch" => json!({
            "type": "webSearch",
            "id": id,
            "query": f("query"),
            "action": web_search_action(item.get("action")),
            "results": f("results"),
        }),
        "ImageView" => {
            json!({"type": "imageView", "id": id, "path": native_path(item.get("path"))})
        }
        "Extension" => extension(item)?,
        "ImageGeneration" => {
            let mut v = json!({
                "type": "imageGeneration",
                "id": id,
                "status": f("status"),
                "revisedPrompt": f("revised_prompt"),
                "result": f("result"),
                "transparentBackground": null,
                "failure": null,
            });
            if let Some(path) = item.get("saved_path").filter(|p| !p.is_null()) {
                v["savedPath"] = native_path(Some(path));
            }
            v
        }
        "EnteredReviewMode" => json!({
            "type": "enteredReviewMode",
            "id": id,
            "review": item.get("user_facing_hint").cloned().unwrap_or_else(|| json!("Review requested.")),
        }),
        "ExitedReviewMode" => json!({
            "type": "exitedReviewMode",
            "id": id,
            "review": render_review(item.get("review_output")),
        }),
        "ContextCompaction" => json!({"type": "contextCompaction", "id": id}),
        _ => return None,
    };
    Some(v)
}

/// `v[name]`, `null` when missing.
fn field(v: &Value, name: &str) -> Value {
    v.get(name).cloned().unwrap_or(Value::Null)
}

/// Core `text_elements` (`byte_range`) as v2's (`byteRange`).
fn text_elements(v: Option<&Value>) -> Vec<Value> {
    array(v)
        .iter()
        .map(|e| {
            json!({
                "byteRange": e.get("byte_range").or_else(|| e.get("byteRange")).cloned().unwrap_or(Value::Null),
                "placeholder": field(e, "placeholder"),
            })
        })
        .collect()
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// A list field: the array, `[]` when missing or null.
fn list(v: Option<&Value>) -> Value {
    Value::Array(array(v).to_vec())
}

/// `in_progress` → `inProgress` (Codex's v2 enums and names are camelCase).
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn camel_of(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => Value::String(camel_case(s)),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// An object with its keys camelCased (one level).
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (camel_case(k), v.clone())).collect())
        }
        other => other.clone(),
    }
}

/// A core `Duration` (`{secs, nanos}`) in milliseconds.
fn duration_ms(v: Option<&Value>) -> Value {
    let Some(d) = v.filter(|d| !d.is_null()) else {
        return Value::Null;
    };
    let secs = d.get("secs").and_then(Value::as_u64).unwrap_or(0);
    let nanos = d.get("nanos").and_then(Value::as_u64).unwrap_or(0);
    json!(secs.saturating_mul(1000).saturating_add(nanos / 1_000_000))
}

/// A `file:` URI as a native path; anything else as it is.
fn native_path(v: Option<&Value>) -> Value {
    match v.and_then(Value::as_str) {
        Some(s) => Value::String(s.strip_prefix("file://").unwrap_or(s).to_owned()),
        None => v.cloned().unwrap_or(Value::Null),
    }
}

/// A core `UserInput` as v2's: variant tags camelCase, field names as Codex sends them.
fn user_input(input: &Value) -> Value {
    let f = |name: &str| field(input, name);
    match input.get("type").and_then(Value::as_str) {
        Some("text") => json!({
            "type": "text",
            "text": f("text"),
            "text_elements": text_elements(input.get("text_elements")),
        }),
        Some("image") => json!({"type": "image", "url": f("image_url"), "detail": f("detail")}),
        Some("local_image") => {
            json!({"type": "localImage", "path": f("path"), "detail": f("detail")})
        }
        Some("audio") => json!({"type": "audio", "url": f("audio_url")}),
        Some("local_audio") => json!({"type": "localAudio", "path": f("path")}),
        _ => input.clone(),
    }
}

fn command_execution(item: &Value, id: Value) -> Value {
    let f = |name: &str| field(item, name);
    let command = match item.get("command") {
        Some(Value::Array(argv)) => {
            // Codex joins the argv as a POSIX shell would read it back (shlex's quoting).
            let args: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
            shlex::try_join(args).unwrap_or_else(|_| "<command included NUL byte>".to_owned())
        }
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let cwd = native_path(item.get("cwd"));
    let actions: Vec<Value> = array(item.get("parsed_cmd"))
        .iter()
        .filter_map(|a| command_action(a, cwd.as_str()))
        .collect();
    json!({
        "type": "commandExecution",
        "id": id,
        "pluginId": f("plugin_id"),
        "scriptPath": f("script_path"),
        "command": command,
        "cwd": cwd,
        "processId": f("process_id"),
        "source": item.get("source").and_then(Value::as_str).map_or("agent".to_owned(), camel_case),
        "status": camel_of(item.get("status")),
        "commandActions": actions,
        "aggregatedOutput": item.get("aggregated_output").filter(|o| o.as_str() != Some("")).cloned().unwrap_or(Value::Null),
        "exitCode": f("exit_code"),
        "durationMs": duration_ms(item.get("duration")),
    })
}

fn command_action(action: &Value, cwd: Option<&str>) -> Option<Value> {
    let f = |name: &str| field(action, name);
    let command = f("cmd");
    Some(match action.get("type").and_then(Value::as_str) {
        Some("read") => {
            let path = action.get("path").and_then(Value::as_str)?;
            let joined = match (path.starts_with('/'), cwd) {
                (true, _) => path.to_owned(),
                (false, Some(cwd)) => format!("{}/{}", cwd.trim_end_matches('/'), path),
                (false, None) => return None,
            };
            json!({"type": "read", "command": command, "name": f("name"), "path": joined})
        }
        Some("list_files") => json!({"type": "listFiles", "command": command, "path": f("path")}),
        Some("search") => {
            json!({"type": "search", "command": command, "query": f("query"), "path": f("path")})
        }
        _ => json!({"type": "unknown", "command": command}),
    })
}

/// `{path: change}` as v2's list, sorted by path.
fn file_changes(changes: Option<&Value>) -> Value {
    let Some(Value::Object(map)) = changes else {
        return json!([]);
    };
    let mut paths: Vec<&String> = map.keys().collect();
    paths.sort();
    Value::Array(
        paths
            .into_iter()
            .map(|path| {
                let c = &map[path];
                let content = || c.get("content").cloned().unwrap_or(json!(""));
                let (kind, diff) = match c.get("type").and_then(Value::as_str) {
                    Some("add") => (json!({"type": "add"}), content()),
                    Some("delete") => (json!({"type": "delete"}), content()),
                    _ => {
                        let diff = c.get("unified_diff").and_then(Value::as_str).unwrap_or_default();
                        let moved = c.get("move_path").filter(|m| !m.is_null());
                        let diff = match moved.and_then(Value::as_str) {
                            Some(to) => format!("{diff}\n\nMoved to: {to}"),
                            None => diff.to_owned(),
                        };
                        (
                            json!({"type": "update", "move_path": moved.cloned().unwrap_or(Value::Null)}),
                            json!(diff),
                        )
                    }
                };
                json!({"path": path, "kind": kind, "diff": diff})
            })
            .collect(),
    )
}

fn mcp_tool_call(item: &Value, id: Value) -> Value {
    let f = |name: &str| field(item, name);
    let app_context = item
        .get("connectorId")
        .filter(|c| !c.is_null())
        .map(|connector| {
            json!({
                "connectorId": connector,
                "linkId": f("linkId"),
                "resourceUri": f("mcpAppResourceUri"),
                "appName": f("appName"),
                "actionName": f("actionName"),
            })
        });
    let result = item.get("result").filter(|r| !r.is_null()).map(|r| {
        json!({
            "content": list(r.get("content")),
            "structuredContent": r.get("structuredContent").cloned().unwrap_or(Value::Null),
            "_meta": r.get("_meta").cloned().unwrap_or(Value::Null),
        })
    });
    let error = item.get("error").filter(|e| !e.is_null()).map(|e| match e {
        Value::String(message) => json!({"message": message}),
        other => json!({"message": other.get("message").cloned().unwrap_or(Value::Null)}),
    });
    let mut v = json!({
        "type": "mcpToolCall",
        "id": id,
        "server": f("server"),
        "tool": f("tool"),
        "status": camel_of(item.get("status")),
        "arguments": f("arguments"),
        "appContext": app_context,
        "pluginId": f("pluginId"),
        "readOnlyHint": f("readOnlyHint"),
        "result": result,
        "error": error,
        "durationMs": duration_ms(item.get("duration")),
    });
    if let Some(uri) = item.get("mcpAppResourceUri").filter(|u| !u.is_null()) {
        v["mcpAppResourceUri"] = uri.clone();
    }
    v
}

fn agents_states(states: Option<&Value>) -> Value {
    let Some(Value::Object(map)) = states else {
        return json!({});
    };
    let out: Map<String, Value> = map
        .iter()
        .map(|(thread, state)| {
            // A core status is a string (`running`) or an object with a message
            // (`{"completed": "…"}`).
            let (status, message) = match state.get("status").unwrap_or(state) {
                Value::String(s) => (camel_case(s), Value::Null),
                Value::Object(m) => match m.iter().next() {
                    Some((k, v)) => (camel_case(k), v.clone()),
                    None => (String::new(), Value::Null),
                },
                _ => (String::new(), Value::Null),
            };
            let message = state.get("message").cloned().unwrap_or(message);
            (
                thread.clone(),
                json!({"status": status, "message": message}),
            )
        })
        .collect();
    Value::Object(out)
}

fn web_search_action(action: Option<&Value>) -> Value {
    let Some(a) = action.filter(|a| !a.is_null()) else {
        return json!({"type": "other"});
    };
    let f = |name: &str| field(a, name);
    match a.get("type").and_then(Value::as_str) {
        Some("search") => json!({"type": "search", "query": f("query"), "queries": f("queries")}),
        Some("open_page" | "openPage") => json!({"type": "openPage", "url": f("url")}),
        Some("find_in_page" | "findInPage") => {
            json!({"type": "findInPage", "url": f("url"), "pattern": f("pattern")})
        }
        _ => json!({"type": "other"}),
    }
}

/// `Extension` items already carry v2 fields: only their kind becomes the `type`.
fn extension(item: &Value) -> Option<Value> {
    let ty = match item.get("kind")?.as_str()? {
        "image_gen.generation" => "imageGeneration",
        "clock.sleep" => "sleep",
        "web.search" => "webSearch",
        _ => return None,
    };
    let mut v = item.clone();
    let obj = v.as_object_mut()?;
    obj.remove("kind");
    obj.insert("type".to_owned(), json!(ty));
    Some(v)
}

/// Codex's rendering of a review's output (`protocol/src/review_format.rs`).
fn render_review(output: Option<&Value>) -> Value {
    const FALLBACK: &str = "Reviewer failed to output a response.";
    let Some(out) = output.filter(|o| !o.is_null()) else {
        return json!(FALLBACK);
    };
    let mut parts = Vec::new();
    if let Some(text) = out
        .get("overall_explanation")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        parts.push(text.to_owned());
    }
    let findings = array(out.get("findings"));
    if !findings.is_empty() {
        let mut block = String::from(if findings.len() > 1 {
            "Full review comments:"
        } else {
            "Review comment:"
        });
        for finding in findings {
            let title = finding
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let location = finding.get("code_location");
            let path = location
                .and_then(|l| l.get("absolute_file_path"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let range = location.and_then(|l| l.get("line_range"));
            let start = range
                .and_then(|r| r.get("start"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let end = range
                .and_then(|r| r.get("end"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            block.push_str(&format!("\n- {title} — {path}:{start}-{end}"));
            if let Some(body) = finding.get("body").and_then(Value::as_str) {
                for line in body.lines() {
                    block.push_str(&format!("\n  {line}"));
                }
            }
        }
        parts.push(block);
    }
    if parts.is_empty() {
        json!(FALLBACK)
    } else {
        json!(parts.join("\n\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_joined_as_codex_shows_it() {
        // Codex 0.171.0's `command` for this argv (thread/items/list over a thread it wrote).
        let item = json!({"type": "CommandExecution", "id": "c", "command":
            ["/bin/bash", "-lc", r"printf 'multi %s\n' pineapple"], "status": "completed"});
        assert_eq!(
            thread_item(&item).unwrap()["command"],
            json!(r#"/bin/bash -lc "printf 'multi %s\\n' pineapple""#)
        );
        let plain = json!({"type": "CommandExecution", "id": "c", "command":
            ["/bin/bash", "-lc", "echo hello pineapple"], "status": "completed"});
        assert_eq!(
            thread_item(&plain).unwrap()["command"],
            json!("/bin/bash -lc 'echo hello pineapple'")
        );
    }

    #[test]
    fn user_and_agent_messages() {
        let user = thread_item(&json!({"type": "UserMessage", "id": "u", "content": [
            {"type": "text", "text": "hi", "text_elements": [{"byte_range": {"start": 0, "end": 2}, "placeholder": null}]},
            {"type": "image", "image_url": "data:x"},
        ]}))
        .unwrap();
        assert_eq!(
            user,
            json!({"type": "userMessage", "id": "u", "clientId": null, "content": [
                {"type": "text", "text": "hi", "text_elements": [{"byteRange": {"start": 0, "end": 2}, "placeholder": null}]},
                {"type": "image", "url": "data:x", "detail": null},
            ]})
        );
        let agent = thread_item(&json!({"type": "AgentMessage", "id": "a",
            "content": [{"type": "Text", "text": "Do"}, {"type": "Text", "text": "ne."}], "phase": "final_answer"}))
        .unwrap();
        assert_eq!(
            agent,
            json!({"type": "agentMessage", "id": "a", "text": "Done.", "phase": "final_answer",
                "memoryCitation": null, "delivery": null, "moderation": null, "questions": null})
        );
    }

    #[test]
    fn commands_file_changes_and_durations() {
        let cmd = thread_item(&json!({"type": "CommandExecution", "id": "c",
            "command": ["/usr/bin/bash", "-lc", "python3 hello.py"], "cwd": "file:///r",
            "parsed_cmd": [{"type": "read", "cmd": "cat a", "name": "a", "path": "a"}],
            "source": "unified_exec_startup", "status": "completed", "aggregated_output": "",
            "exit_code": 0, "duration": {"secs": 1, "nanos": 500_000_000}}))
        .unwrap();
        assert_eq!(cmd["command"], "/usr/bin/bash -lc 'python3 hello.py'");
        assert_eq!(cmd["cwd"], "/r");
        assert_eq!(cmd["source"], "unifiedExecStartup");
        assert_eq!(cmd["aggregatedOutput"], Value::Null);
        assert_eq!(cmd["durationMs"], 1500);
        assert_eq!(
            cmd["commandActions"],
            json!([{"type": "read", "command": "cat a", "name": "a", "path": "/r/a"}])
        );
        let change = thread_item(&json!({"type": "FileChange", "id": "f", "changes": {
            "/b": {"type": "update", "unified_diff": "@@", "move_path": "/c"},
            "/a": {"type": "add", "content": "x"},
        }}))
        .unwrap();
        assert_eq!(
            change,
            json!({"type": "fileChange", "id": "f", "status": "inProgress", "changes": [
                {"path": "/a", "kind": {"type": "add"}, "diff": "x"},
                {"path": "/b", "kind": {"type": "update", "move_path": "/c"}, "diff": "@@\n\nMoved to: /c"},
            ]})
        );
    }

    #[test]
    fn legacy_lines_map_one_by_one() {
        let user = RolloutItem::event_msg(json!({"type": "user_message", "message": "hi",
            "images": ["data:x"]}));
        assert_eq!(
            thread_item_of_line(&user, 4),
            Some(
                json!({"type": "userMessage", "id": "item-4", "clientId": null, "content": [
                    {"type": "text", "text": "hi", "text_elements": []},
                    {"type": "image", "url": "data:x", "detail": null},
                ]})
            )
        );
        let agent = RolloutItem::agent_message("done");
        assert_eq!(thread_item_of_line(&agent, 5).unwrap()["text"], "done");
        let answer = RolloutItem::message("assistant", "legacy answer");
        assert_eq!(
            thread_item_of_line(&answer, 6).unwrap()["type"],
            "agentMessage"
        );
        assert_eq!(
            thread_item_of_line(&RolloutItem::task_started("t"), 1),
            None
        );
        assert_eq!(
            thread_item_of_line(&RolloutItem::agent_message(""), 7),
            None,
            "Codex skips empty agent messages"
        );
    }

    #[test]
    fn unknown_kinds_and_other_lines_have_no_view() {
        assert_eq!(
            thread_item(&json!({"type": "SomethingNew", "id": "x"})),
            None
        );
        assert_eq!(thread_item_of(&RolloutItem::user_message("hi")), None);
        let line = RolloutItem::event_msg(json!({"type": "item_completed", "turn_id": "t",
            "item": {"type": "ContextCompaction", "id": "k"}, "started_at_ms": 5}));
        assert_eq!(
            thread_item_of(&line),
            Some((
                "t".to_owned(),
                json!({"type": "contextCompaction", "id": "k", "startedAtMs": 5, "completedAtMs": null})
            )),
            "the line's times beside the item's fields, null where the line has none"
        );
    }
}

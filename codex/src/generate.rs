//! Generates realistic Codex rollouts in each format era, deterministically from a seed.
//!
//! Tests use it to cover every era without copying real user sessions into the project, the
//! benchmarks use it for sized items (see [`GenSpec::item_bytes`]), and the demo uses
//! [`realistic_turn_items`] to simulate an agent turn. Shapes follow the fixtures in
//! `shared/fixtures/codex` (field names and nesting; JSON key order is serde_json's).

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use threadstore_api::item::kinds;
use threadstore_api::{RolloutItem, RolloutLine, ThreadId};

use super::reader::RolloutEra;

/// What [`generate_rollout`] should produce. The output is a pure function of the era and the spec.
#[derive(Clone, Debug)]
pub struct GenSpec {
    /// Thread id written in the header (`session_meta.id`, or the E0 header `id`).
    pub thread_id: ThreadId,
    /// Number of user turns.
    pub turns: usize,
    /// Seed of the PRNG that picks texts, ids and time steps.
    pub seed: u64,
    /// Indexes (0-based) of turns the user interrupts: they end with `turn_aborted` and no answer.
    /// E0 has no abort event, so there the turn just ends without an answer.
    pub aborted_turns: Vec<usize>,
    /// Add a context compaction (`compacted` + `event_msg/context_compacted`) at turn `turns / 2`.
    /// Only E2 and E3 write compactions; E0 and E1 ignore this.
    pub compaction: bool,
    /// Approximate size in bytes of the big items (reasoning, tool output, answers); 0 gives
    /// small natural sizes. Benchmarks use about 1024.
    pub item_bytes: usize,
    /// Time of the header; later lines follow at pseudo-random steps of 5 ms to 1.5 s.
    pub start: DateTime<Utc>,
    /// Working directory recorded in the header and turn contexts.
    pub cwd: String,
}

impl Default for GenSpec {
    /// Three turns, seed 1, no aborts or compaction, small items, a fresh thread id, a fixed start.
    fn default() -> Self {
        Self {
            thread_id: ThreadId::new(),
            turns: 3,
            seed: 1,
            aborted_turns: Vec::new(),
            compaction: false,
            item_bytes: 0,
            start: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or(DateTime::UNIX_EPOCH),
            cwd: "/home/user/project".to_owned(),
        }
    }
}

/// Writes a complete rollout file (JSONL text, one line per item, trailing newline) in `era`'s shape.
///
/// The text [`write_rollout`] writes, as one `String`.
pub fn generate_rollout(era: RolloutEra, spec: &GenSpec) -> String {
    let mut out = Vec::new();
    // Writing into a Vec<u8> cannot fail.
    write_rollout(era, spec, &mut out).unwrap_or_default();
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes the rollout [`generate_rollout`] returns, byte for byte, to `out`, one line at a time
/// (one `write_all` per line, each turn's lines as the turn is generated), so a rollout of any
/// size is generated in small memory. Give it a `BufWriter` for a file.
pub fn write_rollout(
    era: RolloutEra,
    spec: &GenSpec,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut gen = Gen::new(era, spec.seed, spec.item_bytes, &spec.cwd);
    let mut clock = Clock {
        now: spec.start,
        rng: Rng::new(spec.seed ^ 0x9e37_79b9_7f4a_7c15),
    };
    let mut line = String::new();

    let header = gen.session_meta(spec.thread_id, spec.start);
    if era == RolloutEra::E0Legacy {
        write_line(out, &mut line, &header.to_string())?;
    } else {
        let meta = RolloutItem::new(kinds::SESSION_META, &header);
        write_line(out, &mut line, &clock.line(meta).to_json_line())?;
    }
    // Turn ids are drawn for the time of the header line (the clock's time before any item line:
    // the text is the same as when every turn was generated before the first item was written).
    let turn_id_time = clock.now;

    if era != RolloutEra::E3TurnIds {
        for item in gen.preamble() {
            write_item(out, &mut line, era, &mut clock, item)?;
        }
    }
    for index in 0..spec.turns {
        let turn_id = (era == RolloutEra::E3TurnIds).then(|| gen.rng.uuid_v7(turn_id_time));
        let aborted = spec.aborted_turns.contains(&index);
        let mut turn = gen.turn(index, turn_id.as_deref(), aborted);
        if spec.compaction && index == spec.turns / 2 {
            let at = usize::from(era == RolloutEra::E3TurnIds);
            let compaction = gen.compaction();
            turn.splice(at..at, compaction);
        }
        for item in turn {
            write_item(out, &mut line, era, &mut clock, item)?;
        }
    }
    Ok(())
}

/// Writes one item's line(s): an enveloped line with the clock's next timestamp, or (E0) the bare
/// payload, followed by a `{"record_type":"state"}` marker where a step ends.
fn write_item(
    out: &mut impl std::io::Write,
    line: &mut String,
    era: RolloutEra,
    clock: &mut Clock,
    item: RolloutItem,
) -> std::io::Result<()> {
    if era == RolloutEra::E0Legacy {
        let ends_step = matches!(
            item.payload_type().as_deref(),
            Some("message" | "function_call_output")
        );
        write_line(out, line, item.payload_json())?;
        if ends_step {
            write_line(out, line, r#"{"record_type":"state"}"#)?;
        }
        Ok(())
    } else {
        write_line(out, line, &clock.line(item).to_json_line())
    }
}

/// Writes `text` and a newline with one `write_all` (through the reused buffer `line`).
fn write_line(out: &mut impl std::io::Write, line: &mut String, text: &str) -> std::io::Result<()> {
    line.clear();
    line.push_str(text);
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// The items of one simulated agent turn, as a live Codex session would append them.
///
/// With a `turn_id` the turn has the E3 shape (`task_started`, `turn_context` with the id, the
/// user message as response item and event, reasoning, a tool call and its output, the answer
/// as event and response item, `token_count`, `task_complete`: 12 items); without one it has the
/// E2 shape (no task events, `turn_context` without id). `approx_item_bytes` sizes the big items
/// as in [`GenSpec::item_bytes`]. Deterministic for a given turn index.
pub fn realistic_turn_items(
    turn_index: usize,
    turn_id: Option<&str>,
    approx_item_bytes: usize,
) -> Vec<RolloutItem> {
    let era = if turn_id.is_some() {
        RolloutEra::E3TurnIds
    } else {
        RolloutEra::E2OldEnvelope
    };
    let mut gen = Gen::new(
        era,
        turn_index as u64 + 1,
        approx_item_bytes,
        "/home/user/project",
    );
    gen.turn(turn_index, turn_id, false)
}

/// xorshift64*: tiny, deterministic, good enough for picking texts (the bench's corpora use it
/// too).
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 for `n` = 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from.get(self.below(from.len() as u64) as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Space-separated words, about `bytes` long (at least one word).
    fn words(&mut self, bytes: usize) -> String {
        let mut text = String::with_capacity(bytes + 16);
        loop {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(self.pick(WORDS));
            if text.len() >= bytes {
                return text;
            }
        }
    }

    /// A string of `len` characters from `alphabet`.
    fn chars(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| {
                let i = self.below(alphabet.len() as u64) as usize;
                alphabet.get(i).copied().map(char::from).unwrap_or('a')
            })
            .collect()
    }

    fn hex(&mut self, len: usize) -> String {
        self.chars(len, b"0123456789abcdef")
    }

    fn call_id(&mut self) -> String {
        format!(
            "call_{}",
            self.chars(
                24,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            )
        )
    }

    /// Looks like Codex's opaque `encrypted_content` (Fernet tokens start with `gAAAAAB`).
    fn encrypted(&mut self, len: usize) -> String {
        let body = self.chars(
            len.max(64),
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        );
        format!("gAAAAAB{body}")
    }

    /// A UUID v7 string for `at` (turn ids are v7 in E3 files).
    fn uuid_v7(&mut self, at: DateTime<Utc>) -> String {
        let ms = u64::try_from(at.timestamp_millis()).unwrap_or_default();
        format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            ms >> 16,
            ms & 0xffff,
            self.below(0x1000),
            0x8000 | self.below(0x4000),
            self.below(1 << 48)
        )
    }
}

const WORDS: &[&str] = &[
    "the",
    "store",
    "thread",
    "turn",
    "append",
    "index",
    "cursor",
    "page",
    "log",
    "writer",
    "reader",
    "snapshot",
    "rollout",
    "item",
    "event",
    "projection",
    "rebuild",
    "verify",
    "fsync",
    "batch",
    "commit",
    "actor",
    "mailbox",
    "archive",
    "search",
    "preview",
    "metadata",
    "token",
    "compaction",
    "history",
    "session",
    "agent",
    "tool",
    "output",
    "config",
    "test",
    "bench",
    "crate",
    "module",
    "function",
    "error",
    "result",
    "check",
    "passes",
    "fails",
    "updated",
];

const PROMPTS: &[&str] = &[
    "Add a unit test for the cursor decoder",
    "Why does the release build fail on CI?",
    "Refactor the append path to batch fsyncs",
    "Summarize what changed in the storage layer",
    "Fix the clippy warnings in the actors crate",
    "Explain how turns are derived from the log",
    "Make list_threads filter by cwd",
    "Write a benchmark for 1 KiB appends",
];

const COMMANDS: &[&str] = &[
    "ls",
    "cargo test -q",
    "rg -n cursor src",
    "git status --short",
    "cargo clippy --all-targets",
    "sed -n 1,80p src/lib.rs",
];

/// Assigns each line its timestamp, advancing a pseudo-random 5 ms–1.5 s per line.
struct Clock {
    now: DateTime<Utc>,
    rng: Rng,
}

impl Clock {
    fn line(&mut self, item: RolloutItem) -> RolloutLine {
        let step = 5 + self.rng.below(1_500);
        self.now += Duration::milliseconds(i64::try_from(step).unwrap_or(5));
        RolloutLine {
            timestamp: self.now,
            ordinal: None,
            item,
        }
    }
}

/// Per-thread generator state: the era's shapes, running token usage and past prompts.
struct Gen {
    era: RolloutEra,
    rng: Rng,
    item_bytes: usize,
    cwd: String,
    tokens: i64,
    prompts: Vec<String>,
}

impl Gen {
    fn new(era: RolloutEra, seed: u64, item_bytes: usize, cwd: &str) -> Self {
        Self {
            era,
            rng: Rng::new(seed),
            item_bytes,
            cwd: cwd.to_owned(),
            tokens: 0,
            prompts: Vec::new(),
        }
    }

    /// Size of a big item's text: the target, or a small natural size.
    fn big(&mut self) -> usize {
        match self.item_bytes {
            0 => 60 + self.rng.below(200) as usize,
            n => n,
        }
    }

    /// The header object: `session_meta` payload (E1–E3) or the bare E0 header.
    fn session_meta(&mut self, id: ThreadId, start: DateTime<Utc>) -> Value {
        let id = id.to_string();
        let timestamp = threadstore_api::item::format_timestamp(&start);
        let git = json!({
            "commit_hash": self.rng.hex(40),
            "branch": "main",
            "repository_url": "git@github.com:example/project.git",
        });
        let cwd = self.cwd.clone();
        match self.era {
            RolloutEra::E0Legacy => {
                json!({"id": id, "timestamp": timestamp, "instructions": null, "git": git})
            }
            RolloutEra::E1EarlyEnvelope => json!({
                "id": id, "timestamp": timestamp, "cwd": cwd, "originator": "codex_cli_rs",
                "cli_version": "0.34.0", "instructions": null, "git": git,
            }),
            RolloutEra::E2OldEnvelope => json!({
                "id": id, "timestamp": timestamp, "cwd": cwd, "originator": "codex_cli_rs",
                "cli_version": "0.64.0", "instructions": null, "source": "cli",
                "model_provider": "openai", "git": git,
            }),
            RolloutEra::E3TurnIds => json!({
                "id": id, "timestamp": timestamp, "cwd": cwd, "originator": "codex-tui",
                "cli_version": "0.118.0", "source": "cli", "model_provider": "openai",
                "base_instructions": {"text": "You are Codex, a coding agent based on GPT-5."},
                "git": git,
            }),
        }
    }

    /// Context the client injects before the first prompt (environment; E3 adds permissions).
    fn preamble(&mut self) -> Vec<RolloutItem> {
        let env = format!(
            "<environment_context>\n  <cwd>{}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>",
            self.cwd
        );
        let mut items = Vec::new();
        if self.era == RolloutEra::E3TurnIds {
            items.push(self.message("developer", "<permissions instructions>\nFilesystem sandboxing defines which files can be read or written.\n</permissions instructions>"));
        }
        items.push(self.message("user", &env));
        items
    }

    /// A response-item message in the era's shape (E0 carries `"id": null`).
    fn message(&mut self, role: &str, text: &str) -> RolloutItem {
        let part = if role == "assistant" {
            "output_text"
        } else {
            "input_text"
        };
        let mut payload =
            json!({"type": "message", "role": role, "content": [{"type": part, "text": text}]});
        if self.era == RolloutEra::E0Legacy {
            payload["id"] = Value::Null;
        }
        RolloutItem::response_item(payload)
    }

    fn token_count(&mut self) -> RolloutItem {
        let input = 2_000 + self.rng.below(20_000) as i64;
        let output = 50 + self.rng.below(2_000) as i64;
        let reasoning = self.rng.below(output as u64) as i64;
        let cached = input / 2;
        self.tokens += input + output;
        let usage = |i: i64, c: i64, o: i64, r: i64| {
            json!({"input_tokens": i, "cached_input_tokens": c, "output_tokens": o,
                   "reasoning_output_tokens": r, "total_tokens": i + o})
        };
        let total = self.tokens;
        let window = if self.era == RolloutEra::E3TurnIds {
            258_400
        } else {
            272_000
        };
        let info = json!({
            "total_token_usage": usage(total - output, total / 3, output, reasoning),
            "last_token_usage": usage(input, cached, output, reasoning),
            "model_context_window": window,
        });
        let mut payload = json!({"type": "token_count", "info": info});
        if self.era != RolloutEra::E1EarlyEnvelope {
            payload["rate_limits"] = json!({
                "primary": {"used_percent": 5.0, "window_minutes": 300, "resets_at": 1_767_243_600},
                "secondary": {"used_percent": 13.0, "window_minutes": 10_080, "resets_at": 1_767_830_400},
            });
        }
        RolloutItem::event_msg(payload)
    }

    fn turn_context(&mut self, turn_id: Option<&str>) -> RolloutItem {
        let mut payload = json!({
            "cwd": self.cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write", "network_access": false,
                               "exclude_tmpdir_env_var": false, "exclude_slash_tmp": false},
            "model": "gpt-5.1-codex-max",
            "effort": "medium",
            "summary": "auto",
        });
        if let Some(turn_id) = turn_id {
            payload["turn_id"] = json!(turn_id);
            payload["model"] = json!("gpt-5.4");
            payload["current_date"] = json!("2026-01-01");
            payload["timezone"] = json!("UTC");
            payload["personality"] = json!("pragmatic");
            payload["collaboration_mode"] = json!({"mode": "default",
                "settings": {"model": "gpt-5.4", "reasoning_effort": null, "developer_instructions": null}});
            payload["realtime_active"] = json!(false);
            payload["truncation_policy"] = json!({"mode": "tokens", "limit": 10_000});
        }
        RolloutItem::new(kinds::TURN_CONTEXT, &payload)
    }

    fn reasoning(&mut self) -> RolloutItem {
        let size = self.big();
        let summary = self.rng.words(40);
        let payload = match self.era {
            RolloutEra::E0Legacy => json!({
                "type": "reasoning", "id": "", "summary": [],
                "content": [{"type": "reasoning_text", "text": self.rng.words(size)}],
                "encrypted_content": null,
            }),
            RolloutEra::E1EarlyEnvelope => json!({
                "type": "reasoning", "summary": [], "content": null,
                "encrypted_content": self.rng.encrypted(size),
            }),
            _ => json!({
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": format!("**{summary}**")}],
                "content": null, "encrypted_content": self.rng.encrypted(size),
            }),
        };
        RolloutItem::response_item(payload)
    }

    /// A shell tool call and its output, in the era's tool and output format.
    fn tool_call(&mut self) -> [RolloutItem; 2] {
        let call_id = self.rng.call_id();
        let command = self.rng.pick(COMMANDS);
        let size = self.big();
        let output = self.rng.words(size);
        let (name, arguments, output) = match self.era {
            RolloutEra::E0Legacy | RolloutEra::E1EarlyEnvelope => (
                "shell",
                json!({"command": ["bash", "-lc", command]}),
                json!({"output": output, "metadata": {"exit_code": 0, "duration_seconds": 0.1}})
                    .to_string(),
            ),
            RolloutEra::E2OldEnvelope => (
                "shell_command",
                json!({"command": command, "workdir": self.cwd}),
                format!("Exit code: 0\nWall time: 0.1 seconds\nOutput:\n{output}"),
            ),
            RolloutEra::E3TurnIds => (
                "exec_command",
                json!({"cmd": command, "workdir": self.cwd}),
                format!("Chunk ID: {}\nWall time: 0.1000 seconds\nProcess exited with code 0\nOutput:\n{output}", self.rng.hex(6)),
            ),
        };
        let mut call = json!({"type": "function_call", "name": name,
                              "arguments": arguments.to_string(), "call_id": call_id});
        if self.era == RolloutEra::E0Legacy {
            call["id"] = Value::Null;
        }
        [
            RolloutItem::response_item(call),
            RolloutItem::response_item(
                json!({"type": "function_call_output", "call_id": call_id, "output": output}),
            ),
        ]
    }

    fn turn_aborted(&mut self, turn_id: Option<&str>) -> RolloutItem {
        let mut payload = json!({"type": "turn_aborted", "reason": "interrupted"});
        if let Some(turn_id) = turn_id {
            payload["turn_id"] = json!(turn_id);
        }
        RolloutItem::event_msg(payload)
    }

    /// One user turn in the era's shape; an aborted turn stops after the tool output.
    fn turn(&mut self, index: usize, turn_id: Option<&str>, aborted: bool) -> Vec<RolloutItem> {
        let prompt = format!("{} (#{})", self.rng.pick(PROMPTS), index + 1);
        self.prompts.push(prompt.clone());
        let size = self.big();
        let answer = format!("Done. {}", self.rng.words(size));
        let mut items = Vec::new();
        match self.era {
            RolloutEra::E0Legacy => {
                items.push(self.message("user", &prompt));
                items.push(self.reasoning());
                items.extend(self.tool_call());
                if !aborted {
                    items.push(self.message("assistant", &answer));
                }
            }
            RolloutEra::E1EarlyEnvelope => {
                items.push(self.message("user", &prompt));
                items.push(RolloutItem::event_msg(
                    json!({"type": "user_message", "message": prompt, "kind": "plain"}),
                ));
                items.push(self.token_count());
                items.push(self.reasoning());
                items.extend(self.tool_call());
                if aborted {
                    items.push(self.turn_aborted(None));
                } else {
                    items.push(RolloutItem::agent_message(&answer));
                    items.push(self.message("assistant", &answer));
                    items.push(self.token_count());
                }
            }
            RolloutEra::E2OldEnvelope => {
                items.push(self.message("user", &prompt));
                items.push(RolloutItem::event_msg(
                    json!({"type": "user_message", "message": prompt, "images": []}),
                ));
                items.push(self.turn_context(None));
                items.push(RolloutItem::response_item(json!({
                    "type": "ghost_snapshot",
                    "ghost_commit": {"id": self.rng.hex(40), "parent": self.rng.hex(40),
                                     "preexisting_untracked_files": [], "preexisting_untracked_dirs": []},
                })));
                let thought = self.rng.words(40);
                items.push(RolloutItem::event_msg(
                    json!({"type": "agent_reasoning", "text": format!("**{thought}**")}),
                ));
                items.push(self.reasoning());
                let [call, output] = self.tool_call();
                items.push(call);
                items.push(self.token_count());
                items.push(output);
                if aborted {
                    items.push(self.turn_aborted(None));
                } else {
                    items.push(self.turn_context(None));
                    items.push(RolloutItem::agent_message(&answer));
                    items.push(self.message("assistant", &answer));
                    items.push(self.token_count());
                }
            }
            RolloutEra::E3TurnIds => {
                let turn_id = turn_id.unwrap_or_default();
                items.push(RolloutItem::event_msg(json!({
                    "type": "task_started", "turn_id": turn_id,
                    "model_context_window": 258_400, "collaboration_mode_kind": "default",
                })));
                if index == 0 {
                    items.extend(self.preamble());
                }
                items.push(self.turn_context(Some(turn_id)));
                items.push(self.message("user", &prompt));
                items.push(RolloutItem::user_message(&prompt));
                items.push(self.token_count());
                items.push(self.reasoning());
                items.extend(self.tool_call());
                if aborted {
                    items.push(self.message("user", "<turn_aborted>\nThe user interrupted the previous turn on purpose.\n</turn_aborted>"));
                    items.push(self.turn_aborted(Some(turn_id)));
                } else {
                    items.push(RolloutItem::event_msg(
                        json!({"type": "agent_message", "message": answer, "phase": "final_answer"}),
                    ));
                    items.push(self.message("assistant", &answer));
                    items.push(self.token_count());
                    items.push(RolloutItem::task_complete(turn_id, Some(&answer)));
                }
            }
        }
        items
    }

    /// A context compaction (E2/E3): the history replaced by the user prompts so far.
    fn compaction(&mut self) -> Vec<RolloutItem> {
        if matches!(self.era, RolloutEra::E0Legacy | RolloutEra::E1EarlyEnvelope) {
            return Vec::new();
        }
        let history: Vec<Value> = self
            .prompts
            .iter()
            .map(|p| json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": p}]}))
            .collect();
        vec![
            RolloutItem::new(
                kinds::COMPACTED,
                &json!({"message": "", "replacement_history": history}),
            ),
            RolloutItem::event_msg(json!({"type": "context_compacted"})),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::parse_rollout;

    const ERAS: [RolloutEra; 4] = [
        RolloutEra::E0Legacy,
        RolloutEra::E1EarlyEnvelope,
        RolloutEra::E2OldEnvelope,
        RolloutEra::E3TurnIds,
    ];

    fn spec() -> GenSpec {
        GenSpec {
            thread_id: "019a806e-0b39-7043-90ac-24bab2a6e202".parse().unwrap(),
            turns: 5,
            seed: 42,
            aborted_turns: vec![1],
            compaction: true,
            ..GenSpec::default()
        }
    }

    fn event_count(text: &str, ty: &str) -> usize {
        let parsed = parse_rollout(text, "gen.jsonl");
        parsed
            .lines
            .iter()
            .filter(|l| l.item.kind() == kinds::EVENT_MSG)
            .filter(|l| l.item.payload_type().as_deref() == Some(ty))
            .count()
    }

    /// Records the size of every `write` call.
    #[derive(Default)]
    struct Writes {
        bytes: Vec<u8>,
        calls: Vec<usize>,
    }

    impl std::io::Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            self.calls.push(buf.len());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_rollout_streams_exactly_what_generate_rollout_returns() {
        let specs = [
            spec(),
            GenSpec {
                turns: 9,
                seed: 7,
                aborted_turns: vec![0, 4, 8],
                compaction: true,
                item_bytes: 1024,
                ..spec()
            },
            GenSpec {
                turns: 1,
                aborted_turns: vec![0],
                compaction: true,
                ..spec()
            },
            GenSpec {
                turns: 0,
                compaction: true,
                ..spec()
            },
        ];
        for era in ERAS {
            for spec in &specs {
                let expected = generate_rollout(era, spec);
                let mut writes = Writes::default();
                write_rollout(era, spec, &mut writes).unwrap();
                assert_eq!(
                    String::from_utf8(writes.bytes).unwrap(),
                    expected,
                    "{era:?} {spec:?}"
                );
                // One write per line: nothing is held back to the end.
                let lines: Vec<usize> = expected.split_inclusive('\n').map(str::len).collect();
                assert_eq!(writes.calls, lines, "{era:?} {spec:?}");
            }
        }
    }

    #[test]
    fn generated_rollouts_parse_back_in_their_era() {
        for era in ERAS {
            let spec = spec();
            let text = generate_rollout(era, &spec);
            let parsed = parse_rollout(&text, "gen.jsonl");
            assert_eq!(parsed.era, era);
            assert!(parsed.skipped.is_empty(), "{era:?}: {:?}", parsed.skipped);
            assert_eq!(parsed.thread_id, Some(spec.thread_id), "{era:?}");
            assert_eq!(parsed.lines[0].item.kind(), kinds::SESSION_META);
            let times: Vec<_> = parsed.lines.iter().map(|l| l.timestamp).collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "{era:?}");
            assert!(text.ends_with('\n'));
        }
    }

    #[test]
    fn generation_is_deterministic_for_a_seed() {
        for era in ERAS {
            assert_eq!(
                generate_rollout(era, &spec()),
                generate_rollout(era, &spec())
            );
            let other = GenSpec { seed: 43, ..spec() };
            assert_ne!(
                generate_rollout(era, &spec()),
                generate_rollout(era, &other)
            );
        }
    }

    #[test]
    fn era_specific_events() {
        let e3 = generate_rollout(RolloutEra::E3TurnIds, &spec());
        assert_eq!(event_count(&e3, "task_started"), 5);
        assert_eq!(event_count(&e3, "task_complete"), 4);
        assert_eq!(event_count(&e3, "turn_aborted"), 1);
        assert_eq!(event_count(&e3, "user_message"), 5);
        assert_eq!(event_count(&e3, "context_compacted"), 1);

        let e2 = generate_rollout(RolloutEra::E2OldEnvelope, &spec());
        assert_eq!(event_count(&e2, "task_started"), 0);
        assert_eq!(event_count(&e2, "turn_aborted"), 1);
        assert_eq!(event_count(&e2, "user_message"), 5);
        assert_eq!(e2.matches(r#""type":"compacted""#).count(), 1);

        let e1 = generate_rollout(RolloutEra::E1EarlyEnvelope, &spec());
        assert!(!e1.contains("turn_context"));
        assert!(!e1.contains("compacted"));
        assert_eq!(event_count(&e1, "user_message"), 5);

        let e0 = generate_rollout(RolloutEra::E0Legacy, &spec());
        let parsed = parse_rollout(&e0, "gen.jsonl");
        assert!(parsed.legacy_state_markers > 0);
        assert_eq!(
            parsed.lines[0].item.payload_value()["record_format"],
            "legacy"
        );
        assert!(parsed.lines[1..]
            .iter()
            .all(|l| l.item.kind() == kinds::RESPONSE_ITEM));
    }

    #[test]
    fn item_bytes_sizes_the_big_items() {
        let spec = GenSpec {
            item_bytes: 1024,
            ..spec()
        };
        let text = generate_rollout(RolloutEra::E3TurnIds, &spec);
        let parsed = parse_rollout(&text, "gen.jsonl");
        let outputs: Vec<usize> = parsed
            .lines
            .iter()
            .filter(|l| l.item.payload_type().as_deref() == Some("function_call_output"))
            .map(|l| l.item.payload_json().len())
            .collect();
        assert_eq!(outputs.len(), 5);
        assert!(
            outputs.iter().all(|&n| (1024..1400).contains(&n)),
            "{outputs:?}"
        );
    }

    #[test]
    fn realistic_turn_items_have_the_e3_shape() {
        let items = realistic_turn_items(3, Some("turn-3"), 1024);
        let types: Vec<String> = items
            .iter()
            .map(|i| i.payload_type().unwrap_or_else(|| i.kind().to_owned()))
            .collect();
        assert_eq!(
            types,
            [
                "task_started",
                "turn_context",
                "message",
                "user_message",
                "token_count",
                "reasoning",
                "function_call",
                "function_call_output",
                "agent_message",
                "message",
                "token_count",
                "task_complete"
            ]
        );
        assert_eq!(items[1].payload_value()["turn_id"], "turn-3");
        assert_eq!(items.last().unwrap().payload_value()["turn_id"], "turn-3");
        assert_eq!(items, realistic_turn_items(3, Some("turn-3"), 1024));

        let e2 = realistic_turn_items(0, None, 0);
        assert!(e2
            .iter()
            .all(|i| i.payload_type().as_deref() != Some("task_started")));
        assert!(e2.iter().any(|i| i.kind() == kinds::TURN_CONTEXT));
    }
}

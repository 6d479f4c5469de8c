//! Generated stores for the listing, cold-open and memory workloads (W5–W7): many threads, each a
//! Codex `session_meta` header followed by realistic turns of ~1 KiB items, with distinct working
//! directories and creation times spread so that the `updated_at` order is not insertion order.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use threadstore::codex::generate::realistic_turn_items;
use threadstore::{RolloutItem, RolloutLine, ThreadId};

/// How many distinct working directories `threads` threads are spread over (a cwd filter keeps
/// 1/N of them): 100, or fewer for small stores so that one cwd still holds 100 threads.
pub fn cwds(threads: usize) -> usize {
    (threads / 100).clamp(1, 100)
}

/// One generated thread.
#[derive(Clone, Debug)]
pub struct GenThread {
    /// Its id (also in the header).
    pub id: ThreadId,
    /// Working directory recorded in the header.
    pub cwd: String,
    /// Header time.
    pub created: DateTime<Utc>,
    /// Time of the last line (what `updated_at` sorts by).
    pub updated: DateTime<Utc>,
    /// First user message (the listing's preview).
    pub preview: String,
    /// Every line, header first.
    pub lines: Vec<RolloutLine>,
}

/// A deterministic recipe for `threads` threads of `lines` lines each.
pub struct Corpus {
    threads: usize,
    lines: usize,
    templates: Vec<(Vec<RolloutItem>, String)>,
    base: DateTime<Utc>,
}

/// The cwd of thread `i` of `threads`.
pub fn cwd_of(i: usize, threads: usize) -> String {
    format!("/work/project-{}", i % cwds(threads))
}

impl Corpus {
    /// Threads of `lines` lines each: a header, then realistic turns (12 items of which the big
    /// ones are ~1 KiB; at most 16 turns, each with its own turn id), the last one cut short.
    pub fn new(threads: usize, lines: usize) -> Self {
        let templates = (0..16)
            .map(|t| {
                let items = realistic_turn_items(t, Some(&format!("turn-{t}")), 1024);
                let preview = items
                    .iter()
                    .filter(|i| i.kind() == "event_msg")
                    .find_map(|i| {
                        let v = i.payload_value();
                        (v["type"] == "user_message")
                            .then(|| v["message"].as_str().map(str::to_owned))
                            .flatten()
                    })
                    .unwrap_or_default();
                (items, preview)
            })
            .collect();
        Self {
            threads,
            lines: lines.clamp(1, 1 + 16 * 12),
            templates,
            base: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or(DateTime::UNIX_EPOCH),
        }
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Lines per thread (header included).
    pub fn lines_per_thread(&self) -> usize {
        self.lines
    }

    /// Items in all.
    pub fn items(&self) -> usize {
        self.lines * self.threads
    }

    /// Thread `i` (a fresh random id each call: generate each thread once per pass).
    pub fn thread(&self, i: usize) -> GenThread {
        let id = ThreadId::new();
        let cwd = cwd_of(i, self.threads);
        // A permutation of 0..threads (odd multiplier mod a power of two, reduced): creation
        // times are spread 10 s apart in an order unrelated to `i`.
        let slot = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) % (self.threads as u64 * 64);
        let created = self.base + Duration::milliseconds(slot as i64 * 10_000 / 64);
        let header = RolloutItem::new(
            "session_meta",
            &json!({
                "id": id.to_string(),
                "timestamp": threadstore::layers::api::item::format_timestamp(&created),
                "cwd": cwd, "originator": "codex-tui", "cli_version": "0.118.0",
                "source": "cli", "model_provider": "openai",
                "base_instructions": {"text": "You are Codex, a coding agent based on GPT-5."},
                "git": {"commit_hash": format!("{:040x}", i), "branch": "main",
                        "repository_url": "git@github.com:example/project.git"},
            }),
        );
        let mut lines = Vec::with_capacity(self.lines_per_thread());
        lines.push(RolloutLine {
            timestamp: created,
            ordinal: None,
            item: header,
        });
        let mut at = created;
        let n = self.templates.len();
        'turns: for t in 0..n {
            for item in &self.templates[(i + t) % n].0 {
                if lines.len() >= self.lines {
                    break 'turns;
                }
                at += Duration::milliseconds(700);
                lines.push(RolloutLine {
                    timestamp: at,
                    ordinal: None,
                    item: item.clone(),
                });
            }
        }
        let preview = if self.lines > 1 {
            self.templates[i % self.templates.len()].1.clone()
        } else {
            String::new()
        };
        GenThread {
            id,
            cwd,
            created,
            updated: at,
            preview,
            lines,
        }
    }
}

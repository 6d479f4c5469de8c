//! Property tests of the turn projection and of turn/item pagination (CONTRACT.md §3).
//!
//! - "incremental == rebuild after every prefix": random item streams (explicit turns, implicit
//!   turns of old streams, the legacy format, rollbacks, reused and unknown turn ids, errors, …)
//!   are appended in random batches; after every append the stored projection (thread record, turn
//!   records, turn membership and the turn-id index) must equal a rebuild from the log.
//! - "paging returns every turn exactly once, in order": `list_turns` and `list_items` pages of
//!   random sizes, in both directions, also with appends between page reads.
//! - the worked example of §3, on both backends.
//!
//! Each property drives its async store from a proptest runner inside a multi-thread tokio test
//! (`block_in_place` + `Handle::block_on`), so shrinking works and the minimal stream is printed.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::json;
use threadstore::layers::storage::projection::classify::classify;
use threadstore::layers::storage::projection::rebuild::{rebuild, Rebuilt};
use threadstore::layers::storage::projection::turns::{self, MemTurnTable, TurnTable};
use threadstore::layers::storage::projection::At;
use threadstore::layers::storage::{Journal, LogRecord, TurnCursor};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, InMemoryThreadStore, ListItemsParams,
    ListTurnsParams, RolloutItem, RolloutLine, SledOptions, SledThreadStore, SortDirection,
    StoreConfig, StoredTurn, StoredTurnItemsView, ThreadId, ThreadStore,
};

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/// A small pool of explicit turn ids, so ids get reused.
const IDS: [&str; 4] = ["t0", "t1", "t2", "t3"];

/// Which turn a `task_complete` names.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// The id of the latest `task_started` (or no id when it had none).
    Current,
    /// An id of the pool (an earlier turn, the current one, or one never seen).
    Pool(usize),
    /// An id no turn ever has.
    Unknown,
    /// No `turn_id` field.
    Absent,
}

/// One generated item, before it is turned into a `RolloutItem`.
#[derive(Clone, Copy, Debug)]
enum Gen {
    /// `task_started` (or its alias `turn_started`), with a pool id or without `turn_id`.
    TaskStarted {
        id: Option<usize>,
        alias: bool,
    },
    /// `task_complete` (or its alias `turn_complete`).
    TaskComplete {
        target: Target,
        alias: bool,
    },
    /// `turn_aborted`, with a pool id or without.
    TurnAborted(Option<usize>),
    /// `event_msg/error`; `rollback_failed` adds `codex_error_info: thread_rollback_failed`.
    Error {
        rollback_failed: bool,
    },
    UserMessage,
    AgentMessage,
    RespUser,
    RespContextual,
    RespAssistant,
    RespReasoning,
    /// `turn_context`, with a pool id or without.
    TurnContext(Option<usize>),
    Compacted,
    TokenCount(u8),
    RolledBack(u64),
    /// `event_msg/item_completed` naming a turn, with a TurnItem: 0 UserMessage, 1 AgentMessage
    /// `final_answer`, 2 `commentary`, 3 without a phase, 4 another kind.
    Item {
        target: Target,
        kind: u8,
    },
    /// `task_complete` with an `error` (the turn failed).
    TaskFailed(Target),
    /// threadstore's `thread_reverted` naming a pool id.
    Reverted(usize),
    UnknownKind,
    UnknownEvent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Every kind of item, turn events included.
    Modern,
    /// Mostly turn structure: task events, prompts, answers and rollbacks (dense in the
    /// interactions between reused ids, targets and rollbacks).
    TurnHeavy,
    /// No task events: implicit turns opened by `event_msg/user_message`.
    Old,
    /// Pre-envelope: a legacy header, `response_item` user messages open turns.
    Legacy,
    /// Codex's paginated era: a `history_mode: "paginated"` header, items as `item_completed`.
    Paginated,
}

/// A generated thread: an optional header (the first line, given as `history` at creation; `None`
/// lets the store write its own) and the items appended after it, in batches (one `append_items`
/// call each). Batches are kept as per-item "last of its batch" marks so that shrinking a failing
/// stream by removing items keeps the batch structure around them.
#[derive(Clone)]
struct Stream {
    header: Option<RolloutItem>,
    items: Vec<RolloutItem>,
    batch_ends: Vec<bool>,
}

impl Stream {
    /// The append batches, in order (never empty).
    fn batches(&self) -> Vec<Vec<RolloutItem>> {
        let mut out = Vec::new();
        let mut current = Vec::new();
        for (item, end) in self.items.iter().zip(&self.batch_ends) {
            current.push(item.clone());
            if *end {
                out.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }
}

/// Prints the stream as its batches, one item per line as Codex JSON.
impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = |i: &RolloutItem| serde_json::to_string(i).unwrap_or_default();
        writeln!(f, "Stream {{")?;
        match &self.header {
            Some(h) => writeln!(f, "  header (history): {}", line(h))?,
            None => writeln!(f, "  header: written by the store")?,
        }
        for (n, batch) in self.batches().iter().enumerate() {
            writeln!(f, "  append #{n}:")?;
            for item in batch {
                writeln!(f, "    {}", line(item))?;
            }
        }
        write!(f, "}}")
    }
}

fn gen_strategy(mode: Mode, rollbacks: bool) -> BoxedStrategy<Gen> {
    let pool = || prop::option::of(0..IDS.len());
    let target = prop_oneof![
        3 => Just(Target::Current),
        3 => (0..IDS.len()).prop_map(Target::Pool),
        1 => Just(Target::Unknown),
        2 => Just(Target::Absent),
    ];
    let heavy = mode == Mode::TurnHeavy;
    let rb_weight: u32 = match (rollbacks, heavy) {
        (false, _) => 0,
        (true, false) => 2,
        (true, true) => 4,
    };
    let turn_events: u32 = match mode {
        Mode::Modern => 1,
        Mode::TurnHeavy | Mode::Paginated => 2,
        Mode::Old | Mode::Legacy => 0,
    };
    let paginated = mode == Mode::Paginated;
    let user_events: u32 = u32::from(!matches!(mode, Mode::Legacy | Mode::Paginated));
    let items: u32 = if paginated {
        8
    } else {
        u32::from(mode == Mode::Modern)
    };
    let targets = || {
        prop_oneof![
            3 => Just(Target::Current),
            3 => (0..IDS.len()).prop_map(Target::Pool),
            1 => Just(Target::Unknown),
            2 => Just(Target::Absent),
        ]
    };
    // Everything else is rarer in the turn-heavy mode.
    let other: u32 = if heavy { 0 } else { 1 };
    let options: Vec<(u32, BoxedStrategy<Gen>)> = vec![
        (
            5 * turn_events,
            (pool(), prop::bool::weighted(0.2))
                .prop_map(|(id, alias)| Gen::TaskStarted { id, alias })
                .boxed(),
        ),
        (
            4 * turn_events,
            (target, prop::bool::weighted(0.2))
                .prop_map(|(target, alias)| Gen::TaskComplete { target, alias })
                .boxed(),
        ),
        (1, pool().prop_map(Gen::TurnAborted).boxed()),
        (
            1 + other,
            prop::bool::ANY
                .prop_map(|rollback_failed| Gen::Error { rollback_failed })
                .boxed(),
        ),
        (5 * user_events, Just(Gen::UserMessage).boxed()),
        (4 * user_events, Just(Gen::AgentMessage).boxed()),
        (3 * other, Just(Gen::RespUser).boxed()),
        (2 * other, Just(Gen::RespContextual).boxed()),
        (1 + 2 * other, Just(Gen::RespAssistant).boxed()),
        (other, Just(Gen::RespReasoning).boxed()),
        (2, pool().prop_map(Gen::TurnContext).boxed()),
        (other, Just(Gen::Compacted).boxed()),
        (1 + other, any::<u8>().prop_map(Gen::TokenCount).boxed()),
        (rb_weight, (0u64..4).prop_map(Gen::RolledBack).boxed()),
        (
            items,
            (targets(), 0u8..5)
                .prop_map(|(target, kind)| Gen::Item { target, kind })
                .boxed(),
        ),
        (turn_events, targets().prop_map(Gen::TaskFailed).boxed()),
        (
            u32::from(rollbacks) * (1 + u32::from(paginated)),
            (0..IDS.len()).prop_map(Gen::Reverted).boxed(),
        ),
        (other, Just(Gen::UnknownKind).boxed()),
        (other, Just(Gen::UnknownEvent).boxed()),
    ];
    Union::new_weighted(
        options
            .into_iter()
            .filter(|(w, _)| *w > 0)
            .collect::<Vec<_>>(),
    )
    .boxed()
}

/// Turns generated items into rollout items. `current` is the id of the latest `task_started`.
fn materialize(gens: &[Gen], current: &mut Option<String>) -> Vec<RolloutItem> {
    let mut out = Vec::with_capacity(gens.len());
    for (i, g) in gens.iter().enumerate() {
        let item = match *g {
            Gen::TaskStarted { id, alias } => {
                let ty = if alias {
                    "turn_started"
                } else {
                    "task_started"
                };
                *current = id.map(|i| IDS[i].to_owned());
                match id {
                    Some(i) if !alias => RolloutItem::task_started(IDS[i]),
                    Some(i) => RolloutItem::event_msg(json!({"type": ty, "turn_id": IDS[i]})),
                    None => RolloutItem::event_msg(json!({"type": ty})),
                }
            }
            Gen::TaskComplete { target, alias } => {
                let ty = if alias {
                    "turn_complete"
                } else {
                    "task_complete"
                };
                let id = match target {
                    Target::Current => current.clone(),
                    Target::Pool(i) => Some(IDS[i].to_owned()),
                    Target::Unknown => Some("no-such-turn".to_owned()),
                    Target::Absent => None,
                };
                match id {
                    Some(id) if !alias => RolloutItem::task_complete(&id, Some("done")),
                    Some(id) => RolloutItem::event_msg(json!({"type": ty, "turn_id": id})),
                    None => RolloutItem::event_msg(json!({"type": ty, "last_agent_message": null})),
                }
            }
            Gen::TurnAborted(id) => RolloutItem::turn_aborted(id.map(|i| IDS[i]), "interrupted"),
            Gen::Error { rollback_failed } => {
                if rollback_failed {
                    RolloutItem::event_msg(json!({
                        "type": "error",
                        "message": "rollback failed",
                        "codex_error_info": "thread_rollback_failed"
                    }))
                } else {
                    RolloutItem::event_msg(json!({"type": "error", "message": format!("boom {i}")}))
                }
            }
            Gen::UserMessage => RolloutItem::user_message(&format!("prompt {i}")),
            Gen::AgentMessage => RolloutItem::agent_message(&format!("answer {i}")),
            Gen::RespUser => RolloutItem::message("user", &format!("legacy prompt {i}")),
            Gen::RespContextual => RolloutItem::message(
                "user",
                "<environment_context>\n<cwd>/work</cwd>\n</environment_context>",
            ),
            Gen::RespAssistant => RolloutItem::message("assistant", &format!("reply {i}")),
            Gen::RespReasoning => RolloutItem::response_item(
                json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": "hmm"}]}),
            ),
            Gen::TurnContext(id) => {
                let mut payload = json!({"model": "gpt-5", "effort": "high", "cwd": "/work"});
                if let Some(i) = id {
                    payload["turn_id"] = json!(IDS[i]);
                }
                RolloutItem::new("turn_context", &payload)
            }
            Gen::Compacted => RolloutItem::new("compacted", &json!({"message": "summary"})),
            Gen::TokenCount(n) => RolloutItem::event_msg(json!({
                "type": "token_count",
                "info": {"total_token_usage": {"input_tokens": n, "output_tokens": 1, "total_tokens": i64::from(n) + 1}}
            })),
            Gen::RolledBack(n) => {
                RolloutItem::event_msg(json!({"type": "thread_rolled_back", "num_turns": n}))
            }
            Gen::Item { target, kind } => {
                let mut payload = json!({"type": "item_completed", "thread_id": "t"});
                if let Some(id) = target_id(target, current) {
                    payload["turn_id"] = json!(id);
                }
                payload["item"] = match kind {
                    0 => json!({"type": "UserMessage", "id": format!("u{i}"),
                        "content": [{"type": "text", "text": format!("item prompt {i}")}]}),
                    1..=3 => {
                        let phase = ["final_answer", "commentary"].get(usize::from(kind - 1));
                        json!({"type": "AgentMessage", "id": format!("a{i}"),
                            "content": [{"type": "Text", "text": format!("item answer {i}")}],
                            "phase": phase})
                    }
                    _ => json!({"type": "Reasoning", "id": format!("r{i}"),
                        "summary_text": [], "raw_content": []}),
                };
                RolloutItem::event_msg(payload)
            }
            Gen::TaskFailed(target) => {
                let mut payload = json!({"type": "task_complete",
                    "error": {"message": format!("failed {i}"), "codex_error_info": "other"}});
                if let Some(id) = target_id(target, current) {
                    payload["turn_id"] = json!(id);
                }
                RolloutItem::event_msg(payload)
            }
            Gen::Reverted(n) => {
                RolloutItem::event_msg(json!({"type": "thread_reverted", "turn_id": IDS[n]}))
            }
            Gen::UnknownKind => {
                RolloutItem::new("future_kind", &json!({"x": i, "nested": {"a": [1]}}))
            }
            Gen::UnknownEvent => RolloutItem::event_msg(json!({"type": "mystery_event", "n": i})),
        };
        out.push(item);
    }
    out
}

/// The turn id a target names (`None`: no `turn_id` field).
fn target_id(target: Target, current: &Option<String>) -> Option<String> {
    match target {
        Target::Current => current.clone(),
        Target::Pool(i) => Some(IDS[i].to_owned()),
        Target::Unknown => Some("no-such-turn".to_owned()),
        Target::Absent => None,
    }
}

fn session_meta(legacy: bool) -> RolloutItem {
    let mut payload = json!({
        "id": "0199a213-81c0-7800-8aa1-bbab2a035a53",
        "timestamp": "2025-10-01T10:00:00.000Z",
        "cwd": "/work",
        "originator": "codex_cli_rs",
        "cli_version": "0.40.0",
        "source": "cli",
        "model_provider": "openai"
    });
    if legacy {
        payload["record_format"] = json!("legacy");
    }
    RolloutItem::new("session_meta", &payload)
}

fn stream_strategy(max_len: usize) -> impl Strategy<Value = Stream> {
    prop_oneof![
        3 => Just(Mode::Modern),
        2 => Just(Mode::TurnHeavy),
        1 => Just(Mode::Old),
        1 => Just(Mode::Legacy),
        2 => Just(Mode::Paginated),
    ]
    .prop_flat_map(move |mode| {
        (
            Just(mode),
            prop::bool::ANY,
            prop::collection::vec(
                (gen_strategy(mode, true), prop::bool::weighted(0.35)),
                0..max_len,
            ),
        )
    })
    .prop_map(|(mode, explicit_header, gens)| {
        let header = match mode {
            Mode::Legacy => Some(session_meta(true)),
            Mode::Paginated => {
                let mut header = session_meta(false).payload_value();
                header["history_mode"] = json!("paginated");
                Some(RolloutItem::new("session_meta", &header))
            }
            _ if explicit_header => Some(session_meta(false)),
            _ => None,
        };
        let (gens, batch_ends): (Vec<Gen>, Vec<bool>) = gens.into_iter().unzip();
        let mut current = None;
        Stream {
            header,
            items: materialize(&gens, &mut current),
            batch_ends,
        }
    })
}

/// Items appended while a reader is paging: anything but rollbacks.
fn extra_strategy(max_len: usize) -> impl Strategy<Value = Vec<RolloutItem>> {
    prop::collection::vec(gen_strategy(Mode::Modern, false), 0..max_len).prop_map(|gens| {
        // Fresh ids would be nicer for reading failures, but reused ids are part of the point.
        let mut current = None;
        materialize(&gens, &mut current)
    })
}

/// Batches appended between page reads, with the sizes given (cycled); a size of 0 means "no
/// append between these two pages".
fn schedule(items: &[RolloutItem], sizes: &[usize]) -> Vec<Vec<RolloutItem>> {
    if sizes.iter().all(|&n| n == 0) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut rest = items;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Runs an async property with proptest (shrinking included) on the current multi-thread runtime.
fn run_property<S, F, Fut>(cases: u32, strategy: S, test: F)
where
    S: Strategy,
    F: Fn(S::Value) -> Fut,
    Fut: Future<Output = Result<(), TestCaseError>>,
{
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    });
    let result =
        tokio::task::block_in_place(|| runner.run(&strategy, |v| handle.block_on(test(v))));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("property failed: {reason}\nminimal failing input: {value:#?}")
        }
        Err(e) => panic!("{e}"),
    }
}

/// A fresh store of either backend (sled lives in the returned temp dir).
enum Backend {
    Memory,
    Sled,
}

struct Store {
    store: Arc<dyn ThreadStore>,
    journal: Arc<dyn Journal>,
    _dir: Option<tempfile::TempDir>,
}

async fn open(backend: &Backend) -> Store {
    match backend {
        Backend::Memory => {
            let s = Arc::new(InMemoryThreadStore::default());
            let journal = s.actor_store().journal().clone();
            Store {
                store: s,
                journal,
                _dir: None,
            }
        }
        Backend::Sled => {
            let dir = tempfile::tempdir().unwrap();
            let s = SledThreadStore::builder(dir.path())
                .config(StoreConfig {
                    durability: Durability::Buffered,
                    ..Default::default()
                })
                .sled_options(SledOptions {
                    cache_bytes: 8 * 1024 * 1024,
                    flush_every_ms: None,
                    ..Default::default()
                })
                .open()
                .await
                .unwrap();
            let journal = s.actor_store().journal().clone();
            Store {
                store: Arc::new(s),
                journal,
                _dir: Some(dir),
            }
        }
    }
}

/// Creates the thread with the stream's header (or the store's own).
async fn create(store: &dyn ThreadStore, header: &Option<RolloutItem>) -> ThreadId {
    let history = header
        .iter()
        .cloned()
        .map(RolloutLine::now)
        .collect::<Vec<_>>();
    store
        .create_thread(CreateThreadParams {
            history,
            ..Default::default()
        })
        .await
        .unwrap()
        .thread_id
}

async fn append(store: &dyn ThreadStore, id: ThreadId, items: Vec<RolloutItem>) {
    let n = items.len() as u64;
    let r = store
        .append_items(AppendThreadItemsParams::new(id, items))
        .await
        .unwrap();
    assert_eq!(r.item_count, n);
}

async fn log_of(journal: &dyn Journal, id: ThreadId) -> Vec<(u64, LogRecord)> {
    journal
        .log_range(id, 0, u64::MAX, SortDirection::Asc, usize::MAX)
        .await
        .unwrap()
}

/// The turn table a rebuild derives (for the turn-id index, which `Rebuilt` does not expose).
fn reference_table(log: &[(u64, LogRecord)]) -> MemTurnTable {
    let mut cursor = TurnCursor::default();
    let mut table = MemTurnTable::default();
    for (pos, r) in log {
        turns::apply(
            &mut cursor,
            &mut table,
            At::of(r, *pos),
            &classify(&r.kind, &r.payload),
        );
    }
    table
}

/// Compares every stored projection of `id` with a rebuild from its log.
async fn check_projection(
    journal: &dyn Journal,
    id: ThreadId,
    step: &str,
) -> Result<Rebuilt, TestCaseError> {
    let log = log_of(journal, id).await;
    for (i, (pos, _)) in log.iter().enumerate() {
        prop_assert_eq!(*pos, i as u64, "log is not dense ({})", step);
    }
    let mut rebuilt = rebuild(log.iter().map(|(_, r)| r));
    let stored = journal.thread(id).await.unwrap().expect("thread record");
    prop_assert_eq!(
        stored.next_position,
        rebuilt.next_position,
        "next_position ({})",
        step
    );
    prop_assert_eq!(&stored.turns, &rebuilt.cursor, "turn cursor ({})", step);
    rebuilt
        .meta
        .rollout_path
        .clone_from(&stored.meta.rollout_path);
    prop_assert_eq!(&stored.meta, &rebuilt.meta, "thread metadata ({})", step);

    let stored_turns = journal
        .turn_range(id, 0, u64::MAX, SortDirection::Asc, usize::MAX)
        .await
        .unwrap();
    let expected: Vec<_> = rebuilt.turns.values().cloned().collect();
    prop_assert_eq!(&stored_turns, &expected, "turn records ({})", step);

    for seq in 0..rebuilt.cursor.next_seq {
        let members = journal
            .turn_members(id, seq, 0, u64::MAX, SortDirection::Asc, usize::MAX)
            .await
            .unwrap();
        let expected = rebuilt.members.get(&seq).cloned().unwrap_or_default();
        prop_assert_eq!(members, expected, "members of turn seq {} ({})", seq, step);
    }

    // The item view (`V` keys) of a paginated thread.
    let view: Vec<(u64, u64)> = journal
        .thread_item_page(id, 0, u64::MAX, SortDirection::Asc, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|(pos, seq, _)| (pos, seq))
        .collect();
    prop_assert_eq!(view, rebuilt.item_view(), "item view ({})", step);

    // The turn-id index (`N` keys) is a projection too: it must answer like the rebuilt table.
    let table = reference_table(&log);
    let mut names: Vec<String> = IDS.iter().map(|s| (*s).to_owned()).collect();
    names.extend(rebuilt.turns.values().map(|t| t.turn_id.clone()));
    names.push("no-such-turn".to_owned());
    names.sort();
    names.dedup();
    for name in &names {
        let stored_seq = journal.find_turn(id, name).await.unwrap();
        prop_assert_eq!(
            stored_seq,
            table.find(name),
            "turn-id index entry for {:?} ({})",
            name,
            step
        );
    }
    Ok(rebuilt)
}

/// What a rebuild derives from the thread's log (the reference the page properties compare with).
async fn rebuilt_of(journal: &dyn Journal, id: ThreadId) -> Rebuilt {
    let log = log_of(journal, id).await;
    rebuild(log.iter().map(|(_, r)| r))
}

// ---------------------------------------------------------------------------------------------
// b. incremental == rebuild after every prefix
// ---------------------------------------------------------------------------------------------

async fn incremental_case(backend: &Backend, stream: Stream) -> Result<(), TestCaseError> {
    let s = open(backend).await;
    let id = create(s.store.as_ref(), &stream.header).await;
    check_projection(s.journal.as_ref(), id, "after create").await?;
    let mut appended = 0;
    for batch in stream.batches() {
        appended += batch.len();
        append(s.store.as_ref(), id, batch).await;
        let step = format!("after appending items 0..{appended}");
        check_projection(s.journal.as_ref(), id, &step).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_equals_rebuild_after_every_prefix_in_memory() {
    run_property(1000, stream_strategy(48), |stream| async move {
        incremental_case(&Backend::Memory, stream).await
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_equals_rebuild_after_every_prefix_on_sled() {
    run_property(200, stream_strategy(40), |stream| async move {
        incremental_case(&Backend::Sled, stream).await
    });
}

// ---------------------------------------------------------------------------------------------
// c. paging returns every turn exactly once, in order
// ---------------------------------------------------------------------------------------------

/// Pages through `list_turns` to the end; appends the next batch of `extra` after each page that
/// has a successor.
async fn page_turns(
    store: &dyn ThreadStore,
    id: ThreadId,
    dir: SortDirection,
    view: StoredTurnItemsView,
    sizes: &[usize],
    extra: &mut VecDeque<Vec<RolloutItem>>,
) -> Result<Vec<StoredTurn>, TestCaseError> {
    let mut out: Vec<StoredTurn> = Vec::new();
    let mut cursor = None;
    for page_no in 0.. {
        prop_assert!(page_no < 10_000, "paging does not terminate");
        let size = sizes[page_no % sizes.len()];
        let page = store
            .list_turns(ListTurnsParams {
                cursor: cursor.take(),
                page_size: size,
                sort_direction: dir,
                items_view: view,
                ..ListTurnsParams::new(id)
            })
            .await
            .unwrap();
        prop_assert!(page.turns.len() <= size, "page over its size");
        prop_assert_eq!(page.backwards_cursor.is_some(), !page.turns.is_empty());
        if page_no > 0 {
            prop_assert!(!page.turns.is_empty(), "a next_cursor led to an empty page");
        }
        out.extend(page.turns);
        match page.next_cursor {
            None => break,
            Some(c) => cursor = Some(c),
        }
        if let Some(batch) = extra.pop_front() {
            if !batch.is_empty() {
                append(store, id, batch).await;
            }
        }
    }
    Ok(out)
}

/// Pages through `list_items` over the whole thread; returns the positions.
async fn page_items(
    store: &dyn ThreadStore,
    id: ThreadId,
    dir: SortDirection,
    sizes: &[usize],
    extra: &mut VecDeque<Vec<RolloutItem>>,
) -> Result<Vec<u64>, TestCaseError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for page_no in 0.. {
        prop_assert!(page_no < 10_000, "paging does not terminate");
        let size = sizes[page_no % sizes.len()];
        let page = store
            .list_items(ListItemsParams {
                cursor: cursor.take(),
                page_size: size,
                sort_direction: dir,
                ..ListItemsParams::new(id)
            })
            .await
            .unwrap();
        prop_assert!(page.items.len() <= size, "page over its size");
        prop_assert_eq!(page.backwards_cursor.is_some(), !page.items.is_empty());
        if page_no > 0 {
            prop_assert!(!page.items.is_empty(), "a next_cursor led to an empty page");
        }
        out.extend(page.items.iter().map(|i| i.position));
        match page.next_cursor {
            None => break,
            Some(c) => cursor = Some(c),
        }
        if let Some(batch) = extra.pop_front() {
            if !batch.is_empty() {
                append(store, id, batch).await;
            }
        }
    }
    Ok(out)
}

fn ids(turns: &[StoredTurn]) -> Vec<String> {
    turns.iter().map(|t| t.turn_id.clone()).collect()
}

async fn build(s: &Store, stream: &Stream) -> ThreadId {
    let id = create(s.store.as_ref(), &stream.header).await;
    for batch in stream.batches() {
        append(s.store.as_ref(), id, batch).await;
    }
    id
}

async fn paging_case(stream: Stream, page_sizes: Vec<usize>) -> Result<(), TestCaseError> {
    let s = open(&Backend::Memory).await;
    let id = build(&s, &stream).await;
    let rebuilt = rebuilt_of(s.journal.as_ref(), id).await;
    let store = s.store.as_ref();
    let none = &mut VecDeque::new();

    let asc_expected: Vec<String> = rebuilt.turns.values().map(|t| t.turn_id.clone()).collect();
    let mut desc_expected = asc_expected.clone();
    desc_expected.reverse();

    let desc = page_turns(
        store,
        id,
        SortDirection::Desc,
        StoredTurnItemsView::NotLoaded,
        &page_sizes,
        none,
    )
    .await?;
    prop_assert_eq!(ids(&desc), desc_expected.clone(), "desc turn pages");
    let asc = page_turns(
        store,
        id,
        SortDirection::Asc,
        StoredTurnItemsView::NotLoaded,
        &page_sizes,
        none,
    )
    .await?;
    prop_assert_eq!(ids(&asc), asc_expected.clone(), "asc turn pages");
    for (t, r) in asc.iter().zip(rebuilt.turns.values()) {
        prop_assert_eq!(t.status, r.status, "status of {}", &t.turn_id);
        prop_assert_eq!(t.item_count, r.item_count, "item_count of {}", &t.turn_id);
        prop_assert!(t.items.is_empty(), "notLoaded carries items");
    }

    // Full and summary views carry the right positions.
    let full = page_turns(
        store,
        id,
        SortDirection::Asc,
        StoredTurnItemsView::Full,
        &page_sizes,
        none,
    )
    .await?;
    prop_assert_eq!(ids(&full), asc_expected.clone(), "asc full pages");
    for (t, r) in full.iter().zip(rebuilt.turns.values()) {
        let got: Vec<u64> = t.items.iter().map(|i| i.position).collect();
        let want = rebuilt.members.get(&r.seq).cloned().unwrap_or_default();
        prop_assert_eq!(got, want, "full items of {}", &t.turn_id);
    }
    let summary = page_turns(
        store,
        id,
        SortDirection::Desc,
        StoredTurnItemsView::Summary,
        &page_sizes,
        none,
    )
    .await?;
    prop_assert_eq!(ids(&summary), desc_expected, "desc summary pages");
    for (t, r) in summary.iter().zip(rebuilt.turns.values().rev()) {
        let got: Vec<u64> = t.items.iter().map(|i| i.position).collect();
        let want = r.summary_positions();
        prop_assert_eq!(got, want, "summary items of {}", &t.turn_id);
    }

    let visible = visible_positions(&rebuilt.cursor, rebuilt.next_position);
    let asc_items = page_items(store, id, SortDirection::Asc, &page_sizes, none).await?;
    prop_assert_eq!(&asc_items, &visible, "asc item pages");
    let desc_items = page_items(store, id, SortDirection::Desc, &page_sizes, none).await?;
    let mut desc = visible.clone();
    desc.reverse();
    prop_assert_eq!(desc_items, desc, "desc item pages");
    if rebuilt.cursor.mode.is_paginated() {
        // Codex's item view: the item view entries, each once, in order, in both directions.
        let want: Vec<u64> = rebuilt.item_view().iter().map(|(p, _)| *p).collect();
        let got = page_thread_items(store, id, SortDirection::Asc, &page_sizes).await?;
        prop_assert_eq!(&got, &want, "asc item view pages");
        let got = page_thread_items(store, id, SortDirection::Desc, &page_sizes).await?;
        let mut want = want;
        want.reverse();
        prop_assert_eq!(got, want, "desc item view pages");
    }
    Ok(())
}

/// Positions `0..n` outside the thread's reverted ranges.
fn visible_positions(cursor: &TurnCursor, n: u64) -> Vec<u64> {
    cursor
        .visible_ranges(0, n)
        .into_iter()
        .flat_map(|(from, to)| from..to)
        .collect()
}

/// Every position of Codex's item view, paged with the given sizes (cycled).
async fn page_thread_items(
    store: &dyn ThreadStore,
    id: ThreadId,
    dir: SortDirection,
    sizes: &[usize],
) -> Result<Vec<u64>, TestCaseError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for i in 0..10_000 {
        let page = store
            .list_thread_items(ListItemsParams {
                cursor,
                page_size: sizes[i % sizes.len()],
                sort_direction: dir,
                ..ListItemsParams::new(id)
            })
            .await
            .map_err(|e| TestCaseError::fail(format!("list_thread_items: {e}")))?;
        out.extend(page.items.iter().map(|i| i.position));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
    Err(TestCaseError::fail("item view paging did not end"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_return_every_turn_and_item_exactly_once_in_order() {
    run_property(
        160,
        (stream_strategy(48), prop::collection::vec(1usize..=7, 1..8)),
        |(stream, page_sizes)| async move { paging_case(stream, page_sizes).await },
    );
}

async fn concurrent_paging_case(
    stream: Stream,
    page_sizes: Vec<usize>,
    extra: Vec<RolloutItem>,
    extra_sizes: Vec<usize>,
) -> Result<(), TestCaseError> {
    let s = open(&Backend::Memory).await;
    let store = s.store.as_ref();
    let extra_batches = schedule(&extra, &extra_sizes);

    // Turns, ascending: turns appended meanwhile show up at the end, nothing twice, nothing lost.
    let id = build(&s, &stream).await;
    let mut pending: VecDeque<_> = extra_batches.iter().cloned().collect();
    let asc = page_turns(
        store,
        id,
        SortDirection::Asc,
        StoredTurnItemsView::NotLoaded,
        &page_sizes,
        &mut pending,
    )
    .await?;
    let after = rebuilt_of(s.journal.as_ref(), id).await;
    let want: Vec<String> = after.turns.values().map(|t| t.turn_id.clone()).collect();
    prop_assert_eq!(ids(&asc), want, "asc turn pages with appends in between");

    // Turns, descending: exactly the turns that existed when paging started.
    let id = build(&s, &stream).await;
    let before = rebuilt_of(s.journal.as_ref(), id).await;
    let mut pending: VecDeque<_> = extra_batches.iter().cloned().collect();
    let desc = page_turns(
        store,
        id,
        SortDirection::Desc,
        StoredTurnItemsView::NotLoaded,
        &page_sizes,
        &mut pending,
    )
    .await?;
    let want: Vec<String> = before
        .turns
        .values()
        .rev()
        .map(|t| t.turn_id.clone())
        .collect();
    prop_assert_eq!(ids(&desc), want, "desc turn pages with appends in between");

    // Items, ascending: every position exactly once, dense, including the appended ones.
    let id = build(&s, &stream).await;
    let mut pending: VecDeque<_> = extra_batches.iter().cloned().collect();
    let asc = page_items(store, id, SortDirection::Asc, &page_sizes, &mut pending).await?;
    let after = rebuilt_of(s.journal.as_ref(), id).await;
    prop_assert_eq!(
        asc,
        visible_positions(&after.cursor, after.next_position),
        "asc item pages with appends in between"
    );

    // Items, descending: the positions that existed when paging started.
    let id = build(&s, &stream).await;
    let record = s.journal.thread(id).await.unwrap().unwrap();
    let mut want = visible_positions(&record.turns, record.next_position);
    want.reverse();
    let mut pending: VecDeque<_> = extra_batches.iter().cloned().collect();
    let desc = page_items(store, id, SortDirection::Desc, &page_sizes, &mut pending).await?;
    prop_assert_eq!(desc, want, "desc item pages with appends in between");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_stable_under_appends_between_reads() {
    run_property(
        128,
        (
            stream_strategy(40),
            prop::collection::vec(1usize..=7, 1..8),
            extra_strategy(40),
            prop::collection::vec(0usize..=5, 1..12),
        ),
        |(stream, page_sizes, extra, extra_sizes)| async move {
            concurrent_paging_case(stream, page_sizes, extra, extra_sizes).await
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Regression: a turn id reused, then rolled back (found by the properties above)
// ---------------------------------------------------------------------------------------------

/// Two turns share the id `t1`; rolling back the newer one leaves the older one visible. The
/// rebuild then no longer resolves `t1` (its id map entry went with the rolled-back turn), but
/// the incremental path still does, so a later `task_complete t1` completes different turns.
/// Each batch list is appended to a fresh thread, and the projection is checked after each batch.
async fn reused_turn_id_after_rollback(backend: Backend) {
    let s = open(&backend).await;
    let store = s.store.as_ref();
    let rollback = || RolloutItem::event_msg(json!({"type": "thread_rolled_back", "num_turns": 1}));
    let scenarios: Vec<Vec<Vec<RolloutItem>>> = vec![
        // Rollback in the batch that opened both turns.
        vec![
            vec![
                RolloutItem::task_started("t1"),
                RolloutItem::task_started("t1"),
                rollback(),
            ],
            vec![
                RolloutItem::task_started("t2"),
                RolloutItem::task_complete("t1", None),
            ],
        ],
        // Rollback in a batch of its own.
        vec![
            vec![
                RolloutItem::task_started("t1"),
                RolloutItem::task_started("t1"),
            ],
            vec![rollback()],
            vec![
                RolloutItem::task_started("t2"),
                RolloutItem::task_complete("t1", None),
            ],
        ],
    ];
    let mut failures = Vec::new();
    for (n, batches) in scenarios.into_iter().enumerate() {
        let id = create(store, &None).await;
        for (i, batch) in batches.into_iter().enumerate() {
            append(store, id, batch).await;
            let step = format!("scenario {n}, after batch {i}");
            if let Err(e) = check_projection(s.journal.as_ref(), id, &step).await {
                failures.push(e.to_string());
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_turn_id_after_rollback_matches_rebuild_in_memory() {
    reused_turn_id_after_rollback(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_turn_id_after_rollback_matches_rebuild_on_sled() {
    reused_turn_id_after_rollback(Backend::Sled).await;
}

// ---------------------------------------------------------------------------------------------
// d. the worked example of CONTRACT.md §3
// ---------------------------------------------------------------------------------------------

fn explicit_turn(id: &str) -> Vec<RolloutItem> {
    vec![
        RolloutItem::task_started(id),
        RolloutItem::user_message(&format!("{id} prompt")),
        RolloutItem::agent_message(&format!("{id} answer")),
        RolloutItem::task_complete(id, Some("done")),
    ]
}

async fn worked_example(backend: Backend) {
    let s = open(&backend).await;
    let store = s.store.as_ref();
    let id = create(store, &None).await;
    for t in ["first", "second", "third"] {
        append(store, id, explicit_turn(t)).await;
    }
    let params = |cursor: Option<String>, dir: SortDirection, page_size: usize| ListTurnsParams {
        cursor,
        page_size,
        sort_direction: dir,
        ..ListTurnsParams::new(id)
    };

    let p1 = store
        .list_turns(params(None, SortDirection::Desc, 2))
        .await
        .unwrap();
    assert_eq!(ids(&p1.turns), ["third", "second"]);
    let next = p1
        .next_cursor
        .clone()
        .expect("next_cursor on the first page");
    let back = p1
        .backwards_cursor
        .clone()
        .expect("backwards_cursor on the first page");

    let p2 = store
        .list_turns(params(Some(next), SortDirection::Desc, 2))
        .await
        .unwrap();
    assert_eq!(ids(&p2.turns), ["first"]);
    assert_eq!(p2.next_cursor, None, "no more turns after the first");
    assert!(p2.backwards_cursor.is_some());

    append(store, id, explicit_turn("fourth")).await;

    let p3 = store
        .list_turns(params(Some(back.clone()), SortDirection::Asc, 2))
        .await
        .unwrap();
    assert_eq!(ids(&p3.turns), ["third", "fourth"]);
    assert_eq!(p3.next_cursor, None);
    // With the default page size too.
    let p3 = store
        .list_turns(params(Some(back.clone()), SortDirection::Asc, 0))
        .await
        .unwrap();
    assert_eq!(ids(&p3.turns), ["third", "fourth"]);
    assert_eq!(p3.next_cursor, None);
    // The summary view carries the first user message and the last agent message.
    let third = &p3.turns[0];
    assert_eq!(third.items.len(), 2);
    assert_eq!(
        third.items[0].line.item.payload_value()["message"],
        "third prompt"
    );
    assert_eq!(
        third.items[1].line.item.payload_value()["message"],
        "third answer"
    );
    assert_eq!(third.status, threadstore::StoredTurnStatus::Completed);

    // The backwards cursor is bound to the opposite direction.
    let err = store
        .list_turns(params(Some(back), SortDirection::Desc, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, threadstore::ThreadStoreError::InvalidRequest { .. }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_in_memory() {
    worked_example(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_on_sled() {
    worked_example(Backend::Sled).await;
}

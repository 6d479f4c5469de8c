//! Turns of the real Codex rollouts in `shared/fixtures/codex/` (see `SOURCES.md` there), imported
//! through the library API (`threadstore::codex::import_file`) and listed with `list_turns`.
//!
//! The expectations below were worked out by hand from the raw files (line numbers are 1-based
//! lines of the file), applying CONTRACT.md §3, not by running the store:
//! - E3 files: `event_msg/task_started` opens an explicit turn with its `turn_id` (inProgress);
//!   `task_complete` completes it, `turn_aborted` interrupts it.
//! - E1/E2 files: each `event_msg/user_message` opens an implicit turn `rollout-<position>`,
//!   completed unless a `turn_aborted` (these carry no `turn_id`) hits it while it is open.
//! - E0 (legacy) file: a non-contextual `response_item` user message opens the implicit turn.
//! - Position: for enveloped files a line's position is its line number minus one; for E0, the
//!   header is position 0 and `record_type` lines are dropped (see the E0 fixture).
//! - Summary view: the turn's first user message (`user_message` event or non-contextual
//!   `response_item` user message) and its last agent message (`agent_message` event or
//!   `response_item` assistant message), in log order. Texts are compared by prefix (the first
//!   40 characters), positions exactly.
//!
//! The fixture files stay outside the project; without `../shared/fixtures/codex` every test here
//! prints why and passes, except in CI (`CI` set), where that is a failure
//! (`threadstore_tests::fixtures`).

use std::path::PathBuf;

use threadstore::codex::import::{import_file, ImportOptions};
use threadstore::StoredTurnStatus::{self, Completed, Failed, InProgress, Interrupted};
use threadstore::{
    InMemoryThreadStore, ListTurnsParams, ReadThreadParams, SortDirection, StoredItem, StoredTurn,
    StoredTurnItemsView, ThreadId, ThreadStore,
};

/// Number of turns per status.
#[derive(Debug, Default, PartialEq, Eq)]
struct StatusCounts {
    completed: usize,
    interrupted: usize,
    in_progress: usize,
    failed: usize,
}

/// Expected summary of one turn: `(position, text prefix)` of its first user message and of its
/// last agent message (`None` when the turn has none).
struct Summary {
    turn: usize,
    user: Option<(u64, &'static str)>,
    agent: Option<(u64, &'static str)>,
}

/// What a fixture's turns must look like.
struct Fixture {
    /// File name in `shared/fixtures/codex`.
    file: &'static str,
    /// Number of turns.
    turns: usize,
    /// Turns per status (consistent with `not_completed`).
    counts: StatusCounts,
    /// Every turn whose status is not `completed`: `(index, turn id, status)`. All other turns
    /// must be `completed`, so this fixes the whole status sequence.
    not_completed: &'static [(usize, &'static str, StoredTurnStatus)],
    /// `(index, turn id)` of the turns checked by id.
    ids: &'static [(usize, &'static str)],
    /// Summary items of the turns checked by content.
    summaries: &'static [Summary],
}

/// `../shared/fixtures/codex`; `None` (skip) when missing outside CI, a failure in CI (see
/// `threadstore_tests::fixtures`).
fn fixtures_dir() -> Option<PathBuf> {
    threadstore_tests::fixtures::codex_dir()
}

/// Every turn of the thread, oldest first, read in pages of 200 with summary items.
async fn all_turns(store: &dyn ThreadStore, thread_id: ThreadId) -> Vec<StoredTurn> {
    let mut turns = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_turns(ListTurnsParams {
                thread_id,
                include_archived: true,
                cursor,
                page_size: 200,
                sort_direction: SortDirection::Asc,
                items_view: StoredTurnItemsView::Summary,
            })
            .await
            .unwrap();
        turns.extend(page.turns);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return turns,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Role {
    User,
    Agent,
    Other,
}

/// Who wrote a summary item and its text, read from the stored payload.
fn role_and_text(item: &StoredItem) -> (Role, String) {
    let payload = item.line.item.payload_value();
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    match item.line.item.kind() {
        "event_msg" => match payload["type"].as_str() {
            Some("user_message") => (Role::User, str_of(&payload["message"])),
            Some("agent_message") => (Role::Agent, str_of(&payload["message"])),
            _ => (Role::Other, String::new()),
        },
        "response_item" if payload["type"] == "message" => {
            let text = payload["content"]
                .as_array()
                .and_then(|parts| parts.iter().find_map(|p| p["text"].as_str()))
                .unwrap_or_default()
                .to_owned();
            match payload["role"].as_str() {
                Some("user") => (Role::User, text),
                Some("assistant") => (Role::Agent, text),
                _ => (Role::Other, text),
            }
        }
        _ => (Role::Other, String::new()),
    }
}

fn counts(statuses: &[StoredTurnStatus]) -> StatusCounts {
    let mut c = StatusCounts::default();
    for s in statuses {
        match s {
            Completed => c.completed += 1,
            Interrupted => c.interrupted += 1,
            InProgress => c.in_progress += 1,
            Failed => c.failed += 1,
        }
    }
    c
}

async fn check(fx: &Fixture) {
    let Some(dir) = fixtures_dir() else { return };
    let path = dir.join(fx.file);
    let name = fx.file;

    // The expectation itself must be consistent: the counts follow from `not_completed`.
    let mut expected = vec![Completed; fx.turns];
    for &(index, _, status) in fx.not_completed {
        expected[index] = status;
    }
    assert_eq!(counts(&expected), fx.counts, "{name}: expectation");

    let store = InMemoryThreadStore::default();
    let report = import_file(&store, &path, &ImportOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: import failed: {e}"));
    assert!(report.skipped.is_empty(), "{name}: {:?}", report.skipped);

    let turns = all_turns(&store, report.thread_id).await;
    assert_eq!(turns.len(), fx.turns, "{name}: turn count");
    let thread = store
        .read_thread(ReadThreadParams {
            thread_id: report.thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .unwrap();
    assert_eq!(
        thread.turn_count, fx.turns as u64,
        "{name}: thread turn_count"
    );

    let statuses: Vec<StoredTurnStatus> = turns.iter().map(|t| t.status).collect();
    assert_eq!(counts(&statuses), fx.counts, "{name}: status counts");
    for (index, (got, want)) in statuses.iter().zip(&expected).enumerate() {
        assert_eq!(
            got, want,
            "{name}: status of turn {index} ({})",
            turns[index].turn_id
        );
    }
    for &(index, id, _) in fx.not_completed {
        assert_eq!(turns[index].turn_id, id, "{name}: id of turn {index}");
    }
    for &(index, id) in fx.ids {
        assert_eq!(turns[index].turn_id, id, "{name}: id of turn {index}");
    }

    for s in fx.summaries {
        let turn = &turns[s.turn];
        let at = format!("{name}: summary of turn {} ({})", s.turn, turn.turn_id);
        assert_eq!(turn.items_view, StoredTurnItemsView::Summary, "{at}");
        let mut want: Vec<(u64, &str, Role)> = Vec::new();
        if let Some((position, prefix)) = s.user {
            want.push((position, prefix, Role::User));
        }
        if let Some((position, prefix)) = s.agent {
            want.push((position, prefix, Role::Agent));
        }
        want.sort_by_key(|w| w.0);
        let got: Vec<(u64, Role, String)> = turn
            .items
            .iter()
            .map(|item| {
                let (role, text) = role_and_text(item);
                (item.position, role, text)
            })
            .collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{at}: item count; got {:?}",
            got.iter()
                .map(|(p, r, t)| format!("{p} {r:?} {:?}", t.chars().take(40).collect::<String>()))
                .collect::<Vec<_>>()
        );
        for ((position, role, text), (want_position, prefix, want_role)) in got.iter().zip(&want) {
            assert_eq!(position, want_position, "{at}: position");
            assert_eq!(role, want_role, "{at}: role of item {position}");
            assert!(
                text.starts_with(prefix),
                "{at}: item {position} text {:?} does not start with {prefix:?}",
                text.chars().take(60).collect::<String>()
            );
        }
    }
}

#[test]
fn every_fixture_file_has_expectations() {
    let Some(dir) = fixtures_dir() else { return };
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    on_disk.sort();
    let mut covered: Vec<String> = ALL.iter().map(|f| f.file.to_owned()).collect();
    covered.sort();
    assert_eq!(on_disk, covered);
}

#[tokio::test]
async fn legacy_e0_turns() {
    check(&LEGACY_E0).await;
}

#[tokio::test]
async fn v0_34_e1_turns() {
    check(&V0_34_E1).await;
}

#[tokio::test]
async fn v0_58_e2_aborted_turns() {
    check(&V0_58_E2).await;
}

#[tokio::test]
async fn v0_64_e2_compacted_turns() {
    check(&V0_64_E2).await;
}

#[tokio::test]
async fn v0_66_e2_turns() {
    check(&V0_66_E2).await;
}

#[tokio::test]
async fn v0_69_e2_exec_turns() {
    check(&V0_69_E2).await;
}

#[tokio::test]
async fn v0_70_e2_vscode_turns() {
    check(&V0_70_E2).await;
}

#[tokio::test]
async fn v0_0_0_e2_aborted_turn() {
    check(&V0_0_0_E2).await;
}

#[tokio::test]
async fn v0_105_e3_turns() {
    check(&V0_105_E3).await;
}

#[tokio::test]
async fn v0_118_e3_turns() {
    check(&V0_118_E3).await;
}

#[tokio::test]
async fn v0_142_e3_turns() {
    check(&V0_142_E3).await;
}

// ---------------------------------------------------------------------------------------------
// Expectations, derived by hand from each file (see the module docs).
// ---------------------------------------------------------------------------------------------

/// `legacy-2025-08-record-type-pre-envelope.jsonl`.
///
/// E0 legacy: no envelopes, no event_msg. The importer turns the header (line 1) into a `session_meta`
/// at position 0 and drops the 170 `{"record_type":"state"}` lines, so a line's position is the
/// number of kept lines before it (line 3 is position 1, line 5 position 2, …). The 33 bare
/// `message` lines include 15 `role: user`: line 3 is `<environment_context>` (contextual, joins
/// the preamble); the other 14 (lines 5, 10, 62, 72, 81, 87, 90, 96, 102, 184, 202, 208, 257,
/// 273) each open an implicit turn `rollout-<position>`. No abort event exists in E0, so all 14
/// turns are completed. Turns 0 (line 5, next prompt at line 10), 5 (line 87, next at 90),
/// 9 (line 184, next at 202) and 12 (line 257, next at 273) hold no assistant message. The last
/// assistant message of turn 11 (line 255) is text that looks like a tool call, still a message.
const LEGACY_E0: Fixture = Fixture {
    file: "legacy-2025-08-record-type-pre-envelope.jsonl",
    turns: 14,
    counts: StatusCounts {
        completed: 14,
        interrupted: 0,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[],
    ids: &[
        (0, "rollout-2"),
        (1, "rollout-4"),
        (2, "rollout-33"),
        (3, "rollout-38"),
        (4, "rollout-42"),
        (5, "rollout-45"),
        (6, "rollout-46"),
        (7, "rollout-49"),
        (8, "rollout-52"),
        (9, "rollout-97"),
        (10, "rollout-107"),
        (11, "rollout-110"),
        (12, "rollout-136"),
        (13, "rollout-144"),
    ],
    summaries: &[
        // turn 0: user line 5 response_item user message; no agent message
        Summary {
            turn: 0,
            user: Some((2, "Can you please create a lab for running ")),
            agent: None,
        },
        // turn 1: user line 10 response_item user message; agent line 60 response_item assistant message
        Summary {
            turn: 1,
            user: Some((4, "determine all tests needed")),
            agent: Some((32, "I created two new markdown files:\n\n- `do")),
        },
        // turn 2: user line 62 response_item user message; agent line 70 response_item assistant message
        Summary {
            turn: 2,
            user: Some((33, "Please make sure that the orchestrator c")),
            agent: Some((37, "I’ve expanded the documentation so the o")),
        },
        // turn 3: user line 72 response_item user message; agent line 79 response_item assistant message
        Summary {
            turn: 3,
            user: Some((38, "can you determine if there are any other")),
            agent: Some((41, "### New Documentation Framework  \n\n| Fil")),
        },
        // turn 4: user line 81 response_item user message; agent line 85 response_item assistant message
        Summary {
            turn: 4,
            user: Some((42, "yes please, determine how to setup the f")),
            agent: Some((44, "## How to Spin Up the Orchestrator Frame")),
        },
        // turn 5: user line 87 response_item user message; no agent message
        Summary {
            turn: 5,
            user: Some((45, "can you document all the relevant inform")),
            agent: None,
        },
        // turn 6: user line 90 response_item user message; agent line 94 response_item assistant message
        Summary {
            turn: 6,
            user: Some((46, "can you document all the relevant inform")),
            agent: Some((48, "**Ocodex Labs – Complete Documentation P")),
        },
        // turn 7: user line 96 response_item user message; agent line 100 response_item assistant message
        Summary {
            turn: 7,
            user: Some((49, "determine file name and also the docs wh")),
            agent: Some((51, "**File Map – Where the 11 policy docs li")),
        },
        // turn 8: user line 102 response_item user message; agent line 182 response_item assistant message
        Summary {
            turn: 8,
            user: Some((52, "please start working on the overall goal")),
            agent: Some((96, "**Docs created**\n\n| File | Purpose |\n|--")),
        },
        // turn 9: user line 184 response_item user message; no agent message
        Summary {
            turn: 9,
            user: Some((97, "allow for ocodex-labs to run as a fully ")),
            agent: None,
        },
        // turn 10: user line 202 response_item user message; agent line 206 response_item assistant message
        Summary {
            turn: 10,
            user: Some((107, "determine file name")),
            agent: Some((109, "**File‑name strategy**\n\n| Component | Su")),
        },
        // turn 11: user line 208 response_item user message; agent line 255 response_item assistant message
        Summary {
            turn: 11,
            user: Some((110, "all of the above")),
            agent: Some((135, "{\"command\":[\"bash\",\"-lc\",\"cargo check\"],")),
        },
        // turn 12: user line 257 response_item user message; no agent message
        Summary {
            turn: 12,
            user: Some((136, "allow for the ocodex repo and or binary ")),
            agent: None,
        },
        // turn 13: user line 273 response_item user message; agent line 365 response_item assistant message
        Summary {
            turn: 13,
            user: Some((144, "allow the orchestrator to run ocodex bin")),
            agent: Some((194, " It's missing. We'll need to vendor with")),
        },
    ],
};

/// `v0.34-envelope-no-turn-context.jsonl`.
///
/// E1: no `turn_context`, no task events, no `turn_aborted`. 52 `event_msg/user_message` lines
/// (4, 135, 186, 202, 235, 251, …, 1267, 1333, 1354) each open an implicit turn
/// `rollout-<line - 1>`; all 52 completed. Line 2 is a contextual `<environment_context>` user
/// message before the first turn (preamble). Each prompt's `response_item` user copy comes one
/// line before its `user_message` event, so it trails the previous turn and never changes its
/// first user message. Turn 30 ("yes to all", line 888) has no answer: the next prompt
/// ("continue") is at line 890.
const V0_34_E1: Fixture = Fixture {
    file: "v0.34-envelope-no-turn-context.jsonl",
    turns: 52,
    counts: StatusCounts {
        completed: 52,
        interrupted: 0,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[],
    ids: &[
        (0, "rollout-3"),
        (1, "rollout-134"),
        (2, "rollout-185"),
        (30, "rollout-887"),
        (49, "rollout-1266"),
        (50, "rollout-1332"),
        (51, "rollout-1353"),
    ],
    summaries: &[
        // turn 0: user line 4 event_msg user_message; agent line 133 response_item assistant message
        Summary {
            turn: 0,
            user: Some((3, "continue")),
            agent: Some((132, "I ran the test suite, fixed import/packa")),
        },
        // turn 1: user line 135 event_msg user_message; agent line 184 response_item assistant message
        Summary {
            turn: 1,
            user: Some((134, "Yes, commit the changes then update the ")),
            agent: Some((183, "All set — changes committed in two steps")),
        },
        // turn 2: user line 186 event_msg user_message; agent line 200 response_item assistant message
        Summary {
            turn: 2,
            user: Some((185, "Can you add links to the project docs I ")),
            agent: Some((199, "Added a Documentation section to README ")),
        },
        // turn 30: user line 888 event_msg user_message; no agent message
        Summary {
            turn: 30,
            user: Some((887, "yes to all")),
            agent: None,
        },
        // turn 49: user line 1267 event_msg user_message; agent line 1331 response_item assistant message
        Summary {
            turn: 49,
            user: Some((1266, "I pushed the changes manually. continue ")),
            agent: Some((1330, "Great — I proceeded with the next option")),
        },
        // turn 50: user line 1333 event_msg user_message; agent line 1352 response_item assistant message
        Summary {
            turn: 50,
            user: Some((1332, "continue with all")),
            agent: Some((1351, "Continued with the next enhancements and")),
        },
        // turn 51: user line 1354 event_msg user_message; agent line 1376 response_item assistant message
        Summary {
            turn: 51,
            user: Some((1353, "yes")),
            agent: Some((1375, "Continued with the next enhancements:\n\n-")),
        },
    ],
};

/// `v0.58-old-era-multi-turn-aborted.jsonl`.
///
/// E2: `turn_context` without `turn_id`, no task events. 18 `user_message` lines: 5, 24, 41, 51,
/// 61, 71, 81, 122, 189, 199, 204, 209, 214, 301, 318, 342, 352, 421 → 18 implicit turns. Five
/// `turn_aborted` without `turn_id` (lines 22, 187, 202, 207, 212) each hit the turn open at that
/// point: turn 0 (opened line 5), 7 (line 122), 9 (line 199), 10 (line 204), 11 (line 209) →
/// interrupted; the others completed. None of the five interrupted turns got an assistant
/// message.
const V0_58_E2: Fixture = Fixture {
    file: "v0.58-old-era-multi-turn-aborted.jsonl",
    turns: 18,
    counts: StatusCounts {
        completed: 13,
        interrupted: 5,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[
        (0, "rollout-4", Interrupted), // line 5: open:event_msg@5, turn_aborted@22(no id)
        (7, "rollout-121", Interrupted), // line 122: open:event_msg@122, turn_aborted@187(no id)
        (9, "rollout-198", Interrupted), // line 199: open:event_msg@199, turn_aborted@202(no id)
        (10, "rollout-203", Interrupted), // line 204: open:event_msg@204, turn_aborted@207(no id)
        (11, "rollout-208", Interrupted), // line 209: open:event_msg@209, turn_aborted@212(no id)
    ],
    ids: &[
        (0, "rollout-4"),
        (1, "rollout-23"),
        (2, "rollout-40"),
        (3, "rollout-50"),
        (4, "rollout-60"),
        (5, "rollout-70"),
        (6, "rollout-80"),
        (7, "rollout-121"),
        (8, "rollout-188"),
        (9, "rollout-198"),
        (10, "rollout-203"),
        (11, "rollout-208"),
        (12, "rollout-213"),
        (13, "rollout-300"),
        (14, "rollout-317"),
        (15, "rollout-341"),
        (16, "rollout-351"),
        (17, "rollout-420"),
    ],
    summaries: &[
        // turn 0: user line 5 event_msg user_message; no agent message
        Summary {
            turn: 0,
            user: Some((4, "This repo is mid-refactor and a bit of a")),
            agent: None,
        },
        // turn 1: user line 24 event_msg user_message; agent line 39 response_item assistant message
        Summary {
            turn: 1,
            user: Some((23, "This repo is mid-refactor and a bit of a")),
            agent: Some((38, "**Current Gaps & Tooling Critique**  \n- ")),
        },
        // turn 2: user line 41 event_msg user_message; agent line 49 response_item assistant message
        Summary {
            turn: 2,
            user: Some((40, "Do we need langfuse as well, and feed th")),
            agent: Some((48, "**Telemetry & Observability Stack**  \n- ")),
        },
        // turn 3: user line 51 event_msg user_message; agent line 59 response_item assistant message
        Summary {
            turn: 3,
            user: Some((50, "Typewiz directly integrates mypy, pyrigh")),
            agent: Some((58, "Got it—if Typewiz is acting as the telem")),
        },
        // turn 4: user line 61 event_msg user_message; agent line 69 response_item assistant message
        Summary {
            turn: 4,
            user: Some((60, "Is portkey useful to us?")),
            agent: Some((68, "Portkey can be useful if we need a polic")),
        },
        // turn 5: user line 71 event_msg user_message; agent line 79 response_item assistant message
        Summary {
            turn: 5,
            user: Some((70, "Let's focus on the pipeline designs, tes")),
            agent: Some((78, "**Pipeline Plan**\n\n- Rebuild each LangGr")),
        },
        // turn 6: user line 81 event_msg user_message; agent line 120 response_item assistant message
        Summary {
            turn: 6,
            user: Some((80, "\"Transcribe, Analyze, Compose, Timeline,")),
            agent: Some((119, "**Plan Aligned To The Current TDD**\n\n- *")),
        },
        // turn 7: user line 122 event_msg user_message; no agent message
        Summary {
            turn: 7,
            user: Some((121, "\n## User Input\n\n```text\n\n```\n\nYou **MUST")),
            agent: None,
        },
        // turn 8: user line 189 event_msg user_message; agent line 197 response_item assistant message
        Summary {
            turn: 8,
            user: Some((188, "\n## User Input\n\n```text\nmust be updated ")),
            agent: Some((196, "I haven’t edited `.specify/memory/consti")),
        },
        // turn 9: user line 199 event_msg user_message; no agent message
        Summary {
            turn: 9,
            user: Some((198, "Project name: uDocket")),
            agent: None,
        },
        // turn 10: user line 204 event_msg user_message; no agent message
        Summary {
            turn: 10,
            user: Some((203, "Project name: uDocket")),
            agent: None,
        },
        // turn 11: user line 209 event_msg user_message; no agent message
        Summary {
            turn: 11,
            user: Some((208, "a")),
            agent: None,
        },
        // turn 12: user line 214 event_msg user_message; agent line 299 response_item assistant message
        Summary {
            turn: 12,
            user: Some((213, "Project name: uDocket\nDate: Nov 13, 2025")),
            agent: Some((298, "**Constitution v1.0.0**\n\n- Replaced the ")),
        },
        // turn 13: user line 301 event_msg user_message; agent line 316 response_item assistant message
        Summary {
            turn: 13,
            user: Some((300, "\n## User Input\n\n```text\nCompare these ru")),
            agent: Some((315, "Cannot run `/speckit.analyze`: `.specify")),
        },
        // turn 14: user line 318 event_msg user_message; agent line 340 response_item assistant message
        Summary {
            turn: 14,
            user: Some((317, "Compare these rules to our current specs")),
            agent: Some((339, "We already promote high engineering qual")),
        },
        // turn 15: user line 342 event_msg user_message; agent line 350 response_item assistant message
        Summary {
            turn: 15,
            user: Some((341, "\n## User Input\n\n```text\nCompare these ru")),
            agent: Some((349, "I won’t edit the constitution yet per yo")),
        },
        // turn 16: user line 352 event_msg user_message; agent line 419 response_item assistant message
        Summary {
            turn: 16,
            user: Some((351, "Let's incorporate all of these, and I'd ")),
            agent: Some((418, "**Constitution v1.1.0 (2025-11-14)**  \n-")),
        },
        // turn 17: user line 421 event_msg user_message; agent line 471 response_item assistant message
        Summary {
            turn: 17,
            user: Some((420, "We don't need reversible migrations, we ")),
            agent: Some((470, "Updated the constitution to v1.2.0 refle")),
        },
    ],
};

/// `v0.64-old-era-compacted.jsonl`.
///
/// E2 with compaction: 6 `user_message` lines 5, 155, 307, 331, 397, 443 → 6 implicit turns, no
/// abort, all completed. The `compacted` line 440 and `context_compacted` join turn 4 (opened
/// line 397); they are not user or agent messages, so its summary still ends with line 438.
const V0_64_E2: Fixture = Fixture {
    file: "v0.64-old-era-compacted.jsonl",
    turns: 6,
    counts: StatusCounts {
        completed: 6,
        interrupted: 0,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[],
    ids: &[
        (0, "rollout-4"),
        (1, "rollout-154"),
        (2, "rollout-306"),
        (3, "rollout-330"),
        (4, "rollout-396"),
        (5, "rollout-442"),
    ],
    summaries: &[
        // turn 0: user line 5 event_msg user_message; agent line 153 response_item assistant message
        Summary {
            turn: 0,
            user: Some((4, "\n## User Input\n\n```text\n\n```\n\nYou **MUST")),
            agent: Some((152, "Checklists reviewed:\n\n| Checklist | Tota")),
        },
        // turn 1: user line 155 event_msg user_message; agent line 305 response_item assistant message
        Summary {
            turn: 1,
            user: Some((154, "yes")),
            agent: Some((304, "Phase 1 setup completed:\n- Adjusted comp")),
        },
        // turn 2: user line 307 event_msg user_message; agent line 329 response_item assistant message
        Summary {
            turn: 2,
            user: Some((306, "copy .env.example to .env, then make com")),
            agent: Some((328, "I copied `.env.example` to `.env`, but `")),
        },
        // turn 3: user line 331 event_msg user_message; agent line 395 response_item assistant message
        Summary {
            turn: 3,
            user: Some((330, "try again")),
            agent: Some((394, "Ran the requested verification:\n\n- Copie")),
        },
        // turn 4: user line 397 event_msg user_message; agent line 438 response_item assistant message
        Summary {
            turn: 4,
            user: Some((396, "commit")),
            agent: Some((437, "Committed changes.\n\n- Added compose-read")),
        },
        // turn 5: user line 443 event_msg user_message; agent line 528 response_item assistant message
        Summary {
            turn: 5,
            user: Some((442, "\n## User Input\n\n```text\n\n```\n\nYou **MUST")),
            agent: Some((527, "Checklists:\n| Checklist | Total | Comple")),
        },
    ],
};

/// `v0.66-old-format-ghost-snapshot.jsonl`.
///
/// E2, small: `user_message` lines 4 and 26 → 2 implicit turns, completed. Line 2 is a contextual
/// `<environment_context>` message in the preamble.
const V0_66_E2: Fixture = Fixture {
    file: "v0.66-old-format-ghost-snapshot.jsonl",
    turns: 2,
    counts: StatusCounts {
        completed: 2,
        interrupted: 0,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[],
    ids: &[(0, "rollout-3"), (1, "rollout-25")],
    summaries: &[
        // turn 0: user line 4 event_msg user_message; agent line 23 response_item assistant message
        Summary {
            turn: 0,
            user: Some((3, "add myapp directory and create myapp/hog")),
            agent: Some((22, "Added simple script in `myapp/hoge.py` t")),
        },
        // turn 1: user line 26 event_msg user_message; agent line 54 response_item assistant message
        Summary {
            turn: 1,
            user: Some((25, "cd to myapp and run python hoge.py")),
            agent: Some((53, "Ran the script with `python3` (since `py")),
        },
    ],
};

/// `v0.69-codex-exec-small.jsonl`.
///
/// E2 `codex exec` with no model output: `user_message` lines 5 and 13 → 2 implicit turns,
/// completed, each with only its prompt (the rest are 12 `turn_context` retries), so the summary
/// is the user message alone.
const V0_69_E2: Fixture = Fixture {
    file: "v0.69-codex-exec-small.jsonl",
    turns: 2,
    counts: StatusCounts {
        completed: 2,
        interrupted: 0,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[],
    ids: &[(0, "rollout-4"), (1, "rollout-12")],
    summaries: &[
        // turn 0: user line 5 event_msg user_message; no agent message
        Summary {
            turn: 0,
            user: Some((4, "Say hello in one sentence.")),
            agent: None,
        },
        // turn 1: user line 13 event_msg user_message; no agent message
        Summary {
            turn: 1,
            user: Some((12, "Say hi")),
            agent: None,
        },
    ],
};

/// `v0.70-vscode-extension.jsonl`.
///
/// E2 VS Code extension: `user_message` lines 4 and 251 (both start with "# Context from my IDE
/// setup:", not a contextual prefix) → 2 implicit turns, completed.
const V0_70_E2: Fixture = Fixture {
    file: "v0.70-vscode-extension.jsonl",
    turns: 2,
    counts: StatusCounts {
        completed: 2,
        interrupted: 0,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[],
    ids: &[(0, "rollout-3"), (1, "rollout-250")],
    summaries: &[
        // turn 0: user line 4 event_msg user_message; agent line 248 response_item assistant message
        Summary {
            turn: 0,
            user: Some((3, "# Context from my IDE setup:\n\n## Active ")),
            agent: Some((247, "**Draft Deliverable**\n- Bozza dei requis")),
        },
        // turn 1: user line 251 event_msg user_message; agent line 258 response_item assistant message
        Summary {
            turn: 1,
            user: Some((250, "# Context from my IDE setup:\n\n## Active ")),
            agent: Some((257, "`__init__.py` serves as the package init")),
        },
    ],
};

/// `v0.0.0-dev-build-turn-aborted.jsonl`.
///
/// E2-shaped source build: one `user_message` (line 6) opens implicit turn `rollout-5`; the user
/// copy at line 5 comes before it (preamble). `turn_aborted` without `turn_id` at line 51 (the last
/// line) hits that open turn → interrupted. The `<turn_aborted>` user message at line 50 is
/// contextual and does not open a turn.
const V0_0_0_E2: Fixture = Fixture {
    file: "v0.0.0-dev-build-turn-aborted.jsonl",
    turns: 1,
    counts: StatusCounts {
        completed: 0,
        interrupted: 1,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[
        (0, "rollout-5", Interrupted), // line 6: open:event_msg@6, turn_aborted@51(no id)
    ],
    ids: &[(0, "rollout-5")],
    summaries: &[
        // turn 0: user line 6 event_msg user_message; agent line 38 response_item assistant message
        Summary {
            turn: 0,
            user: Some((5, "Explain tihs codebase to me.")),
            agent: Some((37, "I’ve confirmed this is lightly documente")),
        },
    ],
};

/// `v0.105-task-events-compacted-aborted-largest.jsonl`.
///
/// E3: 71 `task_started` (lines 5, 67, 79, 91, …, 2209, 2259, 2297) → 71 explicit turns with their
/// `turn_id`. 63 `task_complete` and 7 `turn_aborted` (lines 298, 340, 372, 415, 1591, 1626, 1671),
/// each naming the turn opened just before it (checked: every terminal event's `turn_id` is the
/// last `task_started`'s). The last turn (`task_started` line 2297) has no terminal event before
/// the end of the file (line 2310) → inProgress. The `compacted` line 1821 lies in turn 53; the
/// `<turn_aborted>` and re-injected AGENTS.md/environment user messages are contextual. In E3 the
/// `response_item` user copy (line N+1 after `task_started`) comes before the `user_message`
/// event, so it is the turn's first user message.
const V0_105_E3: Fixture = Fixture {
    file: "v0.105-task-events-compacted-aborted-largest.jsonl",
    turns: 71,
    counts: StatusCounts {
        completed: 63,
        interrupted: 7,
        in_progress: 1,
        failed: 0,
    },
    not_completed: &[
        (20, "019d0240-5a74-77f1-80b6-dd86cf26aff2", Interrupted), // line 291: task_started@291, turn_aborted@298
        (24, "019d0241-a672-7a61-8049-ae6c245b1187", Interrupted), // line 333: task_started@333, turn_aborted@340
        (27, "019d0243-8c63-7610-809b-e7dd317fce23", Interrupted), // line 365: task_started@365, turn_aborted@372
        (30, "019d0247-1c5f-7e72-b470-926c85a5983e", Interrupted), // line 407: task_started@407, turn_aborted@415
        (44, "019d0293-e643-7b32-9cde-32c2ec0661f2", Interrupted), // line 1574: task_started@1574, turn_aborted@1591
        (46, "019d0296-6e30-7b32-be69-5689262be0ec", Interrupted), // line 1619: task_started@1619, turn_aborted@1626
        (48, "019d0298-fb63-7672-b2dc-907c8f3b79aa", Interrupted), // line 1664: task_started@1664, turn_aborted@1671
        (70, "019d02ba-0563-7ff2-b3c3-3e97b48deb04", InProgress),  // line 2297: task_started@2297
    ],
    ids: &[
        (0, "019d022a-0aa4-75b1-9c74-c77e54af6cd1"),
        (1, "019d022b-4c8d-7c83-beae-3c21267e25c9"),
        (2, "019d022d-5fa4-7590-bca4-6ee1a19ba05b"),
        (20, "019d0240-5a74-77f1-80b6-dd86cf26aff2"),
        (24, "019d0241-a672-7a61-8049-ae6c245b1187"),
        (27, "019d0243-8c63-7610-809b-e7dd317fce23"),
        (30, "019d0247-1c5f-7e72-b470-926c85a5983e"),
        (44, "019d0293-e643-7b32-9cde-32c2ec0661f2"),
        (46, "019d0296-6e30-7b32-be69-5689262be0ec"),
        (48, "019d0298-fb63-7672-b2dc-907c8f3b79aa"),
        (68, "019d02b7-9c23-7f21-98ba-0012e42a85be"),
        (69, "019d02b8-dbd3-7303-950d-3acd3bbc6d91"),
        (70, "019d02ba-0563-7ff2-b3c3-3e97b48deb04"),
    ],
    summaries: &[
        // turn 0: user line 8 response_item user message; agent line 64 response_item assistant message
        Summary {
            turn: 0,
            user: Some((7, "I have a dream. The dream is of an appli")),
            agent: Some((63, "Got it—plain-text questions.\n\nBefore I d")),
        },
        // turn 1: user line 68 response_item user message; agent line 76 response_item assistant message
        Summary {
            turn: 1,
            user: Some((67, "Thanks. Let's go through them one at a t")),
            agent: Some((75, "Great. Question 1 first:\n\nDo you want th")),
        },
        // turn 2: user line 80 response_item user message; agent line 88 response_item assistant message
        Summary {
            turn: 2,
            user: Some((79, "Definitely not TUI. I'm not sure about b")),
            agent: Some((87, "My take: start as a browser-based app wi")),
        },
        // turn 20: user line 292 response_item user message; no agent message
        Summary {
            turn: 20,
            user: Some((291, "Would it be possible to ensure the kerne")),
            agent: None,
        },
        // turn 24: user line 334 response_item user message; no agent message
        Summary {
            turn: 24,
            user: Some((333, "separate output port")),
            agent: None,
        },
        // turn 27: user line 366 response_item user message; no agent message
        Summary {
            turn: 27,
            user: Some((365, "both md files can live in repo root.\n\noh")),
            agent: None,
        },
        // turn 30: user line 409 response_item user message; no agent message
        Summary {
            turn: 30,
            user: Some((408, "Implement the plan.")),
            agent: None,
        },
        // turn 44: user line 1575 response_item user message; agent line 1583 response_item assistant message
        Summary {
            turn: 44,
            user: Some((1574, "still laggy af")),
            agent: Some((1582, "The remaining lag is almost certainly fr")),
        },
        // turn 46: user line 1620 response_item user message; no agent message
        Summary {
            turn: 46,
            user: Some((1619, "Sorry to say it's the same. Some other i")),
            agent: None,
        },
        // turn 48: user line 1665 response_item user message; no agent message
        Summary {
            turn: 48,
            user: Some((1664, "Still no go. Is there some way I can hel")),
            agent: None,
        },
        // turn 68: user line 2210 response_item user message; agent line 2256 response_item assistant message
        Summary {
            turn: 68,
            user: Some((2209, "Make the following changes one at a time")),
            agent: Some((2255, "Change 1 completed.\n\nWhat changed:\n- Rem")),
        },
        // turn 69: user line 2260 response_item user message; agent line 2294 response_item assistant message
        Summary {
            turn: 69,
            user: Some((2259, "go ahead")),
            agent: Some((2293, "Change 2 completed.\n\nWhat changed:\n- Rem")),
        },
        // turn 70: user line 2298 response_item user message; no agent message
        Summary {
            turn: 70,
            user: Some((2297, "please complete all remaining changes no")),
            agent: None,
        },
    ],
};

/// `v0.118-codex-tui-task-events-aborted.jsonl`.
///
/// E3 codex-tui: `task_started` lines 2, 14, 35; `task_complete` lines 13 (turn 0) and 196
/// (turn 2); `turn_aborted` line 33 names turn 1 → [completed, interrupted, completed]. Line 4
/// `<environment_context>` and line 32 `<turn_aborted>` are contextual.
const V0_118_E3: Fixture = Fixture {
    file: "v0.118-codex-tui-task-events-aborted.jsonl",
    turns: 3,
    counts: StatusCounts {
        completed: 2,
        interrupted: 1,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[
        (1, "019d6d68-3de5-72b1-a82b-1e9a99ef6ad4", Interrupted), // line 14: task_started@14, turn_aborted@33
    ],
    ids: &[
        (0, "019d6d67-5781-7653-ba27-f15f2653c068"),
        (1, "019d6d68-3de5-72b1-a82b-1e9a99ef6ad4"),
        (2, "019d6d68-9cec-7233-b020-4210bb931ade"),
    ],
    summaries: &[
        // turn 0: user line 6 response_item user message; agent line 11 response_item assistant message
        Summary {
            turn: 0,
            user: Some((5, "比较适合macos系统terminal的中文字体有哪些推荐？")),
            agent: Some((
                10,
                "适合 macOS Terminal 的中文字体，优先看这几类：\n\n**首选推荐*",
            )),
        },
        // turn 1: user line 16 response_item user message; agent line 21 response_item assistant message
        Summary {
            turn: 1,
            user: Some((15, "帮我配置下Maple Mono NF CN这个")),
            agent: Some((
                20,
                "我会先检查这台机器上有没有 `Maple Mono NF CN`，以及你现在主要",
            )),
        },
        // turn 2: user line 37 response_item user message; agent line 194 response_item assistant message
        Summary {
            turn: 2,
            user: Some((36, "我现在用的是ghostty")),
            agent: Some((193, "已完成。\n\n- 已安装 `font-maple-mono-nf-cn`\n- 已创")),
        },
    ],
};

/// `v0.142-codex-desktop-archived.jsonl`.
///
/// E3 Codex Desktop: one `task_started` (line 2); the second `user_message` (line 105, a steer)
/// joins that explicit turn rather than opening one; `turn_aborted` line 168 (the last line) names
/// it → one interrupted turn. Line 4 (AGENTS.md) and line 167 (`<turn_aborted>`) are contextual.
const V0_142_E3: Fixture = Fixture {
    file: "v0.142-codex-desktop-archived.jsonl",
    turns: 1,
    counts: StatusCounts {
        completed: 0,
        interrupted: 1,
        in_progress: 0,
        failed: 0,
    },
    not_completed: &[
        (0, "019f26d2-716c-78e3-8065-889ae818b580", Interrupted), // line 2: task_started@2, turn_aborted@168
    ],
    ids: &[(0, "019f26d2-716c-78e3-8065-889ae818b580")],
    summaries: &[
        // turn 0: user line 6 response_item user message; agent line 160 response_item assistant message
        Summary {
            turn: 0,
            user: Some((
                5,
                "ubpb_c4_342M_sdar_g1这个jobs失败了，你能看到失败原因吗？",
            )),
            agent: Some((159, "qzcli 是 uv tool 环境里的 Python，缺的是这个 tool v")),
        },
    ],
};

/// Every fixture, in the order of SOURCES.md.
const ALL: [&Fixture; 11] = [
    &LEGACY_E0, &V0_34_E1, &V0_58_E2, &V0_64_E2, &V0_66_E2, &V0_69_E2, &V0_70_E2, &V0_0_0_E2,
    &V0_105_E3, &V0_118_E3, &V0_142_E3,
];

//! The paginated era (CONTRACT.md §7) on the real file
//! `shared/fixtures/codex-paginated/v0.152-exec-paginated.jsonl` (see `SOURCES.md` there),
//! imported through the library API and read back with `read_thread`, `list_turns` and
//! `list_items`.
//!
//! Every figure below was worked out by hand from the file, by Codex's paginated rules; the file's
//! ordinals run 0..=40 without gaps, one per line, so a line's position in the store is its
//! ordinal:
//! - ordinal 0: `session_meta` with `history_mode: "paginated"`;
//! - ordinal 1: `task_started` of turn `01a0a04a-c012-…`; its `item_completed` lines are at
//!   ordinals 7 (UserMessage "Create a file hello.py…"), 8 (Reasoning), 10 (AgentMessage,
//!   commentary), 13 (FileChange), 14 (CommandExecution), 17 (Reasoning), 19 (AgentMessage,
//!   final_answer); `task_complete` at 22 → 7 items, completed, summary 7 + 19;
//! - ordinal 24: `task_started` of turn `01a0a04a-d145-…`; items at 29 (UserMessage), 30
//!   (AgentMessage, commentary), 33 (FileChange), 34 (CommandExecution), 37 (AgentMessage,
//!   final_answer); `task_complete` at 40 → 5 items, completed, summary 29 + 37;
//! - 12 items in the thread; every other line (response items, `world_state`, `turn_context`,
//!   `token_count`, …) belongs to no turn but stays in the log (41 lines).
//!
//! The file stays outside the project; without it these tests say why and pass, except in CI
//! (`threadstore_tests::fixtures`).

use threadstore::codex::import::{import_file, ImportOptions};
use threadstore::{
    InMemoryThreadStore, ListItemsParams, ListTurnsParams, ReadThreadParams, StoredTurnItemsView,
    StoredTurnStatus, ThreadId, ThreadStore,
};

const FILE: &str = "v0.152-exec-paginated.jsonl";
const TURN_1: &str = "01a0a04a-c012-75b1-a183-6e07e4d753c4";
const TURN_2: &str = "01a0a04a-d145-7c01-a38f-75d50cadef4a";

/// The fixture imported into a fresh in-memory store, or `None` (skip) outside CI.
async fn imported() -> Option<(InMemoryThreadStore, ThreadId)> {
    let dir = threadstore_tests::fixtures::codex_paginated_dir()?;
    let store = InMemoryThreadStore::default();
    let report = import_file(&store, &dir.join(FILE), &ImportOptions::default())
        .await
        .expect("the paginated fixture imports");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    Some((store, report.thread_id))
}

async fn turn_items(store: &InMemoryThreadStore, id: ThreadId, turn: &str) -> Vec<u64> {
    let mut params = ListItemsParams::new(id);
    params.turn_id = Some(turn.to_owned());
    params.page_size = 200;
    let page = store.list_items(params).await.unwrap();
    assert!(page.next_cursor.is_none());
    page.items.iter().map(|i| i.position).collect()
}

#[tokio::test]
async fn turns_statuses_and_summaries_follow_the_paginated_rules() {
    let Some((store, id)) = imported().await else {
        return;
    };
    let mut params = ListTurnsParams::new(id);
    params.sort_direction = threadstore::SortDirection::Asc;
    params.items_view = StoredTurnItemsView::Summary;
    let page = store.list_turns(params).await.unwrap();
    let got: Vec<(&str, StoredTurnStatus, Vec<u64>)> = page
        .turns
        .iter()
        .map(|t| {
            (
                t.turn_id.as_str(),
                t.status,
                t.items.iter().map(|i| i.position).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (TURN_1, StoredTurnStatus::Completed, vec![7, 19]),
            (TURN_2, StoredTurnStatus::Completed, vec![29, 37]),
        ]
    );
    let counts: Vec<u64> = page.turns.iter().map(|t| t.item_count).collect();
    assert_eq!(counts, vec![7, 5]);
    // Times come from the events: task_started.started_at, task_complete's fields.
    let first = &page.turns[0];
    assert_eq!(first.started_at, Some(1_789_395_648));
    assert_eq!(first.completed_at, Some(1_789_395_652));
    assert_eq!(first.duration_ms, Some(4_114));
}

#[tokio::test]
async fn items_are_the_item_completed_lines_of_their_turn() {
    let Some((store, id)) = imported().await else {
        return;
    };
    let one = turn_items(&store, id, TURN_1).await;
    let two = turn_items(&store, id, TURN_2).await;
    assert_eq!(one, vec![7, 8, 10, 13, 14, 17, 19]);
    assert_eq!(two, vec![29, 30, 33, 34, 37]);
    assert_eq!(one.len() + two.len(), 12);
    // Nothing is lost: the thread's raw view still has all 41 lines.
    let mut all = ListItemsParams::new(id);
    all.page_size = 200;
    assert_eq!(store.list_items(all).await.unwrap().items.len(), 41);
}

#[tokio::test]
async fn preview_and_first_message_come_from_the_first_user_message_item() {
    let Some((store, id)) = imported().await else {
        return;
    };
    let thread = store.read_thread(ReadThreadParams::new(id)).await.unwrap();
    let want = "Create a file hello.py that prints 'Hello, world!', run it with python3, and tell me what it printed.";
    assert_eq!(thread.preview, want);
    assert_eq!(thread.first_user_message.as_deref(), Some(want));
}

#[tokio::test]
async fn codexs_item_view_has_the_twelve_items_as_v2_thread_items() {
    let Some((store, id)) = imported().await else {
        return;
    };
    let mut params = ListItemsParams::new(id);
    params.page_size = 5;
    let mut entries = Vec::new();
    loop {
        let page = store.list_thread_items(params.clone()).await.unwrap();
        entries.extend(page.items);
        match page.next_cursor {
            Some(c) => params.cursor = Some(c),
            None => break,
        }
    }
    let got: Vec<(u64, &str, &str)> = entries
        .iter()
        .map(|e| {
            let turn = if e.turn_id == TURN_1 { "1" } else { "2" };
            (e.position, turn, e.item["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (7, "1", "userMessage"),
            (8, "1", "reasoning"),
            (10, "1", "agentMessage"),
            (13, "1", "fileChange"),
            (14, "1", "commandExecution"),
            (17, "1", "reasoning"),
            (19, "1", "agentMessage"),
            (29, "2", "userMessage"),
            (30, "2", "agentMessage"),
            (33, "2", "fileChange"),
            (34, "2", "commandExecution"),
            (37, "2", "agentMessage"),
        ]
    );
    // Ordinal 14: the command as Codex shows it (argv shell-quoted, cwd a native path).
    let command = &entries[4].item;
    assert_eq!(command["command"], "/usr/bin/bash -lc 'python3 hello.py'");
    assert_eq!(command["cwd"], "/home/alice/projects/demo");
    assert_eq!(command["status"], "completed");
    assert_eq!(command["source"], "unifiedExecStartup");
    // Ordinal 13: an added file, its content as the diff.
    assert_eq!(
        entries[3].item["changes"],
        serde_json::json!([{"path": "/home/alice/projects/demo/hello.py", "kind": {"type": "add"},
            "diff": "print('Hello, world!')\n"}])
    );
}

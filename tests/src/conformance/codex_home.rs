//! The home the real Codex 0.171 wrote (`shared/fixtures/codex-0.171/`: forks by `lastTurnId`
//! and `beforeTurnId`, a fork of a fork, two reverts, an archived and a named thread), imported as
//! `threadstore import` does, reads on every backend as Codex showed it while it wrote it. The
//! expectations are derived by hand from `manifest.json` and `session_index.jsonl`, so they hold
//! without npm (the differential test, `tests/codex_differential.rs`, asks Codex itself).
//! Without the fixture the case says why and passes, except in CI.

use super::prelude::*;
use threadstore::codex::home::{discover, import_source, read_session_index};

/// The manifest's ids of `label`'s `key` list.
fn ids(manifest: &serde_json::Value, label: &str, key: &str) -> Vec<String> {
    manifest["threads"][label][key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn id(manifest: &serde_json::Value, label: &str) -> ThreadId {
    manifest["threads"][label]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("the manifest names {label}"))
}

/// The turns of `thread`, oldest first, each with its summary's item kinds.
async fn turns(t: &TestStore, thread: ThreadId) -> Vec<(String, Vec<String>)> {
    let page = t
        .store
        .list_turns(ListTurnsParams {
            include_archived: true,
            sort_direction: SortDirection::Asc,
            items_view: StoredTurnItemsView::Summary,
            page_size: 100,
            ..ListTurnsParams::new(thread)
        })
        .await
        .unwrap();
    page.turns
        .iter()
        .map(|turn| {
            let kinds = turn
                .items
                .iter()
                .filter_map(|i| {
                    threadstore::thread_item::thread_item_of_line(&i.line.item, i.position)
                })
                .map(|item| item["type"].as_str().unwrap_or_default().to_owned())
                .collect();
            (turn.turn_id.clone(), kinds)
        })
        .collect()
}

pub async fn the_frozen_codex_home_reads_as_codex_left_it(b: Backend) {
    let Some(dir) = crate::fixtures::codex_0_171_dir() else {
        return;
    };
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let t = b.open().await;
    let found = discover(&[dir.join("codex_home")]).unwrap();
    let names = read_session_index(&found.indexes).unwrap();
    let (sequential, plain): (Vec<_>, Vec<_>) =
        found.sources.into_iter().partition(|s| s.sequential);
    for source in plain.iter().chain(&sequential) {
        import_source(t.store.as_ref(), source, &names)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", source.path.display()));
    }
    let m = &manifest;
    let prompt = |label: &str| {
        m["threads"][label]["turn_prompts"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let app_name = Some("Main app-server thread");
    let cat = |a: Vec<String>, b: Vec<String>| a.into_iter().chain(b).collect::<Vec<_>>();
    let app_original = ids(m, "app_main", "original_turn_ids");
    let fork_last_turns = cat(
        app_original[..2].to_vec(),
        ids(m, "fork_last", "own_turn_ids"),
    );
    // (label, name, archived, preview, fork parent, turn ids; `None` = only the count is known)
    type Row = (
        &'static str,
        Option<&'static str>,
        bool,
        String,
        Option<&'static str>,
        Result<Vec<String>, usize>,
    );
    let rows: Vec<Row> = vec![
        (
            "exec_single",
            None,
            true,
            prompt("exec_single"),
            None,
            Err(1),
        ),
        (
            "exec_tool",
            Some("Named exec tool thread"),
            false,
            prompt("exec_tool"),
            None,
            Err(1),
        ),
        (
            "exec_multi",
            None,
            false,
            prompt("exec_multi"),
            None,
            Ok(ids(m, "exec_multi", "final_turn_ids")),
        ),
        // Forked before exec_multi's revert: its three turns, then one of its own.
        (
            "exec_fork",
            None,
            false,
            prompt("exec_multi"),
            Some("exec_multi"),
            Err(4),
        ),
        (
            "app_main",
            app_name,
            false,
            prompt("app_main"),
            None,
            Ok(ids(m, "app_main", "final_turn_ids")),
        ),
        (
            "fork_last",
            app_name,
            false,
            prompt("app_main"),
            Some("app_main"),
            Ok(fork_last_turns.clone()),
        ),
        (
            "fork_before",
            app_name,
            false,
            prompt("app_main"),
            Some("app_main"),
            Ok(app_original[..1].to_vec()),
        ),
        (
            "fork_of_fork",
            app_name,
            false,
            prompt("app_main"),
            Some("fork_last"),
            Ok(cat(fork_last_turns, ids(m, "fork_of_fork", "own_turn_ids"))),
        ),
        (
            "fork_after_revert",
            app_name,
            false,
            prompt("app_main"),
            Some("app_main"),
            Ok(cat(
                ids(m, "app_main", "final_turn_ids"),
                ids(m, "fork_after_revert", "own_turn_ids"),
            )),
        ),
    ];
    for (label, name, archived, preview, parent, want) in rows {
        let thread = id(m, label);
        let read = t
            .store
            .read_thread(ReadThreadParams {
                include_archived: true,
                ..ReadThreadParams::new(thread)
            })
            .await
            .unwrap();
        assert_eq!(read.name.as_deref(), name, "{label} name");
        assert_eq!(read.archived_at.is_some(), archived, "{label} archived");
        assert_eq!(read.preview, preview, "{label} preview");
        assert_eq!(
            read.forked_from_id,
            parent.map(|p| id(m, p)),
            "{label} fork parent"
        );
        assert_eq!(
            read.history_mode,
            StoredHistoryMode::Paginated,
            "{label} history mode"
        );
        let got = turns(&t, thread).await;
        assert_eq!(read.turn_count as usize, got.len(), "{label} turn count");
        match want {
            Ok(turn_ids) => assert_eq!(
                got.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
                turn_ids,
                "{label}: the turns Codex shows"
            ),
            Err(count) => assert_eq!(got.len(), count, "{label} turn count"),
        }
        // Codex's summary: the first user message and the final answer, never commentary.
        for (turn, kinds) in &got {
            assert_eq!(kinds, &["userMessage", "agentMessage"], "{label} {turn}");
        }
    }
    // The tool turn's items, as Codex lists them: the prompt, the commentary, the command, the
    // answer.
    let items = t
        .store
        .list_thread_items(ListItemsParams {
            include_archived: true,
            page_size: 100,
            ..ListItemsParams::new(id(m, "exec_tool"))
        })
        .await
        .unwrap();
    assert_eq!(
        items
            .items
            .iter()
            .map(|i| i.item["type"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        [
            "userMessage",
            "agentMessage",
            "commandExecution",
            "agentMessage"
        ]
    );
    // Every prompt of app_main that is still visible, and the final answers, are searchable.
    let hits = t
        .store
        .search_thread_occurrences(SearchOccurrencesParams::new(id(m, "app_main"), "pineapple"))
        .await
        .unwrap();
    assert!(
        hits.occurrences.len() >= 2,
        "app_main's visible prompts mention pineapple"
    );
    assert!(hits
        .occurrences
        .iter()
        .all(|o| ids(m, "app_main", "final_turn_ids").contains(&o.turn_id)));
}

//! Codex's revert rollouts, on the home the real Codex 0.171 wrote
//! (`shared/fixtures/codex-0.171/`, see its README and `manifest.json`): importing the home yields
//! the reverted threads as Codex shows them after the reverts, whatever order the files come in,
//! and importing it again changes nothing.
//!
//! From the manifest: `exec_multi` had 3 turns and was reverted before its third (revision file
//! `…0ef979b50b83_01a2334e-1c22-….jsonl`, `history_base.end_ordinal_exclusive` 25 = the third
//! turn's `task_started`): 2 turns are left. `app_main` had 4 turns, was reverted before its
//! fourth (revision `…1513…`, cut at ordinal 39), got a fifth turn in that revision, then was
//! reverted before its third (revision `…1589…`, cut at ordinal 30 of the *original* file): turns
//! one and two are left.
//!
//! Forks by reference (`exec_fork` forks `exec_multi` before its revert; `fork_last` and
//! `fork_before` fork `app_main` through and before its second turn; `fork_of_fork` forks
//! `fork_last`; `fork_after_revert` forks `app_main` after both reverts) import as forks by
//! reference: each shows its parent's prefix, as the base rollout had it, then its own turns.

use std::path::PathBuf;

use threadstore::codex::home::{discover, import_source, SessionNames};
use threadstore::{
    InMemoryThreadStore, ListTurnsParams, SortDirection, StoredTurnItemsView, ThreadId, ThreadStore,
};

fn home() -> Option<PathBuf> {
    Some(threadstore_tests::fixtures::codex_0_171_dir()?.join("codex_home"))
}

fn manifest() -> serde_json::Value {
    let dir = threadstore_tests::fixtures::codex_0_171_dir().expect("the fixture");
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Imports every file the way `threadstore import` does: the plain ones first, then the forks and
/// revisions in `discover`'s order; `reverse` feeds the plain ones in reverse order. Returns how
/// many files were already imported.
async fn import_home(store: &InMemoryThreadStore, home: &PathBuf, reverse: bool) -> usize {
    let found = discover(std::slice::from_ref(home)).unwrap();
    let (revisions, mut plain): (Vec<_>, Vec<_>) =
        found.sources.into_iter().partition(|s| s.sequential);
    assert_eq!(
        revisions.len(),
        3 + 5,
        "the home has three revert rollouts and five forks"
    );
    if reverse {
        plain.reverse();
    }
    let names = SessionNames::default();
    let mut already = 0;
    for source in plain.iter().chain(&revisions) {
        let imported = import_source(store, source, &names)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", source.path.display()));
        already += usize::from(imported.report.already_imported);
    }
    already
}

async fn turns(store: &InMemoryThreadStore, id: ThreadId) -> Vec<(String, Vec<String>)> {
    let page = store
        .list_turns(ListTurnsParams {
            include_archived: true,
            sort_direction: SortDirection::Asc,
            items_view: StoredTurnItemsView::Summary,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    page.turns
        .into_iter()
        .map(|t| {
            let kinds = t
                .items
                .iter()
                .map(|i| {
                    i.line.item.payload_value()["item"]["type"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect();
            (t.turn_id, kinds)
        })
        .collect()
}

fn ids(values: &serde_json::Value) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn reverted_threads_read_as_codex_shows_them_and_reimport_changes_nothing() {
    let Some(home) = home() else {
        return;
    };
    let manifest = manifest();
    for reverse in [false, true] {
        let store = InMemoryThreadStore::default();
        assert_eq!(import_home(&store, &home, reverse).await, 0);
        for label in ["exec_multi", "app_main"] {
            let thread = &manifest["threads"][label];
            let id: ThreadId = thread["id"].as_str().unwrap().parse().unwrap();
            let got = turns(&store, id).await;
            let want = ids(&thread["final_turn_ids"]);
            assert_eq!(
                got.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
                want,
                "{label}: the turns Codex shows after its reverts"
            );
            for (turn, kinds) in &got {
                assert_eq!(
                    kinds,
                    &["UserMessage", "AgentMessage"],
                    "{label} {turn} summary"
                );
            }
        }
        // Everything again: every file is already there, nothing changes.
        let files = discover(std::slice::from_ref(&home)).unwrap().sources.len();
        assert_eq!(import_home(&store, &home, reverse).await, files);
        let app: ThreadId = manifest["threads"]["app_main"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(turns(&store, app).await.len(), 2);
    }
}

fn thread_id(manifest: &serde_json::Value, label: &str) -> ThreadId {
    manifest["threads"][label]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn forks_read_their_parents_prefix_then_their_own_turns() {
    let Some(home) = home() else {
        return;
    };
    let manifest = manifest();
    let t = |label: &str| &manifest["threads"][label];
    let exec_multi = ids(&t("exec_multi")["original_turn_ids"]);
    let app = ids(&t("app_main")["original_turn_ids"]);
    let app_final = ids(&t("app_main")["final_turn_ids"]);
    let own = |label: &str| ids(&t(label)["own_turn_ids"]);
    for reverse in [false, true] {
        let store = InMemoryThreadStore::default();
        assert_eq!(import_home(&store, &home, reverse).await, 0);
        let turn_ids = async |label: &str| {
            turns(&store, thread_id(&manifest, label))
                .await
                .into_iter()
                .map(|(t, _)| t)
                .collect::<Vec<_>>()
        };
        // `exec_fork` forked the whole of `exec_multi` before its third turn was reverted.
        let got = turn_ids("exec_fork").await;
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(
            got[..3],
            exec_multi[..],
            "exec_fork keeps the reverted turn"
        );
        let mut want = app[..2].to_vec();
        want.extend(own("fork_last"));
        assert_eq!(turn_ids("fork_last").await, want, "fork_last");
        assert_eq!(
            turn_ids("fork_before").await,
            app[..1].to_vec(),
            "fork_before"
        );
        want.extend(own("fork_of_fork"));
        assert_eq!(turn_ids("fork_of_fork").await, want, "fork_of_fork");
        let mut want = app_final.clone();
        want.extend(own("fork_after_revert"));
        assert_eq!(
            turn_ids("fork_after_revert").await,
            want,
            "fork_after_revert"
        );
        for label in ["exec_fork", "fork_last", "fork_before", "fork_of_fork"] {
            let read = store
                .read_thread(threadstore::ReadThreadParams {
                    include_archived: true,
                    ..threadstore::ReadThreadParams::new(thread_id(&manifest, label))
                })
                .await
                .unwrap();
            let parent = t(label)["forked_from"].as_str().unwrap();
            assert_eq!(
                read.forked_from_id,
                Some(thread_id(&manifest, parent)),
                "{label}"
            );
        }
        // Everything again: nothing changes.
        let files = discover(std::slice::from_ref(&home)).unwrap().sources.len();
        assert_eq!(import_home(&store, &home, reverse).await, files);
        assert_eq!(turn_ids("fork_of_fork").await.len(), 4);
    }
}

/// Import → export → import: every thread reads the same turns, and the export is Codex's layout:
/// each fork file is the fork's own lines only and each reverted thread is its original rollout
/// plus its revert rollouts, every file starting with the lines Codex wrote (followed only by the
/// events threadstore recorded: the archive and the names from `session_index.jsonl`).
#[tokio::test]
async fn forks_round_trip_through_export() {
    use threadstore::codex::export::{all_thread_ids, export_thread, ExportOptions};
    let Some(home) = home() else {
        return;
    };
    let manifest = manifest();
    let store = InMemoryThreadStore::default();
    import_home(&store, &home, false).await;
    let out = tempfile::tempdir().unwrap();
    let mut exported = Vec::new();
    for id in all_thread_ids(&store).await.unwrap() {
        exported.push(
            export_thread(&store, id, out.path(), &ExportOptions::default())
                .await
                .unwrap(),
        );
    }
    let again = InMemoryThreadStore::default();
    let found = discover(&[out.path().to_path_buf()]).unwrap();
    let (ordered, plain): (Vec<_>, Vec<_>) = found.sources.into_iter().partition(|s| s.sequential);
    assert_eq!(
        ordered.len(),
        5 + 3,
        "the five forks are exported as forks, the three revert rollouts as revert rollouts"
    );
    for source in plain.iter().chain(&ordered) {
        import_source(&again, source, &SessionNames::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", source.path.display()));
    }
    for label in [
        "exec_single",
        "exec_tool",
        "exec_multi",
        "exec_fork",
        "app_main",
        "fork_last",
        "fork_before",
        "fork_of_fork",
        "fork_after_revert",
    ] {
        let id = thread_id(&manifest, label);
        assert_eq!(turns(&again, id).await, turns(&store, id).await, "{label}");
    }
    // Every file Codex wrote is in the export, the same bytes (a revert rollout's name is matched
    // by its thread and revision, its time stamp being local time).
    let key = |p: &std::path::Path| {
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        match name.rsplit_once('_') {
            Some((_, revision)) if name.contains('_') => revision.to_owned(),
            _ => name,
        }
    };
    let written: Vec<PathBuf> = discover(&[out.path().to_path_buf()])
        .unwrap()
        .sources
        .into_iter()
        .map(|s| s.path)
        .collect();
    for original in discover(std::slice::from_ref(&home)).unwrap().sources {
        let copy = written
            .iter()
            .find(|w| key(w) == key(&original.path))
            .unwrap_or_else(|| panic!("{} is not in the export", original.path.display()));
        // Line by line, Codex's lines first (as JSON: the store keeps a line's timestamp,
        // ordinal, type and payload text; a top-level field beside them, such as 0.171's
        // `metadata`, is not kept yet), then only threadstore's own events.
        let parse = |text: String| -> Vec<serde_json::Value> {
            text.lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    if let Some(o) = v.as_object_mut() {
                        o.retain(|k, _| {
                            ["timestamp", "ordinal", "type", "payload"].contains(&k.as_str())
                        });
                    }
                    v
                })
                .collect()
        };
        let copy = parse(std::fs::read_to_string(copy).unwrap());
        let original = parse(std::fs::read_to_string(&original.path).unwrap());
        assert!(copy.len() >= original.len());
        assert_eq!(copy[..original.len()], original[..]);
        for extra in &copy[original.len()..] {
            assert!(
                matches!(
                    extra["payload"]["type"].as_str(),
                    Some("thread_archived" | "thread_name_updated")
                ),
                "{extra}"
            );
        }
    }
    assert_eq!(exported.len(), 9);
}

/// Forks threadstore made (`fork_thread`, its own header) round-trip too: exported as their own
/// lines, imported again as forks by reference at the same place of the same parent.
#[tokio::test]
async fn threadstore_forks_round_trip_through_export() {
    use threadstore::codex::export::{all_thread_ids, export_thread, ExportOptions};
    use threadstore::{
        AppendThreadItemsParams, CreateThreadParams, ForkBoundary, ForkThreadParams,
    };
    let store = InMemoryThreadStore::default();
    let turn = |id: &str| {
        vec![
            threadstore::RolloutItem::task_started(id),
            threadstore::RolloutItem::user_message(&format!("q {id}")),
            threadstore::RolloutItem::agent_message(&format!("a {id}")),
            threadstore::RolloutItem::task_complete(id, Some("done")),
        ]
    };
    let append = async |id: ThreadId, t: &str| {
        store
            .append_items(AppendThreadItemsParams::new(id, turn(t)))
            .await
            .unwrap();
    };
    let parent = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    for t in ["t1", "t2", "t3"] {
        append(parent, t).await;
    }
    let fork = async |id: ThreadId, boundary: ForkBoundary| {
        store
            .fork_thread(ForkThreadParams::new(id, boundary))
            .await
            .unwrap()
            .thread_id
    };
    let before = fork(parent, ForkBoundary::BeforeTurn("t2".into())).await;
    append(before, "b1").await;
    let latest = fork(parent, ForkBoundary::Latest).await;
    append(latest, "l1").await;
    let of_fork = fork(latest, ForkBoundary::ThroughTurn("t3".into())).await;
    append(of_fork, "f1").await;
    append(parent, "t4").await;
    let out = tempfile::tempdir().unwrap();
    for id in all_thread_ids(&store).await.unwrap() {
        export_thread(&store, id, out.path(), &ExportOptions::default())
            .await
            .unwrap();
    }
    let again = InMemoryThreadStore::default();
    let found = discover(&[out.path().to_path_buf()]).unwrap();
    assert_eq!(
        found.sources.iter().filter(|s| s.sequential).count(),
        0,
        "forks of an older era go out materialized, as Codex's forks of those eras were (Codex \
         reads a prefix by reference only in paginated threads)"
    );
    for source in &found.sources {
        import_source(&again, source, &SessionNames::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", source.path.display()));
    }
    for (id, want) in [
        (parent, vec!["t1", "t2", "t3", "t4"]),
        (before, vec!["t1", "b1"]),
        (latest, vec!["t1", "t2", "t3", "l1"]),
        (of_fork, vec!["t1", "t2", "t3", "f1"]),
    ] {
        let got: Vec<String> = turns(&again, id).await.into_iter().map(|t| t.0).collect();
        assert_eq!(got, want);
        assert_eq!(turns(&again, id).await, turns(&store, id).await);
        let read = again
            .read_thread(threadstore::ReadThreadParams::new(id))
            .await
            .unwrap();
        let original = store
            .read_thread(threadstore::ReadThreadParams::new(id))
            .await
            .unwrap();
        assert_eq!(read.forked_from_id, original.forked_from_id);
        assert_eq!(read.preview, original.preview);
    }
}

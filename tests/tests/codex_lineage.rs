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

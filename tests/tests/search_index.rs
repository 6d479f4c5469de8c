//! The full-text index as a projection (CONTRACT.md §8): `verify` detects a damaged index and
//! a rebuild restores it; an index whose files cannot be read is rebuilt when the store opens;
//! one deleted with the store closed is rebuilt from the feed. (A server killed with SIGKILL:
//! `cli/tests/search_kill.rs`.)

use std::time::Duration;

use threadstore::layers::search::{query, SearchIndex};
use threadstore::*;
use threadstore_tests::harness::turn;

fn search(term: &str) -> SearchThreadsParams {
    SearchThreadsParams {
        search_term: term.into(),
        ..Default::default()
    }
}

async fn hits(store: &dyn ThreadStore, term: &str) -> Vec<ThreadId> {
    let mut ids: Vec<ThreadId> = store
        .search_threads(search(term))
        .await
        .unwrap()
        .items
        .iter()
        .map(|h| h.thread.thread_id)
        .collect();
    ids.sort();
    ids
}

/// Three threads, each with a word of its own, flushed (searchable).
async fn three_threads(store: &SledThreadStore) -> Vec<ThreadId> {
    let mut ids = Vec::new();
    for (i, word) in ["walrus", "narwhal", "beluga"].iter().enumerate() {
        let w = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap();
        store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                turn(&format!("t{i}"), &format!("tell me about the {word}"), "ok"),
            ))
            .await
            .unwrap();
        store.flush_thread(w.thread_id).await.unwrap();
        ids.push(w.thread_id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_detects_a_damaged_index_and_rebuild_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let ids = three_threads(&store).await;
    assert_verified(&store).await;
    store.close().await.unwrap();

    // Damage: the documents of one thread disappear, under an unchanged applied position.
    {
        let index = SearchIndex::open(&dir.path().join("search")).unwrap();
        let applied = index.applied().unwrap();
        assert!(applied > 0);
        assert_eq!(query::documents_of(&index, ids[1]).unwrap(), 3);
        index.delete_thread(ids[1]).unwrap();
        index.commit(applied).unwrap();
        assert_eq!(query::documents_of(&index, ids[1]).unwrap(), 0);
    }

    let store = SledThreadStore::open(dir.path()).await.unwrap();
    assert!(
        hits(&store, "narwhal").await.is_empty(),
        "the damage is real"
    );
    let report = store.actor_store().verify().await.unwrap();
    assert_eq!(report.differences.len(), 1, "{:?}", report.differences);
    assert_eq!(report.differences[0].thread_id, Some(ids[1]));
    assert!(
        report.differences[0]
            .what
            .contains("search index holds 0 documents"),
        "{}",
        report.differences[0].what
    );

    let left = store
        .actor_store()
        .rebuild_search(Duration::from_secs(60))
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(hits(&store, "narwhal").await, vec![ids[1]]);
    assert_eq!(hits(&store, "walrus").await, vec![ids[0]]);
    assert_verified(&store).await;
    store.close().await.unwrap();
}

/// Opens the store in `dir`: `word` finds `thread` alone, and `verify` is clean.
async fn reopened_finds(dir: &std::path::Path, word: &str, thread: ThreadId) {
    let store = SledThreadStore::open(dir).await.unwrap();
    assert_eq!(hits(&store, word).await, vec![thread]);
    assert_verified(&store).await;
    store.close().await.unwrap();
}

/// `verify` finds nothing to report.
async fn assert_verified(store: &SledThreadStore) {
    let report = store.actor_store().verify().await.unwrap();
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_or_missing_index_is_rebuilt_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let ids = three_threads(&store).await;
    store.close().await.unwrap();

    // Garbage where tantivy keeps its list of segments.
    std::fs::write(dir.path().join("search").join("meta.json"), b"{not json").unwrap();
    reopened_finds(dir.path(), "beluga", ids[2]).await;
    // Gone altogether.
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    reopened_finds(dir.path(), "walrus", ids[0]).await;
}

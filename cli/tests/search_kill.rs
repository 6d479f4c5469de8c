//! A `threadstore serve` killed with SIGKILL right after acknowledging appends leaves a search
//! index that catches up with every one of them when the store opens again (CONTRACT.md §8).

use threadstore::*;
use threadstore_tests::harness::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");

async fn hits(store: &dyn ThreadStore, term: &str) -> Vec<ThreadId> {
    store
        .search_threads(SearchThreadsParams::new(term))
        .await
        .unwrap()
        .items
        .iter()
        .map(|h| h.thread.thread_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_9_the_index_catches_up_with_every_acknowledged_append() {
    let dir = tempfile::tempdir().unwrap();
    let (server, remote) = ServerProcess::start(BIN, dir.path()).await;
    // Appends acknowledged right before the kill: most are still on their way to the index
    // (it commits every 250 ms), none is flushed.
    let mut acknowledged = Vec::new();
    for t in 0..4 {
        let w = remote
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap();
        for i in 0..25 {
            let word = format!("zq{t}x{i}w");
            remote
                .append_items(AppendThreadItemsParams::new(
                    w.thread_id,
                    vec![RolloutItem::agent_message(&format!("answer with {word}"))],
                ))
                .await
                .unwrap();
            acknowledged.push((w.thread_id, word));
        }
    }
    drop(remote);
    server.kill().await;

    let store = SledThreadStore::open(dir.path()).await.unwrap();
    // Nothing acknowledged is missing from the index once it has caught up (a search waits for
    // the catch-up after a crash; verify compares every thread's documents with its log).
    for (thread, word) in &acknowledged {
        assert_eq!(&hits(&store, word).await, &vec![*thread], "{word}");
    }
    let report = store.actor_store().verify().await.unwrap();
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    let stats = store
        .store_stats(StoreStatsParams::default())
        .await
        .unwrap();
    assert_eq!(stats.search_index.unwrap().lag, 0);
    store.close().await.unwrap();
}

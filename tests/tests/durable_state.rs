//! Restart, verify, corrupt records and the directory lock, on the sled backend.

use std::sync::Arc;

use threadstore::layers::storage::engine::{KvEngine, SledEngine, WriteBatch};
use threadstore::layers::storage::keys;
use threadstore::{
    AppendThreadItemsParams, ArchiveThreadParams, CreateThreadParams, Durability, FeedEventKind,
    ListItemsParams, LoadThreadHistoryParams, RolloutItem, SledThreadStore, StoreConfig,
    ThreadMetadataPatch, ThreadStore, ThreadStoreError, UpdateThreadMetadataParams,
};

fn turn(id: &str, user: &str, agent: &str) -> Vec<RolloutItem> {
    vec![
        RolloutItem::task_started(id),
        RolloutItem::user_message(user),
        RolloutItem::agent_message(agent),
        RolloutItem::task_complete(id, Some(agent)),
    ]
}

async fn workload(store: &SledThreadStore) -> Vec<threadstore::ThreadId> {
    let mut ids = Vec::new();
    for n in 0..5 {
        let w = store
            .create_thread(CreateThreadParams {
                cwd: Some(format!("/repo/{n}").into()),
                ..Default::default()
            })
            .await
            .unwrap();
        for t in 0..6 {
            let items = turn(&format!("t{t}"), &format!("prompt {t}"), "ok");
            store
                .append_items(AppendThreadItemsParams::new(w.thread_id, items))
                .await
                .unwrap();
        }
        let rollback = RolloutItem::event_msg(
            serde_json::json!({"type": "thread_rolled_back", "num_turns": 2}),
        );
        store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                vec![rollback, RolloutItem::user_message("after rollback")],
            ))
            .await
            .unwrap();
        let patch = ThreadMetadataPatch {
            name: Some(Some(format!("thread {n}"))),
            model: Some("gpt-5".into()),
            ..Default::default()
        };
        store
            .update_thread_metadata(UpdateThreadMetadataParams {
                thread_id: w.thread_id,
                patch,
                include_archived: false,
                at: None,
            })
            .await
            .unwrap();
        if n % 2 == 0 {
            store
                .archive_thread(ArchiveThreadParams::new(w.thread_id))
                .await
                .unwrap();
        }
        ids.push(w.thread_id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_equal_a_rebuild_before_and_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let ids = workload(&store).await;
    let report = store.actor_store().verify().await.unwrap();
    assert_eq!(report.threads, ids.len() as u64);
    assert!(report.items > 0);
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    store.close().await.unwrap();

    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let report = store.actor_store().verify().await.unwrap();
    assert_eq!(report.threads, ids.len() as u64);
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_projection_that_drifted() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(SledEngine::open(dir.path(), &Default::default()).unwrap());
    let store = SledThreadStore::builder(dir.path())
        .config(StoreConfig::default())
        .engine(engine.clone())
        .open()
        .await
        .unwrap();
    let ids = workload(&store).await;
    // Remove one turn record behind the store's back: verify must notice.
    let mut batch = WriteBatch::default();
    batch.remove(keys::turn(&ids[1], 0));
    engine.apply(batch).unwrap();
    let report = store.actor_store().verify().await.unwrap();
    assert!(
        report
            .differences
            .iter()
            .any(|d| d.thread_id == Some(ids[1])),
        "{report:?}"
    );
    assert!(report
        .differences
        .iter()
        .all(|d| d.thread_id == Some(ids[1])));

    // A lost index entry and a stale one are reported too.
    let mut batch = WriteBatch::default();
    let sort = threadstore::ThreadSortKey::UpdatedAt;
    batch.put(
        keys::index_entry(keys::index_prefix(keys::ACTIVE, sort), 1, &ids[2]),
        Vec::new(),
    );
    engine.apply(batch).unwrap();
    let report = store.actor_store().verify().await.unwrap();
    assert!(
        report
            .differences
            .iter()
            .any(|d| d.thread_id.is_none() && d.what.contains("stale")),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_fails_to_decode_is_corrupt_with_thread_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(SledEngine::open(dir.path(), &Default::default()).unwrap());
    let config = StoreConfig {
        durability: Durability::Buffered,
        ..Default::default()
    };
    let store = SledThreadStore::builder(dir.path())
        .config(config)
        .engine(engine.clone())
        .open()
        .await
        .unwrap();
    let a = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let b = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    for w in [&a, &b] {
        store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                turn("t", "hello", "hi"),
            ))
            .await
            .unwrap();
    }
    let mut batch = WriteBatch::default();
    batch.put(keys::log(&a.thread_id, 2), vec![1, 0xff, 0xff, 0xff]);
    engine.apply(batch).unwrap();

    let err = store
        .load_history(LoadThreadHistoryParams {
            thread_id: a.thread_id,
            include_archived: false,
        })
        .await
        .unwrap_err();
    match err {
        ThreadStoreError::Corrupt {
            thread_id,
            position,
            ..
        } => {
            assert_eq!(thread_id, Some(a.thread_id));
            assert_eq!(position, Some(2));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let page = store.list_items(ListItemsParams::new(a.thread_id)).await;
    assert!(
        matches!(
            page,
            Err(ThreadStoreError::Corrupt {
                position: Some(2),
                ..
            })
        ),
        "{page:?}"
    );
    // Nothing else is affected, and the corrupt record did not vanish.
    let other = store
        .load_history(LoadThreadHistoryParams {
            thread_id: b.thread_id,
            include_archived: false,
        })
        .await
        .unwrap();
    assert_eq!(other.items.len(), 5);
    assert!(engine.get(&keys::log(&a.thread_id, 2)).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_opener_of_the_directory_gets_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledThreadStore::open(dir.path()).await.unwrap();
    let second = SledThreadStore::open(dir.path()).await;
    match second {
        Err(ThreadStoreError::Locked { path, .. }) => assert_eq!(path, dir.path()),
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("a second opener must not get the store"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_is_gapless_in_commit_order_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let ids = workload(&store).await;
    let head = store.actor_store().feed_head();
    let feed = store.actor_store().feed(0, usize::MAX).await.unwrap();
    assert_eq!(feed.len() as u64, head);
    for (i, e) in feed.iter().enumerate() {
        assert_eq!(e.position, i as u64);
    }
    // Per thread: created, writer opened, header appended, then six turns started and completed.
    let first: Vec<&FeedEventKind> = feed
        .iter()
        .filter(|e| e.thread_id == ids[0])
        .map(|e| &e.kind)
        .collect();
    assert_eq!(first[0], &FeedEventKind::ThreadCreated);
    assert!(matches!(first[1], FeedEventKind::WriterOpened { epoch: 1 }));
    assert!(matches!(
        first[2],
        FeedEventKind::ItemsAppended {
            first_position: 0,
            count: 1
        }
    ));
    let started = first
        .iter()
        .filter(|k| matches!(k, FeedEventKind::TurnStarted { .. }))
        .count();
    let completed = first
        .iter()
        .filter(|k| matches!(k, FeedEventKind::TurnCompleted { .. }))
        .count();
    assert_eq!((started, completed), (7, 6));
    assert!(first.contains(&&FeedEventKind::MetadataUpdated));
    assert!(first.contains(&&FeedEventKind::Archived));
    store.close().await.unwrap();

    let store = SledThreadStore::open(dir.path()).await.unwrap();
    assert_eq!(store.actor_store().feed_head(), head);
    let w = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let after = store.actor_store().feed(head, usize::MAX).await.unwrap();
    assert_eq!(after[0].position, head);
    assert_eq!(after[0].thread_id, w.thread_id);
}

/// Forks by reference are projections like any thread's: a fork at each boundary (one mid-turn),
/// a fork of a fork, their own appends, and the parent reverted and deleted afterwards (copies on
/// write, a tombstone) all verify clean against a rebuild from the lineage's log, before and
/// after a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_verify_clean_through_their_parents_changes() {
    use threadstore::{
        DeleteThreadParams, ForkBoundary, ForkThreadParams, RevertThreadParams, ThreadId,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let parent = store
        .create_thread(CreateThreadParams {
            cwd: Some("/repo".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .thread_id;
    for t in 0..4 {
        let items = turn(&format!("t{t}"), &format!("prompt {t}"), "ok");
        store
            .append_items(AppendThreadItemsParams::new(parent, items))
            .await
            .unwrap();
    }
    let fork = |id: ThreadId, boundary: ForkBoundary| {
        let store = &store;
        async move {
            store
                .fork_thread(ForkThreadParams::new(id, boundary))
                .await
                .unwrap()
                .thread_id
        }
    };
    let mut forks = vec![
        fork(parent, ForkBoundary::Latest).await,
        fork(parent, ForkBoundary::ThroughTurn("t1".into())).await,
        fork(parent, ForkBoundary::BeforeTurn("t2".into())).await,
    ];
    store
        .append_items(AppendThreadItemsParams::new(
            parent,
            vec![
                RolloutItem::task_started("t4"),
                RolloutItem::user_message("mid"),
            ],
        ))
        .await
        .unwrap();
    forks.push(fork(parent, ForkBoundary::Latest).await);
    for (n, f) in forks.clone().into_iter().enumerate() {
        store
            .append_items(AppendThreadItemsParams::new(
                f,
                turn(&format!("own{n}"), "own prompt", "own answer"),
            ))
            .await
            .unwrap();
    }
    forks.push(fork(forks[1], ForkBoundary::Latest).await);
    store
        .revert_thread(RevertThreadParams::new(parent, "t1"))
        .await
        .unwrap();
    store
        .revert_thread(RevertThreadParams::new(forks[0], "t3"))
        .await
        .unwrap();
    let report = store.actor_store().verify().await.unwrap();
    assert_eq!(report.threads, 1 + forks.len() as u64);
    assert!(report.differences.is_empty(), "{:#?}", report.differences);
    store
        .delete_thread(DeleteThreadParams::new(parent))
        .await
        .unwrap();
    let report = store.actor_store().verify().await.unwrap();
    assert_eq!(report.threads, forks.len() as u64);
    assert!(report.differences.is_empty(), "{:#?}", report.differences);
    store.close().await.unwrap();

    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let report = store.actor_store().verify().await.unwrap();
    assert_eq!(report.threads, forks.len() as u64);
    assert!(report.differences.is_empty(), "{:#?}", report.differences);
}

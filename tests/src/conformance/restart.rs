//! Restart cases (persistent backends only): write, drop the store, reopen the same directory,
//! and everything reads the same; writers are not live; idempotency keys survive.

use super::prelude::*;

/// Everything a client can read about a set of threads, with `live` normalized (no writer is
/// live after a reopen).
#[derive(Debug, PartialEq)]
struct Snapshot {
    threads: Vec<StoredThread>,
    turns: Vec<TurnPage>,
    items: Vec<ItemPage>,
    listings: Vec<Vec<StoredThread>>,
}

async fn snapshot(t: &TestStore, ids: &[ThreadId]) -> Snapshot {
    let mut threads = Vec::new();
    let mut turns = Vec::new();
    let mut items = Vec::new();
    for &id in ids {
        let th = t
            .store
            .read_thread(ReadThreadParams {
                thread_id: id,
                include_archived: true,
                include_history: true,
            })
            .await
            .unwrap();
        threads.push(StoredThread { live: false, ..th });
        for view in [StoredTurnItemsView::Full, StoredTurnItemsView::Summary] {
            let mut page = t
                .turns(ListTurnsParams {
                    include_archived: true,
                    page_size: 200,
                    sort_direction: SortDirection::Asc,
                    items_view: view,
                    ..ListTurnsParams::new(id)
                })
                .await;
            // Cursors are opaque: compare the content only.
            page.next_cursor = None;
            page.backwards_cursor = None;
            turns.push(page);
        }
        let mut page = t
            .items(ListItemsParams {
                include_archived: true,
                page_size: 200,
                ..ListItemsParams::new(id)
            })
            .await;
        page.next_cursor = None;
        page.backwards_cursor = None;
        items.push(page);
    }
    let mut listings = Vec::new();
    for archived in [false, true] {
        for key in [
            ThreadSortKey::CreatedAt,
            ThreadSortKey::UpdatedAt,
            ThreadSortKey::RecencyAt,
        ] {
            let page = t
                .list(ListThreadsParams {
                    archived,
                    ..sorted(key, SortDirection::Desc)
                })
                .await;
            listings.push(
                page.items
                    .into_iter()
                    .map(|th| StoredThread { live: false, ..th })
                    .collect(),
            );
        }
    }
    Snapshot {
        threads,
        turns,
        items,
        listings,
    }
}

/// A rich store (metadata, turns of every status, rollback, archive, delete) reads the same after
/// a reopen.
pub async fn everything_reads_the_same(b: Backend) {
    let t = b.open().await;
    // A: live, patched, several turns and statuses, token usage, model.
    let a = t
        .create_with(CreateThreadParams {
            git_info: Some(git("abc", "main", "https://x/r.git")),
            agent_role: Some("worker".into()),
            ..create_params()
        })
        .await
        .thread_id;
    t.append_at(a, turn("t1", "Hello from user", "done"), at(10))
        .await;
    t.append_at(
        a,
        vec![
            RolloutItem::task_started("t2"),
            turn_context("t2", "gpt-5", "high"),
            RolloutItem::user_message("second"),
            error_event("boom"),
            RolloutItem::task_complete("t2", None),
            token_count(10, 1, 5, 2, 15),
        ],
        at(20),
    )
    .await;
    t.append_at(
        a,
        vec![
            RolloutItem::task_started("t3"),
            RolloutItem::user_message("third"),
            RolloutItem::turn_aborted(Some("t3"), "interrupted"),
            RolloutItem::task_started("t4"),
            RolloutItem::user_message("fourth"),
        ],
        at(30),
    )
    .await;
    t.patch(
        a,
        ThreadMetadataPatch {
            name: Some(Some("Thread A".into())),
            agent_role: Some(None),
            git_info: Some(GitInfoPatch {
                branch: Some(Some("dev".into())),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    // B: from a Codex header, shut down, archived.
    let b_id = t
        .create_spec(&Spec::at(5).source("vscode").provider("azure"))
        .await;
    t.append_at(
        b_id,
        turn("b1", "archived question", "archived answer"),
        at(6),
    )
    .await;
    t.shutdown(b_id).await;
    t.archive(b_id).await;
    // C: rollout path, implicit turns, rollback, discarded.
    let c_path = PathBuf::from(format!("/rollouts/{}.jsonl", ThreadId::new()));
    let c = t
        .create_with(CreateThreadParams {
            rollout_path: Some(c_path.clone()),
            parent_thread_id: Some(a),
            ..create_params()
        })
        .await
        .thread_id;
    t.append_at(
        c,
        vec![
            RolloutItem::user_message("u1"),
            RolloutItem::agent_message("a1"),
            RolloutItem::user_message("u2"),
            RolloutItem::agent_message("a2"),
            rolled_back(1),
        ],
        at(40),
    )
    .await;
    t.store.discard_thread(c).await.unwrap();
    // D: deleted.
    let d = t.create().await.thread_id;
    t.append(d, vec![RolloutItem::user_message("gone")]).await;
    t.store
        .delete_thread(DeleteThreadParams { thread_id: d })
        .await
        .unwrap();

    let ids = [a, b_id, c];
    let before = snapshot(&t, &ids).await;
    assert_eq!(before.threads[0].turn_count, 4);
    assert_eq!(before.threads[2].turn_count, 1);

    let t = t.reopen().await;
    let after = snapshot(&t, &ids).await;
    assert_eq!(after, before);
    for &id in &ids {
        assert!(!t.read(id).await.live);
    }
    let by_path = t
        .store
        .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
            rollout_path: c_path,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_path.thread_id, c);
    assert_err!(
        t.store
            .read_thread(ReadThreadParams {
                thread_id: d,
                include_archived: true,
                include_history: false
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let children = t
        .list_ids(ListThreadsParams {
            relation_filter: Some(ThreadRelationFilter::DirectChildrenOf(a)),
            ..Default::default()
        })
        .await;
    assert_eq!(children, vec![c]);
    let found = t
        .store
        .search_threads(SearchThreadsParams {
            search_term: "hello from".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        found
            .items
            .iter()
            .map(|h| h.thread.thread_id)
            .collect::<Vec<_>>(),
        vec![a]
    );
}

/// After a reopen no writer is live: append is `ThreadNotFound`; resume gives a greater epoch and
/// fences the old handle.
pub async fn writers_not_live_after_reopen(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    t.append(w.thread_id, turn("t1", "q", "a")).await;
    let t = t.reopen().await;
    assert!(!t.read(w.thread_id).await.live);
    assert_err!(
        t.store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                vec![RolloutItem::user_message("x")]
            ))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store.shutdown_thread(w.thread_id).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let w2 = t.resume(w.thread_id).await;
    assert!(w2.epoch > w.epoch, "{} > {}", w2.epoch, w.epoch);
    assert_eq!(w2.next_position, 5);
    assert_err!(
        t.store
            .append_items(AppendThreadItemsParams {
                writer_epoch: Some(w.epoch),
                ..AppendThreadItemsParams::new(w.thread_id, vec![RolloutItem::user_message("old")])
            })
            .await,
        ThreadStoreError::StaleWriter { .. }
    );
    let r = t
        .append(w.thread_id, vec![RolloutItem::user_message("new")])
        .await;
    assert_eq!(r.first_position, 5);
    assert_eq!(t.history(w.thread_id).await.len(), 6);
}

/// A request id seen before the reopen still deduplicates after it.
pub async fn request_ids_survive_reopen(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let items = vec![
        RolloutItem::user_message("q"),
        RolloutItem::agent_message("a"),
    ];
    let first = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("durable-key".into()),
            ..AppendThreadItemsParams::new(id, items.clone())
        })
        .await;
    assert_eq!((first.first_position, first.item_count), (1, 2));
    t.append(id, vec![RolloutItem::agent_message("after")])
        .await;
    let t = t.reopen().await;
    t.resume(id).await;
    let retry = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("durable-key".into()),
            ..AppendThreadItemsParams::new(id, items)
        })
        .await;
    assert_eq!(
        retry,
        AppendResult {
            first_position: 1,
            item_count: 2,
            deduplicated: true
        }
    );
    assert_eq!(t.history(id).await.len(), 4);
}

/// Metadata patches are in the log, so a reopen reproduces them.
pub async fn metadata_patches_survive_reopen(b: Backend) {
    let t = b.open().await;
    let id = t
        .create_with(CreateThreadParams {
            agent_nickname: Some("nick".into()),
            git_info: Some(git("a", "main", "u")),
            ..create_params()
        })
        .await
        .thread_id;
    t.patch(
        id,
        ThreadMetadataPatch {
            name: Some(Some("named".into())),
            ..Default::default()
        },
    )
    .await;
    let patched = t
        .patch(
            id,
            ThreadMetadataPatch {
                agent_nickname: Some(None),
                model: Some("gpt-5".into()),
                git_info: Some(GitInfoPatch {
                    sha: Some(Some("b".into())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await;
    let t = t.reopen().await;
    let th = t.read(id).await;
    assert_eq!(th.name.as_deref(), Some("named"));
    assert_eq!(th.agent_nickname, None);
    assert_eq!(th.model.as_deref(), Some("gpt-5"));
    assert_eq!(th.git_info, Some(git("b", "main", "u")));
    assert_eq!(
        th,
        StoredThread {
            live: false,
            ..patched
        }
    );
}

/// Archive state and deletion survive a reopen.
pub async fn archive_and_delete_survive_reopen(b: Backend) {
    let t = b.open().await;
    let a = t.create_spec(&Spec::at(1)).await;
    let c = t.create_spec(&Spec::at(2)).await;
    let d = t.create_spec(&Spec::at(3)).await;
    let archived_at = t.archive(a).await.archived_at;
    t.store
        .delete_thread(DeleteThreadParams { thread_id: d })
        .await
        .unwrap();
    let t = t.reopen().await;
    assert_eq!(t.list_ids(ListThreadsParams::default()).await, vec![c]);
    assert_eq!(
        t.list_ids(ListThreadsParams {
            archived: true,
            ..Default::default()
        })
        .await,
        vec![a]
    );
    assert_eq!(t.read(a).await.archived_at, archived_at);
    assert_err!(
        t.store
            .read_thread(ReadThreadParams {
                thread_id: a,
                include_archived: false,
                include_history: false
            })
            .await,
        ThreadStoreError::Archived { .. }
    );
    assert_err!(
        t.store
            .delete_thread(DeleteThreadParams { thread_id: d })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    // Unarchive after the reopen works.
    assert_eq!(t.unarchive(a).await.archived_at, None);
}

/// failed (with its message), interrupted, in-progress and rolled-back turns survive a reopen.
pub async fn turn_statuses_survive_reopen(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("ok", "q1", "a1")).await;
    t.append(
        id,
        vec![
            RolloutItem::task_started("bad"),
            RolloutItem::user_message("q2"),
            error_event("boom"),
            RolloutItem::task_complete("bad", None),
            RolloutItem::task_started("stop"),
            RolloutItem::turn_aborted(Some("stop"), "interrupted"),
        ],
    )
    .await;
    t.append(id, turn("dropped", "q3", "a3")).await;
    t.append(id, vec![rolled_back(1), RolloutItem::task_started("open")])
        .await;
    let t = t.reopen().await;
    let page = t
        .turns(ListTurnsParams {
            sort_direction: SortDirection::Asc,
            items_view: StoredTurnItemsView::NotLoaded,
            ..ListTurnsParams::new(id)
        })
        .await;
    assert_eq!(turn_ids(&page), vec!["ok", "bad", "stop", "open"]);
    let statuses: Vec<_> = page.turns.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses,
        vec![
            StoredTurnStatus::Completed,
            StoredTurnStatus::Failed,
            StoredTurnStatus::Interrupted,
            StoredTurnStatus::InProgress,
        ]
    );
    assert_eq!(
        page.turns[1].error.as_ref().map(|e| e.message.as_str()),
        Some("boom")
    );
}

/// After a reopen and resume, appends continue the log and the projections.
pub async fn appends_continue_after_reopen(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("t1", "q1", "a1")).await;
    t.append(
        id,
        vec![
            RolloutItem::task_started("t2"),
            RolloutItem::user_message("q2"),
        ],
    )
    .await;
    let t = t.reopen().await;
    t.resume(id).await;
    let r = t
        .append(
            id,
            vec![
                RolloutItem::agent_message("a2"),
                RolloutItem::task_complete("t2", Some("a2")),
            ],
        )
        .await;
    assert_eq!(r.first_position, 7);
    t.append(id, turn("t3", "q3", "a3")).await;
    let page = t
        .turns(ListTurnsParams {
            sort_direction: SortDirection::Asc,
            ..ListTurnsParams::new(id)
        })
        .await;
    assert_eq!(turn_ids(&page), vec!["t1", "t2", "t3"]);
    assert_eq!(page.turns[1].status, StoredTurnStatus::Completed);
    assert_eq!(texts(&page.turns[1].items), vec!["q2", "a2"]);
    assert_eq!(page.turns[1].item_count, 4);
    let th = t.read(id).await;
    assert_eq!(th.item_count, 13);
    assert_eq!(th.turn_count, 3);
    assert_eq!(th.preview, "q1");
}

/// Concurrent writes, then a reopen: every log is still gapless and complete.
pub async fn concurrent_writes_then_reopen(b: Backend) {
    let t = b.open().await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(t.create().await.thread_id);
    }
    let ids = Arc::new(ids);
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let store = t.store.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..20usize {
                store
                    .append_items(AppendThreadItemsParams::new(
                        ids[(w + k) % ids.len()],
                        vec![RolloutItem::agent_message(&format!("w{w}:s{k}"))],
                    ))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let before: Vec<_> = {
        let mut v = Vec::new();
        for &id in ids.iter() {
            v.push(t.history(id).await);
        }
        v
    };
    let t = t.reopen().await;
    for (i, &id) in ids.iter().enumerate() {
        let h = t.history(id).await;
        assert_eq!(h, before[i]);
        assert_eq!(h.len(), 1 + 8 * 20 / 4);
        assert_eq!(t.read(id).await.item_count as usize, h.len());
        let page = t
            .items(ListItemsParams {
                page_size: 200,
                ..ListItemsParams::new(id)
            })
            .await;
        assert_eq!(
            positions(&page.items),
            (0..h.len() as u64).collect::<Vec<u64>>()
        );
    }
}

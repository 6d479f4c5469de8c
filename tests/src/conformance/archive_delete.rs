//! archive_thread / unarchive_thread / delete_thread.

use super::prelude::*;

fn active_listing() -> ListThreadsParams {
    ListThreadsParams::default()
}

fn archived_listing() -> ListThreadsParams {
    ListThreadsParams {
        archived: true,
        ..Default::default()
    }
}

/// Archive and unarchive of an unknown thread are `ThreadNotFound`.
pub async fn archive_unknown_is_not_found(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::new();
    assert_err!(
        t.store.archive_thread(ArchiveThreadParams::new(id)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store.unarchive_thread(ArchiveThreadParams::new(id)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

/// Both are idempotent and return the current state.
pub async fn archive_and_unarchive_are_idempotent(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("Hello from user")])
        .await;
    let un = t.unarchive(id).await;
    assert_eq!(un.thread_id, id);
    assert_eq!(un.archived_at, None);
    let a1 = t.archive(id).await;
    assert_eq!(a1.thread_id, id);
    let when = a1.archived_at.expect("archived_at set");
    let a2 = t.archive(id).await;
    assert_eq!(a2.archived_at, Some(when), "archiving again keeps the time");
    assert_eq!(
        a2.item_count, a1.item_count,
        "archiving again changes nothing"
    );
    assert_eq!(t.read(id).await.archived_at, Some(when));
    let u1 = t.unarchive(id).await;
    assert_eq!(u1.archived_at, None);
    assert_eq!(u1.preview, "Hello from user");
    let u2 = t.unarchive(id).await;
    assert_eq!(u2.archived_at, None);
    assert_eq!(
        u2.item_count, u1.item_count,
        "unarchiving again changes nothing"
    );
    assert_eq!(t.read(id).await.archived_at, None);
    assert_eq!(
        t.list_ids(active_listing()).await,
        vec![id],
        "back in the active listing"
    );
    assert!(t.list_ids(archived_listing()).await.is_empty());
}

/// Archived threads leave the active listing and appear in the archived one.
pub async fn archived_thread_leaves_active_listing(b: Backend) {
    let t = b.open().await;
    let a = t.create_spec(&Spec::at(1)).await;
    let c = t.create_spec(&Spec::at(2)).await;
    t.archive(a).await;
    assert_eq!(t.list_ids(active_listing()).await, vec![c]);
    let archived = t.list(archived_listing()).await;
    assert_eq!(thread_ids(&archived), vec![a]);
    assert!(archived.items[0].archived_at.is_some());
    t.unarchive(a).await;
    assert_eq!(t.list_ids(active_listing()).await, vec![c, a]);
    assert!(t.list_ids(archived_listing()).await.is_empty());
}

/// read, load_history, list_turns and list_items need include_archived for an archived thread.
pub async fn archived_thread_reads_need_include_archived(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("t1", "q", "a")).await;
    t.archive(id).await;
    let archived = |e: &ThreadStoreError| matches!(e, ThreadStoreError::Archived { thread_id } if *thread_id == id);
    let e = t
        .store
        .read_thread(ReadThreadParams {
            thread_id: id,
            include_archived: false,
            include_history: false,
        })
        .await
        .unwrap_err();
    assert!(archived(&e), "{e:?}");
    let e = t
        .store
        .load_history(LoadThreadHistoryParams {
            thread_id: id,
            include_archived: false,
        })
        .await
        .unwrap_err();
    assert!(archived(&e), "{e:?}");
    let e = t
        .store
        .list_turns(ListTurnsParams::new(id))
        .await
        .unwrap_err();
    assert!(archived(&e), "{e:?}");
    let e = t
        .store
        .list_items(ListItemsParams::new(id))
        .await
        .unwrap_err();
    assert!(archived(&e), "{e:?}");

    let th = t
        .store
        .read_thread(ReadThreadParams {
            thread_id: id,
            include_archived: true,
            include_history: true,
        })
        .await
        .unwrap();
    assert!(th.archived_at.is_some());
    // (Archiving may itself be recorded in the log: compare with the item count.)
    let count = th.item_count as usize;
    assert!(count >= 5);
    assert_eq!(th.history.unwrap().items.len(), count);
    assert_eq!(t.history(id).await.len(), count);
    let turns = t
        .turns(ListTurnsParams {
            include_archived: true,
            ..ListTurnsParams::new(id)
        })
        .await;
    assert_eq!(turn_ids(&turns), vec!["t1"]);
    let items = t
        .items(ListItemsParams {
            include_archived: true,
            ..ListItemsParams::new(id)
        })
        .await;
    assert_eq!(items.items.len(), count);
}

/// resume of an archived thread needs include_archived.
pub async fn resume_archived_needs_include_archived(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.shutdown(id).await;
    let count = t.archive(id).await.item_count;
    assert_err!(
        t.store
            .resume_thread(ResumeThreadParams {
                thread_id: id,
                include_archived: false
            })
            .await,
        ThreadStoreError::Archived { .. }
    );
    let w = t
        .store
        .resume_thread(ResumeThreadParams {
            thread_id: id,
            include_archived: true,
        })
        .await
        .unwrap();
    assert_eq!(w.next_position, count);
    let r = t
        .append(id, vec![RolloutItem::user_message("still archived")])
        .await;
    assert_eq!(r.first_position, count);
    assert!(t.read(id).await.archived_at.is_some());
}

/// A live thread that gets archived keeps accepting appends.
pub async fn append_to_live_archived_thread_works(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let count = t.archive(id).await.item_count;
    let r = t.append(id, turn("t1", "q", "a")).await;
    assert_eq!((r.first_position, r.item_count), (count, 4));
    let th = t.read(id).await;
    assert_eq!(th.item_count, count + 4);
    assert_eq!(t.turn_ids(id).await, vec!["t1"]);
    assert!(th.archived_at.is_some());
    assert!(t.list_ids(active_listing()).await.is_empty());
}

/// Deleting an unknown thread is `ThreadNotFound`.
pub async fn delete_unknown_is_not_found(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::new();
    let e = assert_err!(
        t.store
            .delete_thread(DeleteThreadParams { thread_id: id })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_eq!(e, ThreadStoreError::ThreadNotFound { thread_id: id });
}

/// After delete the thread is gone everywhere; deleting again is `ThreadNotFound`.
pub async fn delete_removes_everything(b: Backend) {
    let t = b.open().await;
    let path = PathBuf::from(format!("/rollouts/{}.jsonl", ThreadId::new()));
    let id = t
        .create_with(CreateThreadParams {
            rollout_path: Some(path.clone()),
            ..create_params()
        })
        .await
        .thread_id;
    let keep = t.create().await.thread_id;
    t.append(id, turn("t1", "delete me please", "ok")).await;
    t.shutdown(id).await;
    t.store
        .delete_thread(DeleteThreadParams { thread_id: id })
        .await
        .unwrap();

    assert_err!(
        t.store
            .read_thread(ReadThreadParams {
                thread_id: id,
                include_archived: true,
                include_history: false
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store
            .load_history(LoadThreadHistoryParams {
                thread_id: id,
                include_archived: true
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store
            .list_turns(ListTurnsParams {
                include_archived: true,
                ..ListTurnsParams::new(id)
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store
            .list_items(ListItemsParams {
                include_archived: true,
                ..ListItemsParams::new(id)
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store
            .resume_thread(ResumeThreadParams {
                thread_id: id,
                include_archived: true
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_invalid!(
        t.store
            .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
                rollout_path: path,
                include_archived: true,
                include_history: false,
            })
            .await
    );
    assert_eq!(t.list_ids(active_listing()).await, vec![keep]);
    assert!(t.list_ids(archived_listing()).await.is_empty());
    let found = t
        .store
        .search_threads(SearchThreadsParams {
            search_term: "delete me".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(found.items.is_empty());
    assert_err!(
        t.store
            .delete_thread(DeleteThreadParams { thread_id: id })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    // The other thread is untouched.
    assert_eq!(t.history(keep).await.len(), 1);
}

/// Deleting a live thread closes its writer.
pub async fn delete_live_thread_closes_writer(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("x")]).await;
    t.store
        .delete_thread(DeleteThreadParams { thread_id: id })
        .await
        .unwrap();
    assert_err!(
        t.store
            .append_items(AppendThreadItemsParams::new(
                id,
                vec![RolloutItem::user_message("after")]
            ))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store.flush_thread(id).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert!(t.list_ids(active_listing()).await.is_empty());
}

/// Deleting an archived thread removes it from the archived listing.
pub async fn delete_archived_thread(b: Backend) {
    let t = b.open().await;
    let a = t.create_spec(&Spec::at(1)).await;
    let c = t.create_spec(&Spec::at(2)).await;
    t.archive(a).await;
    t.archive(c).await;
    t.store
        .delete_thread(DeleteThreadParams { thread_id: a })
        .await
        .unwrap();
    assert_eq!(t.list_ids(archived_listing()).await, vec![c]);
    assert!(t.list_ids(active_listing()).await.is_empty());
    assert_err!(
        t.store.unarchive_thread(ArchiveThreadParams::new(a)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

/// A thread created as `parent`'s child (`parent_thread_id`).
async fn spawn_child(t: &TestStore, parent: ThreadId) -> ThreadId {
    t.create_with(CreateThreadParams {
        parent_thread_id: Some(parent),
        ..Default::default()
    })
    .await
    .thread_id
}

/// Deleting a thread deletes every thread it spawned, transitively (archived ones too); an
/// unrelated thread stays.
pub async fn delete_cascades_to_spawned_descendants(b: Backend) {
    let t = b.open().await;
    let parent = t.create().await.thread_id;
    let child = spawn_child(&t, parent).await;
    let grandchild = spawn_child(&t, child).await;
    let other_child = spawn_child(&t, parent).await;
    let unrelated = t.create().await.thread_id;
    t.store.shutdown_thread(grandchild).await.unwrap();
    t.archive(grandchild).await;
    t.store
        .delete_thread(DeleteThreadParams::new(parent))
        .await
        .unwrap();
    for id in [parent, child, grandchild, other_child] {
        assert_err!(
            t.store
                .read_thread(ReadThreadParams {
                    include_archived: true,
                    ..ReadThreadParams::new(id)
                })
                .await,
            ThreadStoreError::ThreadNotFound { .. }
        );
    }
    assert_eq!(t.read(unrelated).await.thread_id, unrelated);
    assert_err!(
        t.store.delete_thread(DeleteThreadParams::new(parent)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

/// `archive_threads` archives in order and returns what it archived; a failing first thread is
/// its own error, a later failure is `Internal` naming what was archived before it.
pub async fn archive_threads_is_ordered_and_reports_a_partial_batch(b: Backend) {
    let t = b.open().await;
    let a = t.create().await.thread_id;
    let c = t.create().await.thread_id;
    let archived = t
        .store
        .archive_threads(ArchiveThreadsParams::new(vec![a, c]))
        .await
        .unwrap();
    assert_eq!(archived, vec![a, c]);
    for id in [a, c] {
        assert!(t.read(id).await.archived_at.is_some());
    }
    let missing = ThreadId::new();
    assert_err!(
        t.store
            .archive_threads(ArchiveThreadsParams::new(vec![missing, a]))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let d = t.create().await.thread_id;
    let e = assert_err!(
        t.store
            .archive_threads(ArchiveThreadsParams::new(vec![d, missing]))
            .await,
        ThreadStoreError::Internal { .. }
    );
    let message = e.to_string();
    assert!(
        message.contains("archive partially completed")
            && message.contains(&d.to_string())
            && message.contains(&missing.to_string()),
        "{message}"
    );
    assert!(t.read(d).await.archived_at.is_some());
}

/// `delete_threads` deletes in order; ids already missing count as deleted.
pub async fn delete_threads_counts_missing_ones_as_deleted(b: Backend) {
    let t = b.open().await;
    let a = t.create().await.thread_id;
    let c = t.create().await.thread_id;
    t.store
        .delete_threads(DeleteThreadsParams::new(vec![a, ThreadId::new(), c]))
        .await
        .unwrap();
    for id in [a, c] {
        assert_err!(
            t.store.read_thread(ReadThreadParams::new(id)).await,
            ThreadStoreError::ThreadNotFound { .. }
        );
    }
}

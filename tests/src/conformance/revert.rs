//! `revert_thread` (CONTRACT.md §7): non-destructive, hides a turn and every later one from
//! turns, items and history, fences the live writer, publishes `ThreadReverted`; appends after a
//! resume go on from there.

use super::item_view::paginated;
use super::prelude::*;

/// Header (0), then t1 (1..=4), t2 (5..=8), t3 (9..=12); the writer stays live.
async fn three_turns(t: &TestStore) -> (ThreadId, ThreadWriter) {
    let w = t.create().await;
    for n in ["t1", "t2", "t3"] {
        t.append(w.thread_id, turn(n, &format!("q {n}"), &format!("a {n}")))
            .await;
    }
    (w.thread_id, w)
}

async fn turn_ids(t: &TestStore, id: ThreadId) -> Vec<String> {
    let page = t
        .store
        .list_turns(ListTurnsParams {
            sort_direction: SortDirection::Asc,
            page_size: 200,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    page.turns.into_iter().map(|t| t.turn_id).collect()
}

async fn positions(t: &TestStore, id: ThreadId, dir: SortDirection, size: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = t
            .items(ListItemsParams {
                cursor,
                page_size: size,
                sort_direction: dir,
                ..ListItemsParams::new(id)
            })
            .await;
        out.extend(page.items.iter().map(|i| i.position));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

pub async fn revert_hides_turns_items_and_history(b: Backend) {
    let t = b.open().await;
    let (id, _) = three_turns(&t).await;
    let reverted = t
        .store
        .revert_thread(RevertThreadParams::new(id, "t2"))
        .await
        .unwrap();
    assert_eq!(turn_ids(&t, id).await, vec!["t1"]);
    // Lines 5..=12 are hidden; the revert's own event (13) is a thread-level line.
    let visible: Vec<u64> = (0..5).chain([13]).collect();
    for size in [1, 2, 50] {
        assert_eq!(positions(&t, id, SortDirection::Asc, size).await, visible);
        let mut desc = visible.clone();
        desc.reverse();
        assert_eq!(positions(&t, id, SortDirection::Desc, size).await, desc);
    }
    let history = t
        .store
        .load_history(LoadThreadHistoryParams::new(id))
        .await
        .unwrap();
    assert_eq!(history.items.len(), 6);
    assert_eq!(reverted.thread.thread_id, id);
    // The turns cursor re-reads the newest retained turn, newest first.
    let page = t
        .store
        .list_turns(ListTurnsParams {
            cursor: reverted.turns_backwards_cursor,
            sort_direction: SortDirection::Desc,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    assert_eq!(
        page.turns
            .iter()
            .map(|t| t.turn_id.as_str())
            .collect::<Vec<_>>(),
        vec!["t1"]
    );
    // Not paginated: no item view cursor.
    assert_eq!(reverted.items_backwards_cursor, None);
}

pub async fn revert_fences_the_writer_and_appends_go_on_after_resume(b: Backend) {
    let t = b.open().await;
    let (id, old) = three_turns(&t).await;
    t.store
        .revert_thread(RevertThreadParams::new(id, "t3"))
        .await
        .unwrap();
    let err = t
        .store
        .append_items(AppendThreadItemsParams {
            writer_epoch: Some(old.epoch),
            ..AppendThreadItemsParams::new(id, turn("late", "q", "a"))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ThreadStoreError::StaleWriter { .. } | ThreadStoreError::ThreadNotFound { .. }
        ),
        "{err:?}"
    );
    let w = t.resume(id).await;
    assert!(w.epoch > old.epoch);
    t.append(id, turn("t4", "q t4", "a t4")).await;
    assert_eq!(turn_ids(&t, id).await, vec!["t1", "t2", "t4"]);
    // A second revert, across the first: only t1 is left.
    t.store
        .revert_thread(RevertThreadParams::new(id, "t2"))
        .await
        .unwrap();
    assert_eq!(turn_ids(&t, id).await, vec!["t1"]);
    let history = t
        .store
        .load_history(LoadThreadHistoryParams::new(id))
        .await
        .unwrap();
    let kinds: Vec<Option<String>> = history
        .items
        .iter()
        .map(|l| l.item.payload_type())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.as_deref() == Some("task_started"))
            .count(),
        1,
        "{kinds:?}"
    );
    // The first revert's own line stays in the history although the second covers it: the
    // trail of reverts is kept.
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.as_deref() == Some("thread_reverted"))
            .count(),
        2,
        "{kinds:?}"
    );
}

pub async fn revert_of_a_paginated_thread_trims_the_item_view(b: Backend) {
    let t = b.open().await;
    let id = paginated(&t).await;
    let reverted = t
        .store
        .revert_thread(RevertThreadParams::new(id, "t2"))
        .await
        .unwrap();
    let page = t
        .store
        .list_thread_items(ListItemsParams {
            cursor: reverted.items_backwards_cursor,
            sort_direction: SortDirection::Desc,
            ..ListItemsParams::new(id)
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![6, 4, 3]
    );
    let all = t
        .store
        .list_thread_items(ListItemsParams::new(id))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
    assert!(all.items.iter().all(|i| i.turn_id == "t1"));
}

pub async fn revert_to_an_unknown_turn_is_invalid(b: Backend) {
    let t = b.open().await;
    let (id, _) = three_turns(&t).await;
    assert_invalid!(
        t.store
            .revert_thread(RevertThreadParams::new(id, "nope"))
            .await,
        "turn not found"
    );
    assert_eq!(turn_ids(&t, id).await, vec!["t1", "t2", "t3"]);
    assert!(matches!(
        t.store
            .revert_thread(RevertThreadParams::new(ThreadId::new(), "t1"))
            .await,
        Err(ThreadStoreError::ThreadNotFound { .. })
    ));
}

pub async fn revert_is_on_the_feed(b: Backend) {
    let t = b.open().await;
    let (id, _) = three_turns(&t).await;
    let mut feed = t
        .store
        .subscribe(SubscribeParams {
            threads: Some([id].into_iter().collect()),
            kinds: Some([FeedKind::ThreadReverted].into_iter().collect()),
            start: FeedStart::Beginning,
            buffer: 0,
        })
        .await
        .unwrap();
    t.store
        .revert_thread(RevertThreadParams::new(id, "t2"))
        .await
        .unwrap();
    use futures::StreamExt;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), feed.next())
            .await
            .expect("the revert event arrives")
            .expect("the feed goes on")
            .unwrap();
        if let FeedMessage::Event(e) = message {
            assert_eq!(
                e.kind,
                FeedEventKind::ThreadReverted {
                    turn_id: "t2".into()
                }
            );
            return;
        }
    }
}

pub async fn rollback_drops_the_last_turns_of_an_older_era(b: Backend) {
    let t = b.open().await;
    let (id, _) = three_turns(&t).await;
    let after = t
        .store
        .rollback_thread(RollbackThreadParams {
            thread_id: id,
            num_turns: 2,
        })
        .await
        .unwrap();
    assert_eq!(after.turn_count, 1);
    assert_eq!(turn_ids(&t, id).await, vec!["t1"]);
    // The lines stay in the log, with the rollback's own event.
    assert_eq!(
        t.history(id)
            .await
            .last()
            .and_then(|l| l.item.payload_type())
            .as_deref(),
        Some("thread_rolled_back")
    );
    assert_invalid!(
        t.store
            .rollback_thread(RollbackThreadParams {
                thread_id: id,
                num_turns: 0,
            })
            .await,
        "at least 1"
    );
    let paginated = paginated(&t).await;
    assert_invalid!(
        t.store
            .rollback_thread(RollbackThreadParams {
                thread_id: paginated,
                num_turns: 1,
            })
            .await,
        "paginated threads do not support"
    );
    assert_err!(
        t.store
            .rollback_thread(RollbackThreadParams {
                thread_id: ThreadId::new(),
                num_turns: 1,
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

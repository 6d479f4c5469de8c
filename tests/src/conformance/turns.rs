//! list_turns: the worked example, item views, statuses, implicit turns, rollback, cursors.

use super::prelude::*;

fn params(id: ThreadId, dir: SortDirection, page_size: usize) -> ListTurnsParams {
    ListTurnsParams {
        sort_direction: dir,
        page_size,
        ..ListTurnsParams::new(id)
    }
}

fn with_view(id: ThreadId, view: StoredTurnItemsView) -> ListTurnsParams {
    ListTurnsParams {
        items_view: view,
        ..params(id, SortDirection::Asc, 0)
    }
}

/// The single turn of a thread in a view.
async fn only_turn(t: &TestStore, id: ThreadId, view: StoredTurnItemsView) -> StoredTurn {
    let page = t.turns(with_view(id, view)).await;
    assert_eq!(
        page.turns.len(),
        1,
        "expected one turn, got {:?}",
        turn_ids(&page)
    );
    page.turns.into_iter().next().unwrap()
}

/// Pages through a thread's turns and returns every id, checking the cursor rules.
async fn all_turn_ids(
    t: &TestStore,
    id: ThreadId,
    dir: SortDirection,
    page_size: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = t
            .turns(ListTurnsParams {
                cursor: cursor.clone(),
                items_view: StoredTurnItemsView::NotLoaded,
                ..params(id, dir, page_size)
            })
            .await;
        assert!(page.turns.len() <= page_size);
        assert_eq!(page.backwards_cursor.is_some(), !page.turns.is_empty());
        out.extend(turn_ids(&page));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("turn paging never ended");
}

async fn thread_with_turns(t: &TestStore, names: &[&str]) -> ThreadId {
    let id = t.create().await.thread_id;
    for n in names {
        t.append(id, turn(n, &format!("user {n}"), &format!("agent {n}")))
            .await;
    }
    id
}

/// CONTRACT §3 worked example.
pub async fn worked_example(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["first", "second", "third"]).await;
    let p1 = t.turns(params(id, SortDirection::Desc, 2)).await;
    assert_eq!(turn_ids(&p1), vec!["third", "second"]);
    let next = p1.next_cursor.clone().expect("next cursor");
    let back = p1.backwards_cursor.clone().expect("backwards cursor");

    let p2 = t
        .turns(ListTurnsParams {
            cursor: Some(next),
            ..params(id, SortDirection::Desc, 2)
        })
        .await;
    assert_eq!(turn_ids(&p2), vec!["first"]);
    assert_eq!(p2.next_cursor, None);
    assert!(p2.backwards_cursor.is_some());

    t.append(id, turn("fourth", "user fourth", "agent fourth"))
        .await;
    let p3 = t
        .turns(ListTurnsParams {
            cursor: Some(back),
            ..params(id, SortDirection::Asc, 2)
        })
        .await;
    assert_eq!(turn_ids(&p3), vec!["third", "fourth"]);
    assert_eq!(p3.next_cursor, None);
    assert_eq!(t.read(id).await.turn_count, 4);
}

/// Without a view, a page carries summaries.
pub async fn default_view_is_summary(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1"]).await;
    let page = t.turns(ListTurnsParams::new(id)).await;
    assert_eq!(page.turns.len(), 1);
    let turn = &page.turns[0];
    assert_eq!(turn.items_view, StoredTurnItemsView::Summary);
    assert_eq!(texts(&turn.items), vec!["user t1", "agent t1"]);
    assert_eq!(turn.item_count, 4);
}

/// Summary: the first user message and the last agent message, in log order.
pub async fn summary_view_first_user_last_agent(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("first"),
            RolloutItem::agent_message("draft"),
            RolloutItem::response_item(
                json!({"type": "reasoning", "summary": [], "content": null}),
            ),
            RolloutItem::user_message("second user message"),
            RolloutItem::agent_message("final"),
            RolloutItem::task_complete("t1", Some("final")),
        ],
    )
    .await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Summary).await;
    assert_eq!(turn.items_view, StoredTurnItemsView::Summary);
    assert_eq!(texts(&turn.items), vec!["first", "final"]);
    assert_eq!(positions(&turn.items), vec![2, 6]);
    let h = t.history(id).await;
    for it in &turn.items {
        assert_eq!(it.line, h[it.position as usize]);
    }
    // An assistant response item counts as the agent message too.
    let id2 = t.create().await.thread_id;
    t.append(
        id2,
        vec![
            RolloutItem::task_started("u1"),
            RolloutItem::message("user", "hello there"),
            RolloutItem::agent_message("thinking"),
            RolloutItem::message("assistant", "the answer"),
            RolloutItem::task_complete("u1", None),
        ],
    )
    .await;
    let turn = only_turn(&t, id2, StoredTurnItemsView::Summary).await;
    assert_eq!(texts(&turn.items), vec!["hello there", "the answer"]);
}

/// notLoaded carries no items, but the same status, error and timestamps as full.
pub async fn not_loaded_view_matches_full(b: Backend) {
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
        ],
    )
    .await;
    t.append(
        id,
        vec![
            RolloutItem::task_started("open"),
            RolloutItem::user_message("q3"),
        ],
    )
    .await;
    let full = t.turns(with_view(id, StoredTurnItemsView::Full)).await;
    let bare = t.turns(with_view(id, StoredTurnItemsView::NotLoaded)).await;
    assert_eq!(full.turns.len(), 3);
    assert_eq!(bare.turns.len(), 3);
    for (f, n) in full.turns.iter().zip(bare.turns.iter()) {
        assert!(n.items.is_empty());
        assert_eq!(n.items_view, StoredTurnItemsView::NotLoaded);
        assert_eq!(
            StoredTurn {
                items: vec![],
                items_view: StoredTurnItemsView::NotLoaded,
                ..f.clone()
            },
            n.clone()
        );
    }
    assert_eq!(bare.turns[1].status, StoredTurnStatus::Failed);
    assert_eq!(bare.turns[2].status, StoredTurnStatus::InProgress);
}

/// full carries every item of the turn, from its opener to its terminal event.
pub async fn full_view_has_every_item(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("t1", "q1", "a1")).await;
    let second = vec![
        RolloutItem::task_started("t2"),
        turn_context("t2", "gpt-5", "high"),
        RolloutItem::user_message("q2"),
        RolloutItem::response_item(
            json!({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"}),
        ),
        RolloutItem::response_item(
            json!({"type": "function_call_output", "call_id": "c1", "output": "ok"}),
        ),
        RolloutItem::agent_message("a2"),
        RolloutItem::task_complete("t2", Some("a2")),
    ];
    t.append(id, second.clone()).await;
    let full = t.turns(with_view(id, StoredTurnItemsView::Full)).await;
    assert_eq!(turn_ids(&full), vec!["t1", "t2"]);
    let t2 = &full.turns[1];
    assert_eq!(t2.items_view, StoredTurnItemsView::Full);
    assert_eq!(positions(&t2.items), (5..12).collect::<Vec<u64>>());
    assert_eq!(
        t2.items
            .iter()
            .map(|i| i.line.item.clone())
            .collect::<Vec<_>>(),
        second
    );
    assert_eq!(t2.item_count, 7);
    assert_eq!(positions(&full.turns[0].items), vec![1, 2, 3, 4]);
}

/// task_complete completes the turn.
pub async fn status_completed(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1"]).await;
    let turn = only_turn(&t, id, StoredTurnItemsView::NotLoaded).await;
    assert_eq!(turn.turn_id, "t1");
    assert_eq!(turn.status, StoredTurnStatus::Completed);
    assert_eq!(turn.error, None);
}

/// turn_aborted interrupts the turn, by id or the current one; a later task_complete keeps it.
pub async fn status_interrupted(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("q1"),
            RolloutItem::turn_aborted(Some("t1"), "interrupted"),
            RolloutItem::task_started("t2"),
            RolloutItem::user_message("q2"),
            RolloutItem::turn_aborted(None, "replaced"),
            RolloutItem::task_complete("t2", None),
        ],
    )
    .await;
    let page = t.turns(with_view(id, StoredTurnItemsView::NotLoaded)).await;
    assert_eq!(turn_ids(&page), vec!["t1", "t2"]);
    assert_eq!(page.turns[0].status, StoredTurnStatus::Interrupted);
    assert_eq!(page.turns[1].status, StoredTurnStatus::Interrupted);
}

/// An error inside an open turn fails it; task_complete keeps it failed, with the message.
pub async fn status_failed_keeps_error(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("q"),
            error_event("boom"),
        ],
    )
    .await;
    let turn = only_turn(&t, id, StoredTurnItemsView::NotLoaded).await;
    assert_eq!(turn.status, StoredTurnStatus::Failed);
    assert_eq!(
        turn.error.as_ref().map(|e| e.message.as_str()),
        Some("boom")
    );
    t.append(id, vec![RolloutItem::task_complete("t1", None)])
        .await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Full).await;
    assert_eq!(turn.status, StoredTurnStatus::Failed);
    assert_eq!(
        turn.error.as_ref().map(|e| e.message.as_str()),
        Some("boom")
    );
    assert_eq!(turn.item_count, 4);
    // The next turn starts clean.
    t.append(id, turn_items_ok("t2")).await;
    let page = t.turns(with_view(id, StoredTurnItemsView::NotLoaded)).await;
    assert_eq!(page.turns[1].status, StoredTurnStatus::Completed);
    assert_eq!(page.turns[1].error, None);
}

fn turn_items_ok(id: &str) -> Vec<RolloutItem> {
    turn(id, "fine question", "fine answer")
}

/// A turn without a terminal event is inProgress and visible while being written; its summary
/// follows the latest agent message.
pub async fn in_progress_turn_is_visible_while_written(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("q"),
        ],
    )
    .await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Summary).await;
    assert_eq!(turn.status, StoredTurnStatus::InProgress);
    assert_eq!(texts(&turn.items), vec!["q"]);
    assert_eq!(turn.completed_at, None);

    t.append(id, vec![RolloutItem::agent_message("a1")]).await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Summary).await;
    assert_eq!(turn.status, StoredTurnStatus::InProgress);
    assert_eq!(texts(&turn.items), vec!["q", "a1"]);

    t.append(id, vec![RolloutItem::agent_message("a2")]).await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Summary).await;
    assert_eq!(texts(&turn.items), vec!["q", "a2"]);
    assert_eq!(turn.item_count, 4);

    t.append(id, vec![RolloutItem::task_complete("t1", Some("a2"))])
        .await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Summary).await;
    assert_eq!(turn.status, StoredTurnStatus::Completed);
    assert_eq!(texts(&turn.items), vec!["q", "a2"]);
}

/// Old streams without turn events get implicit turns `rollout-<position>`, completed.
pub async fn implicit_turns_for_old_streams(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::user_message("u1"),
            RolloutItem::agent_message("a1"),
            RolloutItem::user_message("u2"),
            RolloutItem::agent_message("a2"),
            token_count(1, 0, 1, 0, 2),
        ],
    )
    .await;
    let full = t.turns(with_view(id, StoredTurnItemsView::Full)).await;
    assert_eq!(turn_ids(&full), vec!["rollout-1", "rollout-3"]);
    assert!(full
        .turns
        .iter()
        .all(|t| t.status == StoredTurnStatus::Completed));
    assert_eq!(positions(&full.turns[0].items), vec![1, 2]);
    assert_eq!(positions(&full.turns[1].items), vec![3, 4, 5]);
    let summary = t.turns(with_view(id, StoredTurnItemsView::Summary)).await;
    assert_eq!(texts(&summary.turns[1].items), vec!["u2", "a2"]);
    // An explicit turn after them keeps its own id.
    t.append(id, turn("explicit", "u3", "a3")).await;
    assert_eq!(
        t.turn_ids(id).await,
        vec!["rollout-1", "rollout-3", "explicit"]
    );
}

/// Items before the first turn belong to no turn.
pub async fn preamble_belongs_to_no_turn(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::message("developer", "<permissions instructions>"),
            token_count(0, 0, 0, 0, 0),
        ],
    )
    .await;
    let page = t.turns(with_view(id, StoredTurnItemsView::Full)).await;
    assert!(page.turns.is_empty(), "{:?}", turn_ids(&page));
    t.append(id, turn("t1", "q", "a")).await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Full).await;
    assert_eq!(positions(&turn.items), vec![3, 4, 5, 6]);
    assert_eq!(t.read(id).await.turn_count, 1);
    // The whole-thread item listing still has the preamble.
    let items = t.items(ListItemsParams::new(id)).await;
    assert_eq!(positions(&items.items), (0..7).collect::<Vec<u64>>());
}

/// Items arriving after a turn ended join it (trailing token counts).
pub async fn trailing_items_join_last_turn(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1"]).await;
    t.append(id, vec![token_count(5, 0, 5, 0, 10)]).await;
    let turn = only_turn(&t, id, StoredTurnItemsView::Full).await;
    assert_eq!(positions(&turn.items), vec![1, 2, 3, 4, 5]);
    assert_eq!(turn.item_count, 5);
    assert_eq!(turn.status, StoredTurnStatus::Completed);
}

/// thread_rolled_back drops the last turn; its cursors then say it was rolled back.
pub async fn rollback_drops_last_turn(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1", "t2"]).await;
    let p = t.turns(params(id, SortDirection::Desc, 1)).await;
    assert_eq!(turn_ids(&p), vec!["t2"]);
    let next = p.next_cursor.expect("next");
    let back = p.backwards_cursor.expect("backwards");

    t.append(id, vec![rolled_back(1)]).await;
    assert_eq!(t.turn_ids(id).await, vec!["t1"]);
    let th = t.read(id).await;
    assert_eq!(th.turn_count, 1);
    assert_eq!(th.item_count, 10, "the items stay in the log");

    assert_invalid!(
        t.store
            .list_turns(ListTurnsParams {
                cursor: Some(next),
                ..params(id, SortDirection::Desc, 1)
            })
            .await,
        "rolled back"
    );
    assert_invalid!(
        t.store
            .list_turns(ListTurnsParams {
                cursor: Some(back),
                ..params(id, SortDirection::Asc, 1)
            })
            .await,
        "rolled back"
    );
    t.append(id, turn("t3", "q3", "a3")).await;
    assert_eq!(t.turn_ids(id).await, vec!["t1", "t3"]);
}

/// Paging with every page size returns every turn once, in order, both directions.
pub async fn paging_with_every_page_size(b: Backend) {
    let t = b.open().await;
    let names: Vec<String> = (0..7).map(|i| format!("turn-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let id = thread_with_turns(&t, &refs).await;
    let mut desc = names.clone();
    desc.reverse();
    for page_size in 1..=8 {
        assert_eq!(
            all_turn_ids(&t, id, SortDirection::Asc, page_size).await,
            names,
            "asc {page_size}"
        );
        assert_eq!(
            all_turn_ids(&t, id, SortDirection::Desc, page_size).await,
            desc,
            "desc {page_size}"
        );
    }
}

/// A cursor that does not decode is `InvalidRequest`.
pub async fn garbage_cursor_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1", "t2"]).await;
    for bad in [
        "garbage",
        "{\"turnId\":\"t1\",\"includeAnchor\":false}",
        "%%%",
    ] {
        let res = t
            .store
            .list_turns(ListTurnsParams {
                cursor: Some(bad.into()),
                ..params(id, SortDirection::Desc, 1)
            })
            .await;
        assert!(
            matches!(res, Err(ThreadStoreError::InvalidRequest { .. })),
            "cursor {bad:?}: {res:?}"
        );
    }
}

/// A cursor of another thread is `InvalidRequest`.
pub async fn cursor_of_another_thread_is_invalid(b: Backend) {
    let t = b.open().await;
    let a = thread_with_turns(&t, &["t1", "t2"]).await;
    let c = thread_with_turns(&t, &["t1", "t2"]).await;
    let p = t.turns(params(a, SortDirection::Desc, 1)).await;
    let cursor = p.next_cursor.expect("next");
    assert_invalid!(
        t.store
            .list_turns(ListTurnsParams {
                cursor: Some(cursor.clone()),
                ..params(c, SortDirection::Desc, 1)
            })
            .await
    );
    // It still works on its own thread.
    let p2 = t
        .turns(ListTurnsParams {
            cursor: Some(cursor),
            ..params(a, SortDirection::Desc, 1)
        })
        .await;
    assert_eq!(turn_ids(&p2), vec!["t1"]);
}

/// An item cursor is not a turn cursor.
pub async fn items_cursor_is_invalid_for_turns(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1", "t2"]).await;
    let items = t
        .items(ListItemsParams {
            page_size: 1,
            ..ListItemsParams::new(id)
        })
        .await;
    let cursor = items.next_cursor.expect("next");
    assert_invalid!(
        t.store
            .list_turns(ListTurnsParams {
                cursor: Some(cursor),
                ..params(id, SortDirection::Asc, 1)
            })
            .await
    );
}

/// Page size 0 means 50; over 200 is rejected naming the maximum.
pub async fn page_size_zero_and_over_max(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let mut items = Vec::new();
    for i in 0..55 {
        items.extend(turn(&format!("t{i:02}"), "q", "a"));
    }
    t.append(id, items).await;
    let p1 = t.turns(params(id, SortDirection::Asc, 0)).await;
    assert_eq!(p1.turns.len(), 50);
    assert_eq!(p1.turns[0].turn_id, "t00");
    let p2 = t
        .turns(ListTurnsParams {
            cursor: p1.next_cursor,
            ..params(id, SortDirection::Asc, 0)
        })
        .await;
    assert_eq!(
        turn_ids(&p2),
        (50..55).map(|i| format!("t{i:02}")).collect::<Vec<_>>()
    );
    assert_eq!(p2.next_cursor, None);
    assert_invalid!(
        t.store
            .list_turns(params(id, SortDirection::Asc, 201))
            .await,
        "200"
    );
    let p = t.turns(params(id, SortDirection::Asc, 200)).await;
    assert_eq!(p.turns.len(), 55);
}

/// An archived thread's turns need include_archived.
pub async fn archived_thread_needs_include_archived(b: Backend) {
    let t = b.open().await;
    let id = thread_with_turns(&t, &["t1"]).await;
    t.archive(id).await;
    assert_err!(
        t.store.list_turns(params(id, SortDirection::Desc, 0)).await,
        ThreadStoreError::Archived { .. }
    );
    let page = t
        .turns(ListTurnsParams {
            include_archived: true,
            ..params(id, SortDirection::Desc, 0)
        })
        .await;
    assert_eq!(turn_ids(&page), vec!["t1"]);
}

/// A thread with only its header has no turns and no cursors.
pub async fn header_only_thread_has_no_turns(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    for dir in [SortDirection::Asc, SortDirection::Desc] {
        let page = t.turns(params(id, dir, 0)).await;
        assert!(page.turns.is_empty());
        assert_eq!(page.next_cursor, None);
        assert_eq!(page.backwards_cursor, None);
    }
}

/// list_turns of an unknown thread is `ThreadNotFound`.
pub async fn unknown_thread_is_not_found(b: Backend) {
    let t = b.open().await;
    assert_err!(
        t.store
            .list_turns(ListTurnsParams {
                include_archived: true,
                ..ListTurnsParams::new(ThreadId::new())
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

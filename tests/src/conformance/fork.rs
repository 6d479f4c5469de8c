//! `fork_thread` (CONTRACT.md §7): a fork by reference reads its parent's prefix at each
//! boundary, adds its own lines, and keeps what it shows whatever its parent does afterwards
//! (appends, reverts, archive, delete); a fork of a fork reads through both; a fork mid-turn
//! starts with that turn interrupted.

use super::item_view::paginated;
use super::prelude::*;

/// Header (0), then t1 (1..=4), t2 (5..=8), t3 (9..=12); the writer stays live.
async fn three_turns(t: &TestStore) -> ThreadId {
    let w = t.create().await;
    for n in ["t1", "t2", "t3"] {
        t.append(w.thread_id, turn(n, &format!("q {n}"), &format!("a {n}")))
            .await;
    }
    w.thread_id
}

async fn fork(t: &TestStore, id: ThreadId, boundary: ForkBoundary) -> ThreadWriter {
    t.store
        .fork_thread(ForkThreadParams::new(id, boundary))
        .await
        .unwrap_or_else(|e| panic!("fork_thread failed: {e}"))
}

/// (turn id, status, item count) of every turn, oldest first.
async fn turns(t: &TestStore, id: ThreadId) -> Vec<(String, StoredTurnStatus, u64)> {
    let page = t
        .store
        .list_turns(ListTurnsParams {
            sort_direction: SortDirection::Asc,
            page_size: 200,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    page.turns
        .into_iter()
        .map(|t| (t.turn_id, t.status, t.item_count))
        .collect()
}

async fn turn_ids(t: &TestStore, id: ThreadId) -> Vec<String> {
    turns(t, id).await.into_iter().map(|t| t.0).collect()
}

/// The texts of the user and agent messages of the history, in order.
async fn said(t: &TestStore, id: ThreadId) -> Vec<String> {
    t.history(id)
        .await
        .iter()
        .filter_map(|l| item_text(&l.item))
        .collect()
}

/// Every item position, paged one at a time in `dir` (cursors cross the lineage).
async fn item_positions(t: &TestStore, id: ThreadId, dir: SortDirection) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = t
            .items(ListItemsParams {
                cursor,
                page_size: 1,
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

fn qa(turns: &[&str]) -> Vec<String> {
    turns
        .iter()
        .flat_map(|n| [format!("q {n}"), format!("a {n}")])
        .collect()
}

pub async fn fork_at_each_boundary(b: Backend) {
    let t = b.open().await;
    let parent = three_turns(&t).await;
    t.patch(
        parent,
        ThreadMetadataPatch {
            name: Some(Some("the parent".into())),
            ..Default::default()
        },
    )
    .await;
    let cases = [
        // Latest: the header, three turns and the name's event (13).
        (ForkBoundary::Latest, vec!["t1", "t2", "t3"], 14),
        (ForkBoundary::ThroughTurn("t2".into()), vec!["t1", "t2"], 9),
        (ForkBoundary::BeforeTurn("t2".into()), vec!["t1"], 5),
        (ForkBoundary::BeforeTurn("t1".into()), vec![], 1),
    ];
    for (boundary, expected, prefix) in cases {
        let w = fork(&t, parent, boundary.clone()).await;
        let child = w.thread_id;
        assert_ne!(child, parent);
        // The prefix, then the fork's own header.
        assert_eq!(w.next_position, prefix + 1, "{boundary:?}");
        assert_eq!(turn_ids(&t, child).await, expected, "{boundary:?}");
        assert_eq!(said(&t, child).await, qa(&expected), "{boundary:?}");
        let history = t.history(child).await;
        assert_eq!(history.len() as u64, prefix + 1);
        assert_eq!(
            history.last().and_then(|l| l.item.payload_type()),
            None,
            "the fork's own first line is its session_meta"
        );
        assert_eq!(history.last().unwrap().item.kind(), "session_meta");
        let read = t.read(child).await;
        assert_eq!(read.forked_from_id, Some(parent));
        // The fork keeps its parent's name, as Codex's forks do.
        assert_eq!(read.name.as_deref(), Some("the parent"));
        assert_eq!(read.archived_at, None);
        let preview = if expected.is_empty() { "" } else { "q t1" };
        assert_eq!(read.preview, preview, "{boundary:?}");
        // Items page one by one in both directions across the lineage.
        let all: Vec<u64> = (0..=prefix).collect();
        assert_eq!(item_positions(&t, child, SortDirection::Asc).await, all);
        let mut desc = all.clone();
        desc.reverse();
        assert_eq!(item_positions(&t, child, SortDirection::Desc).await, desc);
        // The fork writes on after its prefix; the parent does not see it.
        t.append(child, turn("own", "q own", "a own")).await;
        let mut with_own = expected.clone();
        with_own.push("own");
        assert_eq!(turn_ids(&t, child).await, with_own);
        let mut own_said = qa(&expected);
        own_said.extend(qa(&["own"]));
        assert_eq!(said(&t, child).await, own_said);
        assert_eq!(turn_ids(&t, parent).await, vec!["t1", "t2", "t3"]);
        // One turn's items through the lineage.
        if let Some(first) = expected.first() {
            let page = t
                .items(ListItemsParams {
                    turn_id: Some((*first).to_owned()),
                    ..ListItemsParams::new(child)
                })
                .await;
            assert_eq!(positions(&page.items), vec![1, 2, 3, 4]);
        }
    }
    // The parent writes on; no fork sees it.
    t.append(parent, turn("t4", "q t4", "a t4")).await;
    assert_eq!(turn_ids(&t, parent).await, vec!["t1", "t2", "t3", "t4"]);
}

pub async fn fork_of_a_fork_survives_its_ancestors(b: Backend) {
    let t = b.open().await;
    let a = three_turns(&t).await;
    let b_id = fork(&t, a, ForkBoundary::Latest).await.thread_id;
    t.append(b_id, turn("b1", "q b1", "a b1")).await;
    t.append(b_id, turn("b2", "q b2", "a b2")).await;
    let c = fork(&t, b_id, ForkBoundary::ThroughTurn("b1".into()))
        .await
        .thread_id;
    t.append(c, turn("c1", "q c1", "a c1")).await;
    let c_turns = vec!["t1", "t2", "t3", "b1", "c1"];
    assert_eq!(turn_ids(&t, c).await, c_turns);
    assert_eq!(said(&t, c).await, qa(&c_turns));
    assert_eq!(t.read(c).await.forked_from_id, Some(b_id));
    // The ancestors change what they show; the forks keep theirs.
    t.store
        .revert_thread(RevertThreadParams::new(a, "t2"))
        .await
        .unwrap();
    assert_eq!(turn_ids(&t, a).await, vec!["t1"]);
    t.store
        .revert_thread(RevertThreadParams::new(b_id, "t3"))
        .await
        .unwrap();
    assert_eq!(turn_ids(&t, b_id).await, vec!["t1", "t2"]);
    assert_eq!(turn_ids(&t, c).await, c_turns);
    assert_eq!(said(&t, c).await, qa(&c_turns));
    t.archive(a).await;
    t.store
        .delete_thread(DeleteThreadParams::new(a))
        .await
        .unwrap();
    assert_err!(
        t.store.read_thread(ReadThreadParams::new(a)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_eq!(turn_ids(&t, b_id).await, vec!["t1", "t2"]);
    assert_eq!(turn_ids(&t, c).await, c_turns);
    t.store
        .delete_thread(DeleteThreadParams::new(b_id))
        .await
        .unwrap();
    assert_eq!(turn_ids(&t, c).await, c_turns);
    assert_eq!(said(&t, c).await, qa(&c_turns));
    let listed = t
        .store
        .list_threads(ListThreadsParams::default())
        .await
        .unwrap();
    assert_eq!(
        thread_ids(&listed),
        vec![c],
        "deleted ancestors are not listed"
    );
    // The last fork's deletion takes its deleted ancestors' records with it.
    t.store
        .delete_thread(DeleteThreadParams::new(c))
        .await
        .unwrap();
    assert_err!(
        t.store.read_thread(ReadThreadParams::new(c)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    if b.persistent() {
        let t = t.reopen().await;
        let listed = t
            .store
            .list_threads(ListThreadsParams::default())
            .await
            .unwrap();
        assert!(thread_ids(&listed).is_empty());
    }
}

pub async fn fork_mid_turn_interrupts_the_turn(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    let parent = w.thread_id;
    t.append(parent, turn("t1", "q t1", "a t1")).await;
    t.append(
        parent,
        vec![
            RolloutItem::task_started("t2"),
            RolloutItem::user_message("q t2"),
        ],
    )
    .await;
    let child = fork(&t, parent, ForkBoundary::Latest).await.thread_id;
    let history = t.history(child).await;
    assert_eq!(
        history
            .last()
            .and_then(|l| l.item.payload_type())
            .as_deref(),
        Some("turn_aborted")
    );
    assert_eq!(
        turns(&t, child).await,
        vec![
            ("t1".into(), StoredTurnStatus::Completed, 4),
            ("t2".into(), StoredTurnStatus::Interrupted, 3),
        ]
    );
    // The parent's turn goes on and completes; the fork's stays interrupted.
    t.append(
        parent,
        vec![
            RolloutItem::agent_message("a t2"),
            RolloutItem::task_complete("t2", Some("a t2")),
        ],
    )
    .await;
    assert_eq!(
        turns(&t, parent).await,
        vec![
            ("t1".into(), StoredTurnStatus::Completed, 4),
            ("t2".into(), StoredTurnStatus::Completed, 4),
        ]
    );
    assert_eq!(turns(&t, child).await[1].1, StoredTurnStatus::Interrupted);
    // A turn in progress cannot be the end of a `ThroughTurn` fork.
    t.append(parent, vec![RolloutItem::task_started("t3")])
        .await;
    assert_invalid!(
        t.store
            .fork_thread(ForkThreadParams::new(
                parent,
                ForkBoundary::ThroughTurn("t3".into())
            ))
            .await,
        "in-progress"
    );
}

pub async fn fork_of_a_paginated_thread_reads_its_item_view(b: Backend) {
    let t = b.open().await;
    let parent = paginated(&t).await;
    let child = fork(&t, parent, ForkBoundary::BeforeTurn("t2".into()))
        .await
        .thread_id;
    let page = t
        .store
        .list_thread_items(ListItemsParams::new(child))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![3, 4, 6]
    );
    assert!(page.items.iter().all(|i| i.turn_id == "t1"));
    let full = fork(&t, parent, ForkBoundary::Latest).await.thread_id;
    let page = t
        .store
        .list_thread_items(ListItemsParams {
            sort_direction: SortDirection::Desc,
            page_size: 2,
            ..ListItemsParams::new(full)
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![9, 6]
    );
    assert_eq!(t.read(full).await.preview, "first question");
}

pub async fn fork_errors_are_typed(b: Backend) {
    let t = b.open().await;
    let parent = three_turns(&t).await;
    assert_invalid!(
        t.store
            .fork_thread(ForkThreadParams::new(
                parent,
                ForkBoundary::BeforeTurn("nope".into())
            ))
            .await,
        "turn not found"
    );
    assert_err!(
        t.store
            .fork_thread(ForkThreadParams::new(ThreadId::new(), ForkBoundary::Latest))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let other = t.create().await.thread_id;
    assert_err!(
        t.store
            .fork_thread(ForkThreadParams {
                new_thread_id: Some(other),
                ..ForkThreadParams::new(parent, ForkBoundary::Latest)
            })
            .await,
        ThreadStoreError::Conflict { .. }
    );
    // The fork's writer is live at epoch 1; resuming fences it like any thread's.
    let w = fork(&t, parent, ForkBoundary::Latest).await;
    assert_eq!(w.epoch, 1);
    t.shutdown(w.thread_id).await;
    let again = t.resume(w.thread_id).await;
    assert!(again.epoch > 1);
    if b.persistent() {
        let t = t.reopen().await;
        assert_eq!(turn_ids(&t, w.thread_id).await, vec!["t1", "t2", "t3"]);
        t.resume(w.thread_id).await;
        t.append(w.thread_id, turn("t9", "q", "a")).await;
        assert_eq!(
            turn_ids(&t, w.thread_id).await,
            vec!["t1", "t2", "t3", "t9"]
        );
    }
}

/// Forks and their parent write at the same time (the parent reverting midway, a fork forking
/// again): every thread ends with exactly its own turns after what it inherited.
pub async fn forks_and_their_parent_write_concurrently(b: Backend) {
    let t = b.open().await;
    let parent = three_turns(&t).await;
    let mut forks = Vec::new();
    for _ in 0..4 {
        forks.push(fork(&t, parent, ForkBoundary::Latest).await.thread_id);
    }
    const TURNS: usize = 12;
    let mut tasks = Vec::new();
    for (n, id) in forks.iter().copied().enumerate() {
        let store = t.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut grandchild = None;
            for k in 0..TURNS {
                let items = turn(&format!("f{n}-{k}"), "q", "a");
                store
                    .append_items(AppendThreadItemsParams::new(id, items))
                    .await
                    .unwrap();
                if k == TURNS / 2 {
                    let w = store
                        .fork_thread(ForkThreadParams::new(id, ForkBoundary::Latest))
                        .await
                        .unwrap();
                    grandchild = Some((w.thread_id, k + 1));
                }
            }
            grandchild
        }));
    }
    let store = t.store.clone();
    let writer = tokio::spawn(async move {
        for k in 0..TURNS {
            if k == TURNS / 2 {
                store
                    .revert_thread(RevertThreadParams::new(parent, "t2"))
                    .await
                    .unwrap();
                store
                    .resume_thread(ResumeThreadParams::new(parent))
                    .await
                    .unwrap();
            }
            let items = turn(&format!("p{k}"), "q", "a");
            store
                .append_items(AppendThreadItemsParams::new(parent, items))
                .await
                .unwrap();
        }
    });
    let mut grandchildren = Vec::new();
    for task in tasks {
        grandchildren.push(task.await.unwrap());
    }
    writer.await.unwrap();
    let inherited = vec!["t1".to_owned(), "t2".to_owned(), "t3".to_owned()];
    for (n, id) in forks.iter().enumerate() {
        let mut want = inherited.clone();
        want.extend((0..TURNS).map(|k| format!("f{n}-{k}")));
        assert_eq!(turn_ids(&t, *id).await, want, "fork {n}");
        let (grandchild, at) = grandchildren[n].unwrap();
        assert_eq!(turn_ids(&t, grandchild).await, want[..3 + at].to_vec());
    }
    // The revert hid t2, t3 and the turns the parent had written by then.
    let mut want = vec!["t1".to_owned()];
    want.extend((TURNS / 2..TURNS).map(|k| format!("p{k}")));
    assert_eq!(turn_ids(&t, parent).await, want);
}

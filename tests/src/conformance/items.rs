//! list_items: whole thread or one turn, both directions, keyset cursors bound to their scope.

use super::prelude::*;

fn params(
    id: ThreadId,
    turn: Option<&str>,
    dir: SortDirection,
    page_size: usize,
) -> ListItemsParams {
    ListItemsParams {
        turn_id: turn.map(str::to_owned),
        sort_direction: dir,
        page_size,
        ..ListItemsParams::new(id)
    }
}

/// Header (0), preamble (1), t1 (2..=5), t2 (6..=9), t3 (10..=13).
async fn sample(t: &TestStore) -> ThreadId {
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::message("developer", "instructions")])
        .await;
    for n in ["t1", "t2", "t3"] {
        t.append(id, turn(n, &format!("q {n}"), &format!("a {n}")))
            .await;
    }
    id
}

async fn all_positions(t: &TestStore, p: ListItemsParams) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = t
            .items(ListItemsParams {
                cursor: cursor.clone(),
                ..p.clone()
            })
            .await;
        assert!(p.page_size == 0 || page.items.len() <= p.page_size);
        assert_eq!(page.backwards_cursor.is_some(), !page.items.is_empty());
        out.extend(positions(&page.items));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("item paging never ended");
}

/// The whole thread, oldest first by default, equal to the history.
pub async fn whole_thread_ascending_by_default(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let page = t.items(ListItemsParams::new(id)).await;
    assert_eq!(positions(&page.items), (0..14).collect::<Vec<u64>>());
    assert_eq!(page.next_cursor, None);
    let h = t.history(id).await;
    let lines: Vec<RolloutLine> = page.items.iter().map(|i| i.line.clone()).collect();
    assert_eq!(lines, h);
}

/// The whole thread, newest first.
pub async fn whole_thread_descending(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let page = t.items(params(id, None, SortDirection::Desc, 0)).await;
    assert_eq!(positions(&page.items), (0..14).rev().collect::<Vec<u64>>());
    let page = t.items(params(id, None, SortDirection::Desc, 3)).await;
    assert_eq!(positions(&page.items), vec![13, 12, 11]);
    assert!(page.next_cursor.is_some());
}

/// A turn scope lists exactly that turn's items.
pub async fn one_turn_scope(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let page = t.items(params(id, Some("t2"), SortDirection::Asc, 0)).await;
    assert_eq!(positions(&page.items), vec![6, 7, 8, 9]);
    assert_eq!(texts(&page.items), vec!["q t2", "a t2"]);
    let page = t
        .items(params(id, Some("t3"), SortDirection::Desc, 0))
        .await;
    assert_eq!(positions(&page.items), vec![13, 12, 11, 10]);
    // It grows with the open turn.
    t.append(id, vec![token_count(1, 0, 1, 0, 2)]).await;
    let page = t.items(params(id, Some("t3"), SortDirection::Asc, 0)).await;
    assert_eq!(positions(&page.items), vec![10, 11, 12, 13, 14]);
}

/// Paging in both directions, whole thread and one turn, returns every item once.
pub async fn paging_both_directions(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let all: Vec<u64> = (0..14).collect();
    let t1: Vec<u64> = (2..6).collect();
    for page_size in 1..=5 {
        for (turn, expected) in [(None, &all), (Some("t1"), &t1)] {
            let asc = all_positions(&t, params(id, turn, SortDirection::Asc, page_size)).await;
            assert_eq!(&asc, expected, "asc {turn:?} {page_size}");
            let desc = all_positions(&t, params(id, turn, SortDirection::Desc, page_size)).await;
            let mut rev = expected.clone();
            rev.reverse();
            assert_eq!(desc, rev, "desc {turn:?} {page_size}");
        }
    }
}

/// The backwards cursor points at the page's first item, inclusive, for the other direction.
pub async fn backwards_cursor_includes_anchor(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let p1 = t.items(params(id, None, SortDirection::Asc, 2)).await;
    assert_eq!(positions(&p1.items), vec![0, 1]);
    let p2 = t
        .items(ListItemsParams {
            cursor: p1.next_cursor.clone(),
            ..params(id, None, SortDirection::Asc, 2)
        })
        .await;
    assert_eq!(positions(&p2.items), vec![2, 3]);
    let back = t
        .items(ListItemsParams {
            cursor: p2.backwards_cursor.clone(),
            ..params(id, None, SortDirection::Desc, 10)
        })
        .await;
    assert_eq!(positions(&back.items), vec![2, 1, 0]);
    assert_eq!(back.next_cursor, None);
}

/// A cursor that does not decode is `InvalidRequest`.
pub async fn garbage_cursor_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    for bad in ["garbage", "%%%", "eyJwb3NpdGlvbiI6M30"] {
        assert_invalid!(
            t.store
                .list_items(ListItemsParams {
                    cursor: Some(bad.into()),
                    ..params(id, None, SortDirection::Asc, 2)
                })
                .await
        );
    }
}

/// A cursor is bound to its thread and scope (whole thread vs one turn).
pub async fn cursor_of_another_scope_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let other = sample(&t).await;
    let whole = t
        .items(params(id, None, SortDirection::Asc, 1))
        .await
        .next_cursor
        .expect("next");
    let in_t1 = t
        .items(params(id, Some("t1"), SortDirection::Asc, 1))
        .await
        .next_cursor
        .expect("next");
    let misuses = [
        (whole.clone(), params(other, None, SortDirection::Asc, 1)),
        (whole.clone(), params(id, Some("t1"), SortDirection::Asc, 1)),
        (in_t1.clone(), params(id, None, SortDirection::Asc, 1)),
        (in_t1.clone(), params(id, Some("t2"), SortDirection::Asc, 1)),
        (
            in_t1.clone(),
            params(other, Some("t1"), SortDirection::Asc, 1),
        ),
    ];
    for (i, (cursor, p)) in misuses.into_iter().enumerate() {
        let res = t
            .store
            .list_items(ListItemsParams {
                cursor: Some(cursor),
                ..p
            })
            .await;
        assert!(
            matches!(res, Err(ThreadStoreError::InvalidRequest { .. })),
            "misuse {i}: {res:?}"
        );
    }
    let ok = t
        .items(ListItemsParams {
            cursor: Some(in_t1),
            ..params(id, Some("t1"), SortDirection::Asc, 1)
        })
        .await;
    assert_eq!(positions(&ok.items), vec![3]);
}

/// A turn cursor is not an item cursor.
pub async fn turns_cursor_is_invalid_for_items(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    let turns = t
        .turns(ListTurnsParams {
            page_size: 1,
            ..ListTurnsParams::new(id)
        })
        .await;
    let cursor = turns.next_cursor.expect("next");
    for turn in [None, Some("t1")] {
        assert_invalid!(
            t.store
                .list_items(ListItemsParams {
                    cursor: Some(cursor.clone()),
                    ..params(id, turn, SortDirection::Asc, 1)
                })
                .await
        );
    }
}

/// An unknown turn id is `InvalidRequest`.
pub async fn unknown_turn_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    assert_invalid!(
        t.store
            .list_items(params(id, Some("no-such-turn"), SortDirection::Asc, 0))
            .await
    );
}

/// An unknown thread is `ThreadNotFound`.
pub async fn unknown_thread_is_not_found(b: Backend) {
    let t = b.open().await;
    for turn in [None, Some("t1")] {
        assert_err!(
            t.store
                .list_items(ListItemsParams {
                    include_archived: true,
                    ..params(ThreadId::new(), turn, SortDirection::Asc, 0)
                })
                .await,
            ThreadStoreError::ThreadNotFound { .. }
        );
    }
}

/// More than 200 is rejected naming the maximum.
pub async fn page_size_over_max_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    assert_invalid!(
        t.store
            .list_items(params(id, None, SortDirection::Asc, 201))
            .await,
        "200"
    );
    let page = t.items(params(id, None, SortDirection::Asc, 200)).await;
    assert_eq!(page.items.len(), 14);
}

/// An archived thread's items need include_archived.
pub async fn archived_thread_needs_include_archived(b: Backend) {
    let t = b.open().await;
    let id = sample(&t).await;
    t.archive(id).await;
    assert_err!(
        t.store
            .list_items(params(id, Some("t1"), SortDirection::Asc, 0))
            .await,
        ThreadStoreError::Archived { .. }
    );
    let page = t
        .items(ListItemsParams {
            include_archived: true,
            ..params(id, Some("t1"), SortDirection::Asc, 0)
        })
        .await;
    assert_eq!(positions(&page.items), vec![2, 3, 4, 5]);
}

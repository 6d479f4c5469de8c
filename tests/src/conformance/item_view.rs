//! Codex's paginated era and item view (CONTRACT.md §7): turns of a paginated thread by Codex's
//! rules, and `list_thread_items` (JSON-RPC `thread/items/list`) paging Codex's v2 ThreadItems
//! of the whole thread or one turn, in both directions.

use super::prelude::*;

/// A paginated thread: header (0); turn t1 = task_started (1), raw user line (2), UserMessage
/// item (3), commentary (4), token count (5), final answer (6), task_complete (7); turn t2 =
/// task_started (8), UserMessage (9), a failing task_complete (10), a late task_complete (11).
/// Items: 3, 4, 6 (t1) and 9 (t2).
pub async fn paginated(t: &TestStore) -> ThreadId {
    let id = ThreadId::new();
    let item = |turn: &str, item: serde_json::Value| {
        RolloutItem::event_msg(json!({
            "type": "item_completed", "thread_id": id.to_string(), "turn_id": turn, "item": item,
        }))
    };
    let user = |turn: &str, text: &str| {
        item(
            turn,
            json!({"type": "UserMessage", "id": format!("u-{turn}"),
                "content": [{"type": "text", "text": text, "text_elements": []}]}),
        )
    };
    let agent = |turn: &str, n: u32, phase: &str| {
        item(
            turn,
            json!({"type": "AgentMessage", "id": format!("a-{turn}-{n}"),
                "content": [{"type": "Text", "text": format!("{phase} {n}")}], "phase": phase}),
        )
    };
    let items = vec![
        RolloutItem::new(
            "session_meta",
            &json!({"id": id.to_string(), "cwd": "/repo", "history_mode": "paginated"}),
        ),
        RolloutItem::task_started("t1"),
        RolloutItem::message("user", "the raw prompt"),
        user("t1", "first question"),
        agent("t1", 1, "commentary"),
        RolloutItem::event_msg(json!({"type": "token_count", "info": null})),
        agent("t1", 2, "final_answer"),
        RolloutItem::task_complete("t1", Some("final_answer 2")),
        RolloutItem::task_started("t2"),
        user("t2", "second question"),
        RolloutItem::event_msg(json!({"type": "task_complete", "turn_id": "t2",
            "error": {"message": "the model failed", "codex_error_info": "other"}})),
        RolloutItem::task_complete("t2", None),
    ];
    let history = items
        .into_iter()
        .enumerate()
        .map(|(n, item)| RolloutLine {
            timestamp: at(n as i64),
            ordinal: Some(n as u64),
            item,
        })
        .collect();
    t.create_with(CreateThreadParams {
        thread_id: Some(id),
        history,
        ..create_params()
    })
    .await;
    id
}

fn params(id: ThreadId, turn: Option<&str>, dir: SortDirection, size: usize) -> ListItemsParams {
    ListItemsParams {
        turn_id: turn.map(str::to_owned),
        sort_direction: dir,
        page_size: size,
        ..ListItemsParams::new(id)
    }
}

/// Every entry, following next cursors: `(position, turn id, item type)`.
async fn all(t: &TestStore, p: ListItemsParams) -> Vec<(u64, String, String)> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = t
            .store
            .list_thread_items(ListItemsParams {
                cursor: cursor.clone(),
                ..p.clone()
            })
            .await
            .unwrap();
        for i in &page.items {
            let ty = i.item["type"].as_str().unwrap_or_default().to_owned();
            out.push((i.position, i.turn_id.clone(), ty));
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("paging did not end");
}

fn entry(position: u64, turn: &str, ty: &str) -> (u64, String, String) {
    (position, turn.to_owned(), ty.to_owned())
}

pub async fn paginated_turns_follow_codex_rules(b: Backend) {
    let t = b.open().await;
    let id = paginated(&t).await;
    let page = t
        .store
        .list_turns(ListTurnsParams {
            sort_direction: SortDirection::Asc,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    let got: Vec<_> = page
        .turns
        .iter()
        .map(|t| {
            let positions: Vec<u64> = t.items.iter().map(|i| i.position).collect();
            (t.turn_id.as_str(), t.status, t.item_count, positions)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("t1", StoredTurnStatus::Completed, 3, vec![3, 6]),
            ("t2", StoredTurnStatus::Failed, 1, vec![9]),
        ]
    );
    assert_eq!(
        page.turns[1].error.as_ref().map(|e| e.message.as_str()),
        Some("the model failed")
    );
    let thread = t
        .store
        .read_thread(ReadThreadParams::new(id))
        .await
        .unwrap();
    assert_eq!(thread.preview, "first question");
}

pub async fn item_view_pages_the_whole_thread_both_ways(b: Backend) {
    let t = b.open().await;
    let id = paginated(&t).await;
    let want = vec![
        entry(3, "t1", "userMessage"),
        entry(4, "t1", "agentMessage"),
        entry(6, "t1", "agentMessage"),
        entry(9, "t2", "userMessage"),
    ];
    for size in [1, 2, 3, 50] {
        assert_eq!(
            all(&t, params(id, None, SortDirection::Asc, size)).await,
            want,
            "asc pages of {size}"
        );
        let mut desc = want.clone();
        desc.reverse();
        assert_eq!(
            all(&t, params(id, None, SortDirection::Desc, size)).await,
            desc,
            "desc pages of {size}"
        );
    }
    // The backwards cursor of a desc page, used asc, re-reads from its first entry on.
    let page = t
        .store
        .list_thread_items(params(id, None, SortDirection::Desc, 2))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![9, 6]
    );
    let back = t
        .store
        .list_thread_items(ListItemsParams {
            cursor: page.backwards_cursor,
            ..params(id, None, SortDirection::Asc, 10)
        })
        .await
        .unwrap();
    assert_eq!(
        back.items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![9]
    );
    assert!(back.next_cursor.is_none());
}

pub async fn item_view_of_one_turn_and_its_json(b: Backend) {
    let t = b.open().await;
    let id = paginated(&t).await;
    assert_eq!(
        all(&t, params(id, Some("t1"), SortDirection::Desc, 1)).await,
        vec![
            entry(6, "t1", "agentMessage"),
            entry(4, "t1", "agentMessage"),
            entry(3, "t1", "userMessage"),
        ]
    );
    let page = t
        .store
        .list_thread_items(params(id, Some("t1"), SortDirection::Asc, 10))
        .await
        .unwrap();
    assert_eq!(
        page.items[0].item,
        json!({"type": "userMessage", "id": "u-t1", "clientId": null,
            "content": [{"type": "text", "text": "first question", "text_elements": []}],
            "startedAtMs": null, "completedAtMs": null})
    );
    assert_eq!(
        page.items[2].item,
        json!({"type": "agentMessage", "id": "a-t1-2", "text": "final_answer 2",
            "phase": "final_answer", "memoryCitation": null, "delivery": null,
            "moderation": null, "questions": null, "startedAtMs": null, "completedAtMs": null})
    );
    // An unknown turn gives an empty page, as Codex's.
    let none = t
        .store
        .list_thread_items(params(id, Some("nope"), SortDirection::Asc, 10))
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next_cursor.is_none() && none.backwards_cursor.is_none());
}

pub async fn item_view_cursors_are_checked(b: Backend) {
    let t = b.open().await;
    let id = paginated(&t).await;
    assert_invalid!(
        t.store
            .list_thread_items(ListItemsParams {
                cursor: Some("not a cursor".into()),
                ..params(id, None, SortDirection::Asc, 10)
            })
            .await
    );
    // A cursor of the raw item pages is not one of the item view.
    let raw = t.items(params(id, None, SortDirection::Asc, 2)).await;
    assert_invalid!(
        t.store
            .list_thread_items(ListItemsParams {
                cursor: raw.next_cursor,
                ..params(id, None, SortDirection::Asc, 10)
            })
            .await
    );
    let err = t
        .store
        .list_thread_items(params(ThreadId::new(), None, SortDirection::Asc, 10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ThreadStoreError::ThreadNotFound { .. }),
        "{err:?}"
    );
}

pub async fn item_view_of_a_legacy_turn_pages_both_ways(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    // Header (0); t1: task_started (1), user_message (2), agent_reasoning (3), token_count (4),
    // agent_message (5), task_complete (6); then t2 (7..=10).
    t.append(
        id,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("legacy question"),
            RolloutItem::event_msg(json!({"type": "agent_reasoning", "text": "thinking"})),
            RolloutItem::event_msg(json!({"type": "token_count", "info": null})),
            RolloutItem::agent_message("legacy answer"),
            RolloutItem::task_complete("t1", Some("legacy answer")),
        ],
    )
    .await;
    t.append(id, turn("t2", "q2", "a2")).await;
    let want = vec![
        entry(2, "t1", "userMessage"),
        entry(3, "t1", "reasoning"),
        entry(5, "t1", "agentMessage"),
    ];
    for size in [1, 2, 50] {
        assert_eq!(
            all(&t, params(id, Some("t1"), SortDirection::Asc, size)).await,
            want,
            "asc pages of {size}"
        );
        let mut desc = want.clone();
        desc.reverse();
        assert_eq!(
            all(&t, params(id, Some("t1"), SortDirection::Desc, size)).await,
            desc,
            "desc pages of {size}"
        );
    }
    let page = t
        .store
        .list_thread_items(params(id, Some("t1"), SortDirection::Asc, 1))
        .await
        .unwrap();
    assert_eq!(
        page.items[0].item,
        json!({"type": "userMessage", "id": "item-2", "clientId": null,
            "content": [{"type": "text", "text": "legacy question", "text_elements": []}]})
    );
    // The whole thread's view, every turn's items in log order, paged both ways across turns;
    // lines in no turn (the header) and lines that make no item are skipped.
    let mut want = want;
    want.extend([
        entry(8, "t2", "userMessage"),
        entry(9, "t2", "agentMessage"),
    ]);
    for size in [1, 2, 3, 50] {
        assert_eq!(
            all(&t, params(id, None, SortDirection::Asc, size)).await,
            want,
            "whole thread, asc pages of {size}"
        );
        let mut desc = want.clone();
        desc.reverse();
        assert_eq!(
            all(&t, params(id, None, SortDirection::Desc, size)).await,
            desc,
            "whole thread, desc pages of {size}"
        );
    }
}

pub async fn occurrences_match_prompts_and_final_answers_in_log_order(b: Backend) {
    let t = b.open().await;
    let id = paginated(&t).await;
    let search = |term: &str, page_size: usize, cursor: Option<String>| SearchOccurrencesParams {
        cursor,
        page_size,
        ..SearchOccurrencesParams::new(id, term)
    };
    // Both prompts, one page at a time; the cursor carries the walk.
    let first = t
        .store
        .search_thread_occurrences(search("QUESTION", 1, None))
        .await
        .unwrap();
    assert_eq!(first.occurrences.len(), 1);
    let o = &first.occurrences[0];
    assert_eq!(
        (o.turn_id.as_str(), o.item_id.as_str(), o.position),
        ("t1", "u-t1", 3)
    );
    assert_eq!(
        (o.snippet.as_str(), o.snippet_match_range),
        ("first question", (6, 14))
    );
    let second = t
        .store
        .search_thread_occurrences(search("QUESTION", 1, first.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(
        second
            .occurrences
            .iter()
            .map(|o| (o.turn_id.as_str(), o.position))
            .collect::<Vec<_>>(),
        vec![("t2", 9)]
    );
    assert!(second.next_cursor.is_none());
    // The turn cursor starts a turn page at the occurrence's turn.
    let turns = t
        .store
        .list_turns(ListTurnsParams {
            cursor: second.occurrences[0].turn_cursor.clone(),
            sort_direction: SortDirection::Asc,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    assert_eq!(turns.turns[0].turn_id, "t2");
    // The final answer is searched, the commentary never.
    let answers = t
        .store
        .search_thread_occurrences(search("final_answer", 0, None))
        .await
        .unwrap();
    assert_eq!(
        answers
            .occurrences
            .iter()
            .map(|o| o.item_id.as_str())
            .collect::<Vec<_>>(),
        vec!["a-t1-2"]
    );
    let commentary = t
        .store
        .search_thread_occurrences(search("commentary", 0, None))
        .await
        .unwrap();
    assert!(commentary.occurrences.is_empty() && commentary.next_cursor.is_none());
    // A blank term, a forged cursor and a cursor for another term are refused.
    for bad in [
        search("  ", 0, None),
        search("question", 0, Some("{\"forged\": 1}".into())),
        search("other", 0, first.next_cursor.clone()),
    ] {
        assert!(matches!(
            t.store.search_thread_occurrences(bad).await,
            Err(ThreadStoreError::InvalidRequest { .. })
        ));
    }
}

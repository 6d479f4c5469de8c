//! CONTRACT.md §3, "Cost": a page read touches O(page size) records whatever the thread's length,
//! and a summary page never reads items beyond the two it returns. Proven by counting the records
//! the storage engine yields (point reads plus scanned entries) around single page reads of a
//! 100-turn thread and a 20,000-turn thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadstore::layers::storage::engine::{CountingEngine, SledEngine};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, ItemPage, ListItemsParams,
    ListTurnsParams, RolloutItem, SledThreadStore, SortDirection, StoreConfig, StoredTurnItemsView,
    ThreadId, ThreadStore, TurnPage,
};

/// Items per turn: task_started, user_message, agent_message ×2, task_complete.
const ITEMS_PER_TURN: u64 = 5;
/// Page size measured.
const PAGE: usize = 50;
/// Allowance for fixed per-call reads (cursor anchor, snapshot, …).
const SLACK: u64 = 10;

fn turn(i: usize) -> Vec<RolloutItem> {
    let id = format!("turn-{i}");
    vec![
        RolloutItem::task_started(&id),
        RolloutItem::user_message(&format!("prompt {i}")),
        RolloutItem::agent_message(&format!("thinking about {i}")),
        RolloutItem::agent_message(&format!("answer {i}")),
        RolloutItem::task_complete(&id, Some("done")),
    ]
}

async fn build(store: &SledThreadStore, turns: usize) -> ThreadId {
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let per_call = 500;
    let mut start = 0;
    while start < turns {
        let end = (start + per_call).min(turns);
        let items: Vec<RolloutItem> = (start..end).flat_map(turn).collect();
        store
            .append_items(AppendThreadItemsParams::new(id, items))
            .await
            .unwrap();
        start = end;
    }
    id
}

struct Bench {
    store: SledThreadStore,
    reads: Arc<AtomicU64>,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (engine, reads) =
            CountingEngine::new(SledEngine::open(dir.path(), &Default::default()).unwrap());
        let store = SledThreadStore::builder(dir.path())
            .config(StoreConfig {
                durability: Durability::Buffered,
                // Keep the actors of both threads active for the whole test: an activation
                // (3 reads) inside a measured call would be noise, not page cost.
                idle_timeout: std::time::Duration::from_secs(3600),
                // The search indexer reads the logs in the background: its reads are not a
                // page's (its own cost is W10's).
                search_index: false,
                ..Default::default()
            })
            .engine(Arc::new(engine))
            .open()
            .await
            .unwrap();
        Self {
            store,
            reads,
            _dir: dir,
        }
    }

    /// Runs `params` once to warm up (actor active), then again counting the records read.
    async fn turns(&self, params: ListTurnsParams) -> (TurnPage, u64) {
        let warm = self.store.list_turns(params.clone()).await.unwrap();
        let before = self.reads.load(Ordering::SeqCst);
        let page = self.store.list_turns(params).await.unwrap();
        let cost = self.reads.load(Ordering::SeqCst) - before;
        assert_eq!(page, warm, "the same page read twice differs");
        (page, cost)
    }

    async fn items(&self, params: ListItemsParams) -> (ItemPage, u64) {
        let warm = self.store.list_items(params.clone()).await.unwrap();
        let before = self.reads.load(Ordering::SeqCst);
        let page = self.store.list_items(params).await.unwrap();
        let cost = self.reads.load(Ordering::SeqCst) - before;
        assert_eq!(page, warm, "the same page read twice differs");
        (page, cost)
    }

    /// A Desc turn cursor after the newest `skip` turns (paged with a notLoaded view).
    async fn desc_cursor_after(&self, id: ThreadId, skip: usize) -> String {
        let mut cursor = None;
        let mut left = skip;
        while left > 0 {
            let n = left.min(200);
            let page = self
                .store
                .list_turns(ListTurnsParams {
                    cursor,
                    page_size: n,
                    sort_direction: SortDirection::Desc,
                    items_view: StoredTurnItemsView::NotLoaded,
                    ..ListTurnsParams::new(id)
                })
                .await
                .unwrap();
            assert_eq!(page.turns.len(), n);
            cursor = page.next_cursor;
            left -= n;
        }
        cursor.expect("more turns after the skipped ones")
    }

    /// An Asc whole-thread item cursor after the first `skip` items.
    async fn item_cursor_after(&self, id: ThreadId, skip: usize) -> String {
        let mut cursor = None;
        let mut left = skip;
        while left > 0 {
            let n = left.min(200);
            let page = self
                .store
                .list_items(ListItemsParams {
                    cursor,
                    page_size: n,
                    ..ListItemsParams::new(id)
                })
                .await
                .unwrap();
            assert_eq!(page.items.len(), n);
            cursor = page.next_cursor;
            left -= n;
        }
        cursor.expect("more items after the skipped ones")
    }
}

fn turn_params(id: ThreadId, cursor: Option<String>, view: StoredTurnItemsView) -> ListTurnsParams {
    ListTurnsParams {
        cursor,
        page_size: PAGE,
        sort_direction: SortDirection::Desc,
        items_view: view,
        ..ListTurnsParams::new(id)
    }
}

/// The reads of one turn page in every view, checked against the bounds of §3.
#[derive(Debug, PartialEq, Eq)]
struct TurnCosts {
    not_loaded: u64,
    summary: u64,
    full: u64,
}

async fn turn_page_costs(b: &Bench, id: ThreadId, cursor: Option<String>) -> TurnCosts {
    let (nl, not_loaded) = b
        .turns(turn_params(
            id,
            cursor.clone(),
            StoredTurnItemsView::NotLoaded,
        ))
        .await;
    let (summary_page, summary) = b
        .turns(turn_params(
            id,
            cursor.clone(),
            StoredTurnItemsView::Summary,
        ))
        .await;
    let (full_page, full) = b
        .turns(turn_params(id, cursor, StoredTurnItemsView::Full))
        .await;
    for page in [&nl, &summary_page, &full_page] {
        assert_eq!(page.turns.len(), PAGE);
        assert!(
            page.next_cursor.is_some(),
            "the measured pages have more after them"
        );
    }

    // notLoaded: the turn records (plus the one that tells whether more exist) and a constant.
    assert!(
        not_loaded <= PAGE as u64 + SLACK,
        "notLoaded page of {PAGE} read {not_loaded} records"
    );
    // summary: 50 turn records + 2×50 items + a constant …
    let summary_items: u64 = summary_page
        .turns
        .iter()
        .map(|t| t.items.len() as u64)
        .sum();
    assert_eq!(
        summary_items,
        2 * PAGE as u64,
        "every turn has a prompt and an answer"
    );
    assert!(
        summary <= PAGE as u64 + 2 * PAGE as u64 + SLACK,
        "summary page of {PAGE} read {summary} records"
    );
    // … and exactly the items it returns on top of the notLoaded page: nothing between them.
    assert_eq!(
        summary - not_loaded,
        summary_items,
        "a summary page read items it does not return"
    );
    // full: every item of every turn, so the counter does see item reads.
    let full_items: u64 = full_page.turns.iter().map(|t| t.items.len() as u64).sum();
    assert_eq!(full_items, ITEMS_PER_TURN * PAGE as u64);
    assert!(
        full >= not_loaded + full_items,
        "full page read {full} records for {full_items} items"
    );
    assert!(full > summary);
    TurnCosts {
        not_loaded,
        summary,
        full,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_and_item_pages_cost_the_same_on_short_and_long_threads() {
    let b = Bench::open().await;
    let short = build(&b.store, 100).await;
    let long = build(&b.store, 20_000).await;

    // First page, newest first.
    let short_first = turn_page_costs(&b, short, None).await;
    let long_first = turn_page_costs(&b, long, None).await;
    println!("first turn page: short {short_first:?}, long {long_first:?}");
    assert_eq!(
        short_first, long_first,
        "first turn page cost depends on thread length"
    );

    // A middle page through a cursor (with more turns after it on both threads).
    let c = b.desc_cursor_after(short, 20).await;
    let short_mid = turn_page_costs(&b, short, Some(c)).await;
    let c = b.desc_cursor_after(long, 10_000).await;
    let long_mid = turn_page_costs(&b, long, Some(c)).await;
    println!("middle turn page: short {short_mid:?}, long {long_mid:?}");
    assert_eq!(
        short_mid, long_mid,
        "middle turn page cost depends on thread length"
    );

    // Items of the whole thread: first page and a middle page.
    let items = |cursor| ListItemsParams {
        cursor,
        page_size: PAGE,
        ..ListItemsParams::new(short)
    };
    let (p, short_items) = b.items(items(None)).await;
    assert_eq!(p.items.len(), PAGE);
    let (p, long_items) = b
        .items(ListItemsParams {
            thread_id: long,
            ..items(None)
        })
        .await;
    assert_eq!(p.items.len(), PAGE);
    assert_eq!(
        short_items, long_items,
        "first item page cost depends on thread length"
    );
    assert!(
        short_items <= PAGE as u64 + SLACK,
        "item page read {short_items} records"
    );

    let c = b.item_cursor_after(short, 200).await;
    let (p, short_mid_items) = b.items(items(Some(c))).await;
    assert_eq!(p.items.first().map(|i| i.position), Some(200));
    let c = b.item_cursor_after(long, 50_000).await;
    let (p, long_mid_items) = b
        .items(ListItemsParams {
            thread_id: long,
            ..items(Some(c))
        })
        .await;
    assert_eq!(p.items.first().map(|i| i.position), Some(50_000));
    assert_eq!(
        short_mid_items, long_mid_items,
        "middle item page cost depends on thread length"
    );
    assert!(short_mid_items <= PAGE as u64 + SLACK);

    // Items of one turn: the same turn shape on both threads costs the same.
    let one_turn = |thread_id, turn: &str| ListItemsParams {
        turn_id: Some(turn.to_owned()),
        page_size: PAGE,
        ..ListItemsParams::new(thread_id)
    };
    let (p, short_turn_items) = b.items(one_turn(short, "turn-50")).await;
    assert_eq!(p.items.len() as u64, ITEMS_PER_TURN);
    let (p, long_turn_items) = b.items(one_turn(long, "turn-10000")).await;
    assert_eq!(p.items.len() as u64, ITEMS_PER_TURN);
    assert_eq!(
        short_turn_items, long_turn_items,
        "turn item page cost depends on thread length"
    );
    assert!(short_turn_items <= 2 * ITEMS_PER_TURN + SLACK);
    println!(
        "item pages: first {short_items}/{long_items}, middle {short_mid_items}/{long_mid_items}, one turn {short_turn_items}/{long_turn_items}"
    );
}

/// A paginated thread of `turns` turns: per turn task_started, a raw response item, a
/// UserMessage item, a token count, an AgentMessage item (final answer) and task_complete; 2 of
/// its 6 lines are items of Codex's item view.
async fn build_paginated(store: &SledThreadStore, turns: usize) -> ThreadId {
    let id = ThreadId::new();
    let header = RolloutItem::new(
        "session_meta",
        &serde_json::json!({"id": id.to_string(), "history_mode": "paginated"}),
    );
    store
        .create_thread(CreateThreadParams {
            thread_id: Some(id),
            history: vec![threadstore::RolloutLine::now(header)],
            ..Default::default()
        })
        .await
        .unwrap();
    let item = |turn: &str, item: serde_json::Value| {
        RolloutItem::event_msg(serde_json::json!({
            "type": "item_completed", "turn_id": turn, "item": item,
        }))
    };
    let per_call = 500;
    let mut start = 0;
    while start < turns {
        let end = (start + per_call).min(turns);
        let items: Vec<RolloutItem> = (start..end)
            .flat_map(|i| {
                let t = format!("turn-{i}");
                vec![
                    RolloutItem::task_started(&t),
                    RolloutItem::message("user", &format!("raw prompt {i}")),
                    item(&t, serde_json::json!({"type": "UserMessage", "id": format!("u{i}"),
                        "content": [{"type": "text", "text": format!("prompt {i}")}]})),
                    RolloutItem::event_msg(serde_json::json!({"type": "token_count", "info": null})),
                    item(&t, serde_json::json!({"type": "AgentMessage", "id": format!("a{i}"),
                        "content": [{"type": "Text", "text": format!("answer {i}")}], "phase": "final_answer"})),
                    RolloutItem::task_complete(&t, Some("done")),
                ]
            })
            .collect();
        store
            .append_items(AppendThreadItemsParams::new(id, items))
            .await
            .unwrap();
        start = end;
    }
    id
}

impl Bench {
    async fn thread_items(&self, params: ListItemsParams) -> (threadstore::ThreadItemPage, u64) {
        let warm = self.store.list_thread_items(params.clone()).await.unwrap();
        let before = self.reads.load(Ordering::SeqCst);
        let page = self.store.list_thread_items(params).await.unwrap();
        let cost = self.reads.load(Ordering::SeqCst) - before;
        assert_eq!(page, warm, "the same page read twice differs");
        (page, cost)
    }
}

/// CONTRACT.md §7: a page of Codex's item view costs O(page) on a paginated thread, whatever its
/// length, and skips the lines that are not items without reading them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_view_pages_cost_the_same_on_short_and_long_paginated_threads() {
    let b = Bench::open().await;
    let short = build_paginated(&b.store, 100).await;
    let long = build_paginated(&b.store, 5_000).await;
    let page = |thread_id, cursor| ListItemsParams {
        cursor,
        page_size: PAGE,
        ..ListItemsParams::new(thread_id)
    };
    let (p, short_first) = b.thread_items(page(short, None)).await;
    assert_eq!(p.items.len(), PAGE);
    let (p, long_first) = b.thread_items(page(long, None)).await;
    assert_eq!(p.items.len(), PAGE);
    assert_eq!(short_first, long_first, "first page cost depends on length");
    // Per item: its index entry and its log record; plus the turn records of the page's 25
    // turns; nothing for the 4 other lines of each turn.
    assert!(
        short_first <= 2 * (PAGE as u64 + 1) + (PAGE as u64) / 2 + SLACK,
        "item view page of {PAGE} read {short_first} records"
    );
    // A middle page (newest first, after a cursor deep into the long thread).
    let mut cursor = None;
    for _ in 0..40 {
        let p = b
            .store
            .list_thread_items(ListItemsParams {
                sort_direction: SortDirection::Desc,
                ..page(long, cursor)
            })
            .await
            .unwrap();
        cursor = p.next_cursor;
    }
    let (p, long_mid) = b
        .thread_items(ListItemsParams {
            sort_direction: SortDirection::Desc,
            ..page(long, cursor)
        })
        .await;
    assert_eq!(p.items.len(), PAGE);
    assert!(
        long_mid <= 2 * (PAGE as u64 + 1) + (PAGE as u64) / 2 + SLACK,
        "middle item view page read {long_mid} records"
    );
    println!("item view pages: first {short_first}/{long_first}, middle {long_mid}");
}

/// CONTRACT.md §7: `load_latest_model_context` reads the suffix from the last compaction, not
/// the thread: the same few records on a 100-turn and a 20,000-turn thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_context_costs_its_suffix_whatever_the_thread_length() {
    let b = Bench::open().await;
    let mut costs = Vec::new();
    for turns in [100, 20_000] {
        let id = build(&b.store, turns).await;
        let compacted = RolloutItem::new(
            "compacted",
            &serde_json::json!({"message": "summary", "replacement_history": []}),
        );
        let mut tail = vec![compacted];
        tail.extend(turn(turns));
        b.store
            .append_items(AppendThreadItemsParams::new(id, tail))
            .await
            .unwrap();
        let params = threadstore::LoadThreadHistoryParams::new(id);
        let warm = b
            .store
            .load_latest_model_context(params.clone())
            .await
            .unwrap();
        let before = b.reads.load(Ordering::SeqCst);
        let context = b.store.load_latest_model_context(params).await.unwrap();
        let cost = b.reads.load(Ordering::SeqCst) - before;
        assert_eq!(context, warm);
        assert_eq!(context.items.len() as u64, 1 + ITEMS_PER_TURN);
        assert!(cost <= 16 + SLACK, "a 6-line suffix read {cost} records");
        costs.push(cost);
    }
    assert_eq!(
        costs[0], costs[1],
        "the suffix's cost depends on the thread's length"
    );
}

//! The on-disk layout's invariants that the conformance suite cannot see through the API, checked
//! on the raw keys (storage/src/keys.rs): membership keys only for non-contiguous turns, bucketed
//! sort indexes that still list in exact order, and the migration of a layout-1 store.

use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use threadstore::layers::storage::codec::{decode, encode};
use threadstore::layers::storage::engine::{KvEngine, MemEngine, WriteBatch};
use threadstore::layers::storage::keys;
use threadstore::layers::storage::migrate::LAYOUT_VERSION;
use threadstore::layers::storage::records::FeedBlock;
use threadstore::layers::storage::verify::verify;
use threadstore::layers::storage::{ThreadRecord, TurnRecord};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, ListItemsParams, ListThreadsParams, RolloutItem,
    SledThreadStore, SortDirection, StoreConfig, ThreadId, ThreadSortKey, ThreadStore,
    ThreadStoreError,
};

async fn open(engine: &Arc<MemEngine>, dir: &tempfile::TempDir) -> SledThreadStore {
    try_open(engine, dir).await.unwrap()
}

async fn try_open(
    engine: &Arc<MemEngine>,
    dir: &tempfile::TempDir,
) -> Result<SledThreadStore, ThreadStoreError> {
    SledThreadStore::builder(dir.path())
        .config(StoreConfig::default())
        .engine(engine.clone() as Arc<dyn KvEngine>)
        .open()
        .await
}

fn keys_under(engine: &MemEngine, prefix: Vec<u8>) -> Vec<Vec<u8>> {
    let end = keys::prefix_end(&prefix);
    engine
        .scan(Bound::Included(prefix), Bound::Excluded(end), false)
        .map(|e| e.unwrap().0)
        .collect()
}

/// A bucket-aligned time after now (updated_at only moves forward, and creation is now).
fn base() -> DateTime<Utc> {
    let later = (Utc::now() + Duration::days(1)).timestamp();
    DateTime::from_timestamp(later, 0).unwrap()
}

async fn append_at(store: &SledThreadStore, id: ThreadId, items: Vec<RolloutItem>, at: i64) {
    let mut p = AppendThreadItemsParams::new(id, items);
    p.timestamps = (0..p.items.len() as i64)
        .map(|i| base() + Duration::milliseconds(at + i))
        .collect();
    store.append_items(p).await.unwrap();
}

async fn new_thread(store: &SledThreadStore) -> ThreadId {
    store
        .create_thread(CreateThreadParams {
            cwd: Some("/repo".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .thread_id
}

/// A turn whose items are one run of positions has no `M` keys; the append that breaks the run
/// writes keys for every member, old and new, and the turn still pages exactly.
#[tokio::test]
async fn membership_keys_only_for_broken_runs() {
    let engine = Arc::new(MemEngine::default());
    let dir = tempfile::tempdir().unwrap();
    let store = open(&engine, &dir).await;
    let id = new_thread(&store).await;
    let members = || keys_under(&engine, keys::thread_prefix(keys::MEMBER, &id));

    append_at(
        &store,
        id,
        vec![
            RolloutItem::task_started("a"),
            RolloutItem::user_message("first"),
            RolloutItem::agent_message("one"),
        ],
        0,
    )
    .await;
    assert!(members().is_empty(), "a contiguous turn needs no keys");

    // Turn b opens; a late completion of turn a joins a after b's items: a is no longer a run.
    append_at(
        &store,
        id,
        vec![
            RolloutItem::task_started("b"),
            RolloutItem::user_message("second"),
        ],
        10,
    )
    .await;
    append_at(&store, id, vec![RolloutItem::task_complete("a", None)], 20).await;
    let keys_now = members();
    assert_eq!(keys_now.len(), 4, "every member of turn a has a key");
    let page = store
        .list_items(ListItemsParams {
            turn_id: Some("a".into()),
            page_size: 10,
            ..ListItemsParams::new(id)
        })
        .await
        .unwrap();
    let positions: Vec<u64> = page.items.iter().map(|i| i.position).collect();
    // Position 0 is the session header create_thread writes.
    assert_eq!(positions, vec![1, 2, 3, 6]);
    // Turn b is still a run (its positions 4, 5), keyless, and pages from its range.
    let page = store
        .list_items(ListItemsParams {
            turn_id: Some("b".into()),
            page_size: 1,
            sort_direction: SortDirection::Desc,
            ..ListItemsParams::new(id)
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].position, 5);
    assert!(page.next_cursor.is_some());
    assert!(verify(store.actor_store().journal().as_ref())
        .await
        .unwrap()
        .differences
        .is_empty());
}

/// Threads updated within one index bucket are listed by exact time, in both directions and
/// across page boundaries, with each bucket's entry moved only when the bucket changes.
#[tokio::test]
async fn bucketed_index_lists_in_exact_order() {
    let engine = Arc::new(MemEngine::default());
    let dir = tempfile::tempdir().unwrap();
    let store = open(&engine, &dir).await;
    let mut expected = Vec::new();
    // Ten threads, updated at times that share buckets and interleave with creation order.
    for n in 0..10i64 {
        let id = new_thread(&store).await;
        let at = (n * 7_919) % 3_000; // spread over three 1 s buckets, out of creation order
        append_at(&store, id, vec![RolloutItem::user_message("hi")], at).await;
        expected.push((at, id));
    }
    expected.sort_by(|a, b| (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes())));
    for direction in [SortDirection::Asc, SortDirection::Desc] {
        let mut listed = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .list_threads(ListThreadsParams {
                    sort_key: ThreadSortKey::UpdatedAt,
                    sort_direction: direction,
                    page_size: 3,
                    cursor: cursor.take(),
                    ..Default::default()
                })
                .await
                .unwrap();
            listed.extend(page.items.iter().map(|t| t.thread_id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut want: Vec<ThreadId> = expected.iter().map(|(_, id)| *id).collect();
        if direction == SortDirection::Desc {
            want.reverse();
        }
        assert_eq!(listed, want, "{direction:?}");
    }
    // Each thread has one UpdatedAt entry, keyed by its bucket.
    let prefix = keys::index_prefix(keys::ACTIVE, ThreadSortKey::UpdatedAt);
    let entries = keys_under(&engine, prefix);
    assert_eq!(entries.len(), 10);
    for k in entries {
        let (time, _) = keys::parse_index_tail(&k).unwrap();
        assert_eq!(
            time.rem_euclid(keys::SORT_BUCKET_MS),
            0,
            "bucket key {time}"
        );
    }
}

/// Rewrites a current store into layout 1: exact-time sort entries, `M` keys for every member,
/// one feed record per key, no `S layout` key.
fn downgrade_to_layout_1(engine: &MemEngine) {
    let mut batch = WriteBatch::default();
    for k in keys_under(engine, vec![keys::THREAD]) {
        let id = ThreadId::from_bytes(k[1..17].try_into().unwrap());
        let record: ThreadRecord = decode(&engine.get(&k).unwrap().unwrap(), None, None).unwrap();
        for sort in [ThreadSortKey::UpdatedAt, ThreadSortKey::RecencyAt] {
            let exact = match sort {
                ThreadSortKey::UpdatedAt => record.meta.updated_ms,
                _ => record.meta.recency_ms,
            };
            let mut prefixes = vec![keys::index_prefix(keys::ACTIVE, sort)];
            if let Some(cwd) = &record.meta.cwd {
                prefixes.push(keys::cwd_index_prefix(keys::ACTIVE, sort, cwd));
            }
            for prefix in prefixes {
                batch.remove(keys::index_entry(
                    prefix.clone(),
                    keys::index_time(sort, exact),
                    &id,
                ));
                batch.put(keys::index_entry(prefix, exact, &id), Vec::new());
            }
        }
        for t in keys_under(engine, keys::thread_prefix(keys::TURN, &id)) {
            let turn: TurnRecord = decode(&engine.get(&t).unwrap().unwrap(), None, None).unwrap();
            if turn.is_contiguous() {
                for pos in turn.first_position..=turn.last_position {
                    batch.put(keys::member(&id, turn.seq, pos), Vec::new());
                }
            }
        }
    }
    for k in keys_under(engine, vec![keys::FEED]) {
        let first = keys::be_u64(&k, 1).unwrap();
        let block: FeedBlock = decode(&engine.get(&k).unwrap().unwrap(), None, None).unwrap();
        for (i, record) in block.records.iter().enumerate() {
            batch.put(keys::feed(first + i as u64), encode(record).unwrap());
        }
    }
    batch.remove(keys::store_meta("layout"));
    engine.apply(batch).unwrap();
}

/// A layout-1 store opens as layout 2: index re-keyed by bucket, contiguous turns' `M` keys gone,
/// feed records in blocks, the same feed events; a store of a newer layout is refused, untouched.
#[tokio::test]
async fn a_layout_1_store_is_migrated_when_opened() {
    let engine = Arc::new(MemEngine::default());
    let dir = tempfile::tempdir().unwrap();
    let store = open(&engine, &dir).await;
    let mut ids = Vec::new();
    for n in 0..6i64 {
        let id = new_thread(&store).await;
        let turn = |t: &str| {
            vec![
                RolloutItem::task_started(t),
                RolloutItem::user_message(t),
                RolloutItem::agent_message("ok"),
                RolloutItem::task_complete(t, Some("ok")),
            ]
        };
        append_at(&store, id, turn("x"), n * 1_500).await;
        append_at(&store, id, turn("y"), n * 1_500 + 700).await;
        ids.push(id);
    }
    let listing = ListThreadsParams {
        sort_key: ThreadSortKey::UpdatedAt,
        ..Default::default()
    };
    let order = |page: threadstore::ThreadPage| -> Vec<ThreadId> {
        page.items.iter().map(|t| t.thread_id).collect()
    };
    let before = order(store.list_threads(listing.clone()).await.unwrap());
    assert_eq!(before.len(), 6);
    let feed = |store: &SledThreadStore| {
        let journal = store.actor_store().journal().clone();
        async move { journal.feed_range(0, usize::MAX).await.unwrap() }
    };
    let events = feed(&store).await;
    assert!(events.len() >= 18);
    store.close().await.unwrap();
    // Everything but the writer leases (an open clears those) and the feed (compared as events:
    // a migrated feed has one block per event).
    let durable = || -> Vec<Vec<u8>> {
        let mut all = keys_under(&engine, vec![]);
        all.retain(|k| k.first() != Some(&keys::WRITER) && k.first() != Some(&keys::FEED));
        all
    };
    let layout_2 = durable();

    downgrade_to_layout_1(&engine);
    assert!(!keys_under(&engine, vec![keys::MEMBER]).is_empty());
    assert!(durable() != layout_2);

    let store = open(&engine, &dir).await;
    let migrated = durable();
    let missing = layout_2.iter().filter(|k| !migrated.contains(k)).count();
    let extra = migrated.iter().filter(|k| !layout_2.contains(k)).count();
    assert_eq!(
        (missing, extra),
        (0, 0),
        "migrated keys = the keys layout 2 writes"
    );
    assert_eq!(
        engine.get(&keys::store_meta("layout")).unwrap(),
        Some(LAYOUT_VERSION.to_be_bytes().to_vec())
    );
    assert_eq!(order(store.list_threads(listing).await.unwrap()), before);
    assert_eq!(feed(&store).await, events);
    assert!(verify(store.actor_store().journal().as_ref())
        .await
        .unwrap()
        .differences
        .is_empty());
    store.close().await.unwrap();

    let mut batch = WriteBatch::default();
    batch.put(
        keys::store_meta("layout"),
        (LAYOUT_VERSION + 1).to_be_bytes().to_vec(),
    );
    engine.apply(batch).unwrap();
    let refused = try_open(&engine, &dir).await.err();
    assert!(
        matches!(refused, Some(ThreadStoreError::Unsupported { .. })),
        "{refused:?}"
    );
}

/// A thread record as layout 2 wrote it (its turn state without `hidden`).
#[derive(serde::Serialize)]
struct ThreadRecordV2 {
    thread_id: ThreadId,
    meta: threadstore::layers::storage::ThreadMeta,
    turns: TurnCursorV2,
    next_position: u64,
    epoch: u64,
}

#[derive(serde::Serialize)]
struct TurnCursorV2 {
    next_seq: u64,
    tail: Option<u64>,
    open: bool,
    mode: threadstore::layers::storage::HistoryMode,
    visible: u64,
}

/// A turn record as layout 2 wrote it (before `final_answer`, `paginated` and `opened_at`).
#[derive(serde::Serialize)]
struct TurnRecordV2 {
    seq: u64,
    prev: Option<u64>,
    turn_id: String,
    shadows: Option<u64>,
    explicit: bool,
    status: threadstore::StoredTurnStatus,
    error: Option<(String, Option<String>)>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
    opened_ms: i64,
    first_position: u64,
    last_position: u64,
    item_count: u64,
    first_user: Option<u64>,
    last_agent: Option<u64>,
}

/// Rewrites a layout-3 store as layout 2 wrote it: turn records without their new fields, and
/// `paginated` projected by the older rules as far as they differ here: standard mode, no preview,
/// none of its turns.
fn downgrade_to_layout_2(engine: &MemEngine, paginated: ThreadId) {
    let mut batch = WriteBatch::default();
    for k in keys_under(engine, vec![keys::TURN]) {
        let t: TurnRecord = decode(&engine.get(&k).unwrap().unwrap(), None, None).unwrap();
        let old = TurnRecordV2 {
            seq: t.seq,
            prev: t.prev,
            turn_id: t.turn_id,
            shadows: t.shadows,
            explicit: t.explicit,
            status: t.status,
            error: t.error,
            started_at: t.started_at,
            completed_at: t.completed_at,
            duration_ms: t.duration_ms,
            opened_ms: t.opened_ms,
            first_position: t.first_position,
            last_position: t.last_position,
            item_count: t.item_count,
            first_user: t.first_user,
            last_agent: t.last_agent,
        };
        batch.put(k, encode(&old).unwrap());
    }
    for prefix in [keys::TURN, keys::TURN_ID, keys::MEMBER] {
        for k in keys_under(engine, keys::thread_prefix(prefix, &paginated)) {
            batch.remove(k);
        }
    }
    for k in keys_under(engine, vec![keys::THREAD]) {
        let mut record: ThreadRecord =
            decode(&engine.get(&k).unwrap().unwrap(), None, None).unwrap();
        if record.thread_id == paginated {
            record.turns = Default::default();
            record.meta.preview = String::new();
            record.meta.first_user_message = None;
        }
        let old = ThreadRecordV2 {
            thread_id: record.thread_id,
            meta: record.meta,
            turns: TurnCursorV2 {
                next_seq: record.turns.next_seq,
                tail: record.turns.tail,
                open: record.turns.open,
                mode: record.turns.mode,
                visible: record.turns.visible,
            },
            next_position: record.next_position,
            epoch: record.epoch,
        };
        batch.put(k, encode(&old).unwrap());
    }
    batch.put(keys::store_meta("layout"), 2u32.to_be_bytes().to_vec());
    engine.apply(batch).unwrap();
}

/// A paginated thread's lines: a header, then one turn with a user message, commentary and a
/// final answer, each an `item_completed` line, between raw lines that belong to no turn.
fn paginated_history(id: ThreadId) -> Vec<threadstore::RolloutLine> {
    let item = |n: u64, item: serde_json::Value| {
        RolloutItem::event_msg(serde_json::json!({
            "type": "item_completed", "thread_id": id.to_string(), "turn_id": "t1", "item": item,
            "completed_at_ms": n,
        }))
    };
    let items = vec![
        RolloutItem::new(
            "session_meta",
            &serde_json::json!({"id": id.to_string(), "history_mode": "paginated"}),
        ),
        RolloutItem::task_started("t1"),
        RolloutItem::message("user", "raw prompt"),
        item(
            3,
            serde_json::json!({"type": "UserMessage", "id": "u1",
            "content": [{"type": "text", "text": "migrate me", "text_elements": []}]}),
        ),
        item(
            4,
            serde_json::json!({"type": "AgentMessage", "id": "a1",
            "content": [{"type": "Text", "text": "thinking"}], "phase": "commentary"}),
        ),
        RolloutItem::message("assistant", "raw answer"),
        item(
            6,
            serde_json::json!({"type": "AgentMessage", "id": "a2",
            "content": [{"type": "Text", "text": "done"}], "phase": "final_answer"}),
        ),
        RolloutItem::task_complete("t1", Some("done")),
    ];
    items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            let mut line = threadstore::RolloutLine::now(item);
            line.ordinal = Some(n as u64);
            line
        })
        .collect()
}

/// Each turn's id, item count and summary positions, newest first.
async fn summary(store: &SledThreadStore, id: ThreadId) -> Vec<(String, u64, Vec<u64>)> {
    let page = store
        .list_turns(threadstore::ListTurnsParams::new(id))
        .await
        .unwrap();
    page.turns
        .iter()
        .map(|t| {
            let positions = t.items.iter().map(|i| i.position).collect();
            (t.turn_id.clone(), t.item_count, positions)
        })
        .collect()
}

/// A layout-2 store opens as layout 3: every turn record gains its new fields, and a paginated
/// thread projected by the older rules gets turns, membership, metadata and index entries derived
/// again by the paginated rules: the store is then key for key and byte for byte what layout 3
/// writes, and verifies clean.
#[tokio::test]
async fn a_layout_2_store_is_migrated_when_opened() {
    let engine = Arc::new(MemEngine::default());
    let dir = tempfile::tempdir().unwrap();
    let store = open(&engine, &dir).await;
    let standard = new_thread(&store).await;
    append_at(
        &store,
        standard,
        vec![
            RolloutItem::task_started("s1"),
            RolloutItem::user_message("hello"),
            RolloutItem::agent_message("hi"),
            RolloutItem::task_complete("s1", Some("hi")),
        ],
        0,
    )
    .await;
    let paginated = ThreadId::new();
    store
        .create_thread(CreateThreadParams {
            thread_id: Some(paginated),
            history: paginated_history(paginated),
            ..Default::default()
        })
        .await
        .unwrap();
    let paginated_turns = summary(&store, paginated).await;
    assert_eq!(paginated_turns, vec![("t1".to_owned(), 3, vec![3, 6])]);
    let standard_turns = summary(&store, standard).await;
    store.close().await.unwrap();
    let everything = || -> Vec<(Vec<u8>, Vec<u8>)> {
        engine
            .scan(Bound::Unbounded, Bound::Unbounded, false)
            .map(|e| e.unwrap())
            .filter(|(k, _)| k.first() != Some(&keys::WRITER) && k.first() != Some(&keys::FEED))
            .collect()
    };
    let layout_3 = everything();

    downgrade_to_layout_2(&engine, paginated);
    assert!(everything() != layout_3);

    let store = open(&engine, &dir).await;
    assert!(
        everything() == layout_3,
        "migrated store = what layout 3 writes"
    );
    assert_eq!(summary(&store, paginated).await, paginated_turns);
    assert_eq!(summary(&store, standard).await, standard_turns);
    assert!(verify(store.actor_store().journal().as_ref())
        .await
        .unwrap()
        .differences
        .is_empty());
    store.close().await.unwrap();
}

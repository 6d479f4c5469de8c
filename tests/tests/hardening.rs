//! Hardening: every acknowledgement is durable, no input can wedge a thread, no storage call
//! blocks the runtime. Each test is named after the guarantee it proves and fails without the
//! fix it covers (see issue 12's closing note).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use threadstore::layers::storage::engine::{KvEngine, MemEngine, WriteBatch};
use threadstore::layers::storage::fault::{FaultEngine, Faults};
use threadstore::layers::storage::keys;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, InMemoryThreadStore, ListItemsParams,
    ListThreadsParams, ListTurnsParams, LoadThreadHistoryParams, ReadThreadParams, RolloutItem,
    SledThreadStore, StoreConfig, ThreadId, ThreadStore, ThreadStoreError,
};

/// A store over a fault-injecting memory engine; the engine is returned too, for raw writes.
async fn faulty(config: StoreConfig) -> (SledThreadStore, Arc<Faults>, Arc<dyn KvEngine>) {
    let (engine, faults) = FaultEngine::new(MemEngine::default());
    let engine: Arc<dyn KvEngine> = Arc::new(engine);
    let store = SledThreadStore::builder("faulty")
        .config(config)
        .engine(engine.clone())
        .open()
        .await
        .expect("open over the fault engine");
    (store, faults, engine)
}

fn append(id: ThreadId, text: &str, request: Option<&str>) -> AppendThreadItemsParams {
    let mut p = AppendThreadItemsParams::new(id, vec![RolloutItem::user_message(text)]);
    p.request_id = request.map(str::to_owned);
    p
}

async fn next_position(store: &impl ThreadStore, id: ThreadId) -> u64 {
    store
        .read_thread(ReadThreadParams {
            thread_id: id,
            include_archived: true,
            include_history: false,
        })
        .await
        .expect("read_thread")
        .item_count
}

/// A retry of an append whose original is applied but not yet fsynced waits for that fsync: it
/// is acknowledged (as deduplicated) only once the original is durable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_retry_waits_for_fsync() {
    let (store, faults, _) = faulty(StoreConfig::default()).await;
    let store = Arc::new(store);
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let before = next_position(store.as_ref(), id).await;
    faults.flush_gate.hold();
    let original = tokio::spawn({
        let store = store.clone();
        async move { store.append_items(append(id, "hello", Some("r1"))).await }
    });
    // The original is applied (readable) while its fsync hangs.
    for _ in 0..500 {
        if next_position(store.as_ref(), id).await > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(next_position(store.as_ref(), id).await, before + 1);
    let retry = tokio::spawn({
        let store = store.clone();
        async move { store.append_items(append(id, "hello", Some("r1"))).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !retry.is_finished(),
        "the retry was acknowledged before the original's fsync"
    );
    assert!(!original.is_finished());
    faults.flush_gate.release();
    let first = original.await.unwrap().unwrap();
    let again = retry.await.unwrap().unwrap();
    assert!(!first.deduplicated);
    assert!(again.deduplicated);
    assert_eq!(again.first_position, first.first_position);
}

/// Once an fsync failed, a retry of an append the store applied is refused with `Poisoned`,
/// not acknowledged as deduplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_store_refuses_dedup_retry() {
    let (store, faults, _) = faulty(StoreConfig::default()).await;
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    faults.fail_flush.store(true, Ordering::SeqCst);
    let failed = store.append_items(append(id, "a", Some("r1"))).await;
    assert!(
        matches!(failed, Err(ThreadStoreError::Poisoned { .. })),
        "{failed:?}"
    );
    faults.fail_flush.store(false, Ordering::SeqCst);
    let retry = store.append_items(append(id, "a", Some("r1"))).await;
    assert!(
        matches!(retry, Err(ThreadStoreError::Poisoned { .. })),
        "a poisoned store acknowledged a retry: {retry:?}"
    );
}

/// A writer that pipelines appends while fsyncs hang meets backpressure, then
/// `ResourceExhausted` once the fsync queue stayed full for the configured timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_fsync_queue_is_resource_exhausted() {
    let config = StoreConfig {
        queue_capacity: 2,
        queue_timeout: Duration::from_millis(100),
        ..StoreConfig::default()
    };
    let (store, faults, _) = faulty(config).await;
    let store = Arc::new(store);
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    faults.flush_gate.hold();
    let mut pipelined = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        pipelined.push(tokio::spawn(async move {
            store.append_items(append(id, &format!("m{n}"), None)).await
        }));
    }
    let mut results = Vec::new();
    let mut exhausted = 0;
    // Wait for the refusals while the fsync still hangs.
    tokio::time::sleep(Duration::from_millis(800)).await;
    faults.flush_gate.release();
    for p in pipelined {
        let r = p.await.unwrap();
        if matches!(r, Err(ThreadStoreError::ResourceExhausted { .. })) {
            exhausted += 1;
        }
        results.push(r);
    }
    assert!(exhausted > 0, "no backpressure: {results:?}");
    assert!(
        results.iter().any(|r| r.is_ok()),
        "appends that found room are acknowledged: {results:?}"
    );
}

/// While one caller's read is stuck in storage, appends to other threads keep completing, even
/// on a single-threaded runtime: storage calls run off the async workers.
#[tokio::test]
async fn slow_read_does_not_stall_other_appends() {
    let (store, faults, _) = faulty(StoreConfig::default()).await;
    let store = Arc::new(store);
    let slow = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    store
        .append_items(append(slow, "the slow thread", None))
        .await
        .unwrap();
    let other = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    faults.set_slow_prefix(keys::thread_prefix(keys::LOG, &slow));
    faults.read_gate.hold();
    let read = tokio::spawn({
        let store = store.clone();
        async move { store.list_items(ListItemsParams::new(slow)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    for n in 0..20 {
        store
            .append_items(append(other, &format!("m{n}"), None))
            .await
            .unwrap();
    }
    assert!(
        !read.is_finished(),
        "the read finished first: the appends waited for it"
    );
    faults.read_gate.release();
    let page = read.await.unwrap().unwrap();
    assert_eq!(page.items.len(), 2);
}

/// Calls on an id the store does not know answer `ThreadNotFound` (discard: nothing to do)
/// without starting an actor.
#[tokio::test]
async fn unknown_id_spawns_no_actor() {
    let store = InMemoryThreadStore::default();
    let id = ThreadId::new();
    let nf = |r: &Result<_, ThreadStoreError>| matches!(r, Err(ThreadStoreError::ThreadNotFound { thread_id }) if *thread_id == id);
    assert!(nf(&store
        .append_items(append(id, "x", None))
        .await
        .map(|_| ())));
    assert!(nf(&store
        .read_thread(ReadThreadParams {
            thread_id: id,
            include_archived: true,
            include_history: true,
        })
        .await
        .map(|_| ())));
    assert!(nf(&store
        .list_turns(ListTurnsParams::new(id))
        .await
        .map(|_| ())));
    assert!(nf(&store
        .list_items(ListItemsParams::new(id))
        .await
        .map(|_| ())));
    assert!(nf(&store
        .load_history(LoadThreadHistoryParams {
            thread_id: id,
            include_archived: true,
        })
        .await
        .map(|_| ())));
    assert!(nf(&store.flush_thread(id).await));
    assert!(nf(&store.shutdown_thread(id).await));
    store.discard_thread(id).await.unwrap();
    assert_eq!(store.actor_store().live_actors().await.unwrap(), 0);
}

/// Reads of committed state are served without activating the thread's actor.
#[tokio::test]
async fn reads_do_not_activate_actors() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = SledThreadStore::open(dir.path()).await.unwrap();
        let id = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        store.append_items(append(id, "hello", None)).await.unwrap();
        store.close().await.unwrap();
        id
    };
    let store = SledThreadStore::open(dir.path()).await.unwrap();
    let turns = store.list_turns(ListTurnsParams::new(id)).await.unwrap();
    assert_eq!(turns.turns.len(), 1);
    let history = store
        .load_history(LoadThreadHistoryParams {
            thread_id: id,
            include_archived: false,
        })
        .await
        .unwrap();
    assert_eq!(history.items.len(), 2);
    let listed = store
        .list_threads(ListThreadsParams::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(store.actor_store().live_actors().await.unwrap(), 0);
    store.close().await.unwrap();
}

/// Writes raw bytes over a thread's record, as a damaged disk would.
fn damage_thread_record(engine: &Arc<dyn KvEngine>, id: ThreadId) {
    let mut batch = WriteBatch::default();
    batch.put(keys::thread(&id), b"\x02not a record".to_vec());
    engine.apply(batch).unwrap();
}

/// A thread whose record is damaged answers `Corrupt` naming it, on writes (through its actor)
/// and reads alike; other threads keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_thread_record_is_reported_as_corrupt() {
    let (store, _, engine) = faulty(StoreConfig::default()).await;
    let bad = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let good = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    store.shutdown_thread(bad).await.unwrap();
    // Passivate every actor, so the next write activates one that reads the damaged record.
    store.actor_store().close().await.unwrap();
    drop(store);
    damage_thread_record(&engine, bad);
    let store = SledThreadStore::builder("x")
        .config(StoreConfig::default())
        .engine(engine.clone())
        .open()
        .await
        .unwrap();
    let corrupt = |r: Result<(), ThreadStoreError>| match r {
        Err(ThreadStoreError::Corrupt { thread_id, .. }) => assert_eq!(thread_id, Some(bad)),
        other => panic!("expected Corrupt naming {bad}, got {other:?}"),
    };
    corrupt(
        store
            .resume_thread(threadstore::ResumeThreadParams {
                thread_id: bad,
                include_archived: true,
            })
            .await
            .map(|_| ()),
    );
    corrupt(store.append_items(append(bad, "x", None)).await.map(|_| ()));
    corrupt(
        store
            .read_thread(ReadThreadParams {
                thread_id: bad,
                include_archived: true,
                include_history: false,
            })
            .await
            .map(|_| ()),
    );
    // The other thread is untouched.
    store
        .resume_thread(threadstore::ResumeThreadParams {
            thread_id: good,
            include_archived: true,
        })
        .await
        .ok();
    store
        .append_items(append(good, "still fine", None))
        .await
        .unwrap();
}

/// A listing page that meets an unreadable thread record still lists the other threads; the
/// damaged one is reported by `verify`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_survives_an_unreadable_thread_record() {
    let (store, _, engine) = faulty(StoreConfig::default()).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            store
                .create_thread(CreateThreadParams::default())
                .await
                .unwrap()
                .thread_id,
        );
    }
    damage_thread_record(&engine, ids[1]);
    let page = store
        .list_threads(ListThreadsParams::default())
        .await
        .unwrap();
    let listed: Vec<ThreadId> = page.items.iter().map(|t| t.thread_id).collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.contains(&ids[0]) && listed.contains(&ids[2]));
    let report = store.actor_store().verify().await.unwrap();
    let text = format!("{report:?}");
    assert!(text.contains(&ids[1].to_string()), "{text}");
}

/// Settings a store cannot run with are refused at open, naming the field, instead of panicking
/// inside the runtime later.
#[tokio::test]
async fn invalid_config_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    for (config, field) in [
        (
            StoreConfig {
                mailbox_capacity: 0,
                ..StoreConfig::default()
            },
            "mailbox_capacity",
        ),
        (
            StoreConfig {
                max_live_actors: 0,
                ..StoreConfig::default()
            },
            "max_live_actors",
        ),
        (
            StoreConfig {
                queue_capacity: 0,
                ..StoreConfig::default()
            },
            "queue_capacity",
        ),
        (
            StoreConfig {
                max_item_bytes: usize::MAX,
                ..StoreConfig::default()
            },
            "max_item_bytes",
        ),
    ] {
        let err = SledThreadStore::builder(dir.path())
            .config(config.clone())
            .open()
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(&err, ThreadStoreError::InvalidRequest { message } if message.contains(field)),
            "{err:?}"
        );
        let err = InMemoryThreadStore::builder()
            .config(config)
            .build()
            .err()
            .expect("refused");
        assert!(err.to_string().contains(field), "{err}");
    }
}

/// A process-wide in-memory store is usable from runtime after runtime (Codex's tests create
/// one runtime per test), and from two at once.
#[test]
fn for_id_across_runtimes() {
    let name = format!("hardening-{}", ThreadId::new());
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let id = runtime().block_on(async {
        let store = InMemoryThreadStore::for_id(&name);
        let id = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        store.append_items(append(id, "one", None)).await.unwrap();
        id
    });
    // The first runtime is gone; its actors must not have been.
    for n in 0..2 {
        runtime().block_on(async {
            let store = InMemoryThreadStore::for_id(&name);
            tokio::time::timeout(
                Duration::from_secs(10),
                store.append_items(append(id, &format!("again {n}"), None)),
            )
            .await
            .expect("a call from a later runtime must not hang")
            .unwrap();
        });
    }
    let count = runtime().block_on(async {
        let store = InMemoryThreadStore::for_id(&name);
        store
            .load_history(LoadThreadHistoryParams {
                thread_id: id,
                include_archived: false,
            })
            .await
            .unwrap()
            .items
            .len()
    });
    assert_eq!(count, 4);
    InMemoryThreadStore::remove_id(&name);
}

/// `Buffered` mode keeps acknowledging without an fsync per append (a sanity check that the
/// fsync queue is only used in `Sync` mode).
#[tokio::test]
async fn buffered_appends_do_not_wait_for_fsync() {
    let (store, faults, _) = faulty(StoreConfig {
        durability: Durability::Buffered,
        ..StoreConfig::default()
    })
    .await;
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    faults.flush_gate.hold();
    tokio::time::timeout(
        Duration::from_secs(5),
        store.append_items(append(id, "fast", None)),
    )
    .await
    .expect("a buffered append does not wait for fsync")
    .unwrap();
    faults.flush_gate.release();
}

fn patch_params(
    id: ThreadId,
    patch: threadstore::ThreadMetadataPatch,
) -> threadstore::UpdateThreadMetadataParams {
    threadstore::UpdateThreadMetadataParams {
        thread_id: id,
        patch,
        include_archived: true,
        at: None,
    }
}

/// A metadata patch, a create param or a request id over `max_field_bytes` is `InvalidRequest`
/// naming the field, and nothing is written.
#[tokio::test]
async fn oversized_patch_is_refused() {
    let store = InMemoryThreadStore::default();
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let before = next_position(&store, id).await;
    let huge = "x".repeat(StoreConfig::default().max_field_bytes + 1);
    for (patch, field) in [
        (
            threadstore::ThreadMetadataPatch {
                name: Some(Some(huge.clone())),
                ..Default::default()
            },
            "name",
        ),
        (
            threadstore::ThreadMetadataPatch {
                preview: Some(huge.clone()),
                ..Default::default()
            },
            "preview",
        ),
        (
            threadstore::ThreadMetadataPatch {
                git_info: Some(threadstore::GitInfoPatch {
                    branch: Some(Some(huge.clone())),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "git_info.branch",
        ),
    ] {
        let err = store
            .update_thread_metadata(patch_params(id, patch))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ThreadStoreError::InvalidRequest { message } if message.contains(field)),
            "{err:?}"
        );
    }
    assert_eq!(next_position(&store, id).await, before, "nothing written");
    let err = store
        .create_thread(CreateThreadParams {
            cwd: Some(huge.clone().into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cwd"), "{err}");
    let err = store
        .append_items(append(id, "x", Some(&huge)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("request_id"), "{err}");
}

/// A huge first message does not make the thread record huge: preview and first message are
/// clipped (16 KiB and an ellipsis), the item itself is kept whole, and listings keep working.
#[tokio::test]
async fn derived_preview_is_clipped() {
    let store = InMemoryThreadStore::default();
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let text = "é".repeat(6 * 1024 * 1024); // 12 MiB of two-byte characters
    store.append_items(append(id, &text, None)).await.unwrap();
    let thread = store
        .read_thread(ReadThreadParams {
            thread_id: id,
            include_archived: false,
            include_history: true,
        })
        .await
        .unwrap();
    assert!(
        thread.preview.len() <= 16 * 1024 + 3,
        "{}",
        thread.preview.len()
    );
    assert!(thread.preview.ends_with('…'));
    let history = thread.history.unwrap();
    let stored = history.items[1].item.payload_json().len();
    assert!(stored > text.len(), "the item itself is stored whole");
    let listed = store
        .list_threads(ListThreadsParams::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

/// Cursors are opaque but not signed: a forged anchor past the end is `InvalidRequest`, never an
/// overflow.
#[tokio::test]
async fn forged_cursor_is_invalid_request() {
    use threadstore::layers::storage::cursor::{CursorScope, PageCursor};
    let store = InMemoryThreadStore::default();
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    store.append_items(append(id, "hi", None)).await.unwrap();
    for (scope, direction) in [
        (CursorScope::Items, threadstore::SortDirection::Asc),
        (CursorScope::Items, threadstore::SortDirection::Desc),
        (CursorScope::Turns, threadstore::SortDirection::Asc),
        (CursorScope::Turns, threadstore::SortDirection::Desc),
    ] {
        let forged = PageCursor {
            thread: Some(id),
            scope: scope.clone(),
            direction,
            anchor: u64::MAX,
            anchor_turn: None,
            anchor_thread: None,
            include_anchor: true,
        }
        .encode();
        let result = match scope {
            CursorScope::Items => store
                .list_items(ListItemsParams {
                    cursor: Some(forged),
                    sort_direction: direction,
                    ..ListItemsParams::new(id)
                })
                .await
                .map(|_| ()),
            _ => store
                .list_turns(ListTurnsParams {
                    cursor: Some(forged),
                    sort_direction: direction,
                    ..ListTurnsParams::new(id)
                })
                .await
                .map(|_| ()),
        };
        assert!(
            matches!(result, Err(ThreadStoreError::InvalidRequest { .. })),
            "{scope:?} {direction:?}: {result:?}"
        );
    }
    // A listing cursor at the far ends of time pages nothing, without overflowing.
    for time in [i64::MIN, i64::MAX] {
        for direction in [
            threadstore::SortDirection::Asc,
            threadstore::SortDirection::Desc,
        ] {
            for sort in [
                threadstore::ThreadSortKey::CreatedAt,
                threadstore::ThreadSortKey::UpdatedAt,
            ] {
                let forged = PageCursor {
                    thread: None,
                    scope: CursorScope::Threads {
                        sort,
                        archived: false,
                        search: false,
                    },
                    direction,
                    anchor: 0,
                    anchor_turn: None,
                    anchor_thread: Some((time, id)),
                    include_anchor: false,
                }
                .encode();
                store
                    .list_threads(ListThreadsParams {
                        cursor: Some(forged),
                        sort_key: sort,
                        sort_direction: direction,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
        }
    }
}

/// Absurd timestamps in turn events (completed at the end of time, started before the epoch)
/// saturate instead of overflowing.
#[tokio::test]
async fn absurd_timestamps_saturate() {
    let store = InMemoryThreadStore::default();
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let items = vec![
        RolloutItem::event_msg(serde_json::json!({
            "type": "task_started", "turn_id": "t1", "started_at": i64::MIN
        })),
        RolloutItem::user_message("hi"),
        RolloutItem::event_msg(serde_json::json!({
            "type": "task_complete", "turn_id": "t1", "completed_at": i64::MAX
        })),
    ];
    store
        .append_items(AppendThreadItemsParams::new(id, items))
        .await
        .unwrap();
    let page = store.list_turns(ListTurnsParams::new(id)).await.unwrap();
    assert_eq!(page.turns.len(), 1);
    assert!(page.turns[0].duration_ms.unwrap_or(0) >= 0);
}

/// `gitInfo: null` (Rust: `GitInfoPatch::clear()`) clears the git info, with an event; a git
/// info whose fields are all cleared reads back as `None`, not an object of nulls.
#[tokio::test]
async fn git_info_null_clears() {
    let store = InMemoryThreadStore::default();
    let id = store
        .create_thread(CreateThreadParams {
            git_info: Some(threadstore::GitInfo {
                commit_hash: Some("abc".into()),
                branch: Some("main".into()),
                repository_url: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .thread_id;
    let head = store.actor_store().feed_head();
    let thread = store
        .update_thread_metadata(patch_params(
            id,
            threadstore::ThreadMetadataPatch {
                git_info: Some(threadstore::GitInfoPatch::clear()),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(thread.git_info, None);
    assert!(
        store.actor_store().feed_head() > head,
        "an event was written"
    );
    // Clearing field by field ends the same way.
    let id2 = store
        .create_thread(CreateThreadParams {
            git_info: Some(threadstore::GitInfo {
                commit_hash: Some("abc".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .thread_id;
    let thread = store
        .update_thread_metadata(patch_params(
            id2,
            threadstore::ThreadMetadataPatch {
                git_info: Some(threadstore::GitInfoPatch {
                    sha: Some(None),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(thread.git_info, None);
    let report = store.actor_store().verify().await.unwrap();
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

/// In a thread without task events, the turn a new prompt closes is announced with
/// `turnCompleted` (with its summary), and a commit's events come in log order.
#[tokio::test]
async fn implicit_turn_publishes_turn_completed() {
    use threadstore::FeedEventKind;
    let store = InMemoryThreadStore::default();
    let id = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let from = store.actor_store().feed_head();
    let items = vec![
        RolloutItem::user_message("first"),
        RolloutItem::agent_message("one"),
        RolloutItem::user_message("second"),
        RolloutItem::agent_message("two"),
    ];
    store
        .append_items(AppendThreadItemsParams::new(id, items))
        .await
        .unwrap();
    store.append_items(append(id, "third", None)).await.unwrap();
    let events: Vec<String> = store
        .actor_store()
        .feed(from, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| match e.kind {
            FeedEventKind::TurnStarted { turn_id } => format!("started {turn_id}"),
            FeedEventKind::TurnCompleted {
                turn_id,
                summary_positions,
                ..
            } => format!("completed {turn_id} {summary_positions:?}"),
            other => other.name().to_owned(),
        })
        .collect();
    assert_eq!(
        events,
        [
            "itemsAppended",
            "started rollout-1",
            "completed rollout-1 [1, 2]",
            "started rollout-3",
            "itemsAppended",
            "completed rollout-3 [3, 4]",
            "started rollout-5",
        ]
    );
}

/// The builder refuses sled settings sled would panic on (a segment size that is not a power of
/// two, or out of range), naming the setting, before it creates anything on disk; valid settings
/// through the builder open a working store.
#[tokio::test]
async fn the_builder_refuses_impossible_sled_settings_before_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    for segment in [1000, 128, 32 * 1024 * 1024] {
        let err = SledThreadStore::builder(&data)
            .segment_bytes(segment)
            .open()
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(&err, ThreadStoreError::InvalidRequest { message } if message.contains("segment_bytes")),
            "{err:?}"
        );
        assert!(!data.exists(), "nothing is created for refused settings");
    }
    let store = SledThreadStore::builder(&data)
        .segment_bytes(1 << 20)
        .durability(threadstore::Durability::Buffered)
        .max_live_actors(4)
        .flush_every(None)
        .open()
        .await
        .unwrap();
    let writer = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    store
        .append_items(append(writer.thread_id, "hello", None))
        .await
        .unwrap();
    assert_eq!(next_position(&store, writer.thread_id).await, 2);
    store.close().await.unwrap();
}

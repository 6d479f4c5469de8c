//! Live writer lifecycle: create, resume, shutdown, discard, flush, persist.

use super::prelude::*;

/// create writes the header at 0 and hands out a writer at position 1; appends follow it.
pub async fn create_then_append(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    assert!(w.epoch >= 1, "epoch starts at 1, got {}", w.epoch);
    assert_eq!(w.next_position, 1);

    let h = t.history(w.thread_id).await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].item.kind(), "session_meta");
    let meta = h[0].item.payload_value();
    assert_eq!(meta["id"], json!(w.thread_id.to_string()));
    assert_eq!(meta["cwd"], json!(CWD));

    let items = vec![
        RolloutItem::user_message("hello"),
        RolloutItem::agent_message("hi"),
    ];
    let r = t.append(w.thread_id, items.clone()).await;
    assert_eq!(
        r,
        AppendResult {
            first_position: 1,
            item_count: 2,
            deduplicated: false
        }
    );
    t.store.persist_thread(w.thread_id).await.unwrap();
    t.store.flush_thread(w.thread_id).await.unwrap();
    let h = t.history(w.thread_id).await;
    assert_eq!(h.len(), 3);
    assert_eq!(items_of(&h[1..]), items);
}

/// `thread_id: None` gives fresh, distinct UUID v7 ids.
pub async fn create_generates_v7_id(b: Backend) {
    let t = b.open().await;
    let a = t
        .create_with(CreateThreadParams {
            thread_id: None,
            ..create_params()
        })
        .await;
    let c = t
        .create_with(CreateThreadParams {
            thread_id: None,
            ..create_params()
        })
        .await;
    assert_ne!(a.thread_id, c.thread_id);
    assert_eq!(a.thread_id.as_uuid().get_version_num(), 7);
    assert_eq!(c.thread_id.as_uuid().get_version_num(), 7);
    assert_eq!(t.read(a.thread_id).await.thread_id, a.thread_id);
}

/// An explicit id is used as given.
pub async fn create_with_explicit_id(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::from_uuid(uuid::Uuid::new_v4());
    let w = t
        .create_with(CreateThreadParams {
            thread_id: Some(id),
            ..create_params()
        })
        .await;
    assert_eq!(w.thread_id, id);
    assert_eq!(t.read(id).await.thread_id, id);
}

/// A second create of an existing id is `Conflict`, live or not, and changes nothing.
pub async fn create_conflicts_when_id_exists(b: Backend) {
    let t = b.open().await;
    let p = create_params();
    let w = t.create_with(p.clone()).await;
    assert_err!(
        t.store.create_thread(p.clone()).await,
        ThreadStoreError::Conflict { .. }
    );
    t.append(w.thread_id, vec![RolloutItem::user_message("x")])
        .await;
    t.shutdown(w.thread_id).await;
    assert_err!(
        t.store.create_thread(p).await,
        ThreadStoreError::Conflict { .. }
    );
    assert_eq!(t.history(w.thread_id).await.len(), 2);
}

/// `history` lines become positions 0..n verbatim, and metadata derives from them.
pub async fn create_with_history(b: Backend) {
    let t = b.open().await;
    let spec = Spec::at(100).cwd("/imported").provider("azure");
    let mut params = spec.params();
    params.cwd = None;
    params.model_provider = None;
    params.history.push(RolloutLine {
        timestamp: at(101),
        ordinal: Some(1),
        item: RolloutItem::user_message("imported question"),
    });
    params.history.push(RolloutLine {
        timestamp: at(102),
        ordinal: None,
        item: RolloutItem::agent_message("imported answer"),
    });
    let lines = params.history.clone();
    let w = t.create_with(params).await;
    assert_eq!(w.next_position, 3);
    assert_eq!(t.history(spec.id).await, lines);
    let th = t.read(spec.id).await;
    assert_eq!(th.created_at, at(100));
    assert_eq!(th.updated_at, at(102));
    assert_eq!(th.cwd, Some(PathBuf::from("/imported")));
    assert_eq!(th.model_provider.as_deref(), Some("azure"));
    assert_eq!(th.preview, "imported question");
    assert_eq!(th.item_count, 3);
    let r = t
        .append(spec.id, vec![RolloutItem::user_message("more")])
        .await;
    assert_eq!(r.first_position, 3);
}

/// resume of an unknown thread is `ThreadNotFound`.
pub async fn resume_unknown_is_not_found(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::new();
    let e = assert_err!(
        t.store
            .resume_thread(ResumeThreadParams {
                thread_id: id,
                include_archived: true
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_eq!(e, ThreadStoreError::ThreadNotFound { thread_id: id });
}

/// resume while a live writer holds the thread is `Conflict`.
pub async fn resume_conflicts_while_live(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    assert_err!(
        t.store
            .resume_thread(ResumeThreadParams {
                thread_id: w.thread_id,
                include_archived: false
            })
            .await,
        ThreadStoreError::Conflict { .. }
    );
    // The original writer still works.
    let r = t
        .append_with(AppendThreadItemsParams {
            writer_epoch: Some(w.epoch),
            ..AppendThreadItemsParams::new(w.thread_id, vec![RolloutItem::user_message("x")])
        })
        .await;
    assert_eq!(r.first_position, 1);
}

/// After shutdown, resume hands out a greater epoch at the end of the durable prefix.
pub async fn resume_after_shutdown_continues_after_prefix(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    t.append(w.thread_id, turn("t1", "q", "a")).await;
    t.shutdown(w.thread_id).await;
    let w2 = t.resume(w.thread_id).await;
    assert_eq!(w2.thread_id, w.thread_id);
    assert!(w2.epoch > w.epoch, "{} > {}", w2.epoch, w.epoch);
    assert_eq!(w2.next_position, 5);
    let r = t
        .append(w.thread_id, vec![RolloutItem::user_message("again")])
        .await;
    assert_eq!(r.first_position, 5);
    let h = t.history(w.thread_id).await;
    assert_eq!(h.len(), 6);
    assert_eq!(item_text(&h[5].item).as_deref(), Some("again"));
}

/// Every create/resume gives a strictly greater epoch than any earlier handle.
pub async fn resume_epochs_strictly_increase(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    let mut last = w.epoch;
    for i in 0..4u64 {
        if i % 2 == 0 {
            t.shutdown(w.thread_id).await;
        } else {
            t.store.discard_thread(w.thread_id).await.unwrap();
        }
        let n = t.resume(w.thread_id).await;
        assert!(n.epoch > last, "epoch {} after {}", n.epoch, last);
        assert_eq!(n.next_position, 1);
        last = n.epoch;
    }
}

/// shutdown of an unknown thread, or of one without a live writer, is `ThreadNotFound`.
pub async fn shutdown_unknown_or_not_live_is_not_found(b: Backend) {
    let t = b.open().await;
    assert_err!(
        t.store.shutdown_thread(ThreadId::new()).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let w = t.create().await;
    t.shutdown(w.thread_id).await;
    assert_err!(
        t.store.shutdown_thread(w.thread_id).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    // The data stays readable.
    assert_eq!(t.history(w.thread_id).await.len(), 1);
}

/// After shutdown, append is `ThreadNotFound` (with or without the old epoch) and writes nothing.
pub async fn append_after_shutdown_is_not_found(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    t.append(w.thread_id, vec![RolloutItem::user_message("a")])
        .await;
    t.shutdown(w.thread_id).await;
    assert_err!(
        t.store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                vec![RolloutItem::user_message("b")]
            ))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store
            .append_items(AppendThreadItemsParams {
                writer_epoch: Some(w.epoch),
                ..AppendThreadItemsParams::new(w.thread_id, vec![RolloutItem::user_message("c")])
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. } | ThreadStoreError::StaleWriter { .. }
    );
    assert_eq!(t.history(w.thread_id).await.len(), 2);
}

/// discard is Ok for unknown ids and Ok twice.
pub async fn discard_is_idempotent(b: Backend) {
    let t = b.open().await;
    t.store.discard_thread(ThreadId::new()).await.unwrap();
    let w = t.create().await;
    t.store.discard_thread(w.thread_id).await.unwrap();
    t.store.discard_thread(w.thread_id).await.unwrap();
    assert_eq!(t.history(w.thread_id).await.len(), 1);
}

/// discard closes the writer, keeps the data; a later resume fences the old handle and appends
/// after the durable prefix.
pub async fn discard_fences_old_handle_and_keeps_data(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    t.append(w.thread_id, turn("t1", "q", "a")).await;
    let before = t.history(w.thread_id).await;
    t.store.discard_thread(w.thread_id).await.unwrap();
    assert_eq!(t.history(w.thread_id).await, before);
    assert_err!(
        t.store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                vec![RolloutItem::user_message("late")]
            ))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );

    let w2 = t.resume(w.thread_id).await;
    assert!(w2.epoch > w.epoch);
    assert_eq!(w2.next_position, before.len() as u64);
    let e = assert_err!(
        t.store
            .append_items(AppendThreadItemsParams {
                writer_epoch: Some(w.epoch),
                ..AppendThreadItemsParams::new(w.thread_id, vec![RolloutItem::user_message("old")])
            })
            .await,
        ThreadStoreError::StaleWriter { .. }
    );
    assert_eq!(
        e,
        ThreadStoreError::StaleWriter {
            thread_id: w.thread_id,
            epoch: w.epoch,
            current_epoch: w2.epoch
        }
    );
    let r = t
        .append_with(AppendThreadItemsParams {
            writer_epoch: Some(w2.epoch),
            ..AppendThreadItemsParams::new(w.thread_id, vec![RolloutItem::user_message("new")])
        })
        .await;
    assert_eq!(r.first_position, before.len() as u64);
    let h = t.history(w.thread_id).await;
    assert_eq!(h.len(), before.len() + 1);
    assert_eq!(&h[..before.len()], &before[..]);
}

/// flush and persist: `ThreadNotFound` for unknown threads, Ok for a live one.
pub async fn flush_and_persist(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::new();
    assert_err!(
        t.store.flush_thread(id).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_err!(
        t.store.persist_thread(id).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let w = t.create().await;
    t.store.persist_thread(w.thread_id).await.unwrap();
    // With Codex's persist context: the same barrier.
    for context in [PersistContext::Standard, PersistContext::TurnStart] {
        t.store
            .persist_thread_with(PersistThreadParams {
                thread_id: w.thread_id,
                context,
            })
            .await
            .unwrap();
    }
    assert_err!(
        t.store
            .persist_thread_with(PersistThreadParams {
                thread_id: id,
                context: PersistContext::TurnStart,
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    t.append(w.thread_id, vec![RolloutItem::user_message("x")])
        .await;
    t.store.flush_thread(w.thread_id).await.unwrap();
    t.store.flush_thread(w.thread_id).await.unwrap();
    assert_eq!(t.history(w.thread_id).await.len(), 2);
}

/// `StoredThread.live` is true exactly while a writer is open.
pub async fn live_flag_follows_writer(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    assert!(t.read(w.thread_id).await.live);
    t.shutdown(w.thread_id).await;
    assert!(!t.read(w.thread_id).await.live);
    t.resume(w.thread_id).await;
    assert!(t.read(w.thread_id).await.live);
    t.store.discard_thread(w.thread_id).await.unwrap();
    assert!(!t.read(w.thread_id).await.live);
}

/// The recording wrapper forwards every call and counts it.
pub async fn recording_wrapper_counts_calls(b: Backend) {
    let t = b.open().await;
    let rec = Arc::new(RecordingThreadStore::new(t.store.clone()));
    let store: Arc<dyn ThreadStore> = rec.clone();
    let w = store.create_thread(create_params()).await.unwrap();
    for i in 0..3 {
        store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                vec![RolloutItem::agent_message(&format!("m{i}"))],
            ))
            .await
            .unwrap();
    }
    assert_eq!(rec.call_count("append_items"), 3);
    assert_eq!(rec.call_count("create_thread"), 1);
    assert_eq!(rec.call_count("list_turns"), 0);
    // The wrapped store saw the writes.
    assert_eq!(t.history(w.thread_id).await.len(), 4);
}

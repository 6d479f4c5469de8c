//! append_items: dense positions, fencing, optimistic concurrency, idempotency, validation.

use super::prelude::*;

fn msgs(prefix: &str, n: usize) -> Vec<RolloutItem> {
    (0..n)
        .map(|i| RolloutItem::agent_message(&format!("{prefix}{i}")))
        .collect()
}

/// Positions are dense from 0: each append starts where the last one ended.
pub async fn positions_are_dense(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let mut expected_items = Vec::new();
    let mut next = 1u64;
    for (k, n) in [1usize, 3, 1, 5, 2].into_iter().enumerate() {
        let items = msgs(&format!("b{k}-"), n);
        let r = t.append(id, items.clone()).await;
        assert_eq!(r.first_position, next);
        assert_eq!(r.item_count, n as u64);
        assert!(!r.deduplicated);
        assert_eq!(r.next_position(), next + n as u64);
        next += n as u64;
        expected_items.extend(items);
    }
    let h = t.history(id).await;
    assert_eq!(h.len() as u64, next);
    assert_eq!(items_of(&h[1..]), expected_items);
    assert_eq!(t.read(id).await.item_count, next);
}

/// Appending to a thread that was never created is `ThreadNotFound`.
pub async fn unknown_thread_is_not_found(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::new();
    let e = assert_err!(
        t.store
            .append_items(AppendThreadItemsParams::new(id, msgs("x", 1)))
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_eq!(e, ThreadStoreError::ThreadNotFound { thread_id: id });
    // Nothing was created by the failed append.
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
}

/// An older epoch gets `StaleWriter` and writes nothing; the current epoch and `None` write.
pub async fn stale_writer_epoch_is_rejected(b: Backend) {
    let t = b.open().await;
    let w1 = t.create().await;
    let id = w1.thread_id;
    t.shutdown(id).await;
    let w2 = t.resume(id).await;
    let e = assert_err!(
        t.store
            .append_items(AppendThreadItemsParams {
                writer_epoch: Some(w1.epoch),
                ..AppendThreadItemsParams::new(id, msgs("stale", 2))
            })
            .await,
        ThreadStoreError::StaleWriter { .. }
    );
    assert_eq!(
        e,
        ThreadStoreError::StaleWriter {
            thread_id: id,
            epoch: w1.epoch,
            current_epoch: w2.epoch
        }
    );
    assert_eq!(t.history(id).await.len(), 1);
    let r = t
        .append_with(AppendThreadItemsParams {
            writer_epoch: Some(w2.epoch),
            ..AppendThreadItemsParams::new(id, msgs("cur", 1))
        })
        .await;
    assert_eq!(r.first_position, 1);
    let r = t.append(id, msgs("none", 1)).await;
    assert_eq!(r.first_position, 2);
}

/// The epoch returned by create is accepted.
pub async fn current_writer_epoch_is_accepted(b: Backend) {
    let t = b.open().await;
    let w = t.create().await;
    for i in 0..3u64 {
        let r = t
            .append_with(AppendThreadItemsParams {
                writer_epoch: Some(w.epoch),
                expected_position: Some(1 + i),
                ..AppendThreadItemsParams::new(w.thread_id, msgs("m", 1))
            })
            .await;
        assert_eq!(r.first_position, 1 + i);
    }
}

/// A wrong expected position is `Conflict` carrying the real next position; nothing is written.
pub async fn expected_position_mismatch_conflicts(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, msgs("a", 2)).await;
    for wrong in [0u64, 1, 2, 4, 100] {
        let e = assert_err!(
            t.store
                .append_items(AppendThreadItemsParams {
                    expected_position: Some(wrong),
                    ..AppendThreadItemsParams::new(id, msgs("x", 2))
                })
                .await,
            ThreadStoreError::Conflict { .. }
        );
        match e {
            ThreadStoreError::Conflict {
                actual_position, ..
            } => assert_eq!(actual_position, Some(3), "expected {wrong}"),
            _ => unreachable!(),
        }
    }
    assert_eq!(t.history(id).await.len(), 3);
    let r = t
        .append_with(AppendThreadItemsParams {
            expected_position: Some(3),
            ..AppendThreadItemsParams::new(id, msgs("ok", 2))
        })
        .await;
    assert_eq!((r.first_position, r.item_count), (3, 2));
}

/// A repeated request id returns the original positions, flagged deduplicated, and writes nothing.
pub async fn request_id_deduplicates(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let first = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("req-1".into()),
            ..AppendThreadItemsParams::new(id, msgs("orig", 2))
        })
        .await;
    assert_eq!(
        first,
        AppendResult {
            first_position: 1,
            item_count: 2,
            deduplicated: false
        }
    );
    t.append(id, msgs("other", 1)).await;
    // Retry with different items: still the original answer, nothing written.
    let retry = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("req-1".into()),
            ..AppendThreadItemsParams::new(id, msgs("retry", 3))
        })
        .await;
    assert_eq!(
        retry,
        AppendResult {
            first_position: 1,
            item_count: 2,
            deduplicated: true
        }
    );
    let h = t.history(id).await;
    assert_eq!(h.len(), 4);
    assert_eq!(item_text(&h[1].item).as_deref(), Some("orig0"));
    assert_eq!(item_text(&h[3].item).as_deref(), Some("other0"));
    // A new id appends normally.
    let r = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("req-2".into()),
            ..AppendThreadItemsParams::new(id, msgs("new", 1))
        })
        .await;
    assert_eq!((r.first_position, r.deduplicated), (4, false));
}

/// Request ids are remembered across shutdown and resume.
pub async fn request_id_survives_shutdown_and_resume(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, msgs("pre", 1)).await;
    let first = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("once".into()),
            ..AppendThreadItemsParams::new(id, msgs("orig", 3))
        })
        .await;
    assert_eq!((first.first_position, first.item_count), (2, 3));
    t.shutdown(id).await;
    t.resume(id).await;
    let retry = t
        .append_with(AppendThreadItemsParams {
            request_id: Some("once".into()),
            ..AppendThreadItemsParams::new(id, msgs("orig", 3))
        })
        .await;
    assert_eq!(
        retry,
        AppendResult {
            first_position: 2,
            item_count: 3,
            deduplicated: true
        }
    );
    assert_eq!(t.history(id).await.len(), 5);
}

/// An empty append is an Ok no-op at the next position.
pub async fn empty_append_is_noop(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, msgs("a", 2)).await;
    let before = t.read(id).await;
    let r = t.append(id, vec![]).await;
    assert_eq!(
        r,
        AppendResult {
            first_position: 3,
            item_count: 0,
            deduplicated: false
        }
    );
    assert_eq!(r.last_position(), None);
    assert_eq!(t.history(id).await.len(), 3);
    let after = t.read(id).await;
    assert_eq!(after.item_count, before.item_count);
    let r = t.append(id, msgs("b", 1)).await;
    assert_eq!(r.first_position, 3);
}

/// Timestamps, when given, must be one per item.
pub async fn timestamps_length_mismatch_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    for n in [1usize, 3] {
        assert_invalid!(
            t.store
                .append_items(AppendThreadItemsParams {
                    timestamps: vec![at(5); n],
                    ordinals: Vec::new(),
                    ..AppendThreadItemsParams::new(id, msgs("x", 2))
                })
                .await
        );
    }
    assert_eq!(t.history(id).await.len(), 1);
    let r = t
        .append_with(AppendThreadItemsParams {
            timestamps: vec![at(5); 2],
            ordinals: Vec::new(),
            ..AppendThreadItemsParams::new(id, msgs("x", 2))
        })
        .await;
    assert_eq!(r.item_count, 2);
}

/// Explicit timestamps are recorded on the lines, one per item.
pub async fn explicit_timestamps_are_recorded(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let stamps = vec![at(10), at(11), at(13)];
    t.append_with(AppendThreadItemsParams {
        timestamps: stamps.clone(),
        ordinals: Vec::new(),
        ..AppendThreadItemsParams::new(id, msgs("t", 3))
    })
    .await;
    let h = t.history(id).await;
    let got: Vec<_> = h[1..].iter().map(|l| l.timestamp).collect();
    assert_eq!(got, stamps);
}

/// Explicit ordinals are recorded on the lines (and survive reopen where the backend persists);
/// a count that does not match the items is `InvalidRequest` and writes nothing.
pub async fn explicit_ordinals_are_recorded(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    assert_invalid!(
        t.store
            .append_items(AppendThreadItemsParams {
                ordinals: vec![Some(1)],
                ..AppendThreadItemsParams::new(id, msgs("o", 2))
            })
            .await,
        "ordinals"
    );
    let ordinals = vec![Some(300), None, Some(302)];
    t.append_with(AppendThreadItemsParams {
        ordinals: ordinals.clone(),
        ..AppendThreadItemsParams::new(id, msgs("o", 3))
    })
    .await;
    let h = t.history(id).await;
    assert_eq!(h.len(), 4);
    let got: Vec<_> = h[1..].iter().map(|l| l.ordinal).collect();
    assert_eq!(got, ordinals);
}

/// Payload JSON comes back byte-identical: unknown kinds, unknown fields, key order, escapes.
pub async fn payload_json_is_preserved(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let payloads = [
        ("future_kind", r#"{"x":{"y":[1,null]}}"#),
        (
            "event_msg",
            r#"{"type":"agent_message","message":"Done","zzz_unknown":{"b":2,"a":1},"phase":"final_answer"}"#,
        ),
        (
            "response_item",
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"é \"quoted\" \n ✓"}]}"#,
        ),
        ("weird", r#"[1,2.5,"three",false]"#),
        ("number_kind", r#"1.25e3"#),
    ];
    let items: Vec<_> = payloads
        .iter()
        .map(|(k, p)| RolloutItem::from_json_text(*k, *p).unwrap())
        .collect();
    t.append(id, items).await;
    let h = t.history(id).await;
    assert_eq!(h.len(), 1 + payloads.len());
    for (line, (kind, payload)) in h[1..].iter().zip(payloads.iter()) {
        assert_eq!(line.item.kind(), *kind);
        assert_eq!(line.item.payload_json(), *payload);
    }
    // The same through list_items.
    let page = t.items(ListItemsParams::new(id)).await;
    assert_eq!(page.items[1].line.item.payload_json(), payloads[0].1);
}

/// Ordinals must increase: within an append, and after the thread's last stored item. A
/// duplicate or backwards ordinal is `InvalidRequest` naming the ordinal and writes nothing (Codex
/// users lose history to exactly this); lines without an ordinal are not checked. A create whose
/// history goes backwards creates nothing.
pub async fn ordinals_must_increase(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let with = |ordinals: Vec<Option<u64>>| AppendThreadItemsParams {
        ordinals: ordinals.clone(),
        ..AppendThreadItemsParams::new(id, msgs("o", ordinals.len()))
    };
    t.append_with(with(vec![Some(5), Some(6)])).await;
    assert_invalid!(t.store.append_items(with(vec![Some(6)])).await, "ordinal 6");
    assert_invalid!(t.store.append_items(with(vec![Some(4)])).await, "ordinal 4");
    assert_invalid!(
        t.store
            .append_items(with(vec![Some(7), None, Some(7)]))
            .await,
        "ordinal 7"
    );
    assert_eq!(t.history(id).await.len(), 3, "nothing was written");
    t.append_with(with(vec![Some(7), None, Some(9)])).await;
    let got: Vec<_> = t.history(id).await.iter().map(|l| l.ordinal).collect();
    assert_eq!(got, vec![None, Some(5), Some(6), Some(7), None, Some(9)]);

    let spec = Spec::at(200);
    let mut params = spec.params();
    for (n, ordinal) in [0u64, 2, 1].into_iter().enumerate() {
        params.history.push(RolloutLine {
            timestamp: at(201 + n as i64),
            ordinal: Some(ordinal),
            item: RolloutItem::user_message(&format!("line {n}")),
        });
    }
    assert_invalid!(t.store.create_thread(params).await, "ordinal 1");
    assert_err!(
        t.store.read_thread(ReadThreadParams::new(spec.id)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

//! Real concurrency on a multi-threaded runtime: many writers over many threads, readers during
//! writes, and races on one id (create, resume, expected position, request id).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;

use super::prelude::*;

/// Parses `w<writer>:s<seq>` agent messages.
fn parse_tag(item: &RolloutItem) -> Option<(usize, usize)> {
    let text = item_text(item)?;
    let (w, s) = text.strip_prefix('w')?.split_once(":s")?;
    Some((w.parse().ok()?, s.parse().ok()?))
}

async fn create_many(store: &Arc<dyn ThreadStore>, n: usize) -> Vec<ThreadId> {
    futures::stream::iter(0..n)
        .map(|_| {
            let s = store.clone();
            async move {
                s.create_thread(create_params())
                    .await
                    .unwrap_or_else(|e| panic!("create_thread failed: {e}"))
                    .thread_id
            }
        })
        .buffer_unordered(64)
        .collect()
        .await
}

/// Checks that every thread's log is gapless, holds exactly the expected `(writer, seq)` tags, in
/// each writer's order, at the positions the appends returned, and that item_count agrees.
async fn verify_logs(t: &TestStore, ids: &[ThreadId], appended: &[(usize, usize, usize, u64)]) {
    // thread index -> [(writer, seq, position)]
    let mut expected: BTreeMap<usize, Vec<(usize, usize, u64)>> = BTreeMap::new();
    for &(idx, w, seq, pos) in appended {
        expected.entry(idx).or_default().push((w, seq, pos));
    }
    let store = t.store.clone();
    let results: Vec<(usize, Vec<RolloutLine>, StoredThread)> =
        futures::stream::iter(ids.iter().copied().enumerate())
            .map(|(idx, id)| {
                let s = store.clone();
                async move {
                    let h = s
                        .load_history(LoadThreadHistoryParams {
                            thread_id: id,
                            include_archived: true,
                        })
                        .await
                        .unwrap()
                        .items;
                    let th = s
                        .read_thread(ReadThreadParams {
                            thread_id: id,
                            include_archived: true,
                            include_history: false,
                        })
                        .await
                        .unwrap();
                    (idx, h, th)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
    for (idx, h, th) in results {
        let exp = expected.remove(&idx).unwrap_or_default();
        assert_eq!(h.len(), 1 + exp.len(), "thread {idx}: log length");
        assert_eq!(th.item_count as usize, h.len(), "thread {idx}: item_count");
        assert_eq!(h[0].item.kind(), "session_meta");
        let mut last_seq: BTreeMap<usize, usize> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for (pos, line) in h.iter().enumerate().skip(1) {
            let (w, seq) = parse_tag(&line.item)
                .unwrap_or_else(|| panic!("thread {idx} position {pos}: foreign item {line:?}"));
            assert!(seen.insert((w, seq)), "thread {idx}: duplicate w{w}:s{seq}");
            if let Some(prev) = last_seq.insert(w, seq) {
                assert!(
                    prev < seq,
                    "thread {idx}: writer {w} out of order ({prev} then {seq})"
                );
            }
        }
        for (w, seq, pos) in exp {
            let at_pos = parse_tag(&h[pos as usize].item);
            assert_eq!(
                at_pos,
                Some((w, seq)),
                "thread {idx}: returned position {pos}"
            );
        }
    }
}

/// 64 tasks append single items to 1,000 threads (8 of them shared by every task); every log ends
/// gapless, in each writer's order, with nothing lost or duplicated.
pub async fn many_writers_many_threads(b: Backend) {
    const THREADS: usize = 1000;
    const WRITERS: usize = 64;
    const SHARED: usize = 8;
    const SHARED_ROUNDS: usize = 3;
    let t = b.open().await;
    let ids = Arc::new(create_many(&t.store, THREADS).await);

    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = t.store.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let own: Vec<usize> = (SHARED..THREADS).filter(|i| i % WRITERS == w).collect();
            let shared: Vec<usize> = (0..SHARED).map(|i| (i + w) % SHARED).collect();
            let mut plan = Vec::new();
            for round in 0..2 {
                plan.extend(own.iter().copied());
                if round == 0 {
                    plan.extend(shared.iter().copied());
                }
            }
            for _ in 1..SHARED_ROUNDS {
                plan.extend(shared.iter().copied());
            }
            let mut out = Vec::with_capacity(plan.len());
            for (seq, idx) in plan.into_iter().enumerate() {
                let r = store
                    .append_items(AppendThreadItemsParams::new(
                        ids[idx],
                        vec![RolloutItem::agent_message(&format!("w{w}:s{seq}"))],
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("writer {w} seq {seq}: {e}"));
                assert_eq!(r.item_count, 1);
                out.push((idx, w, seq, r.first_position));
            }
            out
        }));
    }
    let mut appended = Vec::new();
    for task in tasks {
        appended.extend(task.await.expect("writer task panicked"));
    }
    assert_eq!(
        appended.len(),
        (THREADS - SHARED) * 2 + WRITERS * SHARED * SHARED_ROUNDS
    );
    verify_logs(&t, &ids, &appended).await;
    // The shared threads' item listings are dense too.
    for &id in ids.iter().take(SHARED) {
        let page = t
            .items(ListItemsParams {
                page_size: 200,
                ..ListItemsParams::new(id)
            })
            .await;
        let n = (1 + WRITERS * SHARED_ROUNDS) as u64;
        assert_eq!(positions(&page.items), (0..n).collect::<Vec<u64>>());
    }
}

/// Readers page through threads, turns and items while writers append whole turns: no errors,
/// no thread skipped or repeated, item pages contiguous, and every turn intact at the end.
pub async fn readers_concurrent_with_writers(b: Backend) {
    const THREADS: usize = 16;
    const WRITERS: usize = 16;
    const TURNS_PER_WRITER: usize = 24;
    let t = b.open().await;
    let ids = Arc::new(create_many(&t.store, THREADS).await);
    let stop = Arc::new(AtomicBool::new(false));

    let mut readers = Vec::new();
    for r in 0..4usize {
        let store = t.store.clone();
        let ids = ids.clone();
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut rounds = 0usize;
            while !stop.load(Ordering::Relaxed) || rounds == 0 {
                rounds += 1;
                // Threads, paged by 5 in creation order: all 16, once each.
                let mut cursor = None;
                let mut seen = Vec::new();
                loop {
                    let page = store
                        .list_threads(ListThreadsParams {
                            page_size: 5,
                            cursor: cursor.take(),
                            ..Default::default()
                        })
                        .await
                        .unwrap_or_else(|e| panic!("reader {r}: list_threads: {e}"));
                    seen.extend(page.items.iter().map(|t| t.thread_id));
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                let uniq: HashSet<_> = seen.iter().collect();
                assert_eq!(seen.len(), THREADS, "reader {r}: listing length");
                assert_eq!(uniq.len(), THREADS, "reader {r}: listing repeats");

                let id = ids[(rounds + r) % THREADS];
                // Turns, oldest first, by 3: distinct ids.
                let mut cursor = None;
                let mut turn_seen = HashSet::new();
                loop {
                    let page = store
                        .list_turns(ListTurnsParams {
                            page_size: 3,
                            cursor: cursor.take(),
                            sort_direction: SortDirection::Asc,
                            ..ListTurnsParams::new(id)
                        })
                        .await
                        .unwrap_or_else(|e| panic!("reader {r}: list_turns: {e}"));
                    for turn in &page.turns {
                        assert!(
                            turn_seen.insert(turn.turn_id.clone()),
                            "reader {r}: turn {} repeated",
                            turn.turn_id
                        );
                    }
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                // Items, oldest first, by 7: contiguous from 0.
                let mut cursor = None;
                let mut next_pos = 0u64;
                loop {
                    let page = store
                        .list_items(ListItemsParams {
                            page_size: 7,
                            cursor: cursor.take(),
                            ..ListItemsParams::new(id)
                        })
                        .await
                        .unwrap_or_else(|e| panic!("reader {r}: list_items: {e}"));
                    for it in &page.items {
                        assert_eq!(it.position, next_pos, "reader {r}: item gap");
                        next_pos += 1;
                    }
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                tokio::task::yield_now().await;
            }
            rounds
        }));
    }

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = t.store.clone();
        let ids = ids.clone();
        writers.push(tokio::spawn(async move {
            for k in 0..TURNS_PER_WRITER {
                let id = ids[(w + k) % THREADS];
                let name = format!("w{w}-{k}");
                store
                    .append_items(AppendThreadItemsParams::new(
                        id,
                        turn(&name, &format!("q {name}"), &format!("a {name}")),
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("writer {w}: {e}"));
            }
        }));
    }
    for w in writers {
        w.await.expect("writer panicked");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.await.expect("reader panicked") >= 1);
    }

    // Every turn is whole: 4 items, completed, summary intact.
    let per_thread = WRITERS * TURNS_PER_WRITER / THREADS;
    for &id in ids.iter() {
        let page = t
            .turns(ListTurnsParams {
                page_size: 200,
                sort_direction: SortDirection::Asc,
                ..ListTurnsParams::new(id)
            })
            .await;
        assert_eq!(page.turns.len(), per_thread);
        for turn in &page.turns {
            assert_eq!(turn.item_count, 4, "turn {} split", turn.turn_id);
            assert_eq!(turn.status, StoredTurnStatus::Completed);
            assert_eq!(
                texts(&turn.items),
                vec![format!("q {}", turn.turn_id), format!("a {}", turn.turn_id)]
            );
        }
        let th = t.read(id).await;
        assert_eq!(th.item_count, 1 + 4 * per_thread as u64);
        assert_eq!(th.turn_count, per_thread as u64);
    }
}

/// Racing creates of one id: exactly one wins, the rest get `Conflict`.
pub async fn concurrent_creates_of_one_id(b: Backend) {
    let t = b.open().await;
    let params = create_params();
    let id = params.thread_id.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = t.store.clone();
        let p = params.clone();
        tasks.push(tokio::spawn(async move { store.create_thread(p).await }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(w) => {
                ok += 1;
                assert_eq!(w.thread_id, id);
            }
            Err(ThreadStoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(t.history(id).await.len(), 1);
    assert_eq!(t.list_ids(ListThreadsParams::default()).await, vec![id]);
}

/// Racing resumes: exactly one writer, the rest get `Conflict`.
pub async fn concurrent_resumes_of_one_thread(b: Backend) {
    let t = b.open().await;
    let w0 = t.create().await;
    t.shutdown(w0.thread_id).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = t.store.clone();
        let id = w0.thread_id;
        tasks.push(tokio::spawn(async move {
            store
                .resume_thread(ResumeThreadParams {
                    thread_id: id,
                    include_archived: false,
                })
                .await
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(w) => winners.push(w),
            Err(ThreadStoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert!(winners[0].epoch > w0.epoch);
    let r = t
        .append_with(AppendThreadItemsParams {
            writer_epoch: Some(winners[0].epoch),
            ..AppendThreadItemsParams::new(w0.thread_id, vec![RolloutItem::user_message("x")])
        })
        .await;
    assert_eq!(r.first_position, 1);
}

/// Racing appends at one expected position: exactly one lands, the rest see the new position.
pub async fn concurrent_expected_position_appends(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = t.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_items(AppendThreadItemsParams {
                    expected_position: Some(1),
                    ..AppendThreadItemsParams::new(
                        id,
                        vec![RolloutItem::agent_message(&format!("racer {i}"))],
                    )
                })
                .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(r) => {
                ok += 1;
                assert_eq!(r.first_position, 1);
            }
            Err(ThreadStoreError::Conflict {
                actual_position, ..
            }) => assert_eq!(actual_position, Some(2)),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(t.history(id).await.len(), 2);
}

/// Racing retries of one request id: one write, every caller gets the same positions.
pub async fn concurrent_retries_of_one_request_id(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = t.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_items(AppendThreadItemsParams {
                    request_id: Some("same-request".into()),
                    ..AppendThreadItemsParams::new(
                        id,
                        vec![
                            RolloutItem::user_message("q"),
                            RolloutItem::agent_message("a"),
                        ],
                    )
                })
                .await
                .unwrap()
        }));
    }
    let mut fresh = 0;
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!((r.first_position, r.item_count), (1, 2));
        if !r.deduplicated {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
    assert_eq!(t.history(id).await.len(), 3);
}

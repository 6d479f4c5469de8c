//! Stress: 64 concurrent writers on 1,000 threads (threads shared between writers) in `Sync`
//! mode on sled, with 8 readers paging turns and listing threads the whole time. Nothing is lost,
//! each writer's items keep their order in every thread, and no call fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, ListThreadsParams, ListTurnsParams,
    LoadThreadHistoryParams, RolloutItem, SledThreadStore, ThreadSortKey, ThreadStore,
};

const THREADS: usize = 1_000;
const WRITERS: usize = 64;
const APPENDS_PER_WRITER: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_and_readers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledThreadStore::open(dir.path()).await.unwrap());
    let mut ids = Vec::new();
    for _ in 0..THREADS {
        ids.push(
            store
                .create_thread(CreateThreadParams::default())
                .await
                .unwrap()
                .thread_id,
        );
    }
    let ids = Arc::new(ids);
    let stop = Arc::new(AtomicBool::new(false));

    let mut readers = Vec::new();
    for r in 0..8usize {
        let (store, ids, stop) = (store.clone(), ids.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut pages = 0u64;
            let mut k = r;
            while !stop.load(Ordering::Relaxed) {
                k = (k * 7 + 13) % THREADS;
                let mut cursor = None;
                loop {
                    let page = store
                        .list_turns(ListTurnsParams {
                            cursor,
                            page_size: 3,
                            ..ListTurnsParams::new(ids[k])
                        })
                        .await
                        .unwrap();
                    pages += 1;
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                let list = store
                    .list_threads(ListThreadsParams {
                        sort_key: ThreadSortKey::UpdatedAt,
                        page_size: 50,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                assert_eq!(list.items.len(), 50);
                pages += 1;
            }
            pages
        }));
    }

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (store, ids) = (store.clone(), ids.clone());
        writers.push(tokio::spawn(async move {
            let mut sent: Vec<(usize, u64)> = Vec::new();
            let mut rng = (w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for seq in 0..APPENDS_PER_WRITER as u64 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // A few hot threads are shared by every writer; the rest spread over all 1,000.
                let k = if seq % 4 == 0 {
                    (rng % 8) as usize
                } else {
                    (rng % THREADS as u64) as usize
                };
                let turn = format!("w{w}-{seq}");
                let items = vec![
                    RolloutItem::task_started(&turn),
                    RolloutItem::agent_message(&format!("w{w} s{seq}")),
                    RolloutItem::task_complete(&turn, None),
                ];
                store
                    .append_items(AppendThreadItemsParams::new(ids[k], items))
                    .await
                    .unwrap();
                sent.push((k, seq));
            }
            sent
        }));
    }
    let mut expected: HashMap<usize, HashMap<usize, Vec<u64>>> = HashMap::new();
    for (w, t) in writers.into_iter().enumerate() {
        for (k, seq) in t.await.unwrap() {
            expected
                .entry(k)
                .or_default()
                .entry(w)
                .or_default()
                .push(seq);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut pages = 0;
    for r in readers {
        pages += r.await.unwrap();
    }
    assert!(pages > 0);

    for (k, id) in ids.iter().enumerate() {
        let h = store
            .load_history(LoadThreadHistoryParams {
                thread_id: *id,
                include_archived: false,
            })
            .await
            .unwrap();
        let mut got: HashMap<usize, Vec<u64>> = HashMap::new();
        for line in h.items.iter().skip(1) {
            if let Some(text) = line.item.payload_value()["message"].as_str() {
                let (w, s) = text.split_once(' ').unwrap();
                got.entry(w[1..].parse().unwrap())
                    .or_default()
                    .push(s[1..].parse().unwrap());
            }
        }
        let want = expected.remove(&k).unwrap_or_default();
        assert_eq!(
            got, want,
            "thread {k}: per-writer items differ (lost, duplicated or reordered)"
        );
        assert_eq!(
            h.items.len() as u64,
            1 + 3 * want.values().map(|v| v.len() as u64).sum::<u64>()
        );
    }
}

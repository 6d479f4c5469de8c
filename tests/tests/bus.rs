//! The event bus: catch-up and live subscriptions over the durable feed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;
use threadstore::{
    AppendThreadItemsParams, BusMessage, CreateThreadParams, FeedEvent, FeedStart,
    InMemoryThreadStore, RolloutItem, StoreConfig, SubscribeParams, ThreadId, ThreadStore,
};

type Sub = std::pin::Pin<
    Box<dyn futures::Stream<Item = threadstore::ThreadStoreResult<BusMessage>> + Send>,
>;

fn subscribe(store: &InMemoryThreadStore, params: SubscribeParams) -> Sub {
    Box::pin(store.actor_store().subscribe(params))
}

/// Reads events until the one at `last` (inclusive) arrives.
async fn collect_until(sub: &mut Sub, last: u64) -> Vec<FeedEvent> {
    let mut got = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("subscriber stalled")
            .expect("stream ended")
            .unwrap();
        match msg {
            BusMessage::Event(e) => {
                let done = e.position >= last;
                got.push(e);
                if done {
                    return got;
                }
            }
            BusMessage::Live { .. } => {}
            BusMessage::Lagged { resume_from } => panic!("unexpected lag at {resume_from}"),
        }
    }
}

async fn turn(store: &InMemoryThreadStore, id: ThreadId, n: usize) {
    let t = format!("t{n}");
    let items = vec![
        RolloutItem::task_started(&t),
        RolloutItem::user_message("go"),
        RolloutItem::agent_message("done"),
        RolloutItem::task_complete(&t, Some("done")),
    ];
    store
        .append_items(AppendThreadItemsParams::new(id, items))
        .await
        .unwrap();
}

fn run<F: std::future::Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random concurrent appends on random threads; subscribers start at random moments and
    /// positions; each sees exactly the committed events from its start, in order, no gap, no
    /// duplicate, across the catch-up-to-live switch.
    #[test]
    fn every_subscriber_sees_exactly_the_feed_from_its_start(
        threads in 1usize..6,
        writers in 1usize..5,
        turns_per_writer in 1usize..12,
        starts in proptest::collection::vec((0u8..3, 0u64..60, 0u64..8), 1..6),
    ) {
        run(async move {
            let store = Arc::new(InMemoryThreadStore::default());
            let mut ids = Vec::new();
            for _ in 0..threads {
                ids.push(store.create_thread(CreateThreadParams::default()).await.unwrap().thread_id);
            }
            let mut tasks = Vec::new();
            for w in 0..writers {
                let (store, ids) = (store.clone(), ids.clone());
                tasks.push(tokio::spawn(async move {
                    for n in 0..turns_per_writer {
                        turn(&store, ids[(w + n) % ids.len()], n).await;
                        tokio::task::yield_now().await;
                    }
                }));
            }
            let mut subs = Vec::new();
            for (mode, pos, delay) in starts {
                for _ in 0..delay {
                    tokio::task::yield_now().await;
                }
                let head = store.actor_store().feed_head();
                let start = match mode {
                    0 => FeedStart::Beginning,
                    1 => FeedStart::At(pos.min(head)),
                    _ => FeedStart::Now,
                };
                subs.push((start, subscribe(&store, SubscribeParams { start, ..Default::default() })));
            }
            for t in tasks {
                t.await.unwrap();
            }
            // One last commit, so that a subscriber started "now" at the very end still has an
            // event to reach.
            store.create_thread(CreateThreadParams::default()).await.unwrap();
            let feed = store.actor_store().feed(0, usize::MAX).await.unwrap();
            let last = feed.len() as u64 - 1;
            for (start, mut sub) in subs {
                let first = match start {
                    FeedStart::Beginning => 0,
                    FeedStart::At(p) => p,
                    _ => u64::MAX,
                };
                if first > last && first != u64::MAX {
                    continue;
                }
                let got = collect_until(&mut sub, last).await;
                let from = if first == u64::MAX { got[0].position } else { first };
                assert_eq!(got, feed[from as usize..].to_vec(), "start {start:?}");
            }
        });
    }
}

#[test]
fn filters_by_thread_and_kind() {
    run(async {
        let store = InMemoryThreadStore::default();
        let a = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        let b = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        let mut only_a = subscribe(
            &store,
            SubscribeParams {
                threads: Some(HashSet::from([a])),
                kinds: Some(HashSet::from(["turnCompleted".to_owned()])),
                start: FeedStart::Beginning,
                ..Default::default()
            },
        );
        for n in 0..3 {
            turn(&store, a, n).await;
            turn(&store, b, n).await;
        }
        let mut got = Vec::new();
        while got.len() < 3 {
            match only_a.next().await.unwrap().unwrap() {
                BusMessage::Event(e) => got.push(e),
                BusMessage::Live { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        assert!(got
            .iter()
            .all(|e| e.thread_id == a && e.kind.name() == "turnCompleted"));
        assert!(got.windows(2).all(|w| w[0].position < w[1].position));
    });
}

#[test]
fn a_slow_subscriber_gets_lagged_and_resumes_without_loss() {
    run(async {
        let store = Arc::new(
            InMemoryThreadStore::builder()
                .config(StoreConfig {
                    durability: threadstore::Durability::Buffered,
                    bus_ring_capacity: 16,
                    ..Default::default()
                })
                .build()
                .unwrap(),
        );
        let id = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        let mut slow = subscribe(
            &store,
            SubscribeParams {
                start: FeedStart::Beginning,
                buffer: 1,
                ..Default::default()
            },
        );
        // Read the creation's events and the switch to live delivery before the writer starts.
        let mut got: Vec<FeedEvent> =
            collect_until(&mut slow, store.actor_store().feed_head() - 1).await;
        assert!(matches!(
            slow.next().await,
            Some(Ok(BusMessage::Live { .. }))
        ));
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..200 {
                    turn(&store, id, n).await;
                }
            })
        };
        let mut lagged = 0;
        writer.await.unwrap();
        let last = store.actor_store().feed_head() - 1;
        loop {
            tokio::time::sleep(Duration::from_millis(1)).await;
            match slow.next().await {
                Some(Ok(BusMessage::Event(e))) => {
                    let done = e.position == last;
                    got.push(e);
                    if done {
                        break;
                    }
                }
                Some(Ok(BusMessage::Live { .. })) => {}
                Some(Ok(BusMessage::Lagged { resume_from })) => {
                    lagged += 1;
                    assert_eq!(resume_from, got.last().map_or(0, |e| e.position + 1));
                    slow = subscribe(
                        &store,
                        SubscribeParams {
                            start: FeedStart::At(resume_from),
                            buffer: 1,
                            ..Default::default()
                        },
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        let feed = store.actor_store().feed(0, usize::MAX).await.unwrap();
        assert_eq!(got, feed);
        // The ring of 16 could not hold the slow reader's backlog while the writer ran ahead.
        assert!(lagged >= 1, "the slow subscriber never lagged");
    });
}

#[test]
fn a_thousand_subscribers_to_the_all_feed() {
    run(async {
        let store = Arc::new(InMemoryThreadStore::default());
        let mut subs = Vec::new();
        for _ in 0..1000 {
            subs.push(subscribe(
                &store,
                SubscribeParams {
                    start: FeedStart::Beginning,
                    ..Default::default()
                },
            ));
        }
        assert_eq!(store.actor_store().subscriber_count(), 1000);
        let id = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        for n in 0..10 {
            turn(&store, id, n).await;
        }
        let feed = store.actor_store().feed(0, usize::MAX).await.unwrap();
        let last = feed.len() as u64 - 1;
        let readers: Vec<_> = subs
            .into_iter()
            .map(|mut s| tokio::spawn(async move { collect_until(&mut s, last).await }))
            .collect();
        for r in readers {
            assert_eq!(r.await.unwrap(), feed);
        }
        // Every stream was dropped with its reader: no subscription task is left behind.
        for _ in 0..200 {
            if store.actor_store().subscriber_count() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(store.actor_store().subscriber_count(), 0);
    });
}

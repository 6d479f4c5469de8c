//! The event bus: catch-up and live subscriptions over the durable feed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, FeedEvent, FeedMessage, FeedStart,
    InMemoryThreadStore, RolloutItem, StoreConfig, SubscribeParams, ThreadId, ThreadStore,
};

type Sub = threadstore::FeedStream;

async fn subscribe(store: &InMemoryThreadStore, params: SubscribeParams) -> Sub {
    store.subscribe(params).await.expect("subscribe")
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
            FeedMessage::Event(e) => {
                let done = e.position >= last;
                got.push(e);
                if done {
                    return got;
                }
            }
            FeedMessage::Live { .. } => {}
            FeedMessage::Lagged { resume_from } => panic!("unexpected lag at {resume_from}"),
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
                subs.push((start, subscribe(&store, SubscribeParams { start, ..Default::default() }).await));
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
                kinds: Some(HashSet::from([threadstore::FeedKind::TurnCompleted])),
                start: FeedStart::Beginning,
                ..Default::default()
            },
        )
        .await;
        for n in 0..3 {
            turn(&store, a, n).await;
            turn(&store, b, n).await;
        }
        let mut got = Vec::new();
        while got.len() < 3 {
            match only_a.next().await.unwrap().unwrap() {
                FeedMessage::Event(e) => got.push(e),
                FeedMessage::Live { .. } => {}
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
        )
        .await;
        // Read the creation's events and the switch to live delivery before the writer starts.
        let mut got: Vec<FeedEvent> =
            collect_until(&mut slow, store.actor_store().feed_head() - 1).await;
        assert!(matches!(
            slow.next().await,
            Some(Ok(FeedMessage::Live { .. }))
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
                Some(Ok(FeedMessage::Event(e))) => {
                    let done = e.position == last;
                    got.push(e);
                    if done {
                        break;
                    }
                }
                Some(Ok(FeedMessage::Live { .. })) => {}
                Some(Ok(FeedMessage::Lagged { resume_from })) => {
                    lagged += 1;
                    assert_eq!(resume_from, got.last().map_or(0, |e| e.position + 1));
                    slow = subscribe(
                        &store,
                        SubscribeParams {
                            start: FeedStart::At(resume_from),
                            buffer: 1,
                            ..Default::default()
                        },
                    )
                    .await;
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
            subs.push(
                subscribe(
                    &store,
                    SubscribeParams {
                        start: FeedStart::Beginning,
                        ..Default::default()
                    },
                )
                .await,
            );
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

/// Subscribing is part of the `ThreadStore` trait: a store behind `Arc<dyn ThreadStore>` (here a
/// `RecordingThreadStore` around the in-memory store) delivers the same events, in order, and
/// counts the call; a store without a feed answers `Unsupported`, the trait's default.
#[test]
fn subscriptions_go_through_the_trait_and_the_recorder() {
    run(async {
        let inner: Arc<dyn ThreadStore> = Arc::new(InMemoryThreadStore::default());
        let recorder = threadstore::RecordingThreadStore::new(inner);
        let store: &dyn ThreadStore = &recorder;
        let mut sub = store
            .subscribe(SubscribeParams {
                start: FeedStart::Beginning,
                kinds: Some(HashSet::from([threadstore::FeedKind::ThreadCreated])),
                ..Default::default()
            })
            .await
            .expect("the recorder forwards subscribe");
        assert!(matches!(
            sub.next().await,
            Some(Ok(FeedMessage::Live { next_position: 0 }))
        ));
        let id = store
            .create_thread(CreateThreadParams::default())
            .await
            .unwrap()
            .thread_id;
        match sub.next().await {
            Some(Ok(FeedMessage::Event(e))) => {
                assert_eq!(e.thread_id, id);
                assert_eq!(e.kind.kind(), threadstore::FeedKind::ThreadCreated);
            }
            other => panic!("expected the threadCreated event, got {other:?}"),
        }
        assert_eq!(recorder.call_count("subscribe"), 1);

        /// A store that implements only what it must: `subscribe` is the trait's default.
        struct NoFeed(InMemoryThreadStore);
        #[async_trait::async_trait]
        impl ThreadStore for NoFeed {
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            async fn create_thread(
                &self,
                p: CreateThreadParams,
            ) -> threadstore::ThreadStoreResult<threadstore::ThreadWriter> {
                self.0.create_thread(p).await
            }
            async fn resume_thread(
                &self,
                p: threadstore::ResumeThreadParams,
            ) -> threadstore::ThreadStoreResult<threadstore::ThreadWriter> {
                self.0.resume_thread(p).await
            }
            async fn append_items(
                &self,
                p: AppendThreadItemsParams,
            ) -> threadstore::ThreadStoreResult<threadstore::AppendResult> {
                self.0.append_items(p).await
            }
            async fn persist_thread(&self, id: ThreadId) -> threadstore::ThreadStoreResult<()> {
                self.0.persist_thread(id).await
            }
            async fn flush_thread(&self, id: ThreadId) -> threadstore::ThreadStoreResult<()> {
                self.0.flush_thread(id).await
            }
            async fn shutdown_thread(&self, id: ThreadId) -> threadstore::ThreadStoreResult<()> {
                self.0.shutdown_thread(id).await
            }
            async fn discard_thread(&self, id: ThreadId) -> threadstore::ThreadStoreResult<()> {
                self.0.discard_thread(id).await
            }
            async fn load_history(
                &self,
                p: threadstore::LoadThreadHistoryParams,
            ) -> threadstore::ThreadStoreResult<threadstore::StoredThreadHistory> {
                self.0.load_history(p).await
            }
            async fn read_thread(
                &self,
                p: threadstore::ReadThreadParams,
            ) -> threadstore::ThreadStoreResult<threadstore::StoredThread> {
                self.0.read_thread(p).await
            }
            async fn read_thread_by_rollout_path(
                &self,
                p: threadstore::ReadThreadByRolloutPathParams,
            ) -> threadstore::ThreadStoreResult<threadstore::StoredThread> {
                self.0.read_thread_by_rollout_path(p).await
            }
            async fn list_threads(
                &self,
                p: threadstore::ListThreadsParams,
            ) -> threadstore::ThreadStoreResult<threadstore::ThreadPage> {
                self.0.list_threads(p).await
            }
            async fn search_threads(
                &self,
                p: threadstore::SearchThreadsParams,
            ) -> threadstore::ThreadStoreResult<threadstore::ThreadSearchPage> {
                self.0.search_threads(p).await
            }
            async fn list_turns(
                &self,
                p: threadstore::ListTurnsParams,
            ) -> threadstore::ThreadStoreResult<threadstore::TurnPage> {
                self.0.list_turns(p).await
            }
            async fn list_items(
                &self,
                p: threadstore::ListItemsParams,
            ) -> threadstore::ThreadStoreResult<threadstore::ItemPage> {
                self.0.list_items(p).await
            }
            async fn update_thread_metadata(
                &self,
                p: threadstore::UpdateThreadMetadataParams,
            ) -> threadstore::ThreadStoreResult<threadstore::StoredThread> {
                self.0.update_thread_metadata(p).await
            }
            async fn archive_thread(
                &self,
                p: threadstore::ArchiveThreadParams,
            ) -> threadstore::ThreadStoreResult<threadstore::StoredThread> {
                self.0.archive_thread(p).await
            }
            async fn unarchive_thread(
                &self,
                p: threadstore::ArchiveThreadParams,
            ) -> threadstore::ThreadStoreResult<threadstore::StoredThread> {
                self.0.unarchive_thread(p).await
            }
            async fn delete_thread(
                &self,
                p: threadstore::DeleteThreadParams,
            ) -> threadstore::ThreadStoreResult<()> {
                self.0.delete_thread(p).await
            }
        }
        let plain = NoFeed(InMemoryThreadStore::default());
        match plain.subscribe(SubscribeParams::default()).await {
            Err(threadstore::ThreadStoreError::Unsupported { operation }) => {
                assert_eq!(operation, "subscribe")
            }
            Err(other) => panic!("expected Unsupported, got {other:?}"),
            Ok(_) => panic!("expected Unsupported, got a stream"),
        }
    });
}

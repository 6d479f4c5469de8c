//! Many nodes, one store: three `threadstore serve --postgres` processes on one schema
//! (CONTRACT.md §10). Skipped with a message without `THREADSTORE_PG`, a failure under CI.
//!
//! One test drives all of it, so the feed it checks holds every kind of write:
//! - writers on every node, each on a thread of its own and all on one shared thread;
//! - an idempotent append retried on the two other nodes: the original positions, nothing twice;
//! - a resume on another node fences the first node's handle on every node (`StaleWriter`);
//! - subscribers on every node, two from the beginning before the writes (catch-up, then live)
//!   and one that joins halfway, receive the identical feed: positions `0..head` without a gap,
//!   each thread's appends in commit order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use threadstore::{
    AppendThreadItemsParams, FeedEvent, FeedEventKind, FeedMessage, FeedStart, RolloutItem,
    StoreStatsParams, SubscribeParams, ThreadId, ThreadStore, ThreadStoreError,
};
use threadstore_tests::harness::{create_params, fresh_schema, postgres_url, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");
const NODES: usize = 3;
const WRITERS_PER_NODE: usize = 3;
const APPENDS: usize = 15;

/// Collects a subscription's events until told to stop.
fn collect(
    store: Arc<dyn ThreadStore>,
    start: FeedStart,
) -> tokio::task::JoinHandle<Vec<FeedEvent>> {
    tokio::spawn(async move {
        let mut stream = store
            .subscribe(SubscribeParams {
                start,
                ..Default::default()
            })
            .await
            .expect("subscribe");
        let mut events = Vec::new();
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_secs(5), stream.next()).await
        {
            match message.expect("feed message") {
                FeedMessage::Event(e) => events.push(e),
                FeedMessage::Live { .. } => {}
                FeedMessage::Lagged { resume_from } => {
                    panic!("a server's stream lagged at {resume_from}")
                }
            }
        }
        events
    })
}

fn item(text: &str) -> Vec<RolloutItem> {
    vec![RolloutItem::user_message(text)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_threads_fencing_idempotency_and_one_feed() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    let mut servers = Vec::new();
    let mut nodes: Vec<Arc<dyn ThreadStore>> = Vec::new();
    for _ in 0..NODES {
        let (server, store) = ServerProcess::start_postgres(BIN, &url, &schema).await;
        servers.push(server);
        nodes.push(store);
    }
    // Two subscribers from the beginning, before any write.
    let early: Vec<_> = [0, 1]
        .iter()
        .map(|&n| collect(nodes[n].clone(), FeedStart::Beginning))
        .collect();

    // One shared thread, created on node 0; its writer handle is used from every node.
    let shared = nodes[0].create_thread(create_params()).await.unwrap();
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..WRITERS_PER_NODE {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                let own = node.create_thread(create_params()).await.unwrap();
                for i in 0..APPENDS {
                    let text = format!("node {n} writer {w} append {i}");
                    let mut p = AppendThreadItemsParams::new(own.thread_id, item(&text));
                    p.writer_epoch = Some(own.epoch);
                    p.request_id = Some(format!("own-{n}-{w}-{i}"));
                    node.append_items(p).await.unwrap();
                    let mut p = AppendThreadItemsParams::new(shared.thread_id, item(&text));
                    p.writer_epoch = Some(shared.epoch);
                    p.request_id = Some(format!("shared-{n}-{w}-{i}"));
                    let r = node
                        .append_items(p)
                        .await
                        .unwrap_or_else(|e| panic!("shared append from node {n}: {e}"));
                    assert!(!r.deduplicated);
                }
                own.thread_id
            }));
        }
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // A third subscriber joins halfway, on node 2: catch-up, then live.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let late = collect(nodes[2].clone(), FeedStart::Beginning);
    let mut own_threads = Vec::new();
    for t in tasks {
        own_threads.push(t.await.unwrap());
    }
    let total = NODES * WRITERS_PER_NODE * APPENDS;
    for (n, node) in nodes.iter().enumerate() {
        let history = node
            .load_history(threadstore::LoadThreadHistoryParams::new(shared.thread_id))
            .await
            .unwrap();
        assert_eq!(
            history.items.len(),
            total + 1,
            "node {n} sees every append to the shared thread once (plus its header)"
        );
    }

    // An idempotent append, retried on the two other nodes: the same positions, written once.
    let mut p = AppendThreadItemsParams::new(shared.thread_id, item("exactly once"));
    p.writer_epoch = Some(shared.epoch);
    p.request_id = Some("retried-elsewhere".into());
    let first = nodes[0].append_items(p.clone()).await.unwrap();
    for node in &nodes[1..] {
        let again = node.append_items(p.clone()).await.unwrap();
        assert!(
            again.deduplicated,
            "a retry on another node is deduplicated"
        );
        assert_eq!(again.first_position, first.first_position);
        assert_eq!(again.item_count, first.item_count);
    }
    let read = nodes[2]
        .read_thread(threadstore::ReadThreadParams::new(shared.thread_id))
        .await
        .unwrap();
    assert_eq!(read.item_count as usize, total + 2);

    // A resume on node 1 fences node 0's handle, on every node.
    let resumed = nodes[1]
        .resume_thread(threadstore::ResumeThreadParams::new(shared.thread_id))
        .await
        .expect("a resume on another node takes the thread over");
    assert!(resumed.epoch > shared.epoch);
    for (n, node) in nodes.iter().enumerate() {
        let mut p = AppendThreadItemsParams::new(shared.thread_id, item("from a fenced handle"));
        p.writer_epoch = Some(shared.epoch);
        match node.append_items(p).await {
            Err(ThreadStoreError::StaleWriter {
                epoch,
                current_epoch,
                ..
            }) => {
                assert_eq!(epoch, shared.epoch);
                assert_eq!(current_epoch, resumed.epoch);
            }
            other => panic!("node {n}: the old handle must be fenced, got {other:?}"),
        }
    }
    let mut p = AppendThreadItemsParams::new(shared.thread_id, item("from the new writer"));
    p.writer_epoch = Some(resumed.epoch);
    nodes[2]
        .append_items(p)
        .await
        .expect("the new handle writes from any node");

    // Every node's feed: identical, gapless, each thread's appends in commit order.
    let mut head = 0;
    for node in &nodes {
        head = head.max(
            node.store_stats(StoreStatsParams::default())
                .await
                .unwrap()
                .feed_head,
        );
    }
    let mut feeds = Vec::new();
    for h in early {
        feeds.push(h.await.unwrap());
    }
    feeds.push(late.await.unwrap());
    let reference = &feeds[0];
    assert!(reference.len() as u64 >= head, "the feed holds every event");
    for (i, e) in reference.iter().enumerate() {
        assert_eq!(e.position, i as u64, "positions are gapless from 0");
    }
    for (n, feed) in feeds.iter().enumerate().skip(1) {
        assert_eq!(
            feed.len(),
            reference.len(),
            "subscriber {n} got as many events"
        );
        for (a, b) in reference.iter().zip(feed) {
            assert_eq!(
                (a.position, a.thread_id, &a.kind),
                (b.position, b.thread_id, &b.kind),
                "subscriber {n} got the same event at position {}",
                a.position
            );
        }
    }
    let mut next: HashMap<ThreadId, u64> = HashMap::new();
    for e in reference {
        if let FeedEventKind::ItemsAppended {
            first_position,
            count,
        } = e.kind
        {
            let expected = next.entry(e.thread_id).or_insert(first_position);
            assert_eq!(
                first_position, *expected,
                "thread {}'s appends arrive in commit order without a gap",
                e.thread_id
            );
            *expected = first_position + count;
        }
    }
    for id in own_threads.iter().chain([&shared.thread_id]) {
        assert!(next.contains_key(id), "the feed has thread {id}'s appends");
    }
    assert_eq!(next[&shared.thread_id] as usize, total + 3);
    for s in servers {
        s.kill().await;
    }
}

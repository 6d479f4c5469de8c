//! A transaction held open elsewhere in the database stalls the feed, never the appends, and the
//! feed catches up, gapless, when it ends (CONTRACT.md §10, `storage/src/pg/feed.rs`). Its own
//! test binary: the held transaction holds back every schema's feed while it is open.

use std::time::Duration;

use futures::StreamExt;
use threadstore::{
    AppendThreadItemsParams, FeedMessage, FeedStart, RolloutItem, SubscribeParams, ThreadStore,
};
use threadstore_tests::harness::{create_params, fresh_schema, open_postgres, postgres_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_transaction_stalls_the_feed_not_the_appends() {
    let Some(url) = postgres_url() else { return };
    let store = open_postgres(&url, &fresh_schema()).await;
    let w = store.create_thread(create_params()).await.unwrap();
    store.flush_thread(w.thread_id).await.unwrap();
    let status = store.feed_status().await.unwrap();
    assert_eq!(status.lag(), 0, "{status:?}");
    let mut feed = store
        .subscribe(SubscribeParams {
            start: FeedStart::At(status.local_head),
            ..Default::default()
        })
        .await
        .unwrap();

    // Another client opens a transaction that holds a transaction id, and keeps it open.
    let (holder, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    holder
        .batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .await
        .unwrap();

    // Appends go on: each is acknowledged (committed) while the feed stands still.
    for i in 0..20 {
        let mut p = AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message(&format!("while held {i}"))],
        );
        p.writer_epoch = Some(w.epoch);
        tokio::time::timeout(Duration::from_secs(5), store.append_items(p))
            .await
            .expect("an append is not held up by the open transaction")
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stalled = store.feed_status().await.unwrap();
    assert_eq!(stalled.local_head, status.local_head, "{stalled:?}");
    assert!(stalled.pending >= 20, "{stalled:?}");
    assert!(stalled.lag() >= 20, "the lag is reported: {stalled:?}");
    while let Ok(message) = tokio::time::timeout(Duration::from_millis(200), feed.next()).await {
        let message = message.unwrap().unwrap();
        assert!(
            matches!(message, FeedMessage::Live { .. }),
            "no event is delivered past the horizon: {message:?}"
        );
    }

    // The transaction ends: the feed catches up, in order, without a gap.
    holder.batch_execute("ROLLBACK").await.unwrap();
    let mut next = status.local_head;
    let mut appended = 0;
    while appended < 20 {
        let message = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("the feed catches up once the transaction ends")
            .unwrap()
            .unwrap();
        if let FeedMessage::Event(e) = message {
            assert_eq!(e.position, next, "gapless");
            next += 1;
            if matches!(e.kind, threadstore::FeedEventKind::ItemsAppended { .. }) {
                appended += 1;
            }
        }
    }
    let settled = store.feed_status().await.unwrap();
    assert_eq!(settled.pending, 0, "{settled:?}");
    store.close().await.unwrap();
}

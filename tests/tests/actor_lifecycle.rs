//! Actor activation, passivation (idle timeout and live cap) and recovery from a panic.

use std::time::Duration;

use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, InMemoryThreadStore, LoadThreadHistoryParams,
    ReadThreadParams, RolloutItem, StoreConfig, ThreadStore, ThreadStoreError,
};

fn config(idle_ms: u64, cap: usize) -> StoreConfig {
    StoreConfig {
        idle_timeout: Duration::from_millis(idle_ms),
        max_live_actors: cap,
        ..Default::default()
    }
}

async fn wait_until_live(store: &InMemoryThreadStore, at_most: usize) -> usize {
    for _ in 0..500 {
        let n = store.actor_store().live_actors().await.unwrap();
        if n <= at_most {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    store.actor_store().live_actors().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_actors_are_passivated_and_reactivated_from_durable_state() {
    let store = InMemoryThreadStore::builder()
        .config(config(50, 1000))
        .build()
        .unwrap();
    let w = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("hi")],
        ))
        .await
        .unwrap();
    assert_eq!(
        wait_until_live(&store, 0).await,
        0,
        "idle actor was not passivated"
    );
    // Re-activation loads the record: the writer is still live, positions continue.
    let r = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::agent_message("back")],
        ))
        .await
        .unwrap();
    assert_eq!(r.first_position, 2);
    let t = store
        .read_thread(ReadThreadParams {
            thread_id: w.thread_id,
            include_archived: false,
            include_history: false,
        })
        .await
        .unwrap();
    assert!(t.live);
    assert_eq!(t.item_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_actors_stay_under_the_cap() {
    let store = InMemoryThreadStore::builder()
        .config(config(60_000, 4))
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(
            store
                .create_thread(CreateThreadParams::default())
                .await
                .unwrap()
                .thread_id,
        );
        assert!(store.actor_store().live_actors().await.unwrap() <= 4);
    }
    for id in &ids {
        let h = store
            .load_history(LoadThreadHistoryParams {
                thread_id: *id,
                include_archived: false,
            })
            .await
            .unwrap();
        assert_eq!(h.items.len(), 1);
        assert!(store.actor_store().live_actors().await.unwrap() <= 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_actor_does_not_take_down_the_store() {
    let store = InMemoryThreadStore::default();
    let a = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let b = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let crash = store.actor_store().crash_thread_actor(a.thread_id).await;
    assert!(
        matches!(crash, Err(ThreadStoreError::Internal { .. })),
        "{crash:?}"
    );
    // The other thread is untouched, and the crashed one is re-activated by the next call.
    store
        .append_items(AppendThreadItemsParams::new(
            b.thread_id,
            vec![RolloutItem::user_message("b")],
        ))
        .await
        .unwrap();
    let r = store
        .append_items(AppendThreadItemsParams::new(
            a.thread_id,
            vec![RolloutItem::user_message("a")],
        ))
        .await
        .unwrap();
    assert_eq!(r.first_position, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mailbox_is_resource_exhausted() {
    let store = std::sync::Arc::new(
        InMemoryThreadStore::builder()
            .config(StoreConfig {
                mailbox_capacity: 1,
                mailbox_timeout: Duration::from_millis(20),
                ..Default::default()
            })
            .build()
            .unwrap(),
    );
    let w = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    // One message runs for a while, one waits in the single mailbox slot ...
    let busy = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .actor_store()
                .stall_thread_actor(w.thread_id, Duration::from_millis(500))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let queued = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .actor_store()
                .stall_thread_actor(w.thread_id, Duration::from_millis(1))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // ... so a third call finds no room within the timeout.
    let third = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("x")],
        ))
        .await;
    assert!(
        matches!(third, Err(ThreadStoreError::ResourceExhausted { .. })),
        "{third:?}"
    );
    busy.await.unwrap().unwrap();
    queued.await.unwrap().unwrap();
    // Nothing was written by the rejected call, and the thread works again.
    let r = store
        .append_items(AppendThreadItemsParams::new(
            w.thread_id,
            vec![RolloutItem::user_message("y")],
        ))
        .await
        .unwrap();
    assert_eq!(r.first_position, 1);
}

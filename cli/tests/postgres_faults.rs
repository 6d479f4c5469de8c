//! A node killed with SIGKILL while it writes (three `threadstore serve --postgres` processes on
//! one schema): every append it acknowledged is there, the other nodes' writers never notice,
//! and its threads are resumed on another node (its leases taken over). Skipped with a message
//! without `THREADSTORE_PG`, a failure under CI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use threadstore::{
    AppendThreadItemsParams, LoadThreadHistoryParams, ResumeThreadParams, RolloutItem, ThreadId,
    ThreadStore,
};
use threadstore_tests::harness::{create_params, fresh_schema, postgres_url, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");

/// Appends to its own thread through `node` until an append fails or `stop` is set; returns
/// the thread and the texts acknowledged, in order.
async fn writer(
    node: Arc<dyn ThreadStore>,
    name: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> (ThreadId, Vec<String>, Option<String>) {
    let w = node.create_thread(create_params()).await.unwrap();
    let mut acked = Vec::new();
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let text = format!("{name} item {i}");
        let mut p =
            AppendThreadItemsParams::new(w.thread_id, vec![RolloutItem::user_message(&text)]);
        p.writer_epoch = Some(w.epoch);
        match node.append_items(p).await {
            Ok(_) => acked.push(text),
            Err(e) => return (w.thread_id, acked, Some(e.to_string())),
        }
        i += 1;
    }
    (w.thread_id, acked, None)
}

fn texts(history: &threadstore::StoredThreadHistory) -> Vec<String> {
    history.items[1..]
        .iter()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line.item.payload_json()).unwrap();
            v["message"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_while_writing_loses_nothing_and_blocks_nothing() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    let mut servers = Vec::new();
    let mut nodes: Vec<Arc<dyn ThreadStore>> = Vec::new();
    for _ in 0..3 {
        let (server, store) = ServerProcess::start_postgres(BIN, &url, &schema).await;
        servers.push(Some(server));
        nodes.push(store);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let victims: Vec<_> = (0..3)
        .map(|k| {
            tokio::spawn(writer(
                nodes[0].clone(),
                format!("victim {k}"),
                stop.clone(),
            ))
        })
        .collect();
    let survivors: Vec<_> = (0..3)
        .map(|k| {
            tokio::spawn(writer(
                nodes[1].clone(),
                format!("survivor {k}"),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    servers[0].take().unwrap().kill().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let seen: Mutex<HashMap<ThreadId, usize>> = Mutex::default();
    for v in victims {
        let (id, acked, error) = v.await.unwrap();
        assert!(error.is_some(), "the victim's writer saw its node die");
        assert!(
            !acked.is_empty(),
            "the victim acknowledged appends before it died"
        );
        // Read on another node: every acknowledged item, in order (one more may have committed
        // without its acknowledgement reaching the writer).
        let history = nodes[2]
            .load_history(LoadThreadHistoryParams::new(id))
            .await
            .unwrap();
        let stored = texts(&history);
        assert!(stored.len() >= acked.len() && stored.len() <= acked.len() + 1);
        assert_eq!(stored[..acked.len()], acked[..], "thread {id}");
        seen.lock().unwrap().insert(id, stored.len());
        // Its lease died with its node: a resume on another node takes the thread over.
        let resumed = nodes[2]
            .resume_thread(ResumeThreadParams::new(id))
            .await
            .expect("a dead node's thread is resumable elsewhere");
        let mut p = AppendThreadItemsParams::new(id, vec![RolloutItem::user_message("after")]);
        p.writer_epoch = Some(resumed.epoch);
        let r = nodes[2].append_items(p).await.unwrap();
        assert_eq!(r.first_position, stored.len() as u64 + 1);
    }
    for s in survivors {
        let (id, acked, error) = s.await.unwrap();
        assert_eq!(error, None, "the other node's writers never noticed");
        let history = nodes[2]
            .load_history(LoadThreadHistoryParams::new(id))
            .await
            .unwrap();
        assert_eq!(texts(&history), acked, "thread {id}");
    }
    assert_eq!(seen.lock().unwrap().len(), 3);
    for s in servers.into_iter().flatten() {
        s.kill().await;
    }
}

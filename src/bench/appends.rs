//! W1/W2: single-item appends of ~1 KiB Codex lines from N concurrent writers over many threads.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadstore::codex::generate::realistic_turn_items;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, SledOptions, SledThreadStore,
    StoreConfig, ThreadStore,
};

/// Result of one append run.
#[derive(Clone, Debug)]
pub struct AppendRun {
    /// Items acknowledged per second.
    pub items_per_sec: f64,
    /// Median append latency.
    pub p50: Duration,
    /// 99th percentile append latency.
    pub p99: Duration,
}

/// `writers` tasks each append `per_writer` single items round-robin over `threads` threads.
pub async fn append_workload(
    dir: &Path,
    durability: Durability,
    writers: usize,
    threads: usize,
    per_writer: usize,
) -> anyhow::Result<AppendRun> {
    super::ensure_empty(dir)?;
    let config = StoreConfig {
        durability,
        ..Default::default()
    };
    let store = Arc::new(SledThreadStore::open_with(dir, config, SledOptions::default()).await?);
    let mut ids = Vec::with_capacity(threads);
    for _ in 0..threads {
        ids.push(
            store
                .create_thread(CreateThreadParams::default())
                .await?
                .thread_id,
        );
    }
    let ids = Arc::new(ids);
    let items: Arc<Vec<_>> = Arc::new(realistic_turn_items(0, Some("turn-0"), 1024));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, ids, items) = (store.clone(), ids.clone(), items.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_writer);
            for i in 0..per_writer {
                let id = ids[(w + i * writers) % ids.len()];
                let item = items[i % items.len()].clone();
                let at = Instant::now();
                store
                    .append_items(AppendThreadItemsParams::new(id, vec![item]))
                    .await?;
                lat.push(at.elapsed());
            }
            Ok::<_, threadstore::ThreadStoreError>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed();
    lat.sort();
    let pick = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let run = AppendRun {
        items_per_sec: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.5),
        p99: pick(0.99),
    };
    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await?;
    }
    Ok(run)
}

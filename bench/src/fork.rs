//! Fork by reference (CONTRACT.md §7): `fork_thread` latency on a durable sled store, forking
//! threads of 1,000 and 100,000 items at their latest position. A fork writes its record, link
//! and header only, so the latency does not grow with the prefix.

use std::path::Path;
use std::time::{Duration, Instant};

use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, ForkBoundary, ForkThreadParams,
    SledThreadStore, ThreadStore,
};

use crate::compare::{pick, thread_turns};

/// p50 and p99 of `forks` forks of a thread of `items` items (~1 KiB each).
pub async fn latency(
    scratch: &Path,
    items: usize,
    forks: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let dir = scratch.join(format!("fork-{items}"));
    crate::scratch::ensure_empty(&dir)?;
    let store = SledThreadStore::builder(&dir)
        .durability(Durability::Sync)
        .open()
        .await?;
    let id = store
        .create_thread(CreateThreadParams::default())
        .await?
        .thread_id;
    for turn in thread_turns(items) {
        store
            .append_items(AppendThreadItemsParams::new(id, turn))
            .await?;
    }
    let mut lat = Vec::with_capacity(forks);
    for _ in 0..forks {
        let at = Instant::now();
        store
            .fork_thread(ForkThreadParams::new(id, ForkBoundary::Latest))
            .await?;
        lat.push(at.elapsed());
    }
    lat.sort_unstable();
    store.close().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((pick(&lat, 0.5), pick(&lat, 0.99)))
}

//! Event bus: commit-to-subscriber latency with 1 and 1,000 subscribers, and catch-up throughput.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, FeedEventKind, FeedMessage, FeedStart,
    InMemoryThreadStore, RolloutItem, SubscribeParams, ThreadStore,
};

/// Latency percentiles of one run.
#[derive(Clone, Debug)]
pub struct LatencyRun {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Deliveries measured.
    pub samples: usize,
}

fn store() -> anyhow::Result<Arc<InMemoryThreadStore>> {
    Ok(Arc::new(
        InMemoryThreadStore::builder()
            .durability(Durability::Buffered)
            .build()?,
    ))
}

/// Time from the start of an append to each subscriber receiving its `ItemsAppended` event.
pub async fn latency(subscribers: usize, appends: usize) -> anyhow::Result<LatencyRun> {
    let store = store()?;
    let id = store
        .create_thread(CreateThreadParams::default())
        .await?
        .thread_id;
    let sent: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let mut sub = store
            .subscribe(SubscribeParams {
                start: FeedStart::Now,
                ..Default::default()
            })
            .await?;
        let sent = sent.clone();
        readers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(appends);
            while lat.len() < appends {
                match sub.next().await {
                    Some(Ok(FeedMessage::Event(e))) => {
                        if let FeedEventKind::ItemsAppended { first_position, .. } = e.kind {
                            let at = sent
                                .lock()
                                .ok()
                                .and_then(|m| m.get(&first_position).copied());
                            if let Some(at) = at {
                                lat.push(at.elapsed());
                            }
                        }
                    }
                    Some(Ok(FeedMessage::Live { .. })) => {}
                    _ => break,
                }
            }
            lat
        }));
    }
    for n in 0..appends {
        let at = Instant::now();
        if let Ok(mut m) = sent.lock() {
            m.insert(n as u64 + 1, at);
        }
        store
            .append_items(AppendThreadItemsParams::new(
                id,
                vec![RolloutItem::agent_message("x")],
            ))
            .await?;
        // Space the appends so each latency is measured on a quiet bus.
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let mut all = Vec::new();
    for r in readers {
        all.extend(r.await?);
    }
    all.sort();
    let pick = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize];
    Ok(LatencyRun {
        p50: pick(0.5),
        p99: pick(0.99),
        samples: all.len(),
    })
}

/// Events per second a subscriber catching up from the beginning of the durable feed reads.
pub async fn catch_up(events_wanted: u64) -> anyhow::Result<f64> {
    let store = store()?;
    let id = store
        .create_thread(CreateThreadParams::default())
        .await?
        .thread_id;
    while store.actor_store().feed_head() < events_wanted {
        let items = vec![RolloutItem::agent_message("x")];
        store
            .append_items(AppendThreadItemsParams::new(id, items))
            .await?;
    }
    let head = store.actor_store().feed_head();
    let mut sub = store
        .subscribe(SubscribeParams {
            start: FeedStart::Beginning,
            ..Default::default()
        })
        .await?;
    let started = Instant::now();
    let mut n = 0u64;
    while n < head {
        match sub.next().await {
            Some(Ok(FeedMessage::Event(_))) => n += 1,
            Some(Ok(FeedMessage::Live { .. })) => {}
            other => anyhow::bail!("catch-up stopped early: {other:?}"),
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

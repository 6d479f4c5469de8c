//! `threadstore demo`: the main job on the embedded default, measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use threadstore::codex::generate::realistic_turn_items;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, ListThreadsParams, ListTurnsParams,
    StoreStatsParams, StoredTurnItemsView, ThreadSortKey, ThreadStore,
};

use super::common::{self, Open};
use super::layout::clip_end;
use crate::output::outln;

/// Demo settings.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Concurrent agent sessions.
    #[arg(long, default_value_t = 16)]
    pub sessions: usize,
    /// Turns per session.
    #[arg(long, default_value_t = 40)]
    pub turns: usize,
    /// Approximate size of tool outputs and answers, bytes.
    #[arg(long, default_value_t = 1024)]
    pub item_bytes: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the demo against the target's store: the data directory's (created when missing) or a
/// running server's.
pub async fn run(target: &common::Target, args: DemoArgs) -> anyhow::Result<()> {
    let store: Arc<dyn ThreadStore> = match target {
        common::Target::Local(data) => Arc::new(common::open_store(data, Open::Create).await?),
        common::Target::Postgres { url, schema } => {
            Arc::new(common::open_postgres(url, schema, false).await?)
        }
        remote => common::connect(remote).await?,
    };
    outln!(
        "threadstore demo: {} concurrent agent sessions x {} turns, items ~{} B, durable (fsync) appends, store in {}",
        args.sessions,
        args.turns,
        args.item_bytes,
        target
    )?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..args.sessions {
        let store = store.clone();
        let turns = args.turns;
        let bytes = args.item_bytes;
        tasks.push(tokio::spawn(async move {
            let writer = store
                .create_thread(CreateThreadParams {
                    cwd: Some(format!("/work/project-{}", s % 4).into()),
                    model_provider: Some("openai".into()),
                    source: Some(if s % 3 == 0 { "vscode" } else { "cli" }.into()),
                    originator: Some("threadstore_demo".into()),
                    cli_version: Some(env!("CARGO_PKG_VERSION").into()),
                    ..Default::default()
                })
                .await?;
            let mut latencies = Vec::new();
            for t in 0..turns {
                let turn_id = format!("turn-{s}-{t}");
                for item in realistic_turn_items(t, Some(&turn_id), bytes) {
                    let mut p = AppendThreadItemsParams::new(writer.thread_id, vec![item]);
                    p.writer_epoch = Some(writer.epoch);
                    let at = Instant::now();
                    store.append_items(p).await?;
                    latencies.push(at.elapsed());
                }
            }
            store.shutdown_thread(writer.thread_id).await?;
            Ok::<_, threadstore::ThreadStoreError>((writer.thread_id, latencies))
        }));
    }
    let mut threads = Vec::new();
    let mut latencies = Vec::new();
    for t in tasks {
        let (id, l) = t.await??;
        threads.push(id);
        latencies.extend(l);
    }
    let write_time = started.elapsed();
    latencies.sort();
    outln!(
        "wrote {} items in {} threads in {:.2?}: {:.0} durable appends/s, append latency p50 {:.2?}, p99 {:.2?}",
        latencies.len(),
        threads.len(),
        write_time,
        latencies.len() as f64 / write_time.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    )?;

    let started = Instant::now();
    let mut pages = 0;
    let mut turns_seen = 0;
    let mut page_times = Vec::new();
    for id in &threads {
        let mut cursor = None;
        loop {
            let at = Instant::now();
            let page = store
                .list_turns(ListTurnsParams {
                    cursor: cursor.take(),
                    page_size: 10,
                    items_view: StoredTurnItemsView::Summary,
                    ..ListTurnsParams::new(*id)
                })
                .await?;
            page_times.push(at.elapsed());
            pages += 1;
            turns_seen += page.turns.len();
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    page_times.sort();
    outln!(
        "paged through {turns_seen} turns newest-first in {pages} summary pages of 10 in {:.2?}: page p50 {:.2?}, p99 {:.2?}",
        started.elapsed(),
        percentile(&page_times, 0.5),
        percentile(&page_times, 0.99)
    )?;
    let sample = store
        .list_turns(ListTurnsParams {
            page_size: 1,
            ..ListTurnsParams::new(threads[0])
        })
        .await?;
    if let Some(turn) = sample.turns.first() {
        outln!(
            "newest turn of thread {}: {} ({:?}, {} items, summary of {} items)",
            threads[0],
            turn.turn_id,
            turn.status,
            turn.item_count,
            turn.items.len()
        )?;
    }

    let at = Instant::now();
    let page = store
        .list_threads(ListThreadsParams {
            sort_key: ThreadSortKey::UpdatedAt,
            page_size: 5,
            ..Default::default()
        })
        .await?;
    outln!(
        "list_threads (updated_at desc, page of 5) in {:.2?}:",
        at.elapsed()
    )?;
    for t in &page.items {
        outln!(
            "  {}  {:>5} items  {:>3} turns  cwd {}  {}",
            t.thread_id,
            t.item_count,
            t.turn_count,
            t.cwd
                .as_deref()
                .map(|c| c.display().to_string())
                .unwrap_or_default(),
            clip_end(&t.preview, 40)
        )?;
    }
    let stats = store.store_stats(StoreStatsParams::default()).await?;
    outln!(
        "store left in {target} ({:.1} MiB on disk)",
        stats.bytes_on_disk as f64 / (1024.0 * 1024.0)
    )?;
    Ok(())
}

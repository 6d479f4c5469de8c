//! `threadstore stats`: threads (active and archived), items, turns, the feed head, bytes on disk
//! and live actors, as a table or (`--json`) one object:
//! `{"threads", "activeThreads", "archivedThreads", "items", "turns", "feedHead", "bytesOnDisk",
//! "liveActors", "subscribers", "searchIndex": {"applied", "lag", "bytesOnDisk", "failure"} |
//! null}`.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use threadstore::{ListThreadsParams, StoreStatsParams, ThreadStore, MAX_PAGE_SIZE};

use super::common::{self, Open};
use super::layout::Layout;

/// `stats` options.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Default)]
struct Counts {
    threads: u64,
    items: u64,
    turns: u64,
}

/// Pages through one collection (active or archived) and sums it up.
async fn count(store: &dyn ThreadStore, archived: bool) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    let mut cursor = None;
    loop {
        let page = store
            .list_threads(ListThreadsParams {
                page_size: MAX_PAGE_SIZE,
                cursor: cursor.take(),
                archived,
                ..Default::default()
            })
            .await?;
        for t in &page.items {
            counts.threads += 1;
            counts.items += t.item_count;
            counts.turns += t.turn_count;
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(counts),
        }
    }
}

/// Prints the store's counters.
pub async fn run(
    target: &common::Target,
    args: StatsArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let (active, archived, feed_head, bytes, live, subscribers, search, feed_lag) =
        common::with_target(target, Open::Existing, async |store| {
            let active = count(store, false).await?;
            let archived = count(store, true).await?;
            let stats = store.store_stats(StoreStatsParams::default()).await?;
            Ok((
                active,
                archived,
                stats.feed_head,
                stats.bytes_on_disk,
                stats.live_actors,
                stats.subscribers,
                stats.search_index,
                stats.feed_lag,
            ))
        })
        .await?;
    if args.json {
        common::print_json(&json!({
            "threads": active.threads + archived.threads,
            "activeThreads": active.threads,
            "archivedThreads": archived.threads,
            "items": active.items + archived.items,
            "turns": active.turns + archived.turns,
            "feedHead": feed_head,
            "bytesOnDisk": bytes,
            "liveActors": live,
            "subscribers": subscribers,
            "searchIndex": search,
            "feedLag": feed_lag,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        (
            match target {
                common::Target::Local(_) => "data directory",
                common::Target::Postgres { .. } => "database",
                common::Target::Remote { .. } => "server",
            },
            target.to_string(),
        ),
        (
            "threads",
            format!(
                "{} ({} active, {} archived)",
                active.threads + archived.threads,
                active.threads,
                archived.threads
            ),
        ),
        ("items", (active.items + archived.items).to_string()),
        ("turns", (active.turns + archived.turns).to_string()),
        ("feed head", format!("{feed_head} (next event position)")),
    ];
    if let Some(lag) = feed_lag {
        rows.push((
            "feed lag",
            format!("{lag} events committed, not yet delivered here"),
        ));
    }
    rows.extend([
        (
            "bytes on disk",
            format!("{bytes} ({:.1} MiB)", bytes as f64 / (1024.0 * 1024.0)),
        ),
        ("live actors", live.to_string()),
    ]);
    rows.push((
        "search index",
        match &search {
            None => "none (the store keeps no search index)".into(),
            Some(s) => format!(
                "{} events behind, {:.1} MiB{}",
                s.lag,
                s.bytes_on_disk as f64 / (1024.0 * 1024.0),
                s.failure
                    .as_deref()
                    .map(|f| format!("; failing: {f}"))
                    .unwrap_or_default()
            ),
        },
    ));
    common::print_key_values(rows, &layout)?;
    Ok(ExitCode::SUCCESS)
}

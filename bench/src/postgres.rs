//! The PostgreSQL rows (`--only pg`, with a database given by `--postgres URL`): threadstore on
//! PostgreSQL (`threadstore-pg`, a fresh schema per store) next to threadstore on sled and
//! SQLite, in the same run: W1 durable appends (1, 8 and 64 writers over 1,000 threads), W3
//! (newest 50 turns) and W4 (`load_history`), W5 (the first page of the thread list) and the
//! feed's catch-up rate from the beginning.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use futures::StreamExt;
use threadstore::{
    FeedMessage, FeedStart, ListThreadsParams, SortDirection, SubscribeParams, ThreadSortKey,
};

use super::compare::{self, append_run, latency_cell, sample, thousands, Budget, Cell, Row};
use super::contenders::{self, Contender, Mode, Threadstore};
use super::scratch;

/// The columns of the PostgreSQL table.
pub const NAMES: [&str; 3] = ["threadstore", "sqlite", "threadstore-pg"];

/// Opens `name` (`threadstore-pg` on the database at `url`).
async fn open(
    url: &str,
    name: &'static str,
    dir: &Path,
    mode: Mode,
    threads: usize,
) -> anyhow::Result<Arc<dyn Contender>> {
    Ok(match name {
        "threadstore-pg" => Arc::new(Threadstore::open_postgres(url, threads).await?),
        other => contenders::open(other, dir, mode, threads).await?,
    })
}

/// The rows and the table.
pub async fn table(
    url: &str,
    scratch: &Path,
    budget: Budget,
    quick: bool,
) -> anyhow::Result<String> {
    let mut rows = Vec::new();
    let threads = 1_000;
    for writers in [1usize, 8, 64] {
        let mut cells = Vec::new();
        for name in NAMES {
            let dir = scratch.join(format!("pg-{name}-w1-{writers}"));
            scratch::ensure_empty(&dir)?;
            let c = open(url, name, &dir, Mode::Durable, threads).await?;
            let (rate, p99, _) = append_run(
                c.clone(),
                writers,
                threads,
                budget.max_durable_items,
                budget.append_time,
            )
            .await
            .with_context(|| format!("{name}: W1 appends"))?;
            c.close().await?;
            let _ = std::fs::remove_dir_all(&dir);
            cells.push(Some(Cell {
                value: rate,
                text: format!("{}/s, p99 {}", thousands(rate), compare::dur(p99)),
            }));
        }
        rows.push(Row {
            label: format!("W1 durable appends, {writers} writer(s), items/s"),
            floor: String::new(),
            cells,
        });
    }
    let url_owned = url.to_owned();
    let opener = move |name: &'static str, dir: std::path::PathBuf, mode: Mode, threads: usize| {
        let url = url_owned.clone();
        Box::pin(async move { open(&url, name, &dir, mode, threads).await })
            as futures::future::BoxFuture<'static, anyhow::Result<Arc<dyn Contender>>>
    };
    let pg_scratch = scratch.join("pg-reads");
    std::fs::create_dir_all(&pg_scratch)?;
    rows.extend(compare::reads_of(&NAMES, &opener, &pg_scratch, budget).await?);
    rows.push(listing(url, scratch, budget, if quick { 1_000 } else { 10_000 }).await?);
    rows.push(catch_up(url, scratch, budget, if quick { 2_000 } else { 50_000 }).await?);
    Ok(compare::table_of(&NAMES, &rows))
}

/// The threadstore stores of a row (sled, PostgreSQL) with `threads` threads; SQLite has no cell.
async fn stores(
    url: &str,
    scratch: &Path,
    what: &str,
    threads: usize,
) -> anyhow::Result<Vec<Option<Threadstore>>> {
    let dir = scratch.join(format!("pg-{what}"));
    scratch::ensure_empty(&dir)?;
    Ok(vec![
        Some(Threadstore::open(&dir, Mode::Durable, threads).await?),
        None,
        Some(Threadstore::open_postgres(url, threads).await?),
    ])
}

/// W5: the first page of 50 threads by `updated_at`, `n` threads, each with one append.
async fn listing(url: &str, scratch: &Path, budget: Budget, n: usize) -> anyhow::Result<Row> {
    let mut cells = Vec::new();
    for store in stores(url, scratch, "w5", n).await? {
        let Some(store) = store else {
            cells.push(None);
            continue;
        };
        let store = Arc::new(store);
        let c: Arc<dyn Contender> = store.clone();
        append_run(c, 64, n, n, budget.append_time * 6).await?;
        let s = store.clone();
        let lat = sample(budget.max_samples, budget.read_time, move || {
            let s = s.clone();
            async move {
                let page = s
                    .api()
                    .list_threads(ListThreadsParams {
                        page_size: 50,
                        sort_key: ThreadSortKey::UpdatedAt,
                        sort_direction: SortDirection::Desc,
                        ..Default::default()
                    })
                    .await?;
                Ok(page.items.len())
            }
        })
        .await?;
        cells.push(Some(latency_cell(&lat, 0.99, "p99")));
        let c: Arc<dyn Contender> = store;
        c.close().await?;
    }
    Ok(Row {
        label: format!(
            "W5 list_threads page of 50 by updated_at, {} threads, p50",
            thousands(n as f64)
        ),
        floor: String::new(),
        cells,
    })
}

/// The feed from the beginning to its head, after `items` durable appends from 64 writers over
/// 100 threads: events per second.
async fn catch_up(url: &str, scratch: &Path, budget: Budget, items: usize) -> anyhow::Result<Row> {
    let mut cells = Vec::new();
    let mut events = 0;
    for store in stores(url, scratch, "feed", 100).await? {
        let Some(store) = store else {
            cells.push(None);
            continue;
        };
        let store = Arc::new(store);
        let c: Arc<dyn Contender> = store.clone();
        append_run(c, 64, 100, items, budget.append_time * 6).await?;
        // Every event has its position (on PostgreSQL the sequencer may trail the last commits).
        store.actor_store().journal().settle_feed().await?;
        let started = Instant::now();
        let mut feed = store
            .api()
            .subscribe(SubscribeParams {
                start: FeedStart::Beginning,
                buffer: 8_192,
                ..Default::default()
            })
            .await?;
        let mut n = 0usize;
        while let Some(message) = feed.next().await {
            match message? {
                FeedMessage::Event(_) => n += 1,
                FeedMessage::Live { .. } => break,
                FeedMessage::Lagged { resume_from } => {
                    anyhow::bail!("catch-up lagged at {resume_from}")
                }
            }
        }
        let rate = n as f64 / started.elapsed().as_secs_f64();
        events = events.max(n);
        cells.push(Some(Cell {
            value: rate,
            text: format!("{} events/s", thousands(rate)),
        }));
        drop(feed);
        let c: Arc<dyn Contender> = store;
        c.close().await?;
    }
    Ok(Row {
        label: format!(
            "feed catch-up from the beginning ({} events), events/s",
            thousands(events as f64)
        ),
        floor: String::new(),
        cells,
    })
}

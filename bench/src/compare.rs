//! W1–W4 against every contender, and the Markdown table that compares them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use threadstore::codex::generate::realistic_turn_items;
use threadstore::{RolloutItem, RolloutLine};

use super::contenders::{self, Contender, Mode, NAMES};
use super::scratch;

/// How much work each measurement may do.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Most items appended per append run, over all writers.
    pub max_durable_items: usize,
    /// Same, buffered.
    pub max_buffered_items: usize,
    /// Time cap of one append run.
    pub append_time: Duration,
    /// Thread sizes for W3.
    pub page_sizes: &'static [usize],
    /// Most samples of one read measurement.
    pub max_samples: usize,
    /// Time cap of one read measurement (at least 3 samples are taken).
    pub read_time: Duration,
}

/// One measured figure: the number the ratio uses and its rendering.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Items/s (higher is better) or latency in seconds (lower is better).
    pub value: f64,
    /// What the table shows before the ratio.
    pub text: String,
}

/// One table row: a label, the disk floor's figure, and one cell per contender in [`NAMES`] order.
#[derive(Clone, Debug)]
pub struct Row {
    /// Workload and variant.
    pub label: String,
    /// The physical floor for this row, if it has one.
    pub floor: String,
    /// Per contender (None: failed or not run).
    pub cells: Vec<Option<Cell>>,
}

/// Percentile of sorted samples.
pub(crate) fn pick(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `writers` tasks append single items round-robin over `threads` threads until `max_items` are
/// appended in all or `time` has passed. Returns items/s, p99 and the number of items appended.
pub(crate) async fn append_run(
    c: Arc<dyn Contender>,
    writers: usize,
    threads: usize,
    max_items: usize,
    time: Duration,
) -> anyhow::Result<(f64, Duration, usize)> {
    let items: Arc<Vec<RolloutItem>> = Arc::new(realistic_turn_items(0, Some("turn-0"), 1024));
    let per_writer = (max_items / writers).max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (c, items) = (c.clone(), items.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_writer);
            for i in 0..per_writer {
                if started.elapsed() > time {
                    break;
                }
                let thread = (w + i * writers) % threads;
                let item = &items[(w + i) % items.len()];
                let at = Instant::now();
                c.append(thread, std::slice::from_ref(item)).await?;
                lat.push(at.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed();
    lat.sort();
    anyhow::ensure!(!lat.is_empty(), "no append finished in time");
    Ok((
        lat.len() as f64 / elapsed.as_secs_f64(),
        pick(&lat, 0.99),
        lat.len(),
    ))
}

/// Samples `f` (after one warm-up call) until `max` samples or `time` (at least 3 samples).
pub(crate) async fn sample<F, Fut>(
    max: usize,
    time: Duration,
    mut f: F,
) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    f().await?;
    let started = Instant::now();
    let mut lat = Vec::new();
    while lat.len() < max && (lat.len() < 3 || started.elapsed() < time) {
        let at = Instant::now();
        std::hint::black_box(f().await?);
        lat.push(at.elapsed());
    }
    lat.sort();
    Ok(lat)
}

/// What [`appends`] measured: the W1/W2 rows, the W9 footprint row, and each contender's W1
/// 64-writer p99 (W8 compares against it).
pub struct AppendRuns {
    /// W1 and W2 rows.
    pub rows: Vec<Row>,
    /// W9: bytes on disk per item after the W1 64-writer run (and after a reopen).
    pub footprint: Row,
    /// W1 64 writers' p99 per contender name.
    pub w1_p99: HashMap<String, Duration>,
}

/// Mean JSONL line bytes (with its newline) and mean kind + payload bytes of the items W1 appends.
fn raw_item_bytes() -> (f64, f64) {
    let items = realistic_turn_items(0, Some("turn-0"), 1024);
    let n = items.len().max(1) as f64;
    let lines: usize = items
        .iter()
        .map(|i| RolloutLine::now(i.clone()).to_json_line().len() + 1)
        .sum();
    let payload: usize = items
        .iter()
        .map(|i| i.kind().len() + i.payload_json().len())
        .sum();
    (lines as f64 / n, payload as f64 / n)
}

/// W1 (durable) and W2 (buffered) appends for 1, 8 and 64 writers over 1,000 threads; after the
/// W1 64-writer run, W9: the store's bytes on disk per item appended, closed and then reopened.
pub async fn appends(
    scratch: &Path,
    budget: Budget,
    floor_durable: &str,
    floor_buffered: &str,
) -> anyhow::Result<AppendRuns> {
    let threads = 1_000;
    let mut rows = Vec::new();
    let mut w1_p99 = HashMap::new();
    let mut footprint = Vec::new();
    for mode in [Mode::Durable, Mode::Buffered] {
        for writers in [1usize, 8, 64] {
            let (label, max, floor) = match mode {
                Mode::Durable => ("W1 durable", budget.max_durable_items, floor_durable),
                Mode::Buffered => ("W2 buffered", budget.max_buffered_items, floor_buffered),
            };
            let w9 = mode == Mode::Durable && writers == 64;
            let mut cells = Vec::new();
            for name in NAMES {
                let dir = scratch.join(format!("{name}-{mode:?}-{writers}"));
                scratch::ensure_empty(&dir)?;
                let c = contenders::open(name, &dir, mode, threads).await?;
                let (rate, p99, count) =
                    append_run(c.clone(), writers, threads, max, budget.append_time)
                        .await
                        .with_context(|| format!("{}: {label} appends", c.name()))?;
                c.close().await?;
                if w9 {
                    w1_p99.insert(name.to_owned(), p99);
                    let closed = scratch::disk_usage(&dir)? as f64 / count as f64;
                    contenders::reopen(name, &dir)
                        .await
                        .with_context(|| format!("{name}: W9 reopen"))?;
                    let reopened = scratch::disk_usage(&dir)? as f64 / count as f64;
                    footprint.push(Some(Cell {
                        value: reopened,
                        text: format!(
                            "{} B/item (closed: {}), {} items",
                            thousands(reopened),
                            thousands(closed),
                            thousands(count as f64)
                        ),
                    }));
                }
                let _ = std::fs::remove_dir_all(&dir);
                cells.push(Some(Cell {
                    value: rate,
                    text: format!("{}/s, p99 {}", thousands(rate), dur(p99)),
                }));
            }
            rows.push(Row {
                label: format!("{label} appends, {writers} writer(s), items/s"),
                floor: floor.to_owned(),
                cells,
            });
        }
    }
    let (line, payload) = raw_item_bytes();
    Ok(AppendRuns {
        rows,
        footprint: Row {
            label: "W9 footprint: allocated bytes on disk per item after W1 (64 writers), \
                    after a reopen"
                .into(),
            floor: format!(
                "raw item: {} B as a JSONL line, {} B kind + payload",
                thousands(line),
                thousands(payload)
            ),
            cells: footprint,
        },
        w1_p99,
    })
}

/// The items of a thread of `n` items: turns of 12 realistic ~1 KiB items with unique ids.
pub(crate) fn thread_turns(n: usize) -> Vec<Vec<RolloutItem>> {
    let mut turns = Vec::new();
    let mut count = 0;
    let mut t = 0;
    while count < n {
        let mut items = realistic_turn_items(t, Some(&format!("turn-{t}")), 1024);
        items.truncate(n - count);
        count += items.len();
        turns.push(items);
        t += 1;
    }
    turns
}

/// Opens a contender by name in an empty directory (mode, threads): how a group of rows gets
/// its contenders.
pub(crate) type Opener<'a> = &'a (dyn Fn(
    &'static str,
    std::path::PathBuf,
    Mode,
    usize,
) -> futures::future::BoxFuture<'static, anyhow::Result<Arc<dyn Contender>>>
         + Sync);

/// W3 (newest summary page of 50 turns on threads of each size) and W4 (load_history of 10,000
/// items), on a buffered store of each contender holding one thread per size.
pub async fn reads(scratch: &Path, budget: Budget) -> anyhow::Result<Vec<Row>> {
    let open: Opener = &|name, dir, mode, threads| {
        Box::pin(async move { contenders::open(name, &dir, mode, threads).await })
    };
    reads_of(&NAMES, open, scratch, budget).await
}

/// [`reads`] over the contenders `names`, opened by `open`.
pub(crate) async fn reads_of(
    names: &[&'static str],
    open: Opener<'_>,
    scratch: &Path,
    budget: Budget,
) -> anyhow::Result<Vec<Row>> {
    let sizes = budget.page_sizes;
    let data: Vec<Arc<Vec<Vec<RolloutItem>>>> =
        sizes.iter().map(|&n| Arc::new(thread_turns(n))).collect();
    let history_thread = sizes
        .iter()
        .position(|&n| n == 10_000)
        .ok_or_else(|| anyhow::anyhow!("W4 needs the 10,000-item thread"))?;
    let mut w3: Vec<Vec<Option<Cell>>> = vec![Vec::new(); sizes.len()];
    let mut w4 = Vec::new();
    for &name in names {
        let dir = scratch.join(format!("{name}-reads"));
        scratch::ensure_empty(&dir)?;
        let c = open(name, dir.clone(), Mode::Buffered, sizes.len()).await?;
        for (thread, turns) in data.iter().enumerate() {
            for turn in turns.iter() {
                c.append(thread, turn)
                    .await
                    .with_context(|| format!("{}: filling thread {thread}", c.name()))?;
            }
        }
        for (thread, _) in sizes.iter().enumerate() {
            let c2 = c.clone();
            let lat = sample(budget.max_samples, budget.read_time, move || {
                let c = c2.clone();
                async move {
                    let n = c.turns_page_newest(thread, 50).await?;
                    anyhow::ensure!(n == 50, "expected 50 turns, got {n}");
                    Ok(n)
                }
            })
            .await?;
            w3[thread].push(Some(latency_cell(&lat, 0.99, "p99")));
        }
        let c2 = c.clone();
        let expected = sizes[history_thread];
        let lat = sample(budget.max_samples, budget.read_time, move || {
            let c = c2.clone();
            async move {
                let n = c.load_history(history_thread).await?;
                // threadstore's create_thread records a `session_meta` line first.
                anyhow::ensure!(
                    n == expected || n == expected + 1,
                    "expected {expected} items, got {n}"
                );
                Ok(n)
            }
        })
        .await?;
        w4.push(Some(latency_cell(&lat, 0.95, "p95")));
        c.close().await?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut rows: Vec<Row> = sizes
        .iter()
        .zip(w3)
        .map(|(n, cells)| Row {
            label: format!(
                "W3 newest 50 turns (summary), thread of {} items, p50",
                thousands(*n as f64)
            ),
            floor: String::new(),
            cells,
        })
        .collect();
    rows.push(Row {
        label: "W4 load_history, 10,000 items of ~1 KiB, p50".into(),
        floor: String::new(),
        cells: w4,
    });
    Ok(rows)
}

pub(crate) fn latency_cell(sorted: &[Duration], tail: f64, tail_name: &str) -> Cell {
    let p50 = pick(sorted, 0.5);
    Cell {
        value: p50.as_secs_f64(),
        text: format!("{}, {tail_name} {}", dur(p50), dur(pick(sorted, tail))),
    }
}

/// The table in Markdown: each contender's cell with its ratio to threadstore's figure.
pub fn table(rows: &[Row]) -> String {
    table_of(&NAMES, rows)
}

/// [`table`] with the columns `names`.
pub(crate) fn table_of(names: &[&str], rows: &[Row]) -> String {
    let mut out = String::from("| workload |");
    for name in names {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str(" disk floor |\n|---|");
    for _ in names {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for row in rows {
        out.push_str(&format!("| {} |", row.label));
        let base = row.cells.first().cloned().flatten();
        for (i, cell) in row.cells.iter().enumerate() {
            let text = match (cell, &base) {
                (Some(c), Some(b))
                    if i > 0 && c.value.is_finite() && b.value.is_finite() && b.value > 0.0 =>
                {
                    format!(" {} ({}×) |", c.text, ratio(c.value / b.value))
                }
                (Some(c), _) => format!(" {} |", c.text),
                (None, _) => " — |".to_string(),
            };
            out.push_str(&text);
        }
        let floor = if row.floor.is_empty() {
            "—"
        } else {
            &row.floor
        };
        out.push_str(&format!(" {floor} |\n"));
    }
    out
}

fn ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else if r >= 0.1 {
        format!("{r:.2}")
    } else {
        format!("{r:.3}")
    }
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A latency in µs, ms or s.
pub fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

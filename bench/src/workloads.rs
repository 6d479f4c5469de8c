//! W5–W8: thread listing, cold open and recovery, memory per thread, mixed reads and writes.
//! (W9, the footprint on disk, is measured right after W1 in [`super::compare::appends`].)

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use threadstore::codex::generate::realistic_turn_items;

use super::child::{self, ChildSpec};
use super::compare::{append_run, dur, latency_cell, pick, sample, thousands, Budget, Cell, Row};
use super::contenders::{self, Mode, NAMES};
use super::corpus::{cwd_of, cwds, Corpus};
use super::listing::{self, Lister, LISTERS};
use super::scratch;

/// Sizes of the W5–W7 stores.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// W5: threads listed.
    pub list_threads: usize,
    /// W6: threads of the cold-open store.
    pub cold_threads: usize,
    /// W6: lines per thread of the cold-open store.
    pub cold_lines: usize,
    /// W7: live thread actors.
    pub actors: usize,
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

/// Fills one store per listing contender in `names` with `corpus`, generating each batch of
/// threads once and inserting it into every store concurrently. Returns the directories.
async fn populate(
    scratch: &Path,
    tag: &str,
    names: &[&str],
    corpus: &Corpus,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut dirs = Vec::new();
    let mut stores: Vec<Arc<dyn Lister>> = Vec::new();
    for name in names {
        let dir = scratch.join(format!("{tag}-{name}"));
        scratch::ensure_empty(&dir)?;
        stores.push(listing::open(name, &dir, true).await?);
        dirs.push(dir);
    }
    let chunk = (20_000 / corpus.lines_per_thread()).clamp(1, 1_000);
    let mut start = 0;
    while start < corpus.threads() {
        let end = (start + chunk).min(corpus.threads());
        let batch = Arc::new((start..end).map(|i| corpus.thread(i)).collect::<Vec<_>>());
        futures::future::try_join_all(stores.iter().map(|s| s.insert(batch.clone())))
            .await
            .with_context(|| format!("populating {tag}"))?;
        start = end;
    }
    for s in stores {
        s.close().await?;
    }
    Ok(dirs)
}

fn na(text: &str) -> Option<Cell> {
    Some(Cell {
        value: f64::NAN,
        text: text.to_owned(),
    })
}

/// The cells of a row over [`NAMES`] from per-lister cells (sled-raw: not applicable).
fn by_name(mut cells: HashMap<&str, Option<Cell>>, missing: &str) -> Vec<Option<Cell>> {
    NAMES
        .iter()
        .map(|n| cells.remove(n).unwrap_or_else(|| na(missing)))
        .collect()
}

/// W5: the first page of 50 threads by `updated_at` among `threads`, without and with a cwd
/// filter (which keeps 1 % of them).
pub async fn w5(scratch: &Path, sizes: Sizes, budget: Budget) -> anyhow::Result<Vec<Row>> {
    let corpus = Corpus::new(sizes.list_threads, 13);
    let at = Instant::now();
    let dirs = populate(scratch, "w5", &LISTERS, &corpus).await?;
    tracing::info!(elapsed = ?at.elapsed(), "w5 populated");
    let mut plain = HashMap::new();
    let mut filtered = HashMap::new();
    for (name, dir) in LISTERS.iter().zip(&dirs) {
        let lister = listing::open(name, dir, false).await?;
        for (cwd, cells) in [
            (None, &mut plain),
            (Some(cwd_of(7, corpus.threads())), &mut filtered),
        ] {
            let l = lister.clone();
            let lat = sample(budget.max_samples, budget.read_time, move || {
                let (l, cwd) = (l.clone(), cwd.clone());
                async move {
                    let n = l.page(cwd).await?;
                    anyhow::ensure!(n == listing::PAGE, "page of {n} threads");
                    Ok(n)
                }
            })
            .await
            .with_context(|| format!("{name}: W5 listing"))?;
            cells.insert(*name, Some(latency_cell(&lat, 0.99, "p99")));
        }
        lister.close().await?;
        let _ = std::fs::remove_dir_all(dir);
    }
    let n = thousands(corpus.threads() as f64);
    let missing = "n/a (no metadata index)";
    Ok(vec![
        Row {
            label: format!("W5 list_threads page of 50 by updated_at, {n} threads, p50"),
            floor: String::new(),
            cells: by_name(plain, missing),
        },
        Row {
            label: format!(
                "W5 same, cwd filter (1 in {} threads match), {n} threads, p50",
                cwds(corpus.threads())
            ),
            floor: String::new(),
            cells: by_name(filtered, missing),
        },
    ])
}

fn field(v: &Value, key: &str) -> anyhow::Result<f64> {
    v[key]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("child figures lack {key}: {v}"))
}

/// W6: a cold process opens a store of `cold_threads × cold_lines` items and lists the first page
/// (after a clean shutdown, then after a writer was killed with SIGKILL); time and RSS.
pub async fn w6(scratch: &Path, sizes: Sizes, quick: bool) -> anyhow::Result<Vec<Row>> {
    let corpus = Corpus::new(sizes.cold_threads, sizes.cold_lines);
    let at = Instant::now();
    let dirs = populate(scratch, "w6", &LISTERS, &corpus).await?;
    tracing::info!(elapsed = ?at.elapsed(), "w6 populated");
    let (mut clean, mut rss, mut crash) = (HashMap::new(), HashMap::new(), HashMap::new());
    for (name, dir) in LISTERS.iter().zip(&dirs) {
        let size = scratch::disk_usage(dir)? as f64;
        let spec = ChildSpec {
            op: "open".into(),
            kind: (*name).into(),
            dir: dir.clone(),
            n: 0,
        };
        let v = child::spawn(&spec).await?;
        let first = field(&v, "first_page_us")? / 1e6;
        clean.insert(
            *name,
            Some(Cell {
                value: first,
                text: format!(
                    "{} (open {}), read {} of {}",
                    dur(Duration::from_secs_f64(first)),
                    dur(Duration::from_secs_f64(field(&v, "open_us")? / 1e6)),
                    mib(field(&v, "read_bytes")?),
                    mib(size)
                ),
            }),
        );
        // The same open again: what a store opened before by a process that wrote little costs.
        let again = child::spawn(&spec).await?;
        if let Some(Some(cell)) = clean.get_mut(name) {
            cell.text.push_str(&format!(
                "; second open: {}, read {}",
                dur(Duration::from_secs_f64(
                    field(&again, "first_page_us")? / 1e6
                )),
                mib(field(&again, "read_bytes")?)
            ));
        }
        let kib = field(&v, "rss_kib")?;
        rss.insert(
            *name,
            Some(Cell {
                value: kib,
                text: format!(
                    "{} (at start {})",
                    mib(kib * 1024.0),
                    mib(field(&v, "rss_before_kib")? * 1024.0)
                ),
            }),
        );
        if *name == "threadstore" {
            let v = child::spawn(&ChildSpec {
                op: "sled-open".into(),
                ..spec.clone()
            })
            .await?;
            clean.insert(
                "sled-raw",
                na(&format!(
                    "n/a (no listing); sled alone opening threadstore's store (third open): {}, \
                     read {}",
                    dur(Duration::from_secs_f64(field(&v, "open_us")? / 1e6)),
                    mib(field(&v, "read_bytes")?)
                )),
            );
        }
        let churn = ChildSpec {
            op: "churn".into(),
            n: 500,
            ..spec.clone()
        };
        let wrote = child::churn_and_kill(
            &churn,
            Duration::from_millis(if quick { 300 } else { 1_000 }),
        )
        .await
        .with_context(|| format!("{name}: W6 churn"))?;
        let v = child::spawn(&spec).await?;
        let first = field(&v, "first_page_us")? / 1e6;
        crash.insert(
            *name,
            Some(Cell {
                value: first,
                text: format!(
                    "{} (open {}; writer killed after {wrote:.1} s)",
                    dur(Duration::from_secs_f64(first)),
                    dur(Duration::from_secs_f64(field(&v, "open_us")? / 1e6)),
                ),
            }),
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    let what = format!(
        "{} items in {} threads{}",
        thousands(corpus.items() as f64),
        thousands(corpus.threads() as f64),
        if quick { " (--quick: small store)" } else { "" }
    );
    let missing = "n/a (no listing)";
    Ok(vec![
        Row {
            label: format!("W6 cold open → first list page, clean shutdown, {what}"),
            floor: "OS page cache warm".into(),
            cells: by_name(clean, missing),
        },
        Row {
            label: format!("W6 RSS after cold open + first page, {what}"),
            floor: String::new(),
            cells: by_name(rss, missing),
        },
        Row {
            label: format!("W6 recovery: open → first page after kill -9 of a writer, {what}"),
            floor: String::new(),
            cells: by_name(crash, missing),
        },
    ])
}

/// W7: RSS per thread with `actors` live thread actors, and after they are passivated.
pub async fn w7(scratch: &Path, sizes: Sizes) -> anyhow::Result<Vec<Row>> {
    let n = sizes.actors;
    let corpus = Corpus::new(n, 13);
    let dirs = populate(scratch, "w7", &["threadstore"], &corpus).await?;
    let dir = dirs
        .first()
        .ok_or_else(|| anyhow::anyhow!("no W7 store"))?
        .clone();
    let v = child::spawn(&ChildSpec {
        op: "actors".into(),
        kind: "threadstore".into(),
        dir: dir.clone(),
        n,
    })
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    let base = field(&v, "rss_base_kib")?;
    let per = |k: &str| -> anyhow::Result<f64> { Ok((field(&v, k)? - base) / n as f64) };
    let (live, passive, trimmed) = (
        per("rss_live_kib")?,
        per("rss_passive_kib")?,
        per("rss_trimmed_kib")?,
    );
    let missing = "n/a (no thread actors)";
    let mut cells_live = HashMap::new();
    cells_live.insert(
        "threadstore",
        Some(Cell {
            value: live,
            text: format!(
                "{live:.2} KiB/thread ({} live, activated in {})",
                thousands(field(&v, "live")?),
                dur(Duration::from_secs_f64(field(&v, "activate_us")? / 1e6))
            ),
        }),
    );
    let mut cells_passive = HashMap::new();
    cells_passive.insert(
        "threadstore",
        Some(Cell {
            value: passive,
            text: format!("{passive:.2} KiB/thread ({trimmed:.2} after returning free heap: mi_collect, malloc_trim)"),
        }),
    );
    let n = thousands(n as f64);
    Ok(vec![
        Row {
            label: format!(
                "W7 RSS per live thread actor, {n} resumed threads, over the open store"
            ),
            floor: String::new(),
            cells: by_name(cells_live, missing),
        },
        Row {
            label: format!("W7 RSS per thread after all {n} are passivated"),
            floor: String::new(),
            cells: by_name(cells_passive, missing),
        },
    ])
}

/// W8: 64 durable writers appending (as in W1) while 8 readers page the newest 50 turns of random
/// threads among `threads` (W1 uses 1,000; `--quick` fewer, to keep the prefill short); the
/// writers' p99 against W1's 64-writer p99 of the same run (`w1_p99`).
pub async fn w8(
    scratch: &Path,
    budget: Budget,
    threads: usize,
    w1_p99: &HashMap<String, Duration>,
) -> anyhow::Result<Row> {
    let turn = Arc::new(realistic_turn_items(0, Some("turn-0"), 1024));
    let mut cells = Vec::new();
    for name in NAMES {
        let dir = scratch.join(format!("{name}-w8"));
        scratch::ensure_empty(&dir)?;
        let c = contenders::open(name, &dir, Mode::Durable, threads).await?;
        // Every thread starts with one full turn, so readers always have turns to page.
        futures::future::try_join_all((0..64).map(|w| {
            let (c, turn) = (c.clone(), turn.clone());
            async move {
                for t in (w..threads).step_by(64) {
                    c.append(t, &turn).await?;
                }
                anyhow::Ok(())
            }
        }))
        .await
        .with_context(|| format!("{name}: W8 prefill"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..8)
            .map(|r| {
                let (c, stop) = (c.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut t = r * 127;
                    while !stop.load(Ordering::Relaxed) {
                        t = (t + 389) % threads;
                        let at = Instant::now();
                        c.turns_page_newest(t, 50).await?;
                        lat.push(at.elapsed());
                    }
                    anyhow::Ok(lat)
                })
            })
            .collect();
        let writes = append_run(
            c.clone(),
            64,
            threads,
            budget.max_durable_items,
            budget.append_time,
        )
        .await;
        stop.store(true, Ordering::Relaxed);
        let mut reads = Vec::new();
        for r in readers {
            reads.extend(r.await??);
        }
        let (rate, p99, _) = writes.with_context(|| format!("{name}: W8 appends"))?;
        c.close().await?;
        let _ = std::fs::remove_dir_all(&dir);
        reads.sort();
        let vs = match w1_p99.get(name) {
            Some(w1) => format!(
                "{:.2}× W1's {}",
                p99.as_secs_f64() / w1.as_secs_f64().max(1e-9),
                dur(*w1)
            ),
            None => "W1 not run".into(),
        };
        let reads_text = if reads.is_empty() {
            "no reads".to_owned()
        } else {
            format!(
                "{} reads p50 {}, p99 {}",
                thousands(reads.len() as f64),
                dur(pick(&reads, 0.5)),
                dur(pick(&reads, 0.99))
            )
        };
        cells.push(Some(Cell {
            value: p99.as_secs_f64(),
            text: format!(
                "writers {}/s, p99 {} ({vs}); {reads_text}",
                thousands(rate),
                dur(p99)
            ),
        }));
    }
    Ok(Row {
        label: format!(
            "W8 mixed: 64 durable writers + 8 turn-page readers over {} threads, writers' p99",
            thousands(threads as f64)
        ),
        floor: String::new(),
        cells,
    })
}

//! W10: full-text search over a large body of threads (issue 15), threadstore against the two
//! ways a user would do it otherwise, in the same run:
//!
//! - **`jsonl`**: what Codex does — one JSON Lines file per thread, and a search scans every file
//!   for the term (case-insensitive, literal, like `rg -il`), on both cores;
//! - **`sqlite`**: an FTS5 table maintained in each append's transaction (the `items` row and
//!   its FTS row commit together), queried with `MATCH`, grouped by thread, ranked by summed
//!   `bm25`.
//!
//! The corpus: `threads` threads of 10 items each (user messages, agent answers, tool outputs)
//! whose words are drawn from a 30,000-word vocabulary with Zipf's law, so terms range from
//! common to rare. Queries: a common, a medium and a rare word, a two-word phrase taken from the
//! text and a prefix; each is run several times per contender and p50/p99 are over all runs.
//! Also: the index's bytes per item, the time to build each, and W1 (durable appends, 64
//! writers) with threadstore's index on and off: what indexing costs the append path.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rusqlite::{params, Connection};
use serde_json::json;
use threadstore::codex::generate::Rng;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, RolloutItem, RolloutLine,
    SearchThreadsParams, SledThreadStore, ThreadStore,
};

use super::compare::{append_run, dur, pick, thousands, Budget, Cell, Row};
use super::contenders::{Contender, Mode, Threadstore};
use super::scratch;

/// Items per generated thread.
const ITEMS_PER_THREAD: usize = 10;
/// Words in the vocabulary.
const VOCABULARY: usize = 30_000;
/// Hits per search page.
const PAGE: usize = 20;

/// Word `rank` of the vocabulary: pronounceable, distinct per rank.
fn word(rank: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ren", "tu", "vas", "qe", "zor", "pli", "dan", "sha", "vik", "nu", "fet",
        "gor", "ba",
    ];
    let mut n = rank + 16;
    let mut out = String::new();
    while n > 0 {
        out.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    out
}

/// The vocabulary with Zipf's law (s = 1): cumulative probabilities by rank.
struct Vocabulary {
    words: Vec<String>,
    cdf: Vec<f64>,
}

impl Vocabulary {
    fn new() -> Self {
        let weights: Vec<f64> = (1..=VOCABULARY).map(|r| 1.0 / r as f64).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        Self {
            words: (0..VOCABULARY).map(word).collect(),
            cdf,
        }
    }

    fn text(&self, rng: &mut Rng, words: usize) -> String {
        let mut out = String::with_capacity(words * 8);
        for i in 0..words {
            let u = rng.unit();
            let rank = self.cdf.partition_point(|&c| c < u).min(VOCABULARY - 1);
            if i > 0 {
                out.push(if i % 12 == 0 { '.' } else { ' ' });
                if i % 12 == 0 {
                    out.push(' ');
                }
            }
            out.push_str(&self.words[rank]);
        }
        out
    }
}

/// The items of thread `i`: prompts, answers and tool outputs of Zipf-distributed words.
fn thread_items(vocabulary: &Vocabulary, i: usize) -> Vec<RolloutItem> {
    let mut rng = Rng::new(i as u64 + 1);
    (0..ITEMS_PER_THREAD)
        .map(|k| match k % 4 {
            0 => RolloutItem::user_message(&vocabulary.text(&mut rng, 25)),
            2 => RolloutItem::event_msg(json!({
                "type": "exec_command_end", "call_id": format!("c{k}"),
                "command": ["bash", "-lc", "cargo test"], "exit_code": 0,
                "aggregated_output": vocabulary.text(&mut rng, 60),
            })),
            _ => RolloutItem::agent_message(&vocabulary.text(&mut rng, 70)),
        })
        .collect()
}

/// A query as each contender takes it.
struct Query {
    /// What it is (for the report).
    what: &'static str,
    /// threadstore's term.
    threadstore: String,
    /// FTS5's MATCH expression.
    fts: String,
    /// The literal text a file scan looks for.
    literal: String,
}

fn queries(vocabulary: &Vocabulary) -> Vec<Query> {
    let w = |rank: usize| vocabulary.words[rank].clone();
    let single = |what, rank| Query {
        what,
        threadstore: w(rank),
        fts: format!("\"{}\"", w(rank)),
        literal: w(rank),
    };
    // Two adjacent words of thread 1's first answer (so at least that thread has the phrase).
    let answer = thread_items(vocabulary, 1)[1].payload_value()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let words: Vec<&str> = answer.split([' ', '.']).filter(|w| !w.is_empty()).collect();
    let phrase = format!("{} {}", words[20], words[21]);
    let prefix = w(500)[..5].to_owned();
    vec![
        single("common word", 20),
        single("medium word", 500),
        single("rare word", 10_000),
        Query {
            what: "phrase",
            threadstore: format!("\"{phrase}\""),
            fts: format!("\"{phrase}\""),
            literal: phrase,
        },
        Query {
            what: "prefix",
            threadstore: format!("{prefix}*"),
            fts: format!("{prefix}*"),
            literal: prefix,
        },
    ]
}

/// Runs `f` `reps` times per query (after one warm-up), returning every latency, sorted.
async fn timed<F, Fut>(queries: &[Query], reps: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut(&Query) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut lat = Vec::new();
    for q in queries {
        f(q).await.with_context(|| format!("query {}", q.what))?;
        for _ in 0..reps {
            let at = Instant::now();
            std::hint::black_box(f(q).await?);
            lat.push(at.elapsed());
        }
    }
    lat.sort();
    Ok(lat)
}

fn latency_cell(lat: &[Duration]) -> Option<Cell> {
    Some(Cell {
        value: pick(lat, 0.5).as_secs_f64(),
        text: format!("p50 {}, p99 {}", dur(pick(lat, 0.5)), dur(pick(lat, 0.99))),
    })
}

/// threadstore: a sled store (buffered appends, one call per thread, 64 at a time), then the
/// wait for its index to catch up. Returns the store, the append time and the catch-up time.
async fn build_threadstore(
    dir: &Path,
    vocabulary: &Arc<Vocabulary>,
    threads: usize,
) -> anyhow::Result<(SledThreadStore, Duration, Duration)> {
    let store = Arc::new(
        SledThreadStore::builder(dir)
            .durability(Durability::Buffered)
            .open()
            .await?,
    );
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (store, next, vocabulary) = (store.clone(), next.clone(), vocabulary.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= threads {
                    return Ok::<_, anyhow::Error>(());
                }
                let w = store.create_thread(CreateThreadParams::default()).await?;
                store
                    .append_items(AppendThreadItemsParams::new(
                        w.thread_id,
                        thread_items(&vocabulary, i),
                    ))
                    .await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    store.actor_store().flush_all().await?;
    let appended = started.elapsed();
    let indexer = store.actor_store().search_indexer().await?;
    let head = store.actor_store().feed_head();
    anyhow::ensure!(
        indexer.sync(head, Duration::from_secs(3600)).await,
        "the search index did not catch up"
    );
    let indexed = started.elapsed() - appended;
    let store = Arc::try_unwrap(store).map_err(|_| anyhow::anyhow!("store still shared"))?;
    Ok((store, appended, indexed))
}

fn jsonl_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("rollout-{i:06}.jsonl"))
}

/// jsonl: one file per thread, written whole.
fn build_jsonl(dir: &Path, vocabulary: &Vocabulary, threads: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    std::fs::create_dir_all(dir)?;
    for i in 0..threads {
        let mut text = String::new();
        for item in thread_items(vocabulary, i) {
            text.push_str(&RolloutLine::now(item).to_json_line());
            text.push('\n');
        }
        std::fs::write(jsonl_path(dir, i), text)?;
    }
    Ok(started.elapsed())
}

/// Every file containing `literal`, case-insensitively (ASCII), scanned on two threads.
fn scan_jsonl(dir: &Path, threads: usize, literal: &str) -> anyhow::Result<usize> {
    let needle = literal.to_ascii_lowercase().into_bytes();
    let workers = 2;
    let found = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let needle = &needle;
                s.spawn(move || -> anyhow::Result<usize> {
                    let mut hits = 0;
                    for i in (w..threads).step_by(workers) {
                        let mut bytes = std::fs::read(jsonl_path(dir, i))?;
                        bytes.make_ascii_lowercase();
                        if bytes
                            .windows(needle.len())
                            .any(|win| win == needle.as_slice())
                        {
                            hits += 1;
                        }
                    }
                    Ok(hits)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("scan thread panicked"))?
            })
            .sum::<anyhow::Result<usize>>()
    })?;
    Ok(found)
}

/// sqlite: items and their FTS5 rows in one transaction per thread's append.
fn build_sqlite(path: &Path, vocabulary: &Vocabulary, threads: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE items (thread INTEGER NOT NULL, position INTEGER NOT NULL, line TEXT NOT NULL,
                             PRIMARY KEY (thread, position));
         CREATE VIRTUAL TABLE fts USING fts5(body, thread UNINDEXED, position UNINDEXED);",
    )?;
    for i in 0..threads {
        let tx = conn.transaction()?;
        for (position, item) in thread_items(vocabulary, i).into_iter().enumerate() {
            let line = RolloutLine::now(item.clone()).to_json_line();
            tx.execute(
                "INSERT INTO items (thread, position, line) VALUES (?1, ?2, ?3)",
                params![i as i64, position as i64, line],
            )?;
            let payload = item.payload_value();
            let body = ["message", "aggregated_output"]
                .iter()
                .filter_map(|k| payload[*k].as_str())
                .collect::<Vec<_>>()
                .join("\n");
            tx.execute(
                "INSERT INTO fts (body, thread, position) VALUES (?1, ?2, ?3)",
                params![body, i as i64, position as i64],
            )?;
        }
        tx.commit()?;
    }
    Ok(started.elapsed())
}

fn search_sqlite(conn: &Connection, fts: &str) -> anyhow::Result<usize> {
    let mut stmt = conn.prepare_cached(
        "SELECT thread, sum(bm25(fts)) AS score FROM fts WHERE fts MATCH ?1
         GROUP BY thread ORDER BY score LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![fts, PAGE as i64], |r| r.get::<_, i64>(0))?;
    Ok(rows.count())
}

fn sqlite_fts_bytes(conn: &Connection) -> anyhow::Result<u64> {
    Ok(conn.query_row(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'fts%'",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// W1 at 64 durable writers, threadstore with its index off and on, in `rounds` adjacent pairs
/// (the disk's speed drifts during a run: each pair is compared on its own). Returns the mean
/// rates, the median of the pairs' costs with their range, and with the index on how far it was
/// behind when the appends stopped and how long it took to catch up.
async fn indexing_cost(scratch: &Path, budget: Budget, rounds: usize) -> anyhow::Result<Row> {
    let threads = 1_000;
    let (mut on, mut off, mut costs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut lag, mut catch_up) = (0u64, Duration::ZERO);
    for round in 0..rounds {
        // Alternate which goes first, so neither always follows the other's cleanup.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        let mut pair = [0.0; 2];
        for search in order {
            let dir = scratch.join(format!("w10-w1-{search}-{round}"));
            scratch::ensure_empty(&dir)?;
            let ts = Arc::new(Threadstore::open_with(&dir, Mode::Durable, threads, search).await?);
            if search {
                // The thread creations are indexed before the appends start.
                let indexer = ts.actor_store().search_indexer().await?;
                indexer
                    .sync(ts.actor_store().feed_head(), Duration::from_secs(600))
                    .await;
            }
            let c: Arc<dyn Contender> = ts.clone();
            let (rate, _, _) =
                append_run(c, 64, threads, budget.max_durable_items, budget.append_time).await?;
            if search {
                let indexer = ts.actor_store().search_indexer().await?;
                lag = lag.max(indexer.status().lag);
                let at = Instant::now();
                indexer
                    .sync(ts.actor_store().feed_head(), Duration::from_secs(600))
                    .await;
                catch_up = catch_up.max(at.elapsed());
            }
            let c: Arc<dyn Contender> = ts;
            c.close().await?;
            let _ = std::fs::remove_dir_all(&dir);
            pair[usize::from(search)] = rate;
            if search {
                on.push(rate)
            } else {
                off.push(rate)
            }
        }
        costs.push((1.0 - pair[1] / pair[0]) * 100.0);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    costs.sort_by(f64::total_cmp);
    let median = costs[costs.len() / 2];
    let (low, high) = (costs[0], costs[costs.len() - 1]);
    Ok(Row {
        label: "W10 W1 durable appends, 64 writers: index on vs off (cost of indexing)".into(),
        floor: String::new(),
        cells: vec![
            Some(Cell {
                value: mean(&on),
                text: format!(
                    "on {}/s, off {}/s (means); cost {median:.1}% (median of {rounds} adjacent pairs, range {low:.1}% to {high:.1}%); the index was behind by up to {} events when the appends stopped and caught up {:.2} s later",
                    thousands(mean(&on)),
                    thousands(mean(&off)),
                    thousands(lag as f64),
                    catch_up.as_secs_f64()
                ),
            }),
            None,
            None,
            None,
        ],
    })
}

/// W10's rows.
pub async fn w10(scratch: &Path, budget: Budget, quick: bool) -> anyhow::Result<Vec<Row>> {
    // THREADSTORE_BENCH_W10_THREADS overrides the corpus size (default 100,000; 2,000 quick).
    let threads = std::env::var("THREADSTORE_BENCH_W10_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2_000 } else { 100_000 });
    let reps = if quick { 3 } else { 5 };
    let items = threads * ITEMS_PER_THREAD;
    let vocabulary = Arc::new(Vocabulary::new());
    let queries = queries(&vocabulary);
    let label = format!(
        "{} threads / {} items",
        thousands(threads as f64),
        thousands(items as f64)
    );
    eprintln!("W10: building {label} for threadstore, jsonl and sqlite");

    let ts_dir = scratch.join("w10-threadstore");
    scratch::ensure_empty(&ts_dir)?;
    let (store, appended, indexed) = build_threadstore(&ts_dir, &vocabulary, threads).await?;
    let ts_lat = timed(&queries, reps, |q| {
        let store = &store;
        let term = q.threadstore.clone();
        async move {
            let page = store
                .search_threads(SearchThreadsParams {
                    page_size: PAGE,
                    ..SearchThreadsParams::new(term)
                })
                .await?;
            Ok(page.items.len())
        }
    })
    .await?;
    let mut found = Vec::new();
    for q in &queries {
        let page = store
            .search_threads(SearchThreadsParams {
                page_size: PAGE,
                ..SearchThreadsParams::new(q.threadstore.clone())
            })
            .await?;
        found.push(format!("{} {}", q.what, page.items.len()));
    }
    let index_bytes = scratch::disk_usage(&ts_dir.join("search"))?;
    store.close().await?;
    let store_bytes = scratch::disk_usage(&ts_dir)?;
    let _ = std::fs::remove_dir_all(&ts_dir);

    let jsonl_dir = scratch.join("w10-jsonl");
    scratch::ensure_empty(&jsonl_dir)?;
    let jsonl_build = build_jsonl(&jsonl_dir, &vocabulary, threads)?;
    let jsonl_reps = if quick { 2 } else { 3 };
    let jsonl_lat =
        timed(&queries, jsonl_reps, |q| {
            let (dir, literal) = (jsonl_dir.clone(), q.literal.clone());
            async move {
                tokio::task::spawn_blocking(move || scan_jsonl(&dir, threads, &literal)).await?
            }
        })
        .await?;
    let jsonl_bytes = scratch::disk_usage(&jsonl_dir)?;
    let _ = std::fs::remove_dir_all(&jsonl_dir);

    let sqlite_dir = scratch.join("w10-sqlite");
    scratch::ensure_empty(&sqlite_dir)?;
    std::fs::create_dir_all(&sqlite_dir)?;
    let db = sqlite_dir.join("threads.db");
    let sqlite_build = {
        let (db, vocabulary) = (db.clone(), vocabulary.clone());
        tokio::task::spawn_blocking(move || build_sqlite(&db, &vocabulary, threads)).await??
    };
    let conn = Arc::new(std::sync::Mutex::new(Connection::open(&db)?));
    let sqlite_lat = timed(&queries, reps, |q| {
        let (conn, fts) = (conn.clone(), q.fts.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let conn = conn.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                search_sqlite(&conn, &fts)
            })
            .await?
        }
    })
    .await?;
    let fts_bytes = {
        let conn = conn.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        sqlite_fts_bytes(&conn)?
    };
    drop(conn);
    let sqlite_bytes = scratch::disk_usage(&sqlite_dir)?;
    let _ = std::fs::remove_dir_all(&sqlite_dir);

    let per_item = |b: u64| b as f64 / items as f64;
    let mut rows = vec![
        Row {
            label: format!(
                "W10 search p50/p99, {label} (5 queries: common, medium, rare word, phrase, prefix; page of {PAGE})"
            ),
            floor: String::new(),
            cells: vec![
                latency_cell(&ts_lat),
                latency_cell(&jsonl_lat),
                latency_cell(&sqlite_lat),
                None,
            ],
        },
        Row {
            label: "W10 search index bytes per item (whole store per item in brackets)".into(),
            floor: String::new(),
            cells: vec![
                Some(Cell {
                    value: per_item(index_bytes),
                    text: format!(
                        "{} B/item ({} B/item)",
                        thousands(per_item(index_bytes)),
                        thousands(per_item(store_bytes))
                    ),
                }),
                Some(Cell {
                    value: 0.0,
                    text: format!("no index ({} B/item)", thousands(per_item(jsonl_bytes))),
                }),
                Some(Cell {
                    value: per_item(fts_bytes),
                    text: format!(
                        "{} B/item ({} B/item)",
                        thousands(per_item(fts_bytes)),
                        thousands(per_item(sqlite_bytes))
                    ),
                }),
                None,
            ],
        },
        Row {
            label: "W10 building the corpus (appends; then the index catching up)".into(),
            floor: String::new(),
            cells: vec![
                Some(Cell {
                    value: (appended + indexed).as_secs_f64(),
                    text: format!(
                        "{:.1} s + {:.1} s (hits: {})",
                        appended.as_secs_f64(),
                        indexed.as_secs_f64(),
                        found.join(", ")
                    ),
                }),
                Some(Cell {
                    value: jsonl_build.as_secs_f64(),
                    text: format!("{:.1} s", jsonl_build.as_secs_f64()),
                }),
                Some(Cell {
                    value: sqlite_build.as_secs_f64(),
                    text: format!("{:.1} s (FTS in each transaction)", sqlite_build.as_secs_f64()),
                }),
                None,
            ],
        },
    ];
    rows.push(indexing_cost(scratch, budget, if quick { 1 } else { 5 }).await?);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_and_the_corpus_is_deterministic() {
        let words: std::collections::HashSet<String> = (0..VOCABULARY).map(word).collect();
        assert_eq!(words.len(), VOCABULARY);
        let v = Vocabulary::new();
        assert_eq!(thread_items(&v, 7), thread_items(&v, 7));
        assert_ne!(thread_items(&v, 7), thread_items(&v, 8));
    }
}

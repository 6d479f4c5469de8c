//! `threadstore bench`: workloads measured on this machine, in one run, against threadstore and
//! its alternatives (issue 6): the physical floor (fsync rate, sequential write bandwidth), W1/W2
//! (durable/buffered appends), W3 (newest page of turns), W4 (load_history), W5 (thread listing),
//! W6 (cold open and recovery), W7 (memory per thread), W8 (mixed writers and readers) and W9
//! (footprint on disk) against the contenders in [`contenders`] and [`listing`], W10 (full-text
//! search against a file scan and SQLite FTS5, see [`search`]), in one Markdown table, plus W11 (`threadstore import`, `export` and `verify` of a generated Codex home of 2 GiB,
//! through the binary: MiB/s, items/s, peak RSS; see [`import_scale`]), fork latency (1,000 and
//! 100,000 items), the event bus's latency and catch-up rate, and (with a database) the same
//! store on PostgreSQL next to sled and SQLite (see [`postgres`]).
//! BENCHMARKS.md describes each workload.

mod bus;
mod child;
mod compare;
mod contenders;
mod corpus;
mod floor;
mod fork;
mod import_scale;
mod listing;
mod postgres;
mod scratch;
mod search;
mod workloads;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use compare::{thousands, Budget};
pub use floor::fsync_probe;

/// Bench settings (the `threadstore bench` command line maps onto these).
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Short run for CI smoke tests (asserts nothing about time).
    pub quick: bool,
    /// Directory for the bench's scratch stores (default: a temp dir).
    pub scratch: Option<std::path::PathBuf>,
    /// Run only these workloads (floor, w1 (with w2 and w9), w3 (with w4), w5, w6, w7, w8,
    /// w10 (search), import (W11), fork, bus, pg); `None`: all.
    pub only: Option<Vec<String>>,
    /// A PostgreSQL database (libpq connection string or URL) for the `pg` rows (threadstore on
    /// PostgreSQL next to sled and SQLite); without it they are skipped.
    pub postgres: Option<String>,
    /// Set in a measurement child process (see `child.rs`): what it measures.
    pub child: Option<child::ChildSpec>,
    /// Asks the process's allocator to return the memory it holds free to the OS, so W7's RSS
    /// shows what is live. The bench runs inside the `threadstore` binary, whose allocator
    /// (mimalloc) is the binary's choice; glibc's heap is trimmed besides.
    pub release_free_heap: fn(),
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            quick: false,
            scratch: None,
            only: None,
            postgres: None,
            child: None,
            release_free_heap: || {},
        }
    }
}

pub use child::ChildSpec;

/// Runs the bench and returns its report: one Markdown table, then the event bus's figures and
/// the time each group took (the caller prints it). Measurement children re-execute the current
/// binary as `<exe> bench --child-op …` (see `child.rs`), so the program that calls this must
/// route those flags back here as [`BenchOptions::child`]; a child reports to its parent on
/// stdout and returns an empty report.
pub async fn run(args: BenchOptions) -> anyhow::Result<String> {
    if let Some(spec) = args.child.clone() {
        child::run_child(spec, args.release_free_heap).await?;
        return Ok(String::new());
    }
    let mut out = String::new();
    let started = Instant::now();
    let wants = |w: &str| {
        args.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x.eq_ignore_ascii_case(w)))
    };
    let tmp = tempfile::tempdir()?;
    let scratch = args
        .scratch
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&scratch)?;
    let budget = if args.quick {
        Budget {
            max_durable_items: 2_000,
            max_buffered_items: 5_000,
            append_time: Duration::from_millis(700),
            page_sizes: &[1_000, 10_000],
            max_samples: 50,
            read_time: Duration::from_millis(400),
        }
    } else {
        Budget {
            max_durable_items: 100_000,
            max_buffered_items: 200_000,
            append_time: Duration::from_secs(10),
            page_sizes: &[1_000, 10_000, 100_000],
            max_samples: 200,
            read_time: Duration::from_secs(5),
        }
    };
    let sizes = if args.quick {
        workloads::Sizes {
            list_threads: 2_000,
            cold_threads: 200,
            cold_lines: 100,
            actors: 2_000,
        }
    } else {
        workloads::Sizes {
            list_threads: 100_000,
            cold_threads: 10_000,
            cold_lines: 100,
            actors: 10_000,
        }
    };
    let (mut fsync, mut seq) = (String::new(), String::new());
    if wants("floor") {
        let floor = fsync_probe(&scratch, if args.quick { 500 } else { 5_000 })?;
        fsync = format!("fsync {}/s", thousands(floor.fsyncs_per_sec));
        seq = format!(
            "seq. write {} MiB/s (≈{} KiB items/s)",
            thousands(floor.seq_mib_per_sec),
            thousands(floor.seq_mib_per_sec * 1024.0)
        );
    }
    let mut rows = Vec::new();
    let mut w1_p99 = std::collections::HashMap::new();
    let mut footprint = None;
    let mut timings = Vec::new();
    let mut lap = Instant::now();
    let mut timed = |name: &str, lap: &mut Instant| {
        timings.push(format!("{name} {:.1} s", lap.elapsed().as_secs_f64()));
        *lap = Instant::now();
    };
    if wants("w1") {
        let runs = compare::appends(&scratch, budget, &fsync, &seq).await?;
        rows.extend(runs.rows);
        footprint = Some(runs.footprint);
        w1_p99 = runs.w1_p99;
        timed("W1/W2/W9", &mut lap);
    }
    if wants("w3") {
        rows.extend(compare::reads(&scratch, budget).await?);
        timed("W3/W4", &mut lap);
    }
    if wants("w5") {
        rows.extend(workloads::w5(&scratch, sizes, budget).await?);
        timed("W5", &mut lap);
    }
    if wants("w6") {
        rows.extend(workloads::w6(&scratch, sizes, args.quick).await?);
        timed("W6", &mut lap);
    }
    if wants("w7") {
        rows.extend(workloads::w7(&scratch, sizes).await?);
        timed("W7", &mut lap);
    }
    if wants("w8") {
        let threads = if args.quick { 200 } else { 1_000 };
        rows.push(workloads::w8(&scratch, budget, threads, &w1_p99).await?);
        timed("W8", &mut lap);
    }
    if wants("w10") || wants("search") {
        rows.extend(search::w10(&scratch, budget, args.quick).await?);
        timed("W10", &mut lap);
    }
    if wants("import") || wants("w11") {
        rows.extend(import_scale::w11(&scratch, args.quick).await?);
        timed("W11", &mut lap);
    }
    rows.extend(footprint);
    out.push_str(&compare::table(&rows));
    writeln!(out)?;
    writeln!(
        out,
        "Ratios are each contender's figure over threadstore's: for items/s above 1× means the \
         contender is faster; for latencies, RSS and bytes above 1× means it is slower or bigger."
    )?;
    if wants("fork") {
        writeln!(out)?;
        writeln!(
            out,
            "| fork by reference (`fork_thread`, Latest, durable sled) | value |"
        )?;
        writeln!(out, "|---|---|")?;
        let forks = if args.quick { 20 } else { 200 };
        for items in [1_000usize, 100_000] {
            let (p50, p99) = fork::latency(&scratch, items, forks).await?;
            writeln!(
                out,
                "| fork of a thread of {} items ({forks} forks) | p50 {}, p99 {} |",
                thousands(items as f64),
                compare::dur(p50),
                compare::dur(p99)
            )?;
        }
        timed("fork", &mut lap);
    }
    if wants("pg") {
        writeln!(out)?;
        match &args.postgres {
            Some(url) => {
                writeln!(
                    out,
                    "threadstore on PostgreSQL (`threadstore-pg`, one node, a fresh schema per store) next to sled and SQLite:"
                )?;
                writeln!(out)?;
                out.push_str(&postgres::table(url, &scratch, budget, args.quick).await?);
            }
            None => writeln!(
                out,
                "threadstore-pg rows skipped: pass --postgres URL (or THREADSTORE_POSTGRES) to measure threadstore on PostgreSQL"
            )?,
        }
        timed("pg", &mut lap);
    }
    if wants("bus") {
        writeln!(out)?;
        writeln!(out, "| event bus | value |")?;
        writeln!(out, "|---|---|")?;
        let appends = if args.quick { 200 } else { 2_000 };
        for subscribers in [1usize, 1_000] {
            let run = bus::latency(subscribers, appends).await?;
            writeln!(
                out,
                "| append-start to subscriber latency, {subscribers} subscriber(s) ({} deliveries) | p50 {:.2?}, p99 {:.2?} |",
                run.samples, run.p50, run.p99
            )?;
        }
        let rate = bus::catch_up(if args.quick { 20_000 } else { 200_000 }).await?;
        writeln!(
            out,
            "| catch-up from the durable feed | {rate:.0} events/s |"
        )?;
        timed("bus", &mut lap);
    }
    writeln!(out)?;
    writeln!(out, "time per group: {}", timings.join(", "))?;
    writeln!(
        out,
        "bench {} took {:.1} s",
        if args.quick { "--quick" } else { "(full)" },
        started.elapsed().as_secs_f64()
    )?;
    Ok(out)
}

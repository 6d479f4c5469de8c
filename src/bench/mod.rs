//! `threadstore bench`: workloads measured on this machine, in one run, against threadstore and
//! its alternatives (issue 6). This slice covers the physical floor (fsync rate, sequential write
//! bandwidth), W1/W2 (durable/buffered appends), W3 (newest page of turns) and W4 (load_history)
//! against the contenders in [`contenders`], plus the event bus's latency and catch-up rate.

mod bus;
mod compare;
mod contenders;
mod floor;

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;

use compare::{thousands, Budget};
pub use floor::fsync_probe;

/// Bench settings.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Short run for CI smoke tests (asserts nothing about time).
    #[arg(long)]
    pub quick: bool,
    /// Directory for the bench's scratch stores (default: a temp dir).
    #[arg(long)]
    pub scratch: Option<std::path::PathBuf>,
}

/// Runs the bench and prints one Markdown table, then the event bus's figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
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
    let floor = fsync_probe(&scratch, if args.quick { 500 } else { 5_000 })?;
    let fsync = format!("fsync {}/s", thousands(floor.fsyncs_per_sec));
    let seq = format!(
        "seq. write {} MiB/s (≈{} KiB items/s)",
        thousands(floor.seq_mib_per_sec),
        thousands(floor.seq_mib_per_sec * 1024.0)
    );
    let mut rows = compare::appends(&scratch, budget, &fsync, &seq).await?;
    rows.extend(compare::reads(&scratch, budget).await?);
    compare::print_table(&rows);
    println!();
    println!(
        "Ratios are each contender's figure over threadstore's: for items/s above 1× means the \
         contender is faster, for latencies (p50) above 1× means it is slower."
    );
    println!();
    println!("| event bus | value |");
    println!("|---|---|");
    let appends = if args.quick { 200 } else { 2_000 };
    for subscribers in [1usize, 1_000] {
        let run = bus::latency(subscribers, appends).await?;
        println!(
            "| append-start to subscriber latency, {subscribers} subscriber(s) ({} deliveries) | p50 {:.2?}, p99 {:.2?} |",
            run.samples, run.p50, run.p99
        );
    }
    let rate = bus::catch_up(if args.quick { 20_000 } else { 200_000 }).await?;
    println!("| catch-up from the durable feed | {rate:.0} events/s |");
    println!();
    println!(
        "bench {} took {:.1} s",
        if args.quick { "--quick" } else { "(full)" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Path helper for the workloads.
pub(crate) fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

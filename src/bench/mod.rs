//! `threadstore bench`: workloads measured on this machine, in one run. This first slice covers
//! the physical floor (fsync rate, sequential write bandwidth) and durable/buffered appends
//! (W1/W2) on threadstore; the other contenders and workloads plug in here (issue 6).

mod appends;
mod bus;
mod floor;

use std::path::Path;

use clap::Args;

pub use appends::append_workload;
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

/// Runs the bench and prints a Markdown table.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let scratch = args
        .scratch
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&scratch)?;
    let items_per_writer = if args.quick { 200 } else { 2_000 };
    let floor = fsync_probe(&scratch, if args.quick { 500 } else { 5_000 })?;
    println!("| measurement | value |");
    println!("|---|---|");
    println!(
        "| fsync rate (4 KiB write + fdatasync) | {:.0}/s |",
        floor.fsyncs_per_sec
    );
    println!(
        "| sequential write bandwidth | {:.0} MiB/s |",
        floor.seq_mib_per_sec
    );
    println!();
    println!("| workload | writers | items/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for durability in [
        threadstore::Durability::Sync,
        threadstore::Durability::Buffered,
    ] {
        for writers in [1usize, 8, 64] {
            let dir = scratch.join(format!("w-{durability:?}-{writers}"));
            let run = append_workload(&dir, durability, writers, 1_000, items_per_writer).await?;
            println!(
                "| {} appends (1 KiB items, 1,000 threads) | {writers} | {:.0} | {:.2?} | {:.2?} |",
                if durability == threadstore::Durability::Sync {
                    "W1 durable"
                } else {
                    "W2 buffered"
                },
                run.items_per_sec,
                run.p50,
                run.p99
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
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

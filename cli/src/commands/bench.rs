//! `threadstore bench`: the command line of the benchmark harness (the `threadstore-bench` crate).

use std::path::PathBuf;

use crate::output::out;
use clap::Args;
use threadstore_bench::{BenchOptions, ChildSpec};

/// Bench settings.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Short run for CI smoke tests (asserts nothing about time).
    #[arg(long)]
    pub quick: bool,
    /// Directory for the bench's scratch stores (default: a temp dir).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Run only these workloads (comma-separated: floor, w1 (with w2 and w9), w3 (with w4), w5,
    /// w6, w7, w8, w10 (search: threadstore vs a file scan vs SQLite FTS5), import (W11:
    /// import, export and verify of a generated Codex home; sizes:
    /// THREADSTORE_BENCH_IMPORT_MB, THREADSTORE_BENCH_KEEP_HOME, THREADSTORE_BENCH_BIN), fork,
    /// bus, pg (threadstore on the PostgreSQL database of the global --postgres, next to sled
    /// and SQLite)); default: all.
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Internal: run as a measurement child process (see the bench crate's `child.rs`).
    #[arg(long, hide = true)]
    pub child_op: Option<String>,
    /// Internal: the child's contender.
    #[arg(long, hide = true, default_value = "threadstore")]
    pub child_kind: String,
    /// Internal: the child's store directory.
    #[arg(long, hide = true)]
    pub child_dir: Option<PathBuf>,
    /// Internal: the child's count.
    #[arg(long, hide = true, default_value_t = 0)]
    pub child_n: usize,
}

/// Runs the bench (or, with the hidden `--child-*` flags, one of its measurement children).
pub async fn run(args: BenchArgs, postgres: Option<String>) -> anyhow::Result<()> {
    let child = match args.child_op {
        Some(op) => Some(ChildSpec {
            op,
            kind: args.child_kind,
            dir: args
                .child_dir
                .ok_or_else(|| anyhow::anyhow!("--child-op needs --child-dir"))?,
            n: args.child_n,
        }),
        None => None,
    };
    let report = threadstore_bench::run(BenchOptions {
        quick: args.quick,
        scratch: args.scratch,
        only: args.only,
        postgres,
        child,
        release_free_heap,
    })
    .await?;
    out!("{report}")?;
    Ok(())
}

/// The binary allocates with mimalloc: ask it to return what it holds free to the OS.
fn release_free_heap() {
    // SAFETY: mi_collect has no preconditions; it only frees unused memory.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

//! `threadstore export --out <dir>`: writes threads back in Codex's layout, so Codex (or another
//! threadstore) can read them: `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl` for active
//! threads, `archived_sessions/…` for archived ones, and `session_index.jsonl` lines for names.
//!
//! Every log item becomes its original rollout line (timestamp, type, verbatim payload), including
//! threadstore's own naming, metadata and archive events, so `threadstore import <dir>` into
//! another store gives the same threads, turns and items (the layout, file names and the choice
//! about threadstore's events are documented in `threadstore::codex::export`). Files are written
//! under a temporary name and renamed; exporting again into the same folder replaces them.
//!
//! Options: `--thread <id>` (repeatable; default every thread, archived ones included),
//! `--compress` (`.jsonl.zst`), `--jobs N`, `--json`. Each thread is read a page at a time and
//! written as it is read, so memory stays bounded whatever a thread's length (see
//! `threadstore::codex::export`). A progress bar (threads done, bytes written and their rate,
//! time left) is drawn on a terminal. For
//! people, one line per thread, `exported <id> (N items, M turns[, archived][, named "…"]) to
//! <relative path>`, within the display width (the name and the path are cut first, see
//! `commands::layout`); the summary follows (on stderr with `--json`). `--json` prints one
//! object per thread on stdout: `{"threadId", "file" (absolute), "relativePath", "items",
//! "turns", "archived", "name"}`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use threadstore::codex::export::{
    all_thread_ids, export_thread, write_session_index, ExportError, ExportOptions, ExportedThread,
};
use threadstore::ThreadId;

use super::common::{self, Open};
use super::layout::{count, Cut, Layout};
use crate::output::{errln, outln};

/// `export` options.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Folder to write the Codex layout into (created if missing), e.g. a fresh CODEX_HOME.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Export only this thread (repeatable); default: every thread, archived ones too.
    #[arg(long = "thread", value_name = "ID")]
    pub threads: Vec<String>,
    /// Write zstd-compressed `.jsonl.zst` files.
    #[arg(long)]
    pub compress: bool,
    /// Threads exported concurrently.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// One JSON object per thread on stdout.
    #[arg(long)]
    pub json: bool,
    /// Memory budget in MiB: sizes sled's cache (an eighth; an export reads each record once).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory: u64,
}

#[derive(Default)]
struct Summary {
    threads: u64,
    items: u64,
    turns: u64,
    archived: u64,
    named: u64,
    bytes: u64,
}

/// Exports the chosen threads.
pub async fn run(
    target: &common::Target,
    args: ExportArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let chosen: Vec<ThreadId> = args
        .threads
        .iter()
        .map(|t| common::parse_thread_id(t))
        .collect::<anyhow::Result<_>>()?;
    let out = args.out.clone();
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let started = Instant::now();
    let progress = Arc::new(AtomicU64::new(0));
    let opts = ExportOptions {
        compress: args.compress,
        progress: Some(progress.clone()),
        ..Default::default()
    };
    let json = args.json;
    let jobs = args.jobs.max(1);
    let tuning = common::Tuning {
        cache_bytes: Some(args.memory.max(32) * 1024 * 1024 / 8),
        buffered: false,
        without_search: true,
        searches: false,
    };
    let (summary, index_lines) =
        common::with_target_tuned(target, Open::Existing, tuning, async |store| {
            let ids = if chosen.is_empty() {
                all_thread_ids(store).await?
            } else {
                // Every id must exist before anything is written.
                for id in &chosen {
                    common::read_thread(store, target, *id).await?;
                }
                let mut ids = chosen.clone();
                ids.dedup();
                ids
            };
            let bar = ProgressBar::with_draw_target(
                Some(ids.len() as u64),
                if json || !std::io::stdout().is_terminal() {
                    ProgressDrawTarget::hidden()
                } else {
                    ProgressDrawTarget::stderr()
                },
            );
            bar.set_style(
                ProgressStyle::with_template("{bar:16} {pos}/{len} threads eta {eta} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // Bytes written and their rate, a few times a second.
            let ticker = {
                let (bar, progress, started) = (bar.clone(), progress.clone(), Instant::now());
                tokio::spawn(async move {
                    loop {
                        let bytes = progress.load(Ordering::Relaxed) as f64;
                        let seconds = started.elapsed().as_secs_f64().max(1e-3);
                        bar.set_message(format!(
                            "{:.1} MiB written, {:.1} MiB/s",
                            bytes / (1024.0 * 1024.0),
                            bytes / (1024.0 * 1024.0) / seconds
                        ));
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                })
            };
            let mut summary = Summary::default();
            let mut exported = Vec::with_capacity(ids.len());
            let mut results = futures::stream::iter(ids)
                .map(|id| {
                    let (out, opts) = (&out, &opts);
                    async move { (id, export_thread(store, id, out, opts).await) }
                })
                .buffered(jobs);
            while let Some((id, result)) = results.next().await {
                bar.inc(1);
                let thread = result.map_err(|e| match e {
                    ExportError::Store(e) => common::explain_read(e, target, None),
                    other => anyhow::Error::new(other).context(format!("exporting thread {id}")),
                })?;
                bar.suspend(|| print_thread(&thread, json, &layout))?;
                add(&mut summary, &thread);
                exported.push(thread);
            }
            ticker.abort();
            bar.finish_and_clear();
            let index_lines = write_session_index(&out, &exported)?;
            Ok((summary, index_lines))
        })
        .await?;
    let clauses = [
        format!(
            "exported {} ({}, {}, {} archived, {} named, {:.1} MiB) in {:.2?}",
            count(summary.threads, "thread"),
            count(summary.items, "item"),
            count(summary.turns, "turn"),
            summary.archived,
            summary.named,
            summary.bytes as f64 / (1024.0 * 1024.0),
            started.elapsed(),
        ),
        format!(
            "{:.1} MB/s of JSONL",
            progress.load(Ordering::Relaxed) as f64
                / 1e6
                / started.elapsed().as_secs_f64().max(1e-9)
        ),
        format!("written to {}", out.display()),
        format!(
            "{} appended to session_index.jsonl",
            count(index_lines as u64, "name")
        ),
    ];
    for line in layout.clauses(&clauses) {
        if json {
            errln!("{line}");
        } else {
            outln!("{line}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn add(summary: &mut Summary, t: &ExportedThread) {
    summary.threads += 1;
    summary.items += t.items;
    summary.turns += t.turns;
    summary.archived += u64::from(t.archived);
    summary.named += u64::from(t.name.is_some());
    summary.bytes += std::fs::metadata(&t.file).map(|m| m.len()).unwrap_or(0);
}

fn print_thread(t: &ExportedThread, json: bool, layout: &Layout) -> anyhow::Result<()> {
    if json {
        return common::print_json(&json!({
            "threadId": t.thread_id.to_string(),
            "file": t.file.display().to_string(),
            "relativePath": t.relative.display().to_string(),
            "items": t.items,
            "turns": t.turns,
            "archived": t.archived,
            "name": t.name,
        }));
    }
    let mut counts = format!(" ({}, {}", count(t.items, "item"), count(t.turns, "turn"));
    if t.archived {
        counts.push_str(", archived");
    }
    let name = t
        .name
        .as_ref()
        .map(|n| format!(", named {n:?}"))
        .unwrap_or_default();
    let line = layout.line(&[
        ("exported ".into(), Cut::Never),
        (t.thread_id.to_string().into(), Cut::Never),
        (counts.into(), Cut::Never),
        (name.into(), Cut::End),
        (") to ".into(), Cut::Never),
        (t.relative.display().to_string().into(), Cut::Middle),
    ]);
    outln!("{line}")
}

//! `threadstore import <path>…`: imports Codex rollout files, keeping thread ids, every line with
//! its original timestamp, the rollout path, the archived state and the thread names.
//!
//! Each path may be:
//!
//! - a rollout file (`.jsonl`, or zstd-compressed `.jsonl.zst`), whatever its name;
//! - a folder: every `rollout-*.jsonl` / `rollout-*.jsonl.zst` below it, recursively, and every
//!   other `*.jsonl[.zst]` whose first line is a rollout header (`session_meta` or E0 header);
//! - a Codex home (`~/.codex`): the same walk finds `sessions/YYYY/MM/DD/rollout-*.jsonl` and
//!   `archived_sessions/rollout-*.jsonl` (a `.jsonl.zst` next to its plain `.jsonl` is left out,
//!   as Codex reads the plain file).
//!
//! Files below a directory named `archived_sessions` are imported as archived threads. A
//! `session_index.jsonl` at the top of a folder (Codex writes one line `{"id", "thread_name",
//! "updated_at"}` per rename) names the threads this run imports: the newest name per id is set
//! with a metadata patch right after the thread is imported, unless the thread's log already
//! gives it that name (a `threadstore export` keeps names in the log). Re-running an import is
//! safe: a thread already in the store with every line of its file is reported as already
//! imported and left alone; one holding only the first lines of its file (an import cut short by a
//! crash or an error, or a file that grew) gets the missing lines appended and is reported as
//! finished; one whose history is not the beginning of the file (a different thread with the same
//! id) is reported as a conflict, left alone, and makes the exit code 1. The discovery and the
//! per-file import are library code: `threadstore::codex::home` and `threadstore::codex::import`.
//!
//! **Any size, bounded memory.** Each file is streamed (a reader thread parses the next chunks
//! while the store writes the current one, so both cores work), at most `--jobs` files
//! (default: one per core) are in flight, and sled's cache is sized from `--memory` (default
//! 256 MiB: an eighth goes to the cache, chunks are `--memory`/256 bytes). Appends are
//! acknowledged before their fsync, and each thread is flushed when its file is done, before the
//! file is reported. **Safe to interrupt.** Each chunk is one atomic store call. Ctrl-C stops
//! the run between store calls, closes the store and exits with code 130; after it or a kill -9,
//! the same command finishes the job: the interrupted files' threads are compared
//! with their files a page at a time and completed, and the files an earlier run finished are
//! skipped without being read, from the journal it keeps beside a local store
//! (`<data>/import-journal.jsonl`, see `threadstore::codex::journal`; through `--connect` there
//! is no journal, and every file is compared).
//!
//! Lines that cannot be read (a torn last line after a crash, bad JSON) are skipped and reported
//! with file and line number. A progress bar (bytes done of the total, files, items, rate and
//! time left) is drawn on a terminal (not with `--json`, not when stdout is redirected); the
//! summary ends with the rate in MB/s and items/s. For people, one line per file: `imported <id> (N items, M turns[,
//! archived][, named "…"]) from <file>` (or `skipped <id> (already imported) …`, `finished
//! <id> (appended N of M items, …) …`), within the display width (the name and the file are cut
//! first, see `commands::layout`); a summary follows (on stderr with `--json`). `--json` prints
//! one object per file on stdout, in file order: `{"threadId", "source" (the file), "items"
//! (items written), "turns", "archived", "name", "skippedLines": [{"line", "reason", "torn"}],
//! "alreadyImported", "finished"}` (`finished`: an interrupted import completed; `items` counts
//! the lines appended).
//! A file that cannot be imported at all is reported on stderr and makes the exit code 1.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use threadstore::codex::home::{
    discover, import_source_with, read_session_index, ImportRun, ImportedSource,
};
use threadstore::codex::{ImportError, ImportJournal, SessionNames, Source};
use threadstore::ThreadStoreError;

use super::common::{self, Open, Target};
use super::layout::{count, Cut, Layout};
use crate::output::{errln, outln};

/// `import` options.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Rollout files, folders or Codex homes (e.g. ~/.codex).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Files imported concurrently (default: the number of cores). Each has a reader thread
    /// parsing ahead of the store; on 2 cores, 2 files imported a 2 GiB home faster than 4
    /// (35.4 s against 38.2 s) in less memory (288 against 314 MiB peak).
    #[arg(long, default_value_t = default_jobs())]
    pub jobs: usize,
    /// Memory budget in MiB: sizes sled's cache (an eighth) and the chunks each file is read
    /// in (budget / 256), so the import's peak RSS stays below it whatever the home's size
    /// (sled's log buffers and the allocator take a fixed ~150 MiB more than the cache).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory: u64,
    /// One JSON object per file on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What importing one file gave.
struct Outcome {
    source: Source,
    result: anyhow::Result<ImportedSource>,
}

/// One file per core: the readers parse on one core while the store writes on the other.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The journal of finished files, beside a local store (see `threadstore::codex::journal`).
pub const JOURNAL_FILE: &str = "import-journal.jsonl";

#[derive(Default)]
struct Summary {
    files: u64,
    /// Stopped by Ctrl-C before every file was done.
    interrupted: bool,
    imported: u64,
    already: u64,
    finished: u64,
    finished_items: u64,
    conflicts: u64,
    items: u64,
    turns: u64,
    archived: u64,
    named: u64,
    skipped_lines: u64,
    /// Bytes of files the journal showed finished (skipped unread).
    unread_bytes: u64,
    torn_lines: u64,
    failed: u64,
}

/// Imports every file found under the given paths.
pub async fn run(
    target: &common::Target,
    args: ImportArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let found = discover(&args.paths)?;
    for folder in &found.empty_folders {
        errln!(
            "warning: no rollout files (rollout-*.jsonl[.zst], or *.jsonl[.zst] starting with a session_meta line) under {}",
            folder.display()
        );
    }
    for shadowed in &found.shadowed {
        errln!(
            "note: {} left out: Codex reads the plain .jsonl next to it",
            shadowed.display()
        );
    }
    let sources = found.sources;
    if sources.is_empty() {
        bail!("nothing to import: no rollout files found");
    }
    let names = read_session_index(&found.indexes)?;
    for (file, line) in &names.bad_lines {
        errln!(
            "warning: {}:{line}: skipped (not a {{\"id\", \"thread_name\", \"updated_at\"}} line)",
            file.display()
        );
    }
    hold_freed_memory_longer();
    let started = Instant::now();
    let total_bytes: u64 = sources
        .iter()
        .filter_map(|s| std::fs::metadata(&s.path).ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::with_draw_target(
        Some(total_bytes),
        if args.json || !std::io::stdout().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            // Fits 80 columns: bytes done of the total, rate, time left, then files and items.
            "{bar:12} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = Arc::new(AtomicU64::new(0));
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let jobs = args.jobs.max(1);
    let json = args.json;
    let budget = args.memory.max(32) * 1024 * 1024;
    let files = sources.len();
    let tuning = common::Tuning {
        cache_bytes: Some(budget / 8),
        buffered: true,
        without_search: true,
        searches: false,
    };
    let summary = common::with_target_tuned(target, Open::Create, tuning, async |store| {
        let journal = match target {
            Target::Local(data) => {
                let path = data.join(JOURNAL_FILE);
                match ImportJournal::open(&path) {
                    Ok(journal) => Some(journal),
                    Err(e) => {
                        errln!(
                            "warning: cannot use the import journal {}: {e}; every file will be compared with the store",
                            path.display()
                        );
                        None
                    }
                }
            }
            Target::Remote { .. } | Target::Postgres { .. } => None,
        };
        let run = ImportRun {
            journal,
            progress: Some(progress.clone()),
            chunk_bytes: (budget / 256) as usize,
        };
        let mut summary = Summary::default();
        // Ctrl-C stops the run between store calls: the files in flight are dropped (what they
        // appended stays, and the next run finishes them), the store is closed cleanly.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        // Codex's revert rollouts and forks apply to threads the first phase imports: one at a
        // time, after it, in the order `discover` lists them.
        let (revisions, plain): (Vec<Source>, Vec<Source>) =
            sources.iter().cloned().partition(|s| s.sequential);
        for (phase, jobs) in [(plain, jobs), (revisions, 1)] {
            let mut outcomes = futures::stream::iter(phase)
                .map(|source| {
                    let (names, run): (&SessionNames, &ImportRun) = (&names, &run);
                    async move {
                        let result = import_source_with(store, &source, names, run)
                            .await
                            .map_err(anyhow::Error::new);
                        Outcome { source, result }
                    }
                })
                .buffered(jobs);
            loop {
                let outcome = tokio::select! {
                    next = outcomes.next() => match next {
                        Some(outcome) => outcome,
                        None => break,
                    },
                    _ = &mut ctrl_c => {
                        summary.interrupted = true;
                        return Ok(summary);
                    }
                };
                report(&bar, &outcome, json, &layout, &mut summary)?;
                summary.files += 1;
                bar.set_message(format!(
                    "{}/{files} files, {}",
                    summary.files,
                    count(summary.items + summary.finished_items, "item")
                ));
            }
        }
        Ok(summary)
    })
    .await;
    ticker.abort();
    bar.finish_and_clear();
    let summary = summary?;
    let elapsed = started.elapsed();
    let read = progress.load(Ordering::Relaxed);
    let seconds = elapsed.as_secs_f64().max(1e-9);

    let mut clauses = vec![
        format!(
            "imported {} ({}, {}, {} archived, {} named) from {} in {:.2?}",
            count(summary.imported, "thread"),
            count(summary.items, "item"),
            count(summary.turns, "turn"),
            summary.archived,
            summary.named,
            count(sources.len() as u64, "file"),
            elapsed
        ),
        format!(
            "{:.1} MB/s ({:.0} items/s, {:.1} MB read, {:.1} MB of files finished earlier skipped unread)",
            read.saturating_sub(summary.unread_bytes) as f64 / 1e6 / seconds,
            (summary.items + summary.finished_items) as f64 / seconds,
            read.saturating_sub(summary.unread_bytes) as f64 / 1e6,
            summary.unread_bytes as f64 / 1e6
        ),
        format!(
            "{} finished ({} appended)",
            count(summary.finished, "interrupted import"),
            count(summary.finished_items, "missing item")
        ),
        format!("{} already present (skipped)", summary.already),
        format!(
            "{} skipped ({} torn)",
            count(summary.skipped_lines, "unreadable line"),
            summary.torn_lines
        ),
    ];
    if summary.failed > 0 {
        let mut failed = format!("{} failed", count(summary.failed, "file"));
        if summary.conflicts > 0 {
            failed.push_str(&format!(
                " ({}: another thread with the same id is in the store)",
                count(summary.conflicts, "conflict")
            ));
        }
        clauses.push(failed);
    }
    for line in layout.clauses(&clauses) {
        if json {
            errln!("{line}");
        } else {
            outln!("{line}")?;
        }
    }
    if summary.interrupted {
        errln!(
            "interrupted by Ctrl-C after {} of {} files: what was imported is kept; run the same command again to finish",
            summary.files,
            sources.len()
        );
        // 128 + SIGINT, as shells report a command stopped by Ctrl-C.
        return Ok(ExitCode::from(130));
    }
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints what happened to one file and adds it to the summary.
fn report(
    bar: &ProgressBar,
    outcome: &Outcome,
    json: bool,
    layout: &Layout,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let file = outcome.source.path.display().to_string();
    let shown = &outcome.source.shown;
    let imported = match &outcome.result {
        Ok(imported) => imported,
        Err(e) => {
            summary.failed += 1;
            if matches!(
                e.downcast_ref::<ImportError>(),
                Some(ImportError::Store(ThreadStoreError::Conflict { .. }))
            ) {
                summary.conflicts += 1;
            }
            bar.suspend(|| errln!("error: {shown}: {e:#}"));
            return Ok(());
        }
    };
    let r = &imported.report;
    let archived = imported.archived;
    // An already imported file's unreadable lines were reported when it was imported.
    let new_skips = if r.already_imported {
        &[][..]
    } else {
        &r.skipped[..]
    };
    for skipped in new_skips {
        summary.skipped_lines += 1;
        summary.torn_lines += u64::from(skipped.torn);
        if !json {
            let why = if skipped.torn {
                format!("torn last line (a write cut short): {}", skipped.reason)
            } else {
                skipped.reason.clone()
            };
            bar.suspend(|| errln!("warning: {shown}:{}: skipped: {why}", skipped.line_number));
        }
    }
    if !r.already_imported {
        summary.skipped_lines += r.unreported_skips as u64;
    }
    if r.already_imported {
        summary.already += 1;
        if r.lines_read == 0 {
            summary.unread_bytes += std::fs::metadata(&outcome.source.path)
                .map(|m| m.len())
                .unwrap_or(0);
        }
    } else if r.finished {
        summary.finished += 1;
        summary.finished_items += r.items;
        summary.archived += u64::from(archived);
        summary.named += u64::from(imported.name.is_some());
    } else {
        summary.imported += 1;
        summary.items += r.items;
        summary.turns += imported.turns;
        summary.archived += u64::from(archived);
        summary.named += u64::from(imported.name.is_some());
    }
    if json {
        common::print_json(&json!({
            "threadId": r.thread_id.to_string(),
            "source": file,
            "items": r.items,
            "turns": imported.turns,
            "archived": archived,
            "name": imported.name,
            "era": format!("{:?}", r.era),
            "skippedLines": r.skipped.iter().map(|s| json!({
                "line": s.line_number,
                "reason": s.reason,
                "torn": s.torn,
            })).collect::<Vec<_>>(),
            "alreadyImported": r.already_imported,
            "finished": r.finished,
        }))
    } else {
        // `<verb> <id> (<counts>[, archived][, named "…"]) from <file>`, where an interrupted
        // import is `finished <id> (appended N of M items, T turns…)`: the name and the file are
        // cut to the width, the id and the counts never.
        let (verb, counts) = if r.already_imported {
            ("skipped", "already imported".to_owned())
        } else if r.finished {
            (
                "finished",
                format!(
                    "appended {} of {}, {}",
                    r.items,
                    count(imported.total_items, "item"),
                    count(imported.turns, "turn")
                ),
            )
        } else {
            (
                "imported",
                format!(
                    "{}, {}",
                    count(r.items, "item"),
                    count(imported.turns, "turn")
                ),
            )
        };
        let archived = if archived && !r.already_imported {
            ", archived"
        } else {
            ""
        };
        let name = match &imported.name {
            Some(name) if !r.already_imported => format!(", named {name:?}"),
            _ => String::new(),
        };
        let line = layout.line(&[
            (format!("{verb} ").into(), Cut::Never),
            (r.thread_id.to_string().into(), Cut::Never),
            (format!(" ({counts}{archived}").into(), Cut::Never),
            (name.into(), Cut::End),
            (") from ".into(), Cut::Never),
            (shown.as_str().into(), Cut::Middle),
        ]);
        bar.suspend(|| outln!("{line}"))
    }
}

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3 headers; the sys crate
/// names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// An import frees and allocates chunks and sled nodes at a high rate: mimalloc's default
/// returns freed memory to the OS after 10 ms, and the kernel then zeroes it again (huge pages
/// included) when it is allocated anew, about a tenth of the import's CPU in `perf`. Holding it
/// for a second keeps the peak the same (the memory is reused, not added) and the import
/// faster (300 MiB home: 5.9 s → 4.9 s).
fn hold_freed_memory_longer() {
    // SAFETY: mi_option_set only stores the option's value; any value is valid for this option.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
}

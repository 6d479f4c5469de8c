//! `threadstore import <path>…`: imports Codex rollout files, keeping thread ids, every line with
//! its original timestamp, the rollout path, the archived state and the thread names.
//!
//! Each path may be:
//!
//! - a rollout file (`.jsonl`, or zstd-compressed `.jsonl.zst`), whatever its name;
//! - a folder: every `rollout-*.jsonl` / `rollout-*.jsonl.zst` below it, recursively;
//! - a Codex home (`~/.codex`): the same walk finds `sessions/YYYY/MM/DD/rollout-*.jsonl` and
//!   `archived_sessions/rollout-*.jsonl`.
//!
//! Files below a directory named `archived_sessions` are imported as archived threads. A
//! `session_index.jsonl` at the top of a folder (Codex writes one line `{"id", "thread_name",
//! "updated_at"}` per rename) names the threads this run imports: the newest name per id is set
//! with a metadata patch right after the thread is imported. Threads that were already in the
//! store are reported as such and left alone, so re-running an import is safe.
//!
//! Lines that cannot be read (a torn last line after a crash, bad JSON) are skipped and reported
//! with file and line number. A progress bar is drawn on a terminal (not with `--json`, not when
//! stdout is redirected); a summary follows (on stderr with `--json`). `--json` prints one object
//! per file on stdout, in file order: `{"threadId", "source" (the file), "items" (items written),
//! "turns", "archived", "name", "skippedLines": [{"line", "reason", "torn"}], "alreadyImported"}`.
//! A file that cannot be imported at all is reported on stderr and makes the exit code 1.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _};
use chrono::{DateTime, Utc};
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use threadstore::codex::import::{import_rollout, ImportOptions, ImportReport};
use threadstore::codex::reader::read_rollout;
use threadstore::{
    ReadThreadParams, SledThreadStore, ThreadId, ThreadMetadataPatch, ThreadStore,
    UpdateThreadMetadataParams,
};

use super::common::{self, Open};

/// Name of Codex's thread-name index at the top of a Codex home.
const SESSION_INDEX: &str = "session_index.jsonl";
/// Directory holding Codex's archived rollouts.
const ARCHIVED_DIR: &str = "archived_sessions";

/// `import` options.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Rollout files, folders or Codex homes (e.g. ~/.codex).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Files imported concurrently (they share fsyncs).
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// One JSON object per file on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A file to import.
#[derive(Clone, Debug)]
struct Source {
    path: PathBuf,
    /// The path for people: relative to the folder given on the command line, or as given.
    shown: String,
    archive: bool,
}

/// What importing one file gave.
struct Outcome {
    source: Source,
    result: anyhow::Result<Imported>,
}

struct Imported {
    report: ImportReport,
    turns: u64,
    name: Option<String>,
}

fn is_rollout_name(name: &str) -> bool {
    name.starts_with("rollout-") && (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"))
}

fn under_archived(path: &Path) -> bool {
    path.parent()
        .is_some_and(|p| p.components().any(|c| c.as_os_str() == ARCHIVED_DIR))
}

/// Every rollout file below `dir`, sorted by path.
fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if entry.file_name().to_str().is_some_and(is_rollout_name) {
            out.insert(path);
        }
    }
    Ok(())
}

/// The files to import and the session indexes found, in a stable order.
fn collect(paths: &[PathBuf]) -> anyhow::Result<(Vec<Source>, Vec<PathBuf>)> {
    let mut files = BTreeMap::new();
    let mut indexes = Vec::new();
    for given in paths {
        let path = std::fs::canonicalize(given)
            .with_context(|| format!("cannot import {}", given.display()))?;
        if path.is_dir() {
            let mut found = BTreeSet::new();
            walk(&path, &mut found)?;
            if found.is_empty() {
                eprintln!(
                    "warning: no rollout files (rollout-*.jsonl or rollout-*.jsonl.zst) under {}",
                    given.display()
                );
            }
            for file in found {
                let shown = file
                    .strip_prefix(&path)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                files.entry(file).or_insert(shown);
            }
            let index = path.join(SESSION_INDEX);
            if index.is_file() {
                indexes.push(index);
            }
        } else {
            files
                .entry(path)
                .or_insert_with(|| given.display().to_string());
        }
    }
    let sources = files
        .into_iter()
        .map(|(path, shown)| Source {
            archive: under_archived(&path),
            path,
            shown,
        })
        .collect();
    Ok((sources, indexes))
}

/// The newest name per thread id from Codex `session_index.jsonl` files (later lines win ties).
fn read_names(indexes: &[PathBuf]) -> anyhow::Result<HashMap<ThreadId, String>> {
    let mut newest: HashMap<ThreadId, (DateTime<Utc>, String)> = HashMap::new();
    for index in indexes {
        let text = std::fs::read_to_string(index)
            .with_context(|| format!("cannot read {}", index.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str::<Value>(line).ok();
            let id = entry
                .as_ref()
                .and_then(|e| e["id"].as_str())
                .and_then(|s| s.parse::<ThreadId>().ok());
            let name = entry.as_ref().and_then(|e| e["thread_name"].as_str());
            let (Some(id), Some(name)) = (id, name) else {
                eprintln!(
                    "warning: {}:{}: skipped (not a {{\"id\", \"thread_name\", \"updated_at\"}} line)",
                    index.display(),
                    n + 1
                );
                continue;
            };
            let at = entry
                .as_ref()
                .and_then(|e| e["updated_at"].as_str())
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            match newest.get(&id) {
                Some((old, _)) if *old > at => {}
                _ => {
                    newest.insert(id, (at, name.to_owned()));
                }
            }
        }
    }
    Ok(newest
        .into_iter()
        .map(|(id, (_, name))| (id, name))
        .collect())
}

/// Imports one file; names the thread when this run created it and the index has a name.
async fn import_one(
    store: &SledThreadStore,
    source: &Source,
    names: &HashMap<ThreadId, String>,
) -> anyhow::Result<Imported> {
    let path = source.path.clone();
    let parsed = tokio::task::spawn_blocking(move || read_rollout(&path)).await??;
    let opts = ImportOptions {
        archive: source.archive,
        ..Default::default()
    };
    let report = import_rollout(store, &parsed, &opts).await?;
    let thread_id = report.thread_id;
    let mut name = None;
    if !report.already_imported {
        if let Some(n) = names.get(&thread_id) {
            store
                .update_thread_metadata(UpdateThreadMetadataParams {
                    thread_id,
                    patch: ThreadMetadataPatch {
                        name: Some(Some(n.clone())),
                        ..Default::default()
                    },
                    include_archived: true,
                })
                .await
                .with_context(|| format!("naming thread {thread_id} {n:?}"))?;
            name = Some(n.clone());
        }
    }
    let thread = store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await?;
    Ok(Imported {
        report,
        turns: thread.turn_count,
        name: name.or(thread.name),
    })
}

#[derive(Default)]
struct Summary {
    imported: u64,
    already: u64,
    items: u64,
    turns: u64,
    archived: u64,
    named: u64,
    skipped_lines: u64,
    torn_lines: u64,
    failed: u64,
}

/// Imports every file found under the given paths.
pub async fn run(data: &Path, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (sources, indexes) = collect(&args.paths)?;
    if sources.is_empty() {
        bail!("nothing to import: no rollout files found");
    }
    let names = read_names(&indexes)?;
    let started = Instant::now();
    let bar = ProgressBar::with_draw_target(
        Some(sources.len() as u64),
        if args.json || !std::io::stdout().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files  {elapsed}  {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let jobs = args.jobs.max(1);
    let json = args.json;
    let summary = common::with_store(data, Open::Create, async |store| {
        let mut summary = Summary::default();
        let mut outcomes = futures::stream::iter(sources.iter().cloned())
            .map(|source| {
                let names = &names;
                async move {
                    let result = import_one(store, &source, names).await;
                    Outcome { source, result }
                }
            })
            .buffered(jobs);
        while let Some(outcome) = outcomes.next().await {
            bar.inc(1);
            report(&bar, &outcome, json, &mut summary);
        }
        Ok(summary)
    })
    .await?;
    bar.finish_and_clear();

    let mut line = format!(
        "imported {} threads ({} items, {} turns, {} archived, {} named) from {} files in {:.2?}",
        summary.imported,
        summary.items,
        summary.turns,
        summary.archived,
        summary.named,
        sources.len(),
        started.elapsed()
    );
    line.push_str(&format!(
        "; {} already present (skipped); {} unreadable lines skipped ({} torn)",
        summary.already, summary.skipped_lines, summary.torn_lines
    ));
    if summary.failed > 0 {
        line.push_str(&format!("; {} files failed", summary.failed));
    }
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints what happened to one file and adds it to the summary.
fn report(bar: &ProgressBar, outcome: &Outcome, json: bool, summary: &mut Summary) {
    let file = outcome.source.path.display().to_string();
    let shown = &outcome.source.shown;
    let imported = match &outcome.result {
        Ok(imported) => imported,
        Err(e) => {
            summary.failed += 1;
            bar.suspend(|| eprintln!("error: {shown}: {e:#}"));
            return;
        }
    };
    let r = &imported.report;
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
            bar.suspend(|| eprintln!("warning: {shown}:{}: skipped: {why}", skipped.line_number));
        }
    }
    if r.already_imported {
        summary.already += 1;
    } else {
        summary.imported += 1;
        summary.items += r.items;
        summary.turns += imported.turns;
        summary.archived += u64::from(outcome.source.archive);
        summary.named += u64::from(imported.name.is_some());
    }
    bar.set_message(
        outcome
            .source
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    if json {
        common::print_json(&json!({
            "threadId": r.thread_id.to_string(),
            "source": file,
            "items": r.items,
            "turns": imported.turns,
            "archived": outcome.source.archive,
            "name": imported.name,
            "era": format!("{:?}", r.era),
            "skippedLines": r.skipped.iter().map(|s| json!({
                "line": s.line_number,
                "reason": s.reason,
                "torn": s.torn,
            })).collect::<Vec<_>>(),
            "alreadyImported": r.already_imported,
        }));
    } else if r.already_imported {
        bar.suspend(|| println!("skipped {shown}: thread {} already imported", r.thread_id));
    } else {
        let mut extra = String::new();
        if outcome.source.archive {
            extra.push_str(", archived");
        }
        if let Some(name) = &imported.name {
            extra.push_str(&format!(", named {name:?}"));
        }
        bar.suspend(|| {
            println!(
                "imported {shown} as {} ({} items, {} turns{extra})",
                r.thread_id, r.items, imported.turns
            )
        });
    }
}

//! `threadstore rebuild`: rebuilds every projection (thread metadata, turns, turn membership, list
//! and rollout-path indexes, and the search index) from the logs, and reports what changed;
//! `--search` rebuilds only the search index, in place (`{"differencesAfter", "verifiedAfter",
//! "seconds"}` with `--json`). The work is the library's
//! `threadstore_actors::rebuild` (how it copies, verifies and swaps, and what it does not carry
//! over); this module opens the store and prints the report.
//!
//! `--json` prints one object: `{"threads", "items", "turns", "differencesBefore": [{"threadId",
//! "what"}], "threadsChanged", "verifiedAfter", "backup" (path or null), "feedHeadBefore",
//! "feedHeadAfter", "seconds"}`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use threadstore::layers::storage::verify::Difference;
use threadstore::{rebuild, RebuildOptions, RebuildReport};

use super::common::{self, Open};
use crate::output::outln;

/// `rebuild` options.
#[derive(Args, Debug)]
pub struct RebuildArgs {
    /// Delete the old database after a successful rebuild instead of keeping it in
    /// `<data>/db.pre-rebuild`.
    #[arg(long)]
    pub discard_old: bool,
    /// Rebuild only the full-text search index (from the event feed), in place; then check it
    /// against the logs.
    #[arg(long)]
    pub search: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Rebuilds every projection from the logs.
pub async fn run(data: &Path, args: RebuildArgs) -> anyhow::Result<ExitCode> {
    if args.search {
        return rebuild_search(data, args.json).await;
    }
    let store = common::open_store(data, Open::Existing).await?;
    let report = rebuild(
        store,
        RebuildOptions {
            discard_old: args.discard_old,
        },
    )
    .await?;
    let verified = report.after.differences.is_empty();
    print_report(&report, args.json)?;
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--search`: the index is thrown away and built again from the feed.
async fn rebuild_search(data: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let left = common::with_store(data, Open::Existing, async |store| {
        Ok(store
            .actor_store()
            .rebuild_search(std::time::Duration::from_secs(24 * 3600))
            .await?)
    })
    .await?;
    let ok = left.is_empty();
    if json {
        common::print_json(&json!({
            "differencesAfter": left.iter().map(|(t, what)| json!({
                "threadId": t.map(|t| t.to_string()),
                "what": what,
            })).collect::<Vec<_>>(),
            "verifiedAfter": ok,
            "seconds": started.elapsed().as_secs_f64(),
        }))?;
    } else {
        outln!(
            "rebuilt the search index from the event feed in {:.2?}",
            started.elapsed()
        )?;
        if ok {
            outln!("after: the index matches every thread's log")?;
        }
        for (thread, what) in &left {
            match thread {
                Some(t) => outln!("  thread {t}: {what}")?,
                None => outln!("  {what}")?,
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn threads_with_differences(differences: &[Difference]) -> usize {
    differences
        .iter()
        .filter_map(|d| d.thread_id)
        .collect::<BTreeSet<_>>()
        .len()
}

fn print_report(copied: &RebuildReport, json: bool) -> anyhow::Result<()> {
    let verified = copied.after.differences.is_empty();
    let kept = copied.backup.as_deref();
    let feed_head_after = copied.feed_head_after;
    let differences = &copied.before.differences;
    if json {
        return common::print_json(&json!({
            "threads": copied.threads,
            "items": copied.items,
            "turns": copied.turns,
            "differencesBefore": differences.iter().map(|d| json!({
                "threadId": d.thread_id.map(|t| t.to_string()),
                "what": d.what,
            })).collect::<Vec<_>>(),
            "threadsChanged": copied.changed,
            "threadsWithoutLog": copied.without_log.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "verifiedAfter": verified,
            "backup": kept.map(|p| p.display().to_string()),
            "feedHeadBefore": copied.feed_head_before,
            "feedHeadAfter": feed_head_after,
            "seconds": copied.elapsed.as_secs_f64(),
        }));
    }
    outln!(
        "rebuilt the projections of {} threads ({} items, {} turns) from their logs in {:.2?}",
        copied.threads,
        copied.items,
        copied.turns,
        copied.elapsed
    )?;
    if differences.is_empty() {
        outln!("before: every projection matched its log (nothing to fix)")?;
    } else {
        outln!(
            "fixed {} differences in {} threads ({} threads' records changed):",
            differences.len(),
            threads_with_differences(differences),
            copied.changed
        )?;
        for d in differences {
            let what = common::truncate(&d.what, 160);
            match d.thread_id {
                Some(t) => outln!("  thread {t}: {what}")?,
                None => outln!("  index: {what}")?,
            }
        }
    }
    for id in &copied.without_log {
        outln!("left out thread {id}: it has a record but no log to rebuild it from")?;
    }
    outln!(
        "after: {}",
        if verified {
            "every projection matches its log"
        } else {
            "differences remain (run `threadstore verify`)"
        }
    )?;
    outln!(
        "the event feed restarts at position 0 (head now {feed_head_after}, was {}); idempotency keys of past appends are forgotten",
        copied.feed_head_before
    )?;
    match kept {
        Some(backup) => outln!(
            "the previous database is kept in {} (remove it when satisfied)",
            backup.display()
        ),
        None => outln!("the previous database was removed (--discard-old)"),
    }
}

//! `threadstore rebuild`: rebuilds every projection (thread metadata, turns, turn membership, list
//! and rollout-path indexes) from the logs, and reports what changed.
//!
//! How: the log is the only source of truth, so the command copies every thread's log, record
//! for record (timestamp, ordinal, kind, payload text, position), into a fresh store built in
//! `<data>/rebuild.tmp/`, where the same reducers that maintain the projections on every append
//! compute them from scratch; the copy is verified, then swapped in for the old database. The
//! threads are enumerated from the thread records, not from the list indexes (which may be the
//! broken part), and their logs are read straight from the journal, not through projections.
//!
//! Steps, with the data directory locked throughout:
//!
//! 1. `verify` the store: the differences found are what the rebuild fixes;
//! 2. copy each thread's log and rollout path into the fresh store (`Buffered`, one atomic create
//!    per thread, so ordinals survive), then check that every copy has the same number of items
//!    and `verify` the fresh store: any difference stops the rebuild and leaves the store as it was;
//! 3. swap: `<data>/db` becomes `<data>/db.pre-rebuild` (kept as a backup unless
//!    `--discard-old`) and the fresh database becomes `<data>/db`; then `verify` once more.
//!
//! What a rebuild does not carry over, because it is not derived from the logs: the **event
//! feed** starts again at position 0 with the events of the copy (one `threadCreated`, turn and
//! `writerClosed` events per thread), so `tail --from` positions taken before are void; and the
//! **idempotency keys** of past appends (`request_id`) are forgotten, so run it while no client
//! is retrying appends. Writer epochs restart at 1 (leases never survive a restart anyway). The
//! backup keeps all of it.
//!
//! If the process dies during the swap (two renames), `<data>/db.pre-rebuild` is the old store:
//! rename it back to `<data>/db`. A second rebuild refuses to start while a backup is there.
//!
//! `--json` prints one object: `{"threads", "items", "turns", "differencesBefore": [{"threadId",
//! "what"}], "threadsChanged", "verifiedAfter", "backup" (path or null), "feedHeadBefore",
//! "feedHeadAfter", "seconds"}`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use serde_json::json;
use threadstore::layers::storage::engine::LOCK_FILE;
use threadstore::layers::storage::verify::{Difference, VerifyReport};
use threadstore::{
    CreateThreadParams, Durability, RolloutItem, RolloutLine, SledThreadStore, SortDirection,
    ThreadId, ThreadStore, ThreadStoreError,
};

use super::common::{self, Open};

/// Folder (inside the data directory) the fresh store is built in.
const BUILD_DIR: &str = "rebuild.tmp";
/// The database folder of a store, inside its data directory.
const DB_DIR: &str = "db";
/// Where the old database is kept after the swap.
const BACKUP_DIR: &str = "db.pre-rebuild";
/// Log records read per journal call.
const LOG_CHUNK: usize = 4096;

/// `rebuild` options.
#[derive(Args, Debug)]
pub struct RebuildArgs {
    /// Delete the old database after a successful rebuild instead of keeping it in
    /// `<data>/db.pre-rebuild`.
    #[arg(long)]
    pub discard_old: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// What the copy gave.
struct Copied {
    before: VerifyReport,
    feed_head_before: u64,
    threads: u64,
    items: u64,
    turns: u64,
    /// Threads whose stored record (metadata, turn state, length) differs from the rebuilt one.
    changed: u64,
    /// Threads with a record but no log (nothing to rebuild them from): left out.
    empty: Vec<ThreadId>,
}

/// Reads one thread's whole log straight from the journal.
async fn read_log(store: &SledThreadStore, id: ThreadId) -> anyhow::Result<Vec<RolloutLine>> {
    let journal = store.actor_store().journal();
    let mut lines = Vec::new();
    let mut from = 0;
    loop {
        let chunk = journal
            .log_range(id, from, u64::MAX, SortDirection::Asc, LOG_CHUNK)
            .await?;
        let Some((last, _)) = chunk.last() else {
            return Ok(lines);
        };
        from = last + 1;
        for (position, record) in chunk {
            if position != lines.len() as u64 {
                bail!(
                    "thread {id}: the log has a gap at position {} (found {position}); the log itself is damaged and a rebuild cannot repair it",
                    lines.len()
                );
            }
            let timestamp = record.timestamp();
            let item = RolloutItem::from_json_text(record.kind, record.payload).map_err(|e| {
                ThreadStoreError::Corrupt {
                    thread_id: Some(id),
                    position: Some(position),
                    message: e.to_string(),
                }
            })?;
            lines.push(RolloutLine {
                timestamp,
                ordinal: record.ordinal,
                item,
            });
        }
    }
}

/// Copies every thread's log from `old` into a fresh store in `build`, then verifies the copy.
async fn copy_all(old: &SledThreadStore, build: &Path) -> anyhow::Result<Copied> {
    let before = old.actor_store().verify().await?;
    let feed_head_before = old.actor_store().feed_head();
    let fresh = SledThreadStore::builder(build)
        .durability(Durability::Buffered)
        .max_batch_items(usize::MAX)
        .open()
        .await
        .with_context(|| format!("cannot create the fresh store in {}", build.display()))?;
    let copied = copy_into(old, &fresh, before, feed_head_before).await;
    let closed = fresh.close().await;
    let copied = copied?;
    closed.context("closing the fresh store")?;
    Ok(copied)
}

async fn copy_into(
    old: &SledThreadStore,
    fresh: &SledThreadStore,
    before: VerifyReport,
    feed_head_before: u64,
) -> anyhow::Result<Copied> {
    let old_journal = old.actor_store().journal();
    let new_journal = fresh.actor_store().journal();
    let mut copied = Copied {
        before,
        feed_head_before,
        threads: 0,
        items: 0,
        turns: 0,
        changed: 0,
        empty: Vec::new(),
    };
    for id in old_journal.thread_ids().await? {
        let Some(stored) = old_journal.thread(id).await? else {
            continue;
        };
        let lines = read_log(old, id).await?;
        if lines.is_empty() {
            copied.empty.push(id);
            continue;
        }
        let count = lines.len() as u64;
        fresh
            .create_thread(CreateThreadParams {
                thread_id: Some(id),
                rollout_path: stored.meta.rollout_path.as_ref().map(PathBuf::from),
                history: lines,
                ..Default::default()
            })
            .await
            .with_context(|| format!("copying the log of thread {id}"))?;
        fresh.shutdown_thread(id).await?;
        let rebuilt = new_journal
            .thread(id)
            .await?
            .ok_or_else(|| anyhow!("thread {id} is missing from the fresh store"))?;
        if rebuilt.next_position != count {
            bail!(
                "thread {id}: the copy has {} items, the log {count}; nothing was changed",
                rebuilt.next_position
            );
        }
        if rebuilt.meta != stored.meta
            || rebuilt.turns != stored.turns
            || rebuilt.next_position != stored.next_position
        {
            copied.changed += 1;
        }
        copied.threads += 1;
        copied.items += count;
        copied.turns += rebuilt.turns.visible;
    }
    fresh.actor_store().flush_all().await?;
    let check = fresh.actor_store().verify().await?;
    if !check.differences.is_empty() {
        bail!(
            "the rebuilt copy does not verify ({} differences, first: {}); nothing was changed",
            check.differences.len(),
            check
                .differences
                .first()
                .map(|d| d.what.as_str())
                .unwrap_or_default()
        );
    }
    Ok(copied)
}

/// Swaps the fresh database in, holding the data directory's lock so no other process opens the
/// store in between. Returns the backup path (or `None` when discarded).
fn swap(data: &Path, build: &Path, discard_old: bool) -> anyhow::Result<Option<PathBuf>> {
    let lock_path = data.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if !fs4::fs_std::FileExt::try_lock_exclusive(&lock)
        .with_context(|| format!("cannot lock {}", lock_path.display()))?
    {
        bail!(
            "another threadstore process opened the store in {} during the rebuild; the store is unchanged (the rebuilt copy is in {})",
            data.display(),
            build.display()
        );
    }
    let (db, backup) = (data.join(DB_DIR), data.join(BACKUP_DIR));
    std::fs::rename(&db, &backup).with_context(|| {
        format!(
            "cannot move {} to {}; the store is unchanged",
            db.display(),
            backup.display()
        )
    })?;
    std::fs::rename(build.join(DB_DIR), &db).with_context(|| {
        format!(
            "cannot move the rebuilt database into {}: the old one is in {}, rename it back",
            db.display(),
            backup.display()
        )
    })?;
    std::fs::remove_dir_all(build).with_context(|| format!("cannot remove {}", build.display()))?;
    let kept = if discard_old {
        std::fs::remove_dir_all(&backup)
            .with_context(|| format!("cannot remove the old database {}", backup.display()))?;
        None
    } else {
        Some(backup)
    };
    drop(lock);
    Ok(kept)
}

/// Rebuilds every projection from the logs.
pub async fn run(data: &Path, args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let backup = data.join(BACKUP_DIR);
    if backup.exists() {
        bail!(
            "{} holds the database a previous rebuild replaced: remove it (or move it away) before rebuilding again",
            backup.display()
        );
    }
    let build = data.join(BUILD_DIR);
    let copied = common::with_store(data, Open::Existing, async |store| {
        // A leftover of an interrupted rebuild: ours (inside the locked data directory).
        if build.exists() {
            std::fs::remove_dir_all(&build)
                .with_context(|| format!("cannot remove the leftover {}", build.display()))?;
        }
        let copied = copy_all(store, &build).await;
        if copied.is_err() && build.exists() {
            // Best effort: the error says more than a failed clean-up would.
            let _ = std::fs::remove_dir_all(&build);
        }
        copied
    })
    .await?;
    let kept = swap(data, &build, args.discard_old)?;
    let (after, feed_head_after) = common::with_store(data, Open::Existing, async |store| {
        let report = store.actor_store().verify().await?;
        Ok((report, store.actor_store().feed_head()))
    })
    .await?;
    let verified = after.differences.is_empty();
    print_report(
        &copied,
        verified,
        kept.as_deref(),
        feed_head_after,
        started,
        args.json,
    );
    Ok(if verified {
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

fn print_report(
    copied: &Copied,
    verified: bool,
    kept: Option<&Path>,
    feed_head_after: u64,
    started: Instant,
    json: bool,
) {
    let differences = &copied.before.differences;
    if json {
        common::print_json(&json!({
            "threads": copied.threads,
            "items": copied.items,
            "turns": copied.turns,
            "differencesBefore": differences.iter().map(|d| json!({
                "threadId": d.thread_id.map(|t| t.to_string()),
                "what": d.what,
            })).collect::<Vec<_>>(),
            "threadsChanged": copied.changed,
            "threadsWithoutLog": copied.empty.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "verifiedAfter": verified,
            "backup": kept.map(|p| p.display().to_string()),
            "feedHeadBefore": copied.feed_head_before,
            "feedHeadAfter": feed_head_after,
            "seconds": started.elapsed().as_secs_f64(),
        }));
        return;
    }
    println!(
        "rebuilt the projections of {} threads ({} items, {} turns) from their logs in {:.2?}",
        copied.threads,
        copied.items,
        copied.turns,
        started.elapsed()
    );
    if differences.is_empty() {
        println!("before: every projection matched its log (nothing to fix)");
    } else {
        println!(
            "fixed {} differences in {} threads ({} threads' records changed):",
            differences.len(),
            threads_with_differences(differences),
            copied.changed
        );
        for d in differences {
            let what = common::truncate(&d.what, 160);
            match d.thread_id {
                Some(t) => println!("  thread {t}: {what}"),
                None => println!("  index: {what}"),
            }
        }
    }
    for id in &copied.empty {
        println!("left out thread {id}: it has a record but no log to rebuild it from");
    }
    println!(
        "after: {}",
        if verified {
            "every projection matches its log"
        } else {
            "differences remain (run `threadstore verify`)"
        }
    );
    println!(
        "the event feed restarts at position 0 (head now {feed_head_after}, was {}); idempotency keys of past appends are forgotten",
        copied.feed_head_before
    );
    match kept {
        Some(backup) => println!(
            "the previous database is kept in {} (remove it when satisfied)",
            backup.display()
        ),
        None => println!("the previous database was removed (--discard-old)"),
    }
}

//! Rebuilding every projection (thread metadata, turns, turn membership, list and rollout-path
//! indexes) of a sled store from its logs: [`rebuild`] (what `threadstore rebuild` runs).
//!
//! How: the log is the only source of truth, so the rebuild copies every thread's log, record
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
//!    [`RebuildOptions::discard_old`]) and the fresh database becomes `<data>/db`; then `verify`
//!    once more.
//!
//! What a rebuild does not carry over, because it is not derived from the logs: the **event
//! feed** starts again at position 0 with the events of the copy (one `threadCreated`, turn and
//! `writerClosed` events per thread), so feed positions taken before are void; and the
//! **idempotency keys** of past appends (`request_id`) are forgotten, so run it while no client
//! is retrying appends. Writer epochs restart at 1 (leases never survive a restart anyway). The
//! backup keeps all of it.
//!
//! If the process dies during the swap (two renames), `<data>/db.pre-rebuild` is the old store:
//! rename it back to `<data>/db`. A second rebuild refuses to start while a backup is there.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use threadstore_api::{
    CreateThreadParams, RolloutItem, RolloutLine, SortDirection, ThreadId, ThreadStore,
    ThreadStoreError, ThreadStoreResult,
};
use threadstore_storage::engine::lock_data_dir;
use threadstore_storage::verify::VerifyReport;

use crate::backends::SledThreadStore;
use crate::config::Durability;

/// Folder (inside the data directory) the fresh store is built in.
pub const BUILD_DIR: &str = "rebuild.tmp";
/// The database folder of a store, inside its data directory.
const DB_DIR: &str = "db";
/// Where the old database is kept after the swap.
pub const BACKUP_DIR: &str = "db.pre-rebuild";
/// Log records read per journal call.
const LOG_CHUNK: usize = 4096;

/// How to rebuild.
#[derive(Clone, Copy, Debug, Default)]
pub struct RebuildOptions {
    /// Delete the old database after a successful rebuild instead of keeping it in
    /// `<data>/db.pre-rebuild`.
    pub discard_old: bool,
}

/// What a rebuild did.
#[derive(Clone, Debug)]
pub struct RebuildReport {
    /// The verification before: the differences the rebuild fixed.
    pub before: VerifyReport,
    /// The verification of the swapped-in database (empty differences: every projection
    /// matches its log).
    pub after: VerifyReport,
    /// Threads copied.
    pub threads: u64,
    /// Items copied.
    pub items: u64,
    /// Visible turns of the copies.
    pub turns: u64,
    /// Threads whose stored record (metadata, turn state, length) differed from the rebuilt one.
    pub changed: u64,
    /// Threads with a record but no log (nothing to rebuild them from): left out.
    pub without_log: Vec<ThreadId>,
    /// The old database, kept (or `None` when discarded).
    pub backup: Option<PathBuf>,
    /// Feed head before and after (the feed restarts with the copy's events).
    pub feed_head_before: u64,
    /// See `feed_head_before`.
    pub feed_head_after: u64,
    /// Time taken.
    pub elapsed: Duration,
}

/// What the copy gave.
struct Copied {
    before: VerifyReport,
    feed_head_before: u64,
    threads: u64,
    items: u64,
    turns: u64,
    changed: u64,
    without_log: Vec<ThreadId>,
}

/// Rebuilds every projection of `store` from its logs (see the module docs), closing `store` on
/// the way; returns once the rebuilt database is swapped in, reopened and verified.
///
/// Errors, each leaving the store as it was unless said otherwise: `InvalidRequest` when a
/// previous rebuild's backup is still there; `Corrupt` when a log itself is damaged (a gap, an
/// undecodable record), which a rebuild cannot repair; `Internal` when the copy does not verify
/// or a file operation fails (a failed second rename of the swap says where the old database
/// is); `Locked` when another process opened the store during the rebuild.
#[tracing::instrument(skip_all, fields(path = %store.path().display()))]
pub async fn rebuild(
    store: SledThreadStore,
    options: RebuildOptions,
) -> ThreadStoreResult<RebuildReport> {
    let started = Instant::now();
    let data = store.path().to_path_buf();
    let backup = data.join(BACKUP_DIR);
    let build = data.join(BUILD_DIR);
    let copied = if backup.exists() {
        Err(ThreadStoreError::invalid(format!(
            "{} holds the database a previous rebuild replaced: remove it (or move it away) before rebuilding again",
            backup.display()
        )))
    } else {
        copy_all(&store, &build).await
    };
    let closed = store.close().await;
    let copied = copied?;
    closed?;
    let kept = swap(&data, &build, options.discard_old)?;
    let store = SledThreadStore::open(&data).await?;
    let after = store.actor_store().verify().await;
    let feed_head_after = store.actor_store().feed_head();
    store.close().await?;
    let after = after?;
    tracing::info!(
        threads = copied.threads,
        items = copied.items,
        fixed = copied.before.differences.len(),
        "rebuilt"
    );
    Ok(RebuildReport {
        before: copied.before,
        after,
        threads: copied.threads,
        items: copied.items,
        turns: copied.turns,
        changed: copied.changed,
        without_log: copied.without_log,
        backup: kept,
        feed_head_before: copied.feed_head_before,
        feed_head_after,
        elapsed: started.elapsed(),
    })
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> ThreadStoreError {
    move |e| ThreadStoreError::internal(format!("{what}: {e}"))
}

/// Copies every thread's log from `old` into a fresh store in `build`, then verifies the copy.
/// A leftover `build` of an interrupted rebuild is ours (inside the locked data directory) and
/// is replaced; on failure the partial copy is removed.
async fn copy_all(old: &SledThreadStore, build: &Path) -> ThreadStoreResult<Copied> {
    if build.exists() {
        std::fs::remove_dir_all(build).map_err(io(format!(
            "cannot remove the leftover {}",
            build.display()
        )))?;
    }
    let copied = copy_fresh(old, build).await;
    if copied.is_err() && build.exists() {
        // Best effort: the error says more than a failed clean-up would.
        let _ = std::fs::remove_dir_all(build);
    }
    copied
}

async fn copy_fresh(old: &SledThreadStore, build: &Path) -> ThreadStoreResult<Copied> {
    let before = old.actor_store().verify().await?;
    let feed_head_before = old.actor_store().feed_head();
    let fresh = SledThreadStore::builder(build)
        .durability(Durability::Buffered)
        .max_batch_items(usize::MAX)
        .open()
        .await?;
    let copied = copy_into(old, &fresh, before, feed_head_before).await;
    let closed = fresh.close().await;
    let copied = copied?;
    closed?;
    Ok(copied)
}

/// Reads one thread's whole log straight from the journal.
async fn read_log(store: &SledThreadStore, id: ThreadId) -> ThreadStoreResult<Vec<RolloutLine>> {
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
                return Err(ThreadStoreError::Corrupt {
                    thread_id: Some(id),
                    position: Some(lines.len() as u64),
                    message: format!(
                        "the log has a gap at position {} (found {position}); the log itself is damaged and a rebuild cannot repair it",
                        lines.len()
                    ),
                });
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

async fn copy_into(
    old: &SledThreadStore,
    fresh: &SledThreadStore,
    before: VerifyReport,
    feed_head_before: u64,
) -> ThreadStoreResult<Copied> {
    let old_journal = old.actor_store().journal();
    let new_journal = fresh.actor_store().journal();
    let mut copied = Copied {
        before,
        feed_head_before,
        threads: 0,
        items: 0,
        turns: 0,
        changed: 0,
        without_log: Vec::new(),
    };
    for id in old_journal.thread_ids().await? {
        let Some(stored) = old_journal.thread(id).await? else {
            continue;
        };
        let lines = read_log(old, id).await?;
        if lines.is_empty() {
            copied.without_log.push(id);
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
            .await?;
        fresh.shutdown_thread(id).await?;
        let rebuilt = new_journal.thread(id).await?.ok_or_else(|| {
            ThreadStoreError::internal(format!("thread {id} is missing from the fresh store"))
        })?;
        if rebuilt.next_position != count {
            return Err(ThreadStoreError::internal(format!(
                "thread {id}: the copy has {} items, the log {count}; nothing was changed",
                rebuilt.next_position
            )));
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
    if let Some(first) = check.differences.first() {
        return Err(ThreadStoreError::internal(format!(
            "the rebuilt copy does not verify ({} differences, first: {}); nothing was changed",
            check.differences.len(),
            first.what
        )));
    }
    Ok(copied)
}

/// Swaps the fresh database in, holding the data directory's lock so no other process opens the
/// store in between. Returns the backup path (or `None` when discarded).
fn swap(data: &Path, build: &Path, discard_old: bool) -> ThreadStoreResult<Option<PathBuf>> {
    let lock = lock_data_dir(data).map_err(|e| match e {
        ThreadStoreError::Locked { path, .. } => ThreadStoreError::Locked {
            message: format!(
                "another threadstore process opened the store during the rebuild; the store is unchanged (the rebuilt copy is in {})",
                build.display()
            ),
            path,
        },
        other => other,
    })?;
    let (db, backup) = (data.join(DB_DIR), data.join(BACKUP_DIR));
    std::fs::rename(&db, &backup).map_err(io(format!(
        "cannot move {} to {}; the store is unchanged",
        db.display(),
        backup.display()
    )))?;
    std::fs::rename(build.join(DB_DIR), &db).map_err(io(format!(
        "cannot move the rebuilt database into {}: the old one is in {}, rename it back",
        db.display(),
        backup.display()
    )))?;
    // The full-text index follows the feed, which starts again: the copy's index replaces the old
    // one (or, when the copy kept none, the next open builds one from the new feed).
    let search = data.join(crate::backends::SEARCH_DIR);
    if search.exists() {
        std::fs::remove_dir_all(&search)
            .map_err(io(format!("cannot remove {}", search.display())))?;
    }
    let built_search = build.join(crate::backends::SEARCH_DIR);
    if built_search.exists() {
        std::fs::rename(&built_search, &search).map_err(io(format!(
            "cannot move the rebuilt search index into {}",
            search.display()
        )))?;
    }
    std::fs::remove_dir_all(build).map_err(io(format!("cannot remove {}", build.display())))?;
    let kept = if discard_old {
        std::fs::remove_dir_all(&backup).map_err(io(format!(
            "cannot remove the old database {}",
            backup.display()
        )))?;
        None
    } else {
        Some(backup)
    };
    drop(lock);
    Ok(kept)
}

//! [`Indexer`]: the task that keeps the index a projection of the log.
//!
//! It follows the durable feed from the index's applied position: `itemsAppended` adds a
//! document per indexed record (read from the log), `threadCreated`, `metadataUpdated` and the
//! first appends refresh the thread's own document, `deleted` removes the thread's documents.
//! After a poke it lets commits gather for [`GATHER`], then applies them in one step, and it
//! commits at most every [`COMMIT_EVERY`] while there is something to commit, so a search sees
//! every append acknowledged [`GATHER`] + [`COMMIT_EVERY`] plus one step earlier (under a
//! second), and at once when asked ([`Indexer::sync`], which `flush_thread` calls).
//!
//! **Off the append's path.** Appends never wait for it: the store only pokes it after a commit
//! ([`Indexer::poker`]). It reads committed state, so it cannot block a write; when it fails (a
//! full disk, a damaged index) it logs, keeps its last commit, waits and tries again from there:
//! it falls behind ([`Indexer::lag`]) and catches up. After a crash it starts from its last
//! commit's position.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use threadstore_api::{FeedEvent, FeedEventKind, ThreadId, ThreadStoreError};
use threadstore_storage::{Journal, LogRecord, StorageResult};
use tokio::sync::{watch, Notify};
use tracing::{debug, warn};

use crate::extract;
use crate::index::SearchIndex;
use crate::worker::IndexWorker;
use crate::{SearchError, SearchResult};

/// The longest an applied change waits for its commit.
pub const COMMIT_EVERY: Duration = Duration::from_millis(700);
/// How long the indexer lets new commits gather after a poke before it reads them.
pub const GATHER: Duration = Duration::from_millis(100);
/// Feed events read per step.
const EVENTS_PER_STEP: usize = 1024;
/// Records applied per step at most (an append bigger than that is one step of its own).
const RECORDS_PER_STEP: u64 = 4096;
/// The wait after a failure before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Appends at positions below this refresh the thread's own document (the preview comes
/// from the first user message).
const META_REFRESH_BELOW: u64 = 64;

/// Follows the feed into the index; see the module doc.
pub struct Indexer {
    shared: Arc<Shared>,
}

struct Shared {
    index: Arc<SearchIndex>,
    /// Where every change to the index runs (a lower-priority thread).
    worker: IndexWorker,
    /// Weak: the store owns the journal; the indexer stops when it is gone.
    journal: Weak<dyn Journal>,
    wake: Notify,
    urgent: AtomicBool,
    stop: AtomicBool,
    /// Clear the index and index the feed again from its start.
    rebuild: AtomicBool,
    /// Feed position covered by the last commit.
    committed: watch::Sender<u64>,
    /// The last failure, until the next success.
    failure: Mutex<Option<String>>,
    /// Each thread document as last written: its text's hash, and whether it had a preview
    /// (once it has, appends no longer change it; only `metadataUpdated` does).
    meta_seen: Mutex<HashMap<ThreadId, (u64, bool)>>,
    stopped: Notify,
    running: AtomicBool,
}

/// The indexer's state, for `stats` and `verify`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexerStatus {
    /// Feed position the index covers.
    pub applied: u64,
    /// Feed events committed to the store but not yet searchable.
    pub lag: u64,
    /// The last failure, if the last attempt failed.
    pub failure: Option<String>,
}

impl Indexer {
    /// Starts following the feed on the current tokio runtime, from the index's applied
    /// position. An index ahead of the feed (a store replaced under it) is cleared first.
    /// `worker` is the thread the index was opened on (see [`crate::worker`]).
    pub fn start(
        index: Arc<SearchIndex>,
        worker: IndexWorker,
        journal: &Arc<dyn Journal>,
    ) -> SearchResult<Self> {
        let mut applied = index.applied()?;
        if applied > journal.feed_head() {
            warn!(
                applied,
                head = journal.feed_head(),
                "the search index is ahead of the store's feed; rebuilding it"
            );
            let ix = index.clone();
            worker.run_blocking(move || {
                ix.clear()?;
                ix.commit(0)
            })??;
            applied = 0;
        }
        let (committed, _) = watch::channel(applied);
        let shared = Arc::new(Shared {
            index,
            worker,
            journal: Arc::downgrade(journal),
            wake: Notify::new(),
            urgent: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            rebuild: AtomicBool::new(false),
            committed,
            failure: Mutex::new(None),
            meta_seen: Mutex::new(HashMap::new()),
            stopped: Notify::new(),
            running: AtomicBool::new(true),
        });
        tokio::spawn(run(shared.clone()));
        Ok(Self { shared })
    }

    /// The index it maintains.
    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.shared.index
    }

    /// A handle that pokes it, holding it weakly (for the journal's feed listener).
    pub fn poker(&self) -> impl Fn() + Send + Sync + 'static {
        let weak = Arc::downgrade(&self.shared);
        move || {
            if let Some(shared) = weak.upgrade() {
                shared.wake.notify_one();
            }
        }
    }

    /// Waits until every feed event below `position` is searchable, at most `timeout`; whether
    /// it got there.
    pub async fn sync(&self, position: u64, timeout: Duration) -> bool {
        let mut committed = self.shared.committed.subscribe();
        if *committed.borrow() >= position {
            return true;
        }
        self.shared.urgent.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        tokio::time::timeout(timeout, committed.wait_for(|c| *c >= position))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Throws the index away and indexes the whole feed again (`threadstore rebuild --search`);
    /// returns at once: [`Self::sync`] waits for the result.
    pub fn rebuild(&self) {
        // Nothing below the new start is covered any more.
        self.shared.committed.send_replace(0);
        self.shared.rebuild.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }

    /// Whether a [`Self::rebuild`] has not yet emptied the index.
    pub fn rebuild_pending(&self) -> bool {
        self.shared.rebuild.load(Ordering::SeqCst)
    }

    /// Where it stands.
    pub fn status(&self) -> IndexerStatus {
        let applied = *self.shared.committed.borrow();
        IndexerStatus {
            applied,
            lag: self
                .shared
                .journal
                .upgrade()
                .map_or(0, |j| j.feed_head().saturating_sub(applied)),
            failure: self.shared.failure.lock().ok().and_then(|f| f.clone()),
        }
    }

    /// Commits what it has applied and stops, waiting at most `timeout`.
    pub async fn stop(&self, timeout: Duration) {
        let stopped = self.shared.stopped.notified();
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        if self.shared.running.load(Ordering::SeqCst) {
            let _ = tokio::time::timeout(timeout, stopped).await;
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

/// The task: step while there is feed to apply, commit on time, sleep until poked.
async fn run(shared: Arc<Shared>) {
    let mut applied = *shared.committed.borrow();
    let mut dirty = false;
    let mut last_commit = Instant::now();
    loop {
        // Stopping, it still catches up first (bounded by the caller's wait), so what was
        // acknowledged before a clean close is searchable at the next open.
        let stopping = shared.stop.load(Ordering::SeqCst);
        if shared.rebuild.load(Ordering::SeqCst) {
            // Nothing is covered from here on; the request stays pending until the index is
            // empty, so whoever waits for it then waits for the new index.
            shared.committed.send_replace(0);
            let index = shared.index.clone();
            let cleared = shared
                .worker
                .run(move || {
                    index.clear()?;
                    index.commit(0)
                })
                .await
                .and_then(|r| r);
            if let Err(e) = cleared {
                warn!(error = %e, "clearing the search index failed; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
            forget_meta(&shared);
            applied = 0;
            dirty = false;
            shared.rebuild.store(false, Ordering::SeqCst);
        }
        match apply_step(&shared, applied).await {
            Ok(0) => {}
            Ok(n) => {
                applied += n;
                dirty = true;
            }
            Err(e) => {
                warn!(error = %e, applied, "search indexing failed; retrying from the last commit");
                set_failure(&shared, Some(e.to_string()));
                forget_meta(&shared);
                let index = shared.index.clone();
                let _ = shared.worker.run(move || index.rollback()).await;
                applied = *shared.committed.borrow();
                dirty = false;
                tokio::select! {
                    _ = tokio::time::sleep(RETRY_AFTER) => {}
                    _ = shared.wake.notified() => {}
                }
                continue;
            }
        }
        let head = shared.journal.upgrade().map(|j| j.feed_head());
        // The store is gone: commit what was applied, then end.
        let stopping = stopping || head.is_none();
        let caught_up = head.is_none_or(|h| applied >= h);
        let urgent = shared.urgent.load(Ordering::SeqCst);
        if dirty && (stopping || urgent || last_commit.elapsed() >= COMMIT_EVERY) {
            let index = shared.index.clone();
            let at = applied;
            let done = shared
                .worker
                .run(move || index.commit(at))
                .await
                .and_then(|r| r);
            match done {
                Ok(()) => {
                    debug!(applied, "search index committed");
                    dirty = false;
                    last_commit = Instant::now();
                    set_failure(&shared, None);
                    shared.committed.send_replace(applied);
                }
                Err(e) => {
                    warn!(error = %e, "search index commit failed; retrying");
                    set_failure(&shared, Some(e.to_string()));
                    forget_meta(&shared);
                    applied = *shared.committed.borrow();
                    dirty = false;
                    tokio::time::sleep(RETRY_AFTER).await;
                    continue;
                }
            }
        } else if !dirty && caught_up {
            // Nothing to commit: whoever waits for a position at or below this one is served.
            shared.committed.send_if_modified(|c| {
                let moved = *c < applied;
                *c = (*c).max(applied);
                moved
            });
        }
        if caught_up && !dirty {
            shared.urgent.store(false, Ordering::SeqCst);
        }
        if stopping && caught_up {
            break;
        }
        if !caught_up {
            continue;
        }
        // Sleep until poked, or until the pending commit is due.
        let wait = if dirty {
            COMMIT_EVERY.saturating_sub(last_commit.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let poked = tokio::select! {
            _ = shared.wake.notified() => true,
            _ = tokio::time::sleep(wait) => false,
        };
        // Let commits gather (one read and one batch for many of them), unless someone waits.
        if poked && !shared.urgent.load(Ordering::SeqCst) && !shared.stop.load(Ordering::SeqCst) {
            tokio::select! {
                _ = tokio::time::sleep(GATHER) => {}
                _ = stopped_or_urgent(&shared) => {}
            }
        }
    }
    shared.running.store(false, Ordering::SeqCst);
    shared.stopped.notify_waiters();
}

/// After a rollback the thread documents written since the last commit are gone: forget them.
fn forget_meta(shared: &Shared) {
    if let Ok(mut m) = shared.meta_seen.lock() {
        m.clear();
    }
}

/// Resolves when a stop or an urgent request (a `sync`) arrives.
async fn stopped_or_urgent(shared: &Shared) {
    loop {
        shared.wake.notified().await;
        if shared.stop.load(Ordering::SeqCst) || shared.urgent.load(Ordering::SeqCst) {
            return;
        }
    }
}

fn set_failure(shared: &Shared, failure: Option<String>) {
    if let Ok(mut f) = shared.failure.lock() {
        *f = failure;
    }
}

/// Applies up to [`EVENTS_PER_STEP`] feed events from `from` (uncommitted); how many.
async fn apply_step(shared: &Shared, from: u64) -> SearchResult<u64> {
    let Some(journal) = shared.journal.upgrade() else {
        return Ok(0);
    };
    let events = journal
        .feed_range(from, EVENTS_PER_STEP)
        .await
        .map_err(SearchError::Store)?;
    if events.is_empty() {
        return Ok(0);
    }
    if events.first().map(|e| e.position) != Some(from) {
        return Err(SearchError::Store(ThreadStoreError::Corrupt {
            thread_id: None,
            position: Some(from),
            message: "the feed has a gap where the search index goes on".into(),
        }));
    }
    // The events whose records fit the step's budget (at least one event).
    let mut take = 0;
    let mut records = 0u64;
    for event in &events {
        let n = match event.kind {
            FeedEventKind::ItemsAppended { count, .. } => count,
            _ => 0,
        };
        if take > 0 && records + n > RECORDS_PER_STEP {
            break;
        }
        records += n;
        take += 1;
    }
    let events = &events[..take];
    let count = take as u64;
    // Every appended range of the step in one read.
    let ranges: Vec<(ThreadId, u64, u64)> = events
        .iter()
        .filter_map(|e| match e.kind {
            FeedEventKind::ItemsAppended {
                first_position,
                count,
            } => Some((e.thread_id, first_position, first_position + count)),
            _ => None,
        })
        .collect();
    let mut appended = journal
        .log_ranges(ranges)
        .await
        .map_err(SearchError::Store)?
        .into_iter();
    let mut ops = Vec::new();
    for event in events {
        let read = match event.kind {
            FeedEventKind::ItemsAppended { .. } => appended.next(),
            _ => None,
        };
        collect_ops(shared, journal.as_ref(), event, read, &mut ops).await?;
    }
    drop(journal);
    let index = shared.index.clone();
    let seen = shared.worker.run(move || apply_ops(&index, ops)).await??;
    if let Ok(mut meta_seen) = shared.meta_seen.lock() {
        for (thread, written) in seen {
            match written {
                Some(w) => meta_seen.insert(thread, w),
                None => meta_seen.remove(&thread),
            };
        }
        if meta_seen.len() > 1_000_000 {
            meta_seen.clear();
        }
    }
    Ok(count)
}

/// One change to the index (records as read: their text is extracted on the index thread).
enum Op {
    Record(ThreadId, u64, LogRecord),
    Meta(ThreadId, String, bool),
    Delete(ThreadId),
}

async fn collect_ops(
    shared: &Shared,
    journal: &dyn Journal,
    event: &FeedEvent,
    appended: Option<StorageResult<Vec<(u64, LogRecord)>>>,
    ops: &mut Vec<Op>,
) -> SearchResult<()> {
    let thread = event.thread_id;
    let refresh_meta = match &event.kind {
        FeedEventKind::ItemsAppended { first_position, .. } => {
            match appended {
                Some(Ok(records)) => ops.extend(
                    records
                        .into_iter()
                        .map(|(position, record)| Op::Record(thread, position, record)),
                ),
                // Deleted since: its `deleted` event follows.
                Some(Err(ThreadStoreError::ThreadNotFound { .. })) | None => {}
                Some(Err(e)) => return Err(SearchError::Store(e)),
            }
            // The preview comes from the first user message: until the thread document has
            // one, an early append may change it.
            *first_position < META_REFRESH_BELOW
                && !shared
                    .meta_seen
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&thread).map(|(_, has_preview)| *has_preview))
                    .unwrap_or(false)
        }
        FeedEventKind::ThreadCreated | FeedEventKind::MetadataUpdated => true,
        FeedEventKind::Deleted => {
            ops.push(Op::Delete(thread));
            false
        }
        _ => false,
    };
    if refresh_meta {
        match journal.thread(thread).await {
            Ok(Some(record)) => {
                let text = extract::meta_text(thread, &record.meta);
                let known = shared
                    .meta_seen
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&thread).map(|(h, _)| *h));
                if known != Some(hash(&text)) {
                    ops.push(Op::Meta(thread, text, !record.meta.preview.is_empty()));
                }
            }
            Ok(None) | Err(ThreadStoreError::ThreadNotFound { .. }) => {}
            Err(e) => return Err(SearchError::Store(e)),
        }
    }
    Ok(())
}

fn hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Writes the ops, extracting each record's text (on the index thread: the writer's queue may
/// push back); the thread documents written (`Some((hash, has preview))`) and threads deleted
/// (`None`).
#[allow(clippy::type_complexity)]
fn apply_ops(
    index: &SearchIndex,
    ops: Vec<Op>,
) -> SearchResult<Vec<(ThreadId, Option<(u64, bool)>)>> {
    let mut seen = Vec::new();
    for op in ops {
        match op {
            Op::Record(thread, position, record) => {
                if let Some((kind, text)) = extract::record_text(&record.kind, &record.payload) {
                    index.add_record(thread, position, kind, &text)?;
                }
            }
            Op::Meta(thread, text, has_preview) => {
                index.set_meta(thread, &text)?;
                seen.push((thread, Some((hash(&text), has_preview))));
            }
            Op::Delete(thread) => {
                index.delete_thread(thread)?;
                seen.push((thread, None));
            }
        }
    }
    Ok(seen)
}

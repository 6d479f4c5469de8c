//! The journal: the narrow async boundary between the actors and storage.
//!
//! The thread actor computes everything (positions, projection changes) and hands the journal one
//! [`ThreadCommit`] per operation, which the journal applies atomically: log records, projections
//! and index entries land together or not at all. Reads are point and range reads over committed
//! records. A networked backend (PostgreSQL is planned) implements the same trait.
//!
//! [`KvJournal`] implements it over any ordered [`KvEngine`] with the layout of [`crate::keys`].

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use threadstore_api::{
    FeedEvent, FeedEventKind, SortDirection, ThreadId, ThreadSortKey, ThreadStoreError,
};

use crate::codec::{decode, encode};
use crate::engine::{KvEngine, WriteBatch};
use crate::keys;
use crate::records::{LogRecord, ThreadMeta, ThreadRecord, TurnRecord};
use crate::write_group::{GroupCommit, Listener, WriteGroup};
use crate::StorageResult;

/// What happens to the thread's live-writer lease in a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterChange {
    /// Unchanged.
    Keep,
    /// A writer with this epoch is live.
    Open(u64),
    /// No writer is live.
    Close,
}

/// One atomic change to one thread, computed by its actor.
#[derive(Clone, Debug)]
pub struct ThreadCommit {
    /// The thread's record after the change.
    pub record: ThreadRecord,
    /// Its metadata before the change (`None` for a new thread), to move index entries.
    pub previous_meta: Option<ThreadMeta>,
    /// Appended log records, from `first_position` on, each with the turn it joined.
    pub appended: Vec<(LogRecord, Option<u64>)>,
    /// Position of the first appended record.
    pub first_position: u64,
    /// Turn changes (inserted/changed records, rollback removals, id lookups).
    pub turns: crate::projection::overlay::TurnChanges,
    /// Idempotency record: request id → (first position, count).
    pub request: Option<(String, u64, u64)>,
    /// Writer lease change.
    pub writer: WriterChange,
    /// Feed events of this commit, in order; the journal gives them consecutive feed positions.
    pub events: Vec<FeedEventKind>,
    /// Commit time, unix ms (stamped on the feed events).
    pub ts_ms: i64,
}

/// Called with each group's feed events, in feed order, right after they are applied (by the one
/// write-group leader, so calls never interleave). Must not block: the event bus only forwards.
pub type FeedListener = Box<dyn Fn(&[FeedEvent]) + Send + Sync>;

/// A predicate over thread records (list filters).
pub type ThreadFilter = dyn for<'r> Fn(&'r ThreadRecord) -> bool + Send + Sync;

/// A keyset scan over a thread-list index.
#[derive(Clone, Debug)]
pub struct IndexScan {
    /// Archived collection instead of active.
    pub archived: bool,
    /// Sort key.
    pub sort: ThreadSortKey,
    /// Direction.
    pub direction: SortDirection,
    /// Restrict to one cwd (uses the cwd index).
    pub cwd: Option<String>,
    /// Start strictly after this (time, thread) anchor.
    pub after: Option<(i64, ThreadId)>,
}

/// The narrow async storage trait the actors use.
#[async_trait]
pub trait Journal: Send + Sync + 'static {
    /// Applies one thread change atomically.
    async fn commit(&self, commit: ThreadCommit) -> StorageResult<()>;
    /// Makes every commit so far durable (fsync). Called by the group committer only.
    async fn sync(&self) -> StorageResult<()>;
    /// Removes a thread: log, projections, indexes, leases; records a `Deleted` feed event.
    async fn delete_thread(&self, record: &ThreadRecord, ts_ms: i64) -> StorageResult<()>;
    /// Feed events with position >= `from`, at most `limit`, in feed order.
    async fn feed_range(&self, from: u64, limit: usize) -> StorageResult<Vec<FeedEvent>>;
    /// The next feed position (= number of feed events committed).
    fn feed_head(&self) -> u64;
    /// Registers the one listener told about every commit's feed events (the event bus).
    fn set_feed_listener(&self, listener: FeedListener);
    /// Clears every live-writer lease (on open: their holders are gone).
    async fn clear_writers(&self) -> StorageResult<u64>;

    /// The thread's record.
    async fn thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>>;
    /// The live writer's epoch, if any.
    async fn live_writer(&self, id: ThreadId) -> StorageResult<Option<u64>>;
    /// Log records in `[from, to)`, ascending or descending, at most `limit`.
    async fn log_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, LogRecord)>>;
    /// One log record.
    async fn log_at(&self, id: ThreadId, position: u64) -> StorageResult<Option<LogRecord>>;
    /// One turn.
    async fn turn(&self, id: ThreadId, seq: u64) -> StorageResult<Option<TurnRecord>>;
    /// The visible turn with this id.
    async fn find_turn(&self, id: ThreadId, turn_id: &str) -> StorageResult<Option<u64>>;
    /// Turns with seq in `[from, to)`, in `direction`, at most `limit`.
    async fn turn_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<TurnRecord>>;
    /// Positions of one turn's items within `[from, to)`, in `direction`, at most `limit`.
    async fn turn_members(
        &self,
        id: ThreadId,
        seq: u64,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<u64>>;
    /// The positions recorded for an idempotency key.
    async fn request(&self, id: ThreadId, request_id: &str) -> StorageResult<Option<(u64, u64)>>;
    /// Thread records along an index, in its order, strictly after the anchor, that pass `keep`,
    /// at most `limit`; each with its exact sort time (the cursor anchor of the next page).
    async fn scan_index(
        &self,
        scan: IndexScan,
        limit: usize,
        keep: &ThreadFilter,
    ) -> StorageResult<Vec<(i64, ThreadRecord)>>;
    /// Direct children of a thread.
    async fn children(&self, parent: ThreadId) -> StorageResult<Vec<ThreadId>>;
    /// The thread recorded for a rollout path.
    async fn by_rollout_path(&self, path: &str) -> StorageResult<Option<ThreadId>>;
    /// Index problems (verify): entries a thread's metadata implies that are missing, and index
    /// entries no thread's metadata implies (stale), each described in a line.
    async fn index_problems(&self) -> StorageResult<Vec<(Option<ThreadId>, String)>>;
    /// Every thread id (verify, rebuild, stats).
    async fn thread_ids(&self) -> StorageResult<Vec<ThreadId>>;
    /// Bytes on disk.
    fn size_on_disk(&self) -> u64;
}

/// [`Journal`] over an ordered key-value engine.
pub struct KvJournal {
    engine: Arc<dyn KvEngine>,
    /// Combines concurrent commits into one batch and owns the next feed position, so feed
    /// positions follow apply order exactly.
    group: WriteGroup,
    listener: std::sync::OnceLock<FeedListener>,
}

impl KvJournal {
    /// A journal over `engine`: migrates an older layout ([`crate::migrate`]), then finds the
    /// feed head from the last feed block.
    pub fn new(engine: Arc<dyn KvEngine>) -> StorageResult<Self> {
        crate::migrate::migrate(engine.as_ref())?;
        let head = crate::feed::head(engine.as_ref())?;
        Ok(Self {
            engine,
            group: WriteGroup::new(head),
            listener: std::sync::OnceLock::new(),
        })
    }

    /// A journal over an engine known to be empty (a new in-memory store): nothing to read.
    pub fn empty(engine: Arc<dyn KvEngine>) -> Self {
        Self {
            engine,
            group: WriteGroup::new(0),
            listener: std::sync::OnceLock::new(),
        }
    }

    /// Applies `batch` plus the feed records of `events` atomically, combined with whatever
    /// other commits are applying at the same time (see [`crate::write_group`]).
    async fn apply_with_feed(
        &self,
        batch: WriteBatch,
        thread: ThreadId,
        ts_ms: i64,
        events: &[FeedEventKind],
    ) -> StorageResult<()> {
        let listener = self.listener.get().map(|l| l.as_ref() as &Listener);
        self.group
            .commit(
                &self.engine,
                listener,
                GroupCommit {
                    batch,
                    thread,
                    ts_ms,
                    events: events.to_vec(),
                },
            )
            .await
    }

    /// Membership keys of the commit's appended items. A contiguous turn needs none (its members
    /// are its position range); the append that first breaks a turn's run also writes keys for
    /// the members it had, so a non-contiguous turn always has a key for every member.
    fn put_members(&self, c: &ThreadCommit, batch: &mut WriteBatch) -> StorageResult<()> {
        let id = c.record.thread_id;
        let mut joined: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
        for (i, (_, turn)) in c.appended.iter().enumerate() {
            if let Some(seq) = turn {
                joined
                    .entry(*seq)
                    .or_default()
                    .push(c.first_position + i as u64);
            }
        }
        for (seq, positions) in joined {
            // Turns dropped in this commit are not in `put`: they need no keys.
            let Some(turn) = c.turns.put.iter().find(|t| t.seq == seq) else {
                continue;
            };
            if turn.is_contiguous() {
                continue;
            }
            let before = turn.item_count.saturating_sub(positions.len() as u64);
            let first = turn.first_position;
            if before > 0 && self.engine.get(&keys::member(&id, seq, first))?.is_none() {
                // Contiguous until now: its members were `first..first + before`.
                for pos in first..first + before {
                    batch.put(keys::member(&id, seq, pos), Vec::new());
                }
            }
            for pos in positions {
                batch.put(keys::member(&id, seq, pos), Vec::new());
            }
        }
        Ok(())
    }

    /// The engine (tests and tools).
    pub fn engine(&self) -> &Arc<dyn KvEngine> {
        &self.engine
    }

    fn load_thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>> {
        self.engine
            .get(&keys::thread(&id))?
            .map(|b| decode(&b, Some(id), None))
            .transpose()
    }

    fn prefix_scan(
        &self,
        prefix: Vec<u8>,
        rev: bool,
    ) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
        let end = keys::prefix_end(&prefix);
        self.engine
            .scan(Bound::Included(prefix), Bound::Excluded(end), rev)
    }

    /// Keys `base ++ n` for `n` in `[from, to)`, in `direction`, at most `limit` (nothing when
    /// the window is empty).
    fn bounded_scan(
        &self,
        base: Vec<u8>,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
        let mut lo = base.clone();
        lo.extend_from_slice(&from.to_be_bytes());
        let mut hi = base;
        hi.extend_from_slice(&to.max(from).to_be_bytes());
        self.engine
            .scan(
                Bound::Included(lo),
                Bound::Excluded(hi),
                direction == SortDirection::Desc,
            )
            .take(if from < to { limit } else { 0 })
    }
}

/// Index entries a thread's metadata implies: (sort index keys, cwd index keys, parent key, path key).
pub(crate) fn index_keys(id: &ThreadId, meta: &ThreadMeta) -> Vec<Vec<u8>> {
    let collection = if meta.archived_ms.is_some() {
        keys::ARCHIVED
    } else {
        keys::ACTIVE
    };
    let mut out = Vec::with_capacity(8);
    for sort in [
        ThreadSortKey::CreatedAt,
        ThreadSortKey::UpdatedAt,
        ThreadSortKey::RecencyAt,
    ] {
        let time = keys::index_time(sort, sort_time(meta, sort));
        out.push(keys::index_entry(
            keys::index_prefix(collection, sort),
            time,
            id,
        ));
        if let Some(cwd) = &meta.cwd {
            out.push(keys::index_entry(
                keys::cwd_index_prefix(collection, sort, cwd),
                time,
                id,
            ));
        }
    }
    if let Some(parent) = &meta.parent_thread_id {
        out.push(keys::parent(parent, id));
    }
    if let Some(path) = &meta.rollout_path {
        out.push(keys::path(path));
    }
    out
}

/// Moves one index bucket's matches to `out`, in listing order: (exact time, thread id), as the
/// keys of an exact-time index would order them.
fn close_bucket(
    bucket: &mut Vec<(i64, ThreadRecord)>,
    out: &mut Vec<(i64, ThreadRecord)>,
    rev: bool,
) {
    bucket.sort_by(|(ta, a), (tb, b)| {
        let order = (ta, a.thread_id.as_bytes()).cmp(&(tb, b.thread_id.as_bytes()));
        if rev {
            order.reverse()
        } else {
            order
        }
    });
    out.append(bucket);
}

/// The time a sort key orders by.
pub fn sort_time(meta: &ThreadMeta, sort: ThreadSortKey) -> i64 {
    match sort {
        ThreadSortKey::CreatedAt => meta.created_ms,
        ThreadSortKey::UpdatedAt => meta.updated_ms,
        ThreadSortKey::RecencyAt => meta.recency_ms,
    }
}

/// The value stored under an index key: the thread id for path lookups, else nothing.
pub(crate) fn index_value(id: &ThreadId, key: &[u8]) -> Vec<u8> {
    if key.first() == Some(&keys::PATH) {
        id.as_bytes().to_vec()
    } else {
        Vec::new()
    }
}

#[async_trait]
impl Journal for KvJournal {
    async fn commit(&self, c: ThreadCommit) -> StorageResult<()> {
        let id = c.record.thread_id;
        let mut batch = WriteBatch::default();
        for (i, (rec, _)) in c.appended.iter().enumerate() {
            batch.put(keys::log(&id, c.first_position + i as u64), encode(rec)?);
        }
        self.put_members(&c, &mut batch)?;
        for seq in &c.turns.removed {
            batch.remove(keys::turn(&id, *seq));
            for entry in self.prefix_scan(keys::members_of(&id, *seq), false) {
                batch.remove(entry?.0);
            }
        }
        for t in &c.turns.put {
            batch.put(keys::turn(&id, t.seq), encode(t)?);
        }
        for (turn_id, seq) in &c.turns.ids {
            match seq {
                Some(seq) => batch.put(keys::turn_id(&id, turn_id), seq.to_be_bytes().to_vec()),
                None => batch.remove(keys::turn_id(&id, turn_id)),
            }
        }
        if let Some((rid, first, count)) = &c.request {
            let mut v = first.to_be_bytes().to_vec();
            v.extend_from_slice(&count.to_be_bytes());
            batch.put(keys::request(&id, rid), v);
        }
        // Only index entries that changed are written: most appends move one sort time.
        let new_index = index_keys(&id, &c.record.meta);
        let old_index = c
            .previous_meta
            .as_ref()
            .map(|prev| index_keys(&id, prev))
            .unwrap_or_default();
        for k in &old_index {
            if !new_index.contains(k) {
                batch.remove(k.clone());
            }
        }
        for k in new_index {
            if !old_index.contains(&k) {
                let v = index_value(&id, &k);
                batch.put(k, v);
            }
        }
        batch.put(keys::thread(&id), encode(&c.record)?);
        match c.writer {
            WriterChange::Keep => {}
            WriterChange::Open(epoch) => batch.put(keys::writer(&id), epoch.to_be_bytes().to_vec()),
            WriterChange::Close => batch.remove(keys::writer(&id)),
        }
        self.apply_with_feed(batch, id, c.ts_ms, &c.events).await
    }

    async fn sync(&self) -> StorageResult<()> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || engine.flush())
            .await
            .map_err(|e| ThreadStoreError::internal(format!("flush task failed: {e}")))?
    }

    async fn delete_thread(&self, record: &ThreadRecord, ts_ms: i64) -> StorageResult<()> {
        let id = record.thread_id;
        let mut batch = WriteBatch::default();
        for prefix in keys::PER_THREAD {
            for entry in self.prefix_scan(keys::thread_prefix(prefix, &id), false) {
                batch.remove(entry?.0);
            }
        }
        for k in index_keys(&id, &record.meta) {
            batch.remove(k);
        }
        batch.remove(keys::writer(&id));
        self.apply_with_feed(batch, id, ts_ms, &[FeedEventKind::Deleted])
            .await
    }

    async fn feed_range(&self, from: u64, limit: usize) -> StorageResult<Vec<FeedEvent>> {
        crate::feed::range(self.engine.as_ref(), from, limit)
    }

    fn feed_head(&self) -> u64 {
        self.group.head()
    }

    fn set_feed_listener(&self, listener: FeedListener) {
        if self.listener.set(listener).is_err() {
            tracing::warn!("a feed listener was already set; keeping the first");
        }
    }

    async fn clear_writers(&self) -> StorageResult<u64> {
        let mut batch = WriteBatch::default();
        for entry in self.prefix_scan(vec![keys::WRITER], false) {
            batch.remove(entry?.0);
        }
        let n = batch.ops.len() as u64;
        if n > 0 {
            self.engine.apply(batch)?;
        }
        Ok(n)
    }

    async fn thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>> {
        self.load_thread(id)
    }

    async fn live_writer(&self, id: ThreadId) -> StorageResult<Option<u64>> {
        Ok(self
            .engine
            .get(&keys::writer(&id))?
            .and_then(|b| keys::be_u64(&b, 0)))
    }

    async fn log_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, LogRecord)>> {
        let mut out = Vec::new();
        for entry in self.bounded_scan(
            keys::thread_prefix(keys::LOG, &id),
            from,
            to,
            direction,
            limit,
        ) {
            let (k, v) = entry?;
            let pos = keys::be_u64(&k, 17).ok_or_else(|| ThreadStoreError::Corrupt {
                thread_id: Some(id),
                position: None,
                message: "short log key".into(),
            })?;
            out.push((pos, decode(&v, Some(id), Some(pos))?));
        }
        Ok(out)
    }

    async fn log_at(&self, id: ThreadId, position: u64) -> StorageResult<Option<LogRecord>> {
        self.engine
            .get(&keys::log(&id, position))?
            .map(|b| decode(&b, Some(id), Some(position)))
            .transpose()
    }

    async fn turn(&self, id: ThreadId, seq: u64) -> StorageResult<Option<TurnRecord>> {
        self.engine
            .get(&keys::turn(&id, seq))?
            .map(|b| decode(&b, Some(id), None))
            .transpose()
    }

    async fn find_turn(&self, id: ThreadId, turn_id: &str) -> StorageResult<Option<u64>> {
        Ok(self
            .engine
            .get(&keys::turn_id(&id, turn_id))?
            .and_then(|b| keys::be_u64(&b, 0)))
    }

    async fn turn_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<TurnRecord>> {
        self.bounded_scan(
            keys::thread_prefix(keys::TURN, &id),
            from,
            to,
            direction,
            limit,
        )
        .map(|e| e.and_then(|(_, v)| decode(&v, Some(id), None)))
        .collect()
    }

    async fn turn_members(
        &self,
        id: ThreadId,
        seq: u64,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<u64>> {
        let Some(turn) = self.turn(id, seq).await? else {
            return Ok(Vec::new());
        };
        if turn.is_contiguous() {
            let lo = from.max(turn.first_position);
            let hi = to.min(turn.last_position.saturating_add(1)).max(lo);
            let range = lo..hi;
            return Ok(match direction {
                SortDirection::Asc => range.take(limit).collect(),
                SortDirection::Desc => range.rev().take(limit).collect(),
            });
        }
        self.bounded_scan(keys::members_of(&id, seq), from, to, direction, limit)
            .map(|e| {
                e.and_then(|(k, _)| {
                    keys::be_u64(&k, 25).ok_or_else(|| ThreadStoreError::Corrupt {
                        thread_id: Some(id),
                        position: None,
                        message: "short member key".into(),
                    })
                })
            })
            .collect()
    }

    async fn request(&self, id: ThreadId, request_id: &str) -> StorageResult<Option<(u64, u64)>> {
        Ok(self
            .engine
            .get(&keys::request(&id, request_id))?
            .and_then(|b| Some((keys::be_u64(&b, 0)?, keys::be_u64(&b, 8)?))))
    }

    async fn scan_index(
        &self,
        scan: IndexScan,
        limit: usize,
        keep: &ThreadFilter,
    ) -> StorageResult<Vec<(i64, ThreadRecord)>> {
        let collection = if scan.archived {
            keys::ARCHIVED
        } else {
            keys::ACTIVE
        };
        let prefix = match &scan.cwd {
            Some(cwd) => keys::cwd_index_prefix(collection, scan.sort, cwd),
            None => keys::index_prefix(collection, scan.sort),
        };
        let rev = scan.direction == SortDirection::Desc;
        // Entries are keyed by bucket, so the scan starts at the anchor's whole bucket: threads
        // after the anchor may share it.
        let (start, end) = match (scan.after, rev) {
            (None, _) => (prefix.clone(), keys::prefix_end(&prefix)),
            (Some((t, _)), false) => (
                keys::index_time_range(&prefix, keys::index_time(scan.sort, t)).0,
                keys::prefix_end(&prefix),
            ),
            (Some((t, _)), true) => (
                prefix.clone(),
                keys::index_time_range(&prefix, keys::index_time(scan.sort, t)).1,
            ),
        };
        let after_anchor = |time: i64, id: &ThreadId| match scan.after {
            None => true,
            Some((t, a)) => {
                let order = (time, id.as_bytes()).cmp(&(t, a.as_bytes()));
                order
                    == if rev {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
            }
        };
        let mut out = Vec::new();
        // The matches of the bucket being read, sorted by exact time when the bucket ends.
        let mut bucket: Vec<(i64, ThreadRecord)> = Vec::new();
        let mut bucket_time = None;
        for entry in self
            .engine
            .scan(Bound::Included(start), Bound::Excluded(end), rev)
        {
            let (k, _) = entry?;
            let Some((time, id)) = keys::parse_index_tail(&k) else {
                continue;
            };
            if bucket_time != Some(time) {
                close_bucket(&mut bucket, &mut out, rev);
                if out.len() >= limit {
                    break;
                }
                bucket_time = Some(time);
            }
            let Some(record) = self.load_thread(id)? else {
                continue;
            };
            let exact = sort_time(&record.meta, scan.sort);
            // A record that moved since its entry was read is listed under its new entry.
            if keys::index_time(scan.sort, exact) != time
                || record.meta.archived_ms.is_some() != scan.archived
            {
                continue;
            }
            if scan
                .cwd
                .as_ref()
                .is_some_and(|c| record.meta.cwd.as_ref() != Some(c))
            {
                continue;
            }
            if after_anchor(exact, &id) && keep(&record) {
                bucket.push((exact, record));
            }
        }
        close_bucket(&mut bucket, &mut out, rev);
        out.truncate(limit);
        Ok(out)
    }

    async fn children(&self, parent: ThreadId) -> StorageResult<Vec<ThreadId>> {
        self.prefix_scan(keys::thread_prefix(keys::PARENT, &parent), false)
            .map(|e| {
                e.and_then(|(k, _)| {
                    k.get(17..33)
                        .and_then(|b| <[u8; 16]>::try_from(b).ok())
                        .map(ThreadId::from_bytes)
                        .ok_or_else(|| ThreadStoreError::Corrupt {
                            thread_id: Some(parent),
                            position: None,
                            message: "short parent key".into(),
                        })
                })
            })
            .collect()
    }

    async fn by_rollout_path(&self, path: &str) -> StorageResult<Option<ThreadId>> {
        Ok(self
            .engine
            .get(&keys::path(path))?
            .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
            .map(ThreadId::from_bytes))
    }

    async fn index_problems(&self) -> StorageResult<Vec<(Option<ThreadId>, String)>> {
        let mut problems = Vec::new();
        let mut expected = std::collections::HashSet::new();
        for entry in self.prefix_scan(vec![keys::THREAD], false) {
            let (k, v) = entry?;
            let Some(id) = k.get(1..17).and_then(|b| <[u8; 16]>::try_from(b).ok()) else {
                continue;
            };
            let id = ThreadId::from_bytes(id);
            let record: ThreadRecord = decode(&v, Some(id), None)?;
            for key in index_keys(&id, &record.meta) {
                if self.engine.get(&key)?.is_none() {
                    problems.push((Some(id), format!("missing index entry {key:?}")));
                }
                expected.insert(key);
            }
        }
        for prefix in [keys::INDEX, keys::CWD_INDEX, keys::PARENT, keys::PATH] {
            for entry in self.prefix_scan(vec![prefix], false) {
                let (k, _) = entry?;
                if !expected.contains(&k) {
                    problems.push((None, format!("stale index entry {k:?}")));
                }
            }
        }
        Ok(problems)
    }

    async fn thread_ids(&self) -> StorageResult<Vec<ThreadId>> {
        self.prefix_scan(vec![keys::THREAD], false)
            .map(|e| {
                e.and_then(|(k, _)| {
                    k.get(1..17)
                        .and_then(|b| <[u8; 16]>::try_from(b).ok())
                        .map(ThreadId::from_bytes)
                        .ok_or_else(|| ThreadStoreError::Corrupt {
                            thread_id: None,
                            position: None,
                            message: "short thread key".into(),
                        })
                })
            })
            .collect()
    }

    fn size_on_disk(&self) -> u64 {
        self.engine.size_on_disk()
    }
}

//! [`KvJournal`]: the [`Journal`] over an ordered key-value engine, with the layout of
//! [`crate::keys`].

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{
    FeedEvent, FeedEventKind, SortDirection, ThreadId, ThreadSortKey, ThreadStoreError,
};

use crate::codec::{decode, encode};
use crate::engine::{KvEngine, WriteBatch};
use crate::journal::{
    FeedListener, IndexHit, IndexScan, Journal, ThreadCommit, ThreadFilter, ThreadState,
    TurnPageRecords, WriterChange,
};
use crate::keys;
use crate::offload::{point, read as blocking, wait};
use crate::records::{LogRecord, ThreadMeta, ThreadRecord, TurnRecord};
use crate::write_group::{GroupCommit, WriteGroup, WriteGroupOptions};
use crate::StorageResult;


/// [`Journal`] over an ordered key-value engine.
///
/// **Threads** ([`crate::offload`]): the fsync runs on the blocking pool; scans (pages,
/// histories, listings, feed ranges, deletes) run after the async worker's other tasks are handed
/// off; point reads of one key run inline; a write group's apply runs inline when small
/// ([`crate::write_group`]). A commit builds its batch where it is called unless it must read
/// first (a rollback's membership keys, a turn whose run breaks), which is a scan.
pub struct KvJournal {
    engine: Arc<dyn KvEngine>,
    /// Combines concurrent commits into one batch and owns the next feed position, so feed
    /// positions follow apply order exactly.
    group: WriteGroup,
    listener: Arc<OnceLock<FeedListener>>,
}


impl KvJournal {
    /// A journal over `engine`: migrates an older layout ([`crate::migrate`]), then finds the
    /// feed head from the last feed block. Blocking: call it off the async workers.
    pub fn new(engine: Arc<dyn KvEngine>, options: &WriteGroupOptions) -> StorageResult<Self> {
        crate::migrate::migrate(engine.as_ref())?;
        let head = crate::feed::head(engine.as_ref())?;
        Ok(Self::starting_at(engine, head, options))
    }

    /// A journal over an engine known to be empty (a new in-memory store): nothing to read.
    pub fn empty(engine: Arc<dyn KvEngine>, options: &WriteGroupOptions) -> Self {
        Self::starting_at(engine, 0, options)
    }

    fn starting_at(engine: Arc<dyn KvEngine>, head: u64, options: &WriteGroupOptions) -> Self {
        let listener = Arc::new(OnceLock::new());
        let group = WriteGroup::new(engine.clone(), head, listener.clone(), options);
        Self {
            engine,
            group,
            listener,
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
        self.group
            .commit(GroupCommit {
                batch,
                thread,
                ts_ms,
                events: events.to_vec(),
            })
            .await
    }

    /// The engine (tests and tools).
    pub fn engine(&self) -> &Arc<dyn KvEngine> {
        &self.engine
    }
}

/// Whether building a commit's batch reads the engine (see [`commit_batch`]).
fn commit_reads(c: &ThreadCommit) -> bool {
    !c.turns.removed.is_empty() || c.turns.put.iter().any(|t| !t.is_contiguous())
}

/// Every write of one commit except its feed block: log records, membership keys, turns, turn
/// ids, the request id, moved index entries, the thread record and the lease.
fn commit_batch(engine: &dyn KvEngine, c: &ThreadCommit) -> StorageResult<WriteBatch> {
    let id = c.record.thread_id;
    let mut batch = WriteBatch::default();
    for (i, (rec, _)) in c.appended.iter().enumerate() {
        batch.put(keys::log(&id, c.first_position + i as u64), encode(rec)?);
    }
    put_members(engine, c, &mut batch)?;
    for seq in &c.turns.removed {
        batch.remove(keys::turn(&id, *seq));
        for entry in prefix_scan(engine, keys::members_of(&id, *seq), false) {
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
    Ok(batch)
}

/// Membership keys of the commit's appended items. A contiguous turn needs none (its members
/// are its position range); the append that first breaks a turn's run also writes keys for
/// the members it had, so a non-contiguous turn always has a key for every member.
fn put_members(
    engine: &dyn KvEngine,
    c: &ThreadCommit,
    batch: &mut WriteBatch,
) -> StorageResult<()> {
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
        if before > 0 && engine.get(&keys::member(&id, seq, first))?.is_none() {
            // Contiguous until now: its members were `first..first + before`.
            for pos in first..first.saturating_add(before) {
                batch.put(keys::member(&id, seq, pos), Vec::new());
            }
        }
        for pos in positions {
            batch.put(keys::member(&id, seq, pos), Vec::new());
        }
    }
    Ok(())
}

fn load_thread(engine: &dyn KvEngine, id: ThreadId) -> StorageResult<Option<ThreadRecord>> {
    engine
        .get(&keys::thread(&id))?
        .map(|b| decode(&b, Some(id), None))
        .transpose()
}

fn live_writer(engine: &dyn KvEngine, id: ThreadId) -> StorageResult<Option<u64>> {
    Ok(engine
        .get(&keys::writer(&id))?
        .and_then(|b| keys::be_u64(&b, 0)))
}

fn prefix_scan(
    engine: &dyn KvEngine,
    prefix: Vec<u8>,
    rev: bool,
) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
    let end = keys::prefix_end(&prefix);
    engine.scan(Bound::Included(prefix), Bound::Excluded(end), rev)
}

/// Keys `base ++ n` for `n` in `[from, to)`, in `direction`, at most `limit` (nothing when
/// the window is empty).
fn bounded_scan(
    engine: &dyn KvEngine,
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
    engine
        .scan(
            Bound::Included(lo),
            Bound::Excluded(hi),
            direction == SortDirection::Desc,
        )
        .take(if from < to { limit } else { 0 })
}

fn log_range(
    engine: &dyn KvEngine,
    id: ThreadId,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    let mut out = Vec::new();
    for entry in bounded_scan(
        engine,
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

fn log_at(engine: &dyn KvEngine, id: ThreadId, position: u64) -> StorageResult<Option<LogRecord>> {
    engine
        .get(&keys::log(&id, position))?
        .map(|b| decode(&b, Some(id), Some(position)))
        .transpose()
}

/// The records at `positions` that exist, in the given order.
fn logs_at(
    engine: &dyn KvEngine,
    id: ThreadId,
    positions: impl IntoIterator<Item = u64>,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    let mut out = Vec::new();
    for pos in positions {
        if let Some(r) = log_at(engine, id, pos)? {
            out.push((pos, r));
        }
    }
    Ok(out)
}

fn turn_at(engine: &dyn KvEngine, id: ThreadId, seq: u64) -> StorageResult<Option<TurnRecord>> {
    engine
        .get(&keys::turn(&id, seq))?
        .map(|b| decode(&b, Some(id), None))
        .transpose()
}

fn turn_range(
    engine: &dyn KvEngine,
    id: ThreadId,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<TurnRecord>> {
    bounded_scan(
        engine,
        keys::thread_prefix(keys::TURN, &id),
        from,
        to,
        direction,
        limit,
    )
    .map(|e| e.and_then(|(_, v)| decode(&v, Some(id), None)))
    .collect()
}

/// Member positions of `turn` within `[from, to)`: its position range when contiguous, else
/// its membership keys.
fn members_of(
    engine: &dyn KvEngine,
    id: ThreadId,
    turn: &TurnRecord,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<u64>> {
    if turn.is_contiguous() {
        let lo = from.max(turn.first_position);
        let hi = to.min(turn.last_position.saturating_add(1)).max(lo);
        let range = lo..hi;
        return Ok(match direction {
            SortDirection::Asc => range.take(limit).collect(),
            SortDirection::Desc => range.rev().take(limit).collect(),
        });
    }
    bounded_scan(
        engine,
        keys::members_of(&id, turn.seq),
        from,
        to,
        direction,
        limit,
    )
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

fn turn_members(
    engine: &dyn KvEngine,
    id: ThreadId,
    seq: u64,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<u64>> {
    match turn_at(engine, id, seq)? {
        Some(turn) => members_of(engine, id, &turn, from, to, direction, limit),
        None => Ok(Vec::new()),
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
fn close_bucket(bucket: &mut Vec<IndexHit>, out: &mut Vec<IndexHit>, rev: bool) {
    bucket.sort_by(|a, b| {
        let order =
            (a.time, a.record.thread_id.as_bytes()).cmp(&(b.time, b.record.thread_id.as_bytes()));
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

/// See [`Journal::scan_index`].
fn scan_index(
    engine: &dyn KvEngine,
    scan: &IndexScan,
    limit: usize,
    keep: &ThreadFilter,
) -> StorageResult<Vec<IndexHit>> {
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
    let mut bucket: Vec<IndexHit> = Vec::new();
    let mut bucket_time = None;
    for entry in engine.scan(Bound::Included(start), Bound::Excluded(end), rev) {
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
        let record = match load_thread(engine, id) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(thread = %id, error = %e, "listing skips a thread whose record cannot be read; `verify` reports it");
                continue;
            }
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
            let live = live_writer(engine, id)?.is_some();
            bucket.push(IndexHit {
                time: exact,
                record,
                live,
            });
        }
    }
    close_bucket(&mut bucket, &mut out, rev);
    out.truncate(limit);
    Ok(out)
}

fn thread_key_id(k: &[u8]) -> StorageResult<ThreadId> {
    k.get(1..17)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(ThreadId::from_bytes)
        .ok_or_else(|| ThreadStoreError::Corrupt {
            thread_id: None,
            position: None,
            message: "short thread key".into(),
        })
}

fn index_problems(engine: &dyn KvEngine) -> StorageResult<Vec<(Option<ThreadId>, String)>> {
    let mut problems = Vec::new();
    let mut expected = std::collections::HashSet::new();
    for entry in prefix_scan(engine, vec![keys::THREAD], false) {
        let (k, v) = entry?;
        let id = thread_key_id(&k)?;
        // An unreadable record is reported by `verify` itself, once.
        let Ok(record) = decode::<ThreadRecord>(&v, Some(id), None) else {
            continue;
        };
        for key in index_keys(&id, &record.meta) {
            if engine.get(&key)?.is_none() {
                problems.push((Some(id), format!("missing index entry {key:?}")));
            }
            expected.insert(key);
        }
    }
    for prefix in [keys::INDEX, keys::CWD_INDEX, keys::PARENT, keys::PATH] {
        for entry in prefix_scan(engine, vec![prefix], false) {
            let (k, _) = entry?;
            if !expected.contains(&k) {
                problems.push((None, format!("stale index entry {k:?}")));
            }
        }
    }
    Ok(problems)
}

#[async_trait]
impl Journal for KvJournal {
    async fn commit(&self, mut c: ThreadCommit) -> StorageResult<()> {
        let (id, ts_ms, events) = (c.record.thread_id, c.ts_ms, std::mem::take(&mut c.events));
        let batch = if commit_reads(&c) {
            blocking(&self.engine, move |e| commit_batch(e, &c)).await?
        } else {
            // No read needed: encoding is CPU work, done here.
            commit_batch(self.engine.as_ref(), &c)?
        };
        self.apply_with_feed(batch, id, ts_ms, &events).await
    }

    async fn sync(&self) -> StorageResult<()> {
        wait(&self.engine, |e| e.flush()).await
    }

    async fn delete_thread(&self, record: &ThreadRecord, ts_ms: i64) -> StorageResult<()> {
        let record = record.clone();
        let id = record.thread_id;
        let batch = blocking(&self.engine, move |engine| {
            let mut batch = WriteBatch::default();
            for prefix in keys::PER_THREAD {
                for entry in prefix_scan(engine, keys::thread_prefix(prefix, &id), false) {
                    batch.remove(entry?.0);
                }
            }
            for k in index_keys(&id, &record.meta) {
                batch.remove(k);
            }
            batch.remove(keys::writer(&id));
            Ok(batch)
        })
        .await?;
        self.apply_with_feed(batch, id, ts_ms, &[FeedEventKind::Deleted])
            .await
    }

    async fn feed_range(&self, from: u64, limit: usize) -> StorageResult<Vec<FeedEvent>> {
        blocking(&self.engine, move |e| crate::feed::range(e, from, limit)).await
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
        blocking(&self.engine, |engine| {
            let mut batch = WriteBatch::default();
            for entry in prefix_scan(engine, vec![keys::WRITER], false) {
                batch.remove(entry?.0);
            }
            let n = batch.ops.len() as u64;
            if n > 0 {
                engine.apply(batch)?;
            }
            Ok(n)
        })
        .await
    }

    async fn thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>> {
        point(&self.engine, |e| load_thread(e, id))
    }

    async fn thread_state(&self, id: ThreadId) -> StorageResult<Option<ThreadState>> {
        point(&self.engine, |e| {
            let Some(record) = load_thread(e, id)? else {
                return Ok(None);
            };
            Ok(Some(ThreadState {
                record,
                live: live_writer(e, id)?,
            }))
        })
    }

    async fn turn_page(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
        view: StoredTurnItemsView,
    ) -> StorageResult<TurnPageRecords> {
        blocking(&self.engine, move |e| {
            let mut turns = turn_range(e, id, from, to, direction, limit.saturating_add(1))?;
            let more = turns.len() > limit;
            turns.truncate(limit);
            let mut out = Vec::with_capacity(turns.len());
            for t in turns {
                let items = match view {
                    StoredTurnItemsView::NotLoaded => Vec::new(),
                    StoredTurnItemsView::Summary => {
                        let mut v: Vec<u64> =
                            t.first_user.into_iter().chain(t.last_agent).collect();
                        v.sort_unstable();
                        v.dedup();
                        logs_at(e, id, v)?
                    }
                    StoredTurnItemsView::Full => {
                        let positions =
                            members_of(e, id, &t, 0, u64::MAX, SortDirection::Asc, usize::MAX)?;
                        logs_at(e, id, positions)?
                    }
                };
                out.push((t, items));
            }
            Ok(TurnPageRecords { turns: out, more })
        })
        .await
    }

    async fn item_page(
        &self,
        id: ThreadId,
        turn: Option<u64>,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, LogRecord)>> {
        blocking(&self.engine, move |e| match turn {
            None => log_range(e, id, from, to, direction, limit),
            Some(seq) => {
                let positions = turn_members(e, id, seq, from, to, direction, limit)?;
                logs_at(e, id, positions)
            }
        })
        .await
    }

    async fn log_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, LogRecord)>> {
        blocking(&self.engine, move |e| {
            log_range(e, id, from, to, direction, limit)
        })
        .await
    }

    async fn log_at(&self, id: ThreadId, position: u64) -> StorageResult<Option<LogRecord>> {
        point(&self.engine, |e| log_at(e, id, position))
    }

    async fn turn(&self, id: ThreadId, seq: u64) -> StorageResult<Option<TurnRecord>> {
        point(&self.engine, |e| turn_at(e, id, seq))
    }

    async fn find_turn(&self, id: ThreadId, turn_id: &str) -> StorageResult<Option<u64>> {
        let key = keys::turn_id(&id, turn_id);
        point(&self.engine, |e| {
            Ok(e.get(&key)?.and_then(|b| keys::be_u64(&b, 0)))
        })
    }

    async fn turn_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<TurnRecord>> {
        blocking(&self.engine, move |e| {
            turn_range(e, id, from, to, direction, limit)
        })
        .await
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
        blocking(&self.engine, move |e| {
            turn_members(e, id, seq, from, to, direction, limit)
        })
        .await
    }

    async fn request(&self, id: ThreadId, request_id: &str) -> StorageResult<Option<(u64, u64)>> {
        let key = keys::request(&id, request_id);
        point(&self.engine, |e| {
            Ok(e.get(&key)?
                .and_then(|b| Some((keys::be_u64(&b, 0)?, keys::be_u64(&b, 8)?))))
        })
    }

    async fn scan_index(
        &self,
        scan: IndexScan,
        limit: usize,
        keep: Arc<ThreadFilter>,
    ) -> StorageResult<Vec<IndexHit>> {
        blocking(&self.engine, move |e| {
            scan_index(e, &scan, limit, keep.as_ref())
        })
        .await
    }

    async fn children(&self, parent: ThreadId) -> StorageResult<Vec<ThreadId>> {
        blocking(&self.engine, move |engine| {
            prefix_scan(engine, keys::thread_prefix(keys::PARENT, &parent), false)
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
        })
        .await
    }

    async fn by_rollout_path(&self, path: &str) -> StorageResult<Option<ThreadId>> {
        let key = keys::path(path);
        point(&self.engine, |e| {
            Ok(e.get(&key)?
                .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                .map(ThreadId::from_bytes))
        })
    }

    async fn index_problems(&self) -> StorageResult<Vec<(Option<ThreadId>, String)>> {
        blocking(&self.engine, index_problems).await
    }

    async fn thread_ids(&self) -> StorageResult<Vec<ThreadId>> {
        blocking(&self.engine, |engine| {
            prefix_scan(engine, vec![keys::THREAD], false)
                .map(|e| e.and_then(|(k, _)| thread_key_id(&k)))
                .collect()
        })
        .await
    }

    fn size_on_disk(&self) -> u64 {
        self.engine.size_on_disk()
    }
}

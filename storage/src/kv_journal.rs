//! [`KvJournal`]: the [`Journal`] and [`JournalMaintenance`] over an ordered key-value engine, with the layout of
//! [`crate::keys`].

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{FeedEvent, FeedEventKind, SortDirection, ThreadId};

use crate::engine::{KvEngine, WriteBatch};
use crate::journal::{
    FeedListener, IndexHit, IndexScan, Journal, JournalMaintenance, ThreadCommit, ThreadFilter,
    ThreadState, TurnPageRecords,
};
use crate::lineage::Reading;
use crate::offload::{point, read as blocking, wait};
use crate::records::{LogRecord, ThreadRecord, TurnRecord};
use crate::write_group::{GroupCommit, WriteGroup, WriteGroupOptions};
use crate::{batch, index, keys, reads, StorageResult};

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
    /// Threads in a lineage (forks and the threads they fork, see [`crate::lineage`]): their
    /// commits read across threads (copy on write), so they run one at a time, under
    /// `lineage_lock`, and only they pay for reading a fork's base.
    lineage: std::sync::RwLock<HashSet<ThreadId>>,
    lineage_lock: tokio::sync::Mutex<()>,
    /// Reads resolve every thread's chain (the engine is shared with other nodes, whose forks
    /// this one's `lineage` set does not know).
    every_chain: bool,
}

impl KvJournal {
    /// A journal over `engine`: migrates an older layout ([`crate::migrate`]), then finds the
    /// feed head from the last feed block. Blocking: call it off the async workers.
    pub fn new(engine: Arc<dyn KvEngine>, options: &WriteGroupOptions) -> StorageResult<Self> {
        crate::migrate::migrate(engine.as_ref())?;
        let head = crate::feed::head(engine.as_ref())?;
        let journal = Self::starting_at(engine, head, options);
        let mut lineage = HashSet::new();
        for entry in reads::prefix_scan(journal.engine.as_ref(), vec![keys::BASE], false) {
            let (k, v) = entry?;
            let fork = reads::thread_key_id(&k)?;
            lineage.insert(fork);
            lineage.insert(crate::lineage::Base::decode(&v, fork)?.parent);
        }
        *journal
            .lineage
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = lineage;
        Ok(journal)
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
            lineage: Default::default(),
            lineage_lock: tokio::sync::Mutex::new(()),
            every_chain: false,
        }
    }

    /// A journal that only reads `engine`, an engine other nodes write too (their forks are
    /// unknown here, so every read resolves its thread's chain). Its owner commits by its own
    /// means ([`crate::pg`]) and uses it for the reads of the layout.
    pub fn shared_reader(engine: Arc<dyn KvEngine>) -> Self {
        let mut journal = Self::starting_at(engine, 0, &WriteGroupOptions::default());
        journal.every_chain = true;
        journal
    }

    /// How to read `thread`: its chain is read only if it is in a lineage.
    fn reading(&self, thread: ThreadId) -> Reading {
        Reading {
            thread,
            maybe_fork: self.every_chain || self.in_lineage(thread),
        }
    }

    /// Whether `thread` is in a lineage (a fork, or forked).
    fn in_lineage(&self, thread: ThreadId) -> bool {
        self.lineage
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&thread)
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

#[async_trait]
impl Journal for KvJournal {
    async fn commit(&self, mut c: ThreadCommit) -> StorageResult<()> {
        let (id, ts_ms, events) = (c.record.thread_id, c.ts_ms, std::mem::take(&mut c.events));
        if let Some(link) = &c.fork {
            let mut lineage = self
                .lineage
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            lineage.insert(id);
            lineage.insert(link.base.parent);
        }
        if self.in_lineage(id) {
            // Built and applied while no other commit of a lineage runs: its copies on write
            // and its reads of forks see every earlier commit, and no later one sees less.
            let _serial = self.lineage_lock.lock().await;
            let batch = blocking(&self.engine, move |e| batch::commit_batch(e, &c, true)).await?;
            return self.apply_with_feed(batch, id, ts_ms, &events).await;
        }
        let batch = if batch::commit_reads(&c) {
            blocking(&self.engine, move |e| batch::commit_batch(e, &c, false)).await?
        } else {
            // No read needed: encoding is CPU work, done here.
            batch::commit_batch(self.engine.as_ref(), &c, false)?
        };
        self.apply_with_feed(batch, id, ts_ms, &events).await
    }

    async fn sync(&self) -> StorageResult<()> {
        wait(&self.engine, |e| e.flush()).await
    }

    async fn delete_thread(&self, record: &ThreadRecord, ts_ms: i64) -> StorageResult<()> {
        let record = record.clone();
        let id = record.thread_id;
        let _serial = if self.in_lineage(id) {
            Some(self.lineage_lock.lock().await)
        } else {
            None
        };
        let batch = blocking(&self.engine, move |e| batch::delete_batch(e, &record)).await?;
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

    async fn thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>> {
        point(&self.engine, |e| reads::load_thread(e, id))
    }

    async fn thread_state(&self, id: ThreadId) -> StorageResult<Option<ThreadState>> {
        point(&self.engine, |e| reads::thread_state(e, id))
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
        let reading = self.reading(id);
        blocking(&self.engine, move |e| {
            reads::turn_page(e, reading, from, to, direction, limit, view)
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
        let reading = self.reading(id);
        blocking(&self.engine, move |e| {
            reads::item_page(e, reading, turn, from, to, direction, limit)
        })
        .await
    }

    async fn thread_item_page(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, u64, LogRecord)>> {
        let reading = self.reading(id);
        blocking(&self.engine, move |e| {
            reads::thread_item_page(e, reading, from, to, direction, limit)
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
        let reading = self.reading(id);
        blocking(&self.engine, move |e| {
            reads::log_range(e, reading, from, to, direction, limit)
        })
        .await
    }

    async fn log_ranges(
        &self,
        ranges: Vec<(ThreadId, u64, u64)>,
    ) -> StorageResult<Vec<StorageResult<Vec<(u64, LogRecord)>>>> {
        let readings: Vec<(Reading, u64, u64)> = ranges
            .into_iter()
            .map(|(id, from, to)| (self.reading(id), from, to))
            .collect();
        blocking(&self.engine, move |e| {
            Ok(readings
                .into_iter()
                .map(|(reading, from, to)| {
                    let limit = usize::try_from(to.saturating_sub(from)).unwrap_or(usize::MAX);
                    reads::log_range(e, reading, from, to, SortDirection::Asc, limit)
                })
                .collect())
        })
        .await
    }

    async fn own_log_start(&self, id: ThreadId) -> StorageResult<u64> {
        point(&self.engine, |e| {
            Ok(crate::lineage::base(e, id)?.map_or(0, |b| b.end))
        })
    }

    async fn log_at(&self, id: ThreadId, position: u64) -> StorageResult<Option<LogRecord>> {
        point(&self.engine, |e| {
            reads::log_at(e, self.reading(id), position)
        })
    }

    async fn turn(&self, id: ThreadId, seq: u64) -> StorageResult<Option<TurnRecord>> {
        point(&self.engine, |e| reads::turn_at(e, self.reading(id), seq))
    }

    async fn find_turn(&self, id: ThreadId, turn_id: &str) -> StorageResult<Option<u64>> {
        point(&self.engine, |e| {
            reads::find_turn(e, self.reading(id), turn_id)
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
        let reading = self.reading(id);
        blocking(&self.engine, move |e| {
            reads::turn_range(e, reading, from, to, direction, limit)
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
        let reading = self.reading(id);
        blocking(&self.engine, move |e| {
            reads::turn_members(e, reading, seq, from, to, direction, limit)
        })
        .await
    }

    async fn request(&self, id: ThreadId, request_id: &str) -> StorageResult<Option<(u64, u64)>> {
        point(&self.engine, |e| reads::request(e, id, request_id))
    }

    async fn scan_index(
        &self,
        scan: IndexScan,
        limit: usize,
        keep: Arc<ThreadFilter>,
    ) -> StorageResult<Vec<IndexHit>> {
        blocking(&self.engine, move |e| {
            index::scan(e, &scan, limit, keep.as_ref())
        })
        .await
    }

    async fn children(&self, parent: ThreadId) -> StorageResult<Vec<ThreadId>> {
        blocking(&self.engine, move |e| reads::children(e, parent)).await
    }

    async fn by_rollout_path(&self, path: &str) -> StorageResult<Option<ThreadId>> {
        point(&self.engine, |e| reads::by_rollout_path(e, path))
    }
}

#[async_trait]
impl JournalMaintenance for KvJournal {
    async fn clear_writers(&self) -> StorageResult<u64> {
        blocking(&self.engine, |engine| {
            let batch = batch::clear_writers_batch(engine)?;
            let n = batch.ops.len() as u64;
            if n > 0 {
                engine.apply(batch)?;
            }
            Ok(n)
        })
        .await
    }

    async fn index_problems(&self) -> StorageResult<Vec<(Option<ThreadId>, String)>> {
        blocking(&self.engine, index::problems).await
    }

    async fn thread_ids(&self) -> StorageResult<Vec<ThreadId>> {
        blocking(&self.engine, reads::thread_ids).await
    }

    fn size_on_disk(&self) -> u64 {
        self.engine.size_on_disk()
    }
}

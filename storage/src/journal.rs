//! The journal: the narrow async boundary between the actors and storage.
//!
//! The thread actor computes everything (positions, projection changes) and hands the journal one
//! [`ThreadCommit`] per operation, which the journal applies atomically: log records, projections
//! and index entries land together or not at all. Reads are point and range reads over committed
//! records. A networked backend (PostgreSQL is planned) implements the same trait.
//!
//! This module is the contract only: two traits and the values that cross them.
//! - [`Journal`], the core: the commit path and the reads of the thread actors and the store
//!   (pages, listings, the feed). A backend implements it to run a store.
//! - [`JournalMaintenance`]: what opening (lease release), `verify` and the tools (stats,
//!   rebuild) need on top: whole-store scans and housekeeping.
//!
//! [`crate::kv_journal::KvJournal`] implements both over any ordered key-value engine.

use std::sync::Arc;

use async_trait::async_trait;
use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{FeedEvent, FeedEventKind, SortDirection, ThreadId, ThreadSortKey};

use crate::lineage::Base;
use crate::records::{LogRecord, ThreadRecord, TurnRecord};
use crate::StorageResult;

/// Called with each group's feed events, in feed order, right after they are applied (by the one
/// leader, so calls never interleave). Must not block: the event bus only forwards.
pub type FeedListener = Box<dyn Fn(&[FeedEvent]) + Send + Sync>;

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
    /// The committed record the change starts from (`None` for a new thread): its metadata moves
    /// index entries, and a journal shared by many nodes checks that it is still the stored one.
    pub previous: Option<ThreadRecord>,
    /// The live writer's epoch the change starts from (checked like `previous`).
    pub previous_live: Option<u64>,
    /// Appended log records, from `first_position` on, each with the turn it joined.
    pub appended: Vec<(LogRecord, Option<u64>)>,
    /// Position of the first appended record.
    pub first_position: u64,
    /// Turn changes (inserted/changed records, rollback removals, id lookups).
    pub turns: TurnChanges,
    /// Idempotency record: request id → (first position, count).
    pub request: Option<(String, u64, u64)>,
    /// Writer lease change.
    pub writer: WriterChange,
    /// Feed events of this commit, in order; the journal gives them consecutive feed positions.
    pub events: Vec<FeedEventKind>,
    /// Commit time, unix ms (stamped on the feed events).
    pub ts_ms: i64,
    /// The fork this commit creates (the fork's first commit), see [`crate::lineage`].
    pub fork: Option<ForkLink>,
}

/// What the first commit of a fork links (see [`crate::lineage`]).
#[derive(Clone, Debug)]
pub struct ForkLink {
    /// The prefix of the parent the fork reads through.
    pub base: Base,
    /// The parent's turn the fork owns from the start (a fork mid-turn: the fork's copy of the
    /// open turn, which its first lines interrupt), with its turn id.
    pub own_turn: Option<TurnRecord>,
    /// Inherited turns the parent changed after the cut (a late item or end naming an older
    /// turn), each as it was at the cut: the fork's own records of them.
    pub inherited: Vec<TurnRecord>,
}

/// What one batch did to the turn projection.
#[derive(Clone, Debug, Default)]
pub struct TurnChanges {
    /// Turns inserted or changed.
    pub put: Vec<TurnRecord>,
    /// Turns dropped by a rollback.
    pub removed: Vec<u64>,
    /// Turn ids that now name another turn (`None`: no visible turn).
    pub ids: Vec<(String, Option<u64>)>,
}

/// A predicate over thread records (list filters).
pub type ThreadFilter = dyn for<'r> Fn(&'r ThreadRecord) -> bool + Send + Sync;

/// One thread found by [`Journal::scan_index`].
#[derive(Clone, Debug)]
pub struct IndexHit {
    /// Its exact sort time (the cursor anchor of the next page).
    pub time: i64,
    /// Its record.
    pub record: ThreadRecord,
    /// Whether a writer is live.
    pub live: bool,
}

/// One page of turns with their items (see [`Journal::turn_page`]).
#[derive(Clone, Debug, Default)]
pub struct TurnPageRecords {
    /// The turns, each with the log records of its item view.
    pub turns: Vec<(TurnRecord, Vec<(u64, LogRecord)>)>,
    /// More turns follow in the window.
    pub more: bool,
}

/// A thread's committed state: its record and its live writer's epoch.
#[derive(Clone, Debug)]
pub struct ThreadState {
    /// The record.
    pub record: ThreadRecord,
    /// The live writer's epoch, if any.
    pub live: Option<u64>,
    /// Whether that writer was opened through this store (a journal shared by many nodes says
    /// `false` for a lease another node holds: a resume here takes it over, see CONTRACT.md §10).
    pub live_here: bool,
}

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
    /// Start after this (time, thread) anchor.
    pub after: Option<(i64, ThreadId)>,
    /// Whether the anchor itself is listed (a backwards cursor's inclusive anchor).
    pub include_anchor: bool,
}

/// The journal core: the commit path and the reads the actors make. A backend implements this
/// trait to run a store; [`JournalMaintenance`] adds what opening, verifying and inspecting one
/// need.
///
/// **Contract** (what the actors rely on):
/// - *One writer per thread*: calls come concurrently from many tasks, but the commits
///   ([`commit`](Journal::commit), [`delete_thread`](Journal::delete_thread)) of one thread come
///   from its one actor, each awaited before the next. Commits of different threads may be
///   combined into one write.
/// - *Atomic*: a commit's log records, projections, index entries, lease, idempotency record and
///   feed events are applied all together or not at all, also across a crash (a crash leaves a
///   prefix of whole commits). A commit that returns an error applied nothing.
/// - *Visible on return*: every read issued after a commit returned sees it.
/// - *Durable on sync*: a commit is durable once a [`sync`](Journal::sync) that started after it
///   returned has succeeded. `sync` is called by the group committer only; when it fails, the
///   committer stops the store's writes (poison), the journal need not recover.
/// - *Feed order = commit order*: each commit's events get consecutive feed positions, in commit
///   order and without gaps (a failed commit takes none); [`feed_head`](Journal::feed_head) moves
///   only after they are applied, and the listener sees them in position order, one call at a
///   time, right after they are applied.
/// - *Typed errors*: a record that cannot be decoded is `Corrupt` (naming the thread and position
///   when known), never a panic or a silently wrong value.
/// - *No blocking*: methods are called from async workers; blocking work (disk reads, fsync)
///   must leave the worker ([`crate::offload`] is how [`crate::kv_journal::KvJournal`] does it).
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
    /// Returns once every commit that returned before the call has its feed position here
    /// (`feed_head` covers it and the listener has seen it). Immediate where commits take their
    /// positions as they apply; a journal shared by many nodes sequences its feed after commit.
    async fn settle_feed(&self) -> StorageResult<()> {
        Ok(())
    }
    /// Events committed but not yet delivered by this journal's feed (see
    /// `StoreStats::feed_lag`); `None` where events take their position as they commit.
    async fn feed_lag(&self) -> StorageResult<Option<u64>> {
        Ok(None)
    }
    /// Whether other nodes write through the same storage (PostgreSQL): a thread's state cached
    /// by its actor may then be stale, and a commit checks [`ThreadCommit::previous`] and fails
    /// with `Contended` when another node changed the thread first.
    fn shared(&self) -> bool {
        false
    }

    /// The thread's record.
    async fn thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>>;
    /// The record and the live writer's epoch, read together (reads of committed state).
    async fn thread_state(&self, id: ThreadId) -> StorageResult<Option<ThreadState>>;
    /// Turns with seq in `[from, to)`, in `direction`, at most `limit`, each with the log records
    /// its item view needs (none, the summary pair, or every item, in log order), and whether
    /// more turns follow. Items are read only for the turns returned.
    async fn turn_page(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
        view: StoredTurnItemsView,
    ) -> StorageResult<TurnPageRecords>;
    /// Log records of the whole thread (`turn` `None`) or of one turn, with positions in
    /// `[from, to)`, in `direction`, at most `limit`.
    async fn item_page(
        &self,
        id: ThreadId,
        turn: Option<u64>,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, LogRecord)>>;
    /// The item view of a paginated thread (see [`crate::keys`]): its entries with positions in
    /// `[from, to)`, in `direction`, at most `limit`, each with its turn's seq and log record.
    /// Empty for other threads.
    async fn thread_item_page(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, u64, LogRecord)>>;
    /// Log records in `[from, to)`, ascending or descending, at most `limit`.
    async fn log_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<(u64, LogRecord)>>;
    /// Several ascending log ranges `(thread, from, to)` read at once (one trip to the blocking
    /// pool where the backend has one), each with its own result (an unknown thread is
    /// `ThreadNotFound` for its range only). The search indexer reads a step's appends so.
    async fn log_ranges(
        &self,
        ranges: Vec<(ThreadId, u64, u64)>,
    ) -> StorageResult<Vec<StorageResult<Vec<(u64, LogRecord)>>>> {
        let mut out = Vec::with_capacity(ranges.len());
        for (id, from, to) in ranges {
            let limit = usize::try_from(to.saturating_sub(from)).unwrap_or(usize::MAX);
            out.push(
                self.log_range(id, from, to, SortDirection::Asc, limit)
                    .await,
            );
        }
        Ok(out)
    }
    /// The first position of the thread's own log: 0, or for a fork the end of the prefix it
    /// reads through its parent (positions below are the parent's records).
    async fn own_log_start(&self, id: ThreadId) -> StorageResult<u64>;
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
    /// at most `limit`; each with its exact sort time (the cursor anchor of the next page). A
    /// thread record that cannot be read is skipped and logged (`verify` reports it), so one
    /// damaged thread does not take the listing down.
    async fn scan_index(
        &self,
        scan: IndexScan,
        limit: usize,
        keep: Arc<ThreadFilter>,
    ) -> StorageResult<Vec<IndexHit>>;
    /// Direct children of a thread.
    async fn children(&self, parent: ThreadId) -> StorageResult<Vec<ThreadId>>;
    /// The thread recorded for a rollout path.
    async fn by_rollout_path(&self, path: &str) -> StorageResult<Option<ThreadId>>;
}

/// What opening, verifying and inspecting a store need beyond the [`Journal`] core: whole-store
/// scans and housekeeping that no thread actor calls. Every backend a store runs on implements
/// both traits; the actors hold the core only.
///
/// **Contract**: the core's, plus: these methods may scan the whole store (they are not on any
/// request's path), and [`clear_writers`](JournalMaintenance::clear_writers) is called once, when
/// the store opens, before any commit.
#[async_trait]
pub trait JournalMaintenance: Journal {
    /// Clears every live-writer lease (on open: their holders are gone); returns how many.
    async fn clear_writers(&self) -> StorageResult<u64>;
    /// Index problems (verify): entries a thread's metadata implies that are missing, and index
    /// entries no thread's metadata implies (stale), each described in a line.
    async fn index_problems(&self) -> StorageResult<Vec<(Option<ThreadId>, String)>>;
    /// Every thread id (verify, rebuild, stats).
    async fn thread_ids(&self) -> StorageResult<Vec<ThreadId>>;
    /// Bytes on disk.
    fn size_on_disk(&self) -> u64;
}

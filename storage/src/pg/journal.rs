//! [`PgJournal`]: the [`Journal`] on PostgreSQL, shared by many nodes.
//!
//! A commit is one transaction (see [`PgJournal::commit`]):
//! 1. lock the thread's record and lease rows (`SELECT … FOR UPDATE`) and check they are the
//!    ones the actor's change started from ([`ThreadCommit::previous`] and
//!    [`ThreadCommit::previous_live`]): the writer epoch, the expected position and the request
//!    ids the actor checked are all in that record, so fencing, optimistic concurrency and
//!    idempotency hold across nodes. Anything else is `Contended`: another node changed the
//!    thread first, nothing is written, and the store retries on fresh state. A new thread's
//!    record is inserted with `ON CONFLICT DO NOTHING`: two nodes creating one id, one wins;
//! 2. write the commit's keys (the same batch the sled store writes, [`crate::batch`]);
//! 3. insert its feed events into `feed_pending` ([`super::feed`]);
//! 4. commit: PostgreSQL's WAL flush is the durability, and it groups concurrent commits itself.
//!
//! Reads are the key layout's ([`crate::reads`] through a [`KvJournal::shared_reader`]), one
//! round trip per point read and per scan chunk. Leases carry the node that opened them, so a
//! resume on another node takes over a lease (fencing the holder) instead of waiting for a node
//! that may be dead.

use std::sync::Arc;

use async_trait::async_trait;
use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{FeedEvent, FeedEventKind, SortDirection, ThreadId, ThreadStoreError};
use tokio_postgres::Transaction;

use super::client::{db_error, is_race, PgClient, PgOptions};
use super::engine::PgEngine;
use super::feed::{Feed, FeedStatus};
use super::writes::{final_writes, DELETE_SQL, INSERT_NEW_SQL, LOCK_SQL, PENDING_SQL, UPSERT_SQL};
use crate::codec::{decode, encode};
use crate::engine::{KvEngine, WriteBatch};
use crate::journal::{
    FeedListener, IndexHit, IndexScan, Journal, JournalMaintenance, ThreadCommit, ThreadFilter,
    ThreadState, TurnPageRecords,
};
use crate::records::{FeedBlock, FeedRecord, LogRecord, ThreadRecord, TurnRecord};
use crate::{batch, keys, offload, KvJournal, StorageResult};

/// The journal on PostgreSQL (see the module docs).
pub struct PgJournal {
    client: Arc<PgClient>,
    engine: Arc<dyn KvEngine>,
    reads: KvJournal,
    feed: Arc<Feed>,
    /// This node's id, stored with the leases it opens.
    node: [u8; 16],
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        self.feed.stop();
    }
}

/// What a commit expects to find in the database before it writes.
struct Base {
    thread: ThreadId,
    record_key: Vec<u8>,
    lease_key: Vec<u8>,
    /// The stored record (`None`: the thread must be new).
    record: Option<ThreadRecord>,
    /// The stored lease's epoch (`None` inside: no lease); outer `None`: not checked.
    live: Option<Option<u64>>,
}

impl Base {
    /// Locks and checks the thread's rows; `Contended` when they are not as expected. A new
    /// thread's record was just inserted by this transaction (`inserted`): only its lease is
    /// checked.
    async fn check(
        &self,
        tx: &Transaction<'_>,
        lock: &tokio_postgres::Statement,
        inserted: bool,
    ) -> StorageResult<()> {
        let contended = || ThreadStoreError::Contended {
            thread_id: self.thread,
        };
        let rows = tx
            .query(lock, &[&self.record_key, &self.lease_key])
            .await
            .map_err(|e| race_or(self.thread, "commit", e))?;
        let mut stored = None;
        let mut lease = None;
        for row in rows {
            let k: Vec<u8> = row.get(0);
            let v: Vec<u8> = row.get(1);
            if k == self.record_key {
                stored = Some(decode::<ThreadRecord>(&v, Some(self.thread), None)?);
            } else {
                lease = keys::be_u64(&v, 0);
            }
        }
        if !inserted && stored != self.record {
            return Err(contended());
        }
        if self.live.is_some_and(|live| live != lease) {
            return Err(contended());
        }
        Ok(())
    }
}

/// `Contended` for a lost race, else the database error.
fn race_or(thread: ThreadId, what: &str, e: tokio_postgres::Error) -> ThreadStoreError {
    if is_race(&e) {
        ThreadStoreError::Contended { thread_id: thread }
    } else {
        db_error(what, e)
    }
}

impl PgJournal {
    /// Connects, creates or migrates the schema, and starts this node's feed tasks.
    pub async fn open(options: &PgOptions) -> StorageResult<Self> {
        let client = PgClient::new(options)?;
        super::schema::migrate(&client).await?;
        let head: i64 = client
            .run("open", |conn| async move {
                let row = conn
                    .client
                    .query_one("SELECT head FROM feed_head WHERE one = 1", &[])
                    .await
                    .map_err(|e| db_error("open", e))?;
                Ok(row.get(0))
            })
            .await?;
        let engine: Arc<dyn KvEngine> = Arc::new(PgEngine::new(client.clone()));
        let reads = KvJournal::shared_reader(engine.clone());
        let feed = Feed::start(client.clone(), head.max(0) as u64);
        Ok(Self {
            client,
            engine,
            reads,
            feed,
            node: *uuid::Uuid::new_v4().as_bytes(),
        })
    }

    /// The feed as this node sees it (lag, pending events).
    pub async fn feed_status(&self) -> StorageResult<FeedStatus> {
        self.feed.status().await
    }

    /// Releases every lease this node opened (a node closing; a node that dies keeps its
    /// leases until a resume on another node takes each over); returns how many.
    pub async fn release_leases(&self) -> StorageResult<u64> {
        let node = self.node.to_vec();
        let lo = vec![keys::WRITER];
        let hi = keys::prefix_end(&lo);
        self.client
            .run("release leases", move |conn| async move {
                conn.client
                    .execute(
                        "DELETE FROM kv WHERE k >= $1 AND k < $2 AND substring(v FROM 9) = $3",
                        &[&lo, &hi, &node],
                    )
                    .await
                    .map_err(|e| db_error("release leases", e))
            })
            .await
    }

    /// The connection options.
    pub fn options(&self) -> &PgOptions {
        self.client.options()
    }

    /// Applies `batch` and the feed block of `events` in one transaction, after checking `base`.
    async fn write(
        &self,
        base: Base,
        batch: WriteBatch,
        ts_ms: i64,
        events: Vec<FeedEventKind>,
    ) -> StorageResult<()> {
        let thread = base.thread;
        let count = events.len() as i32;
        let block = if events.is_empty() {
            None
        } else {
            Some(encode(&FeedBlock {
                records: events
                    .into_iter()
                    .map(|kind| FeedRecord {
                        thread_id: thread,
                        ts_ms,
                        kind,
                    })
                    .collect(),
            })?)
        };
        let (mut puts, removes) = final_writes(batch);
        for (k, v) in puts.iter_mut() {
            if *k == base.lease_key {
                v.extend_from_slice(&self.node);
            }
        }
        // A new thread's record goes in first and alone: it must not exist yet.
        let new_record = match base.record {
            None => puts
                .iter()
                .position(|(k, _)| *k == base.record_key)
                .map(|i| puts.remove(i)),
            Some(_) => None,
        };
        self.client
            .run("commit", move |mut conn| async move {
                let err = |e| race_or(thread, "commit", e);
                // Prepared once per connection: each statement is then one trip, not two.
                let lock = conn.prepare(LOCK_SQL).await.map_err(err)?;
                let upsert = conn.prepare(UPSERT_SQL).await.map_err(err)?;
                let delete = conn.prepare(DELETE_SQL).await.map_err(err)?;
                let pending = conn.prepare(PENDING_SQL).await.map_err(err)?;
                let insert_new = conn.prepare(INSERT_NEW_SQL).await.map_err(err)?;
                let tx = conn.client.transaction().await.map_err(err)?;
                if let Some((k, v)) = &new_record {
                    if tx.execute(&insert_new, &[k, v]).await.map_err(err)? == 0 {
                        return Err(ThreadStoreError::Contended { thread_id: thread });
                    }
                }
                base.check(&tx, &lock, new_record.is_some()).await?;
                // The writes touch distinct keys: they go out together, pipelined on the
                // connection, and the transaction commits or rolls back all of them.
                let (ks, vs): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
                    puts.iter().map(|(k, v)| (k, v)).unzip();
                let writes = async {
                    if puts.is_empty() {
                        return Ok(0);
                    }
                    tx.execute(&upsert, &[&ks, &vs]).await
                };
                let removals = async {
                    if removes.is_empty() {
                        return Ok(0);
                    }
                    tx.execute(&delete, &[&removes]).await
                };
                let feed = async {
                    match &block {
                        Some(block) => tx.execute(&pending, &[&count, block]).await,
                        None => Ok(0),
                    }
                };
                futures::try_join!(writes, removals, feed).map_err(err)?;
                tx.commit().await.map_err(err)
            })
            .await?;
        if count > 0 {
            self.feed.poke();
        }
        Ok(())
    }
}

#[async_trait]
impl Journal for PgJournal {
    #[tracing::instrument(level = "debug", name = "pg.commit", skip_all, err(level = "debug"), fields(thread_id = %c.record.thread_id))]
    async fn commit(&self, mut c: ThreadCommit) -> StorageResult<()> {
        let id = c.record.thread_id;
        let events = std::mem::take(&mut c.events);
        let ts_ms = c.ts_ms;
        let base = Base {
            thread: id,
            record_key: keys::thread(&id),
            lease_key: keys::writer(&id),
            record: c.previous.clone(),
            live: Some(c.previous_live),
        };
        // Every thread may be in a lineage another node made: the batch resolves its chain.
        let batch = offload::read(&self.engine, move |e| batch::commit_batch(e, &c, true)).await?;
        self.write(base, batch, ts_ms, events).await
    }

    async fn sync(&self) -> StorageResult<()> {
        // A commit is durable when its transaction commits.
        Ok(())
    }

    async fn delete_thread(&self, record: &ThreadRecord, ts_ms: i64) -> StorageResult<()> {
        let id = record.thread_id;
        let base = Base {
            thread: id,
            record_key: keys::thread(&id),
            lease_key: keys::writer(&id),
            record: Some(record.clone()),
            live: None,
        };
        let record = record.clone();
        let batch = offload::read(&self.engine, move |e| batch::delete_batch(e, &record)).await?;
        self.write(base, batch, ts_ms, vec![FeedEventKind::Deleted])
            .await
    }

    async fn feed_range(&self, from: u64, limit: usize) -> StorageResult<Vec<FeedEvent>> {
        // Only what this node has delivered: a subscriber's catch-up then meets its live events
        // exactly at the node's head.
        let head = self.feed.head();
        let limit = limit.min(usize::try_from(head.saturating_sub(from)).unwrap_or(usize::MAX));
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.reads.feed_range(from, limit).await
    }

    fn feed_head(&self) -> u64 {
        self.feed.head()
    }

    fn set_feed_listener(&self, listener: FeedListener) {
        self.feed.set_listener(listener);
    }

    async fn settle_feed(&self) -> StorageResult<()> {
        self.feed.settle().await
    }

    fn shared(&self) -> bool {
        true
    }

    async fn feed_lag(&self) -> StorageResult<Option<u64>> {
        Ok(Some(self.feed.status().await?.lag()))
    }

    async fn thread(&self, id: ThreadId) -> StorageResult<Option<ThreadRecord>> {
        self.reads.thread(id).await
    }

    async fn thread_state(&self, id: ThreadId) -> StorageResult<Option<ThreadState>> {
        let node = self.node;
        offload::read(&self.engine, move |e| {
            let Some(record) = e
                .get(&keys::thread(&id))?
                .map(|b| decode::<ThreadRecord>(&b, Some(id), None))
                .transpose()?
            else {
                return Ok(None);
            };
            let lease = e.get(&keys::writer(&id))?;
            let live = lease.as_deref().and_then(|b| keys::be_u64(b, 0));
            let live_here = lease
                .as_deref()
                .is_some_and(|b| b.get(8..) == Some(&node[..]));
            Ok(Some(ThreadState {
                record,
                live,
                live_here,
            }))
        })
        .await
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
        self.reads
            .turn_page(id, from, to, direction, limit, view)
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
        self.reads
            .item_page(id, turn, from, to, direction, limit)
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
        self.reads
            .thread_item_page(id, from, to, direction, limit)
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
        self.reads.log_range(id, from, to, direction, limit).await
    }

    async fn log_ranges(
        &self,
        ranges: Vec<(ThreadId, u64, u64)>,
    ) -> StorageResult<Vec<StorageResult<Vec<(u64, LogRecord)>>>> {
        self.reads.log_ranges(ranges).await
    }

    async fn own_log_start(&self, id: ThreadId) -> StorageResult<u64> {
        self.reads.own_log_start(id).await
    }

    async fn log_at(&self, id: ThreadId, position: u64) -> StorageResult<Option<LogRecord>> {
        self.reads.log_at(id, position).await
    }

    async fn turn(&self, id: ThreadId, seq: u64) -> StorageResult<Option<TurnRecord>> {
        self.reads.turn(id, seq).await
    }

    async fn find_turn(&self, id: ThreadId, turn_id: &str) -> StorageResult<Option<u64>> {
        self.reads.find_turn(id, turn_id).await
    }

    async fn turn_range(
        &self,
        id: ThreadId,
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
    ) -> StorageResult<Vec<TurnRecord>> {
        self.reads.turn_range(id, from, to, direction, limit).await
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
        self.reads
            .turn_members(id, seq, from, to, direction, limit)
            .await
    }

    async fn request(&self, id: ThreadId, request_id: &str) -> StorageResult<Option<(u64, u64)>> {
        self.reads.request(id, request_id).await
    }

    async fn scan_index(
        &self,
        scan: IndexScan,
        limit: usize,
        keep: Arc<ThreadFilter>,
    ) -> StorageResult<Vec<IndexHit>> {
        self.reads.scan_index(scan, limit, keep).await
    }

    async fn children(&self, parent: ThreadId) -> StorageResult<Vec<ThreadId>> {
        self.reads.children(parent).await
    }

    async fn by_rollout_path(&self, path: &str) -> StorageResult<Option<ThreadId>> {
        self.reads.by_rollout_path(path).await
    }
}

#[async_trait]
impl JournalMaintenance for PgJournal {
    async fn clear_writers(&self) -> StorageResult<u64> {
        // Other nodes' leases are live; a dead node's are taken over by a resume anywhere.
        Ok(0)
    }

    async fn index_problems(&self) -> StorageResult<Vec<(Option<ThreadId>, String)>> {
        self.reads.index_problems().await
    }

    async fn thread_ids(&self) -> StorageResult<Vec<ThreadId>> {
        self.reads.thread_ids().await
    }

    fn size_on_disk(&self) -> u64 {
        let engine = self.engine.clone();
        // Blocking: called by `stats` only, off the request paths.
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| engine.size_on_disk())
            }
            _ => engine.size_on_disk(),
        }
    }
}

//! The global feed on PostgreSQL: one gapless order, in commit order, for every node.
//!
//! **Why not a sequence**: a `bigserial` is taken when a row is inserted, not when its
//! transaction commits. Transaction A takes 1, B takes 2 and commits first; a reader that moved
//! past 2 never sees 1.
//!
//! **How** (the method of `reference/postgres-backend.md`):
//! 1. A commit inserts its events as one row of `feed_pending`, stamped with its transaction id
//!    (`xid8`), in the commit's own transaction. Nothing else: no lock on a shared row, no
//!    `NOTIFY`, so commits never serialize on the feed.
//! 2. A **sequencer** (every node runs one; they take turns on `feed_head`'s row lock) takes the
//!    pending rows whose transaction id is below the horizon `pg_snapshot_xmin(pg_current_snapshot())`
//!    (every transaction below it has ended, so no row below it can still appear), in
//!    `(xid, id)` order, gives them the next positions, stores them as feed blocks in `kv`
//!    under `F first_position` (the layout of [`crate::feed`]), deletes them from `feed_pending`,
//!    moves `feed_head`, and sends one `pg_notify` for the whole advance. Commits of one thread
//!    are serialized by its record's row lock and each takes its transaction id after the one
//!    before it committed, so a thread's events keep its commit order.
//! 3. A **follower** on each node reads the blocks from its last position on, in order, hands them
//!    to the node's listener (the event bus), and moves the node's head. It wakes on the
//!    notification (a dedicated connection that `LISTEN`s), on its own node's sequencer, and every
//!    [`FOLLOW_POLL`] in case a notification was lost.
//!
//! **Invariants**: positions are assigned only under `feed_head`'s lock and only to committed
//! rows below the horizon, so the blocks tile `0..head` without gaps; every node's follower
//! delivers them in position order, so every subscriber on every node sees the same sequence.
//! **Lag**: a transaction that holds an xid holds the horizon back (the feed waits, appends do
//! not); [`FeedStatus`] reports pending events and how far this node trails.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{watch, Notify};

use super::client::{db_error, PgClient};
use crate::codec::decode;
use crate::journal::FeedListener;
use crate::keys;
use crate::records::FeedBlock;
use crate::StorageResult;

/// Most pending rows one sequencer pass takes.
const SEQUENCE_BATCH: i64 = 1024;
/// Most blocks one follower read takes.
const FOLLOW_BATCH: i64 = 256;
/// How often a sequencer looks for pending rows when nothing woke it (rows of a node that died
/// between its commit and its sequencing, rows held back by an open transaction).
const SEQUENCE_POLL: Duration = Duration::from_millis(50);
/// How often a follower reads when no notification woke it.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The feed's state as one node sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStatus {
    /// Next position delivered on this node.
    pub local_head: u64,
    /// Next position the database has assigned.
    pub database_head: u64,
    /// Committed events waiting for a position (held back by open transactions, or not yet
    /// sequenced).
    pub pending: u64,
}

impl FeedStatus {
    /// Events committed that this node's subscribers have not been given yet.
    pub fn lag(&self) -> u64 {
        self.database_head.saturating_sub(self.local_head) + self.pending
    }
}

/// One node's sequencer and follower.
pub struct Feed {
    client: Arc<PgClient>,
    channel: String,
    listener: OnceLock<FeedListener>,
    head: watch::Sender<u64>,
    sequence: Notify,
    follow: Notify,
    stopped: AtomicBool,
}

impl Feed {
    /// Starts the sequencer, the follower and the listening connection on the client's runtime;
    /// the follower starts at `head` (the database's head when the node opened).
    pub fn start(client: Arc<PgClient>, head: u64) -> Arc<Self> {
        let channel = format!("threadstore_feed_{}", client.options().schema);
        let feed = Arc::new(Self {
            client: client.clone(),
            channel,
            listener: OnceLock::new(),
            head: watch::channel(head).0,
            sequence: Notify::new(),
            follow: Notify::new(),
            stopped: AtomicBool::new(false),
        });
        let handle = client.handle();
        handle.spawn(sequencer(Arc::downgrade(&feed)));
        handle.spawn(follower(Arc::downgrade(&feed)));
        handle.spawn(listen(Arc::downgrade(&feed)));
        feed
    }

    /// Stops the tasks (they hold the feed weakly and end at their next wake-up).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.sequence.notify_one();
        self.follow.notify_one();
    }

    /// Registers the node's listener.
    pub fn set_listener(&self, listener: FeedListener) {
        if self.listener.set(listener).is_err() {
            tracing::warn!("a feed listener was already set; keeping the first");
        }
    }

    /// The next position delivered on this node.
    pub fn head(&self) -> u64 {
        *self.head.borrow()
    }

    /// Wakes this node's sequencer (a commit with events just returned).
    pub fn poke(&self) {
        self.sequence.notify_one();
    }

    /// Returns once every event committed before the call is delivered on this node (bounded by
    /// the call timeout: `Unavailable` beyond it, e.g. while an open transaction holds the
    /// horizon back).
    pub async fn settle(&self) -> StorageResult<()> {
        let bound = self.client.options().call_timeout;
        let work = async {
            let mark: i64 = self
                .client
                .run("settle feed", |conn| async move {
                    let row = conn
                        .client
                        .query_one("SELECT coalesce(max(id), 0) FROM feed_pending", &[])
                        .await
                        .map_err(|e| db_error("settle feed", e))?;
                    Ok(row.get(0))
                })
                .await?;
            loop {
                sequence_pass(&self.client, &self.channel).await?;
                let (left, db_head): (bool, i64) = self
                    .client
                    .run("settle feed", move |conn| async move {
                        let row = conn
                            .client
                            .query_one(
                                "SELECT EXISTS (SELECT 1 FROM feed_pending WHERE id <= $1), \
                                 (SELECT head FROM feed_head WHERE one = 1)",
                                &[&mark],
                            )
                            .await
                            .map_err(|e| db_error("settle feed", e))?;
                        Ok((row.get(0), row.get(1)))
                    })
                    .await?;
                if !left {
                    self.follow.notify_one();
                    let mut rx = self.head.subscribe();
                    let target = db_head.max(0) as u64;
                    rx.wait_for(|h| *h >= target).await.map_err(|_| {
                        threadstore_api::ThreadStoreError::internal("the feed follower stopped")
                    })?;
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        match tokio::time::timeout(bound, work).await {
            Ok(r) => r,
            Err(_) => Err(threadstore_api::ThreadStoreError::Unavailable {
                message: format!(
                    "the feed did not catch up within {bound:?} (a transaction left open holds it back)"
                ),
            }),
        }
    }

    /// The feed's state on this node.
    pub async fn status(&self) -> StorageResult<FeedStatus> {
        let local_head = self.head();
        let (database_head, pending) = self
            .client
            .run("feed status", |conn| async move {
                let row = conn
                    .client
                    .query_one(
                        "SELECT (SELECT head FROM feed_head WHERE one = 1), \
                         (SELECT coalesce(sum(count), 0) FROM feed_pending)::bigint",
                        &[],
                    )
                    .await
                    .map_err(|e| db_error("feed status", e))?;
                Ok((row.get::<_, i64>(0), row.get::<_, i64>(1)))
            })
            .await?;
        Ok(FeedStatus {
            local_head,
            database_head: database_head.max(0) as u64,
            pending: pending.max(0) as u64,
        })
    }
}

/// One sequencer pass: positions for the pending rows below the horizon (at most
/// [`SEQUENCE_BATCH`]); returns how many rows it sequenced.
async fn sequence_pass(client: &PgClient, channel: &str) -> StorageResult<usize> {
    let channel = channel.to_owned();
    client
        .run("sequence feed", move |mut conn| async move {
            let err = |e| db_error("sequence feed", e);
            // Cheap check first: an idle store takes no lock.
            let any = conn
                .client
                .query_one("SELECT EXISTS (SELECT 1 FROM feed_pending)", &[])
                .await
                .map_err(err)?;
            if !any.get::<_, bool>(0) {
                return Ok(0);
            }
            let tx = conn.client.transaction().await.map_err(err)?;
            let head: i64 = tx
                .query_one("SELECT head FROM feed_head WHERE one = 1 FOR UPDATE", &[])
                .await
                .map_err(err)?
                .get(0);
            let rows = tx
                .query(
                    "SELECT id, count, block FROM feed_pending \
                     WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) \
                     ORDER BY xid, id LIMIT $1",
                    &[&SEQUENCE_BATCH],
                )
                .await
                .map_err(err)?;
            if rows.is_empty() {
                tx.rollback().await.map_err(err)?;
                return Ok(0);
            }
            let mut ids = Vec::with_capacity(rows.len());
            let mut keys_ = Vec::with_capacity(rows.len());
            let mut blocks = Vec::with_capacity(rows.len());
            let mut next = head.max(0) as u64;
            for row in &rows {
                ids.push(row.get::<_, i64>(0));
                keys_.push(keys::feed(next));
                blocks.push(row.get::<_, Vec<u8>>(2));
                next += row.get::<_, i32>(1).max(0) as u64;
            }
            tx.execute(
                "INSERT INTO kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])",
                &[&keys_, &blocks],
            )
            .await
            .map_err(err)?;
            tx.execute("DELETE FROM feed_pending WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(err)?;
            let new_head = next as i64;
            tx.execute("UPDATE feed_head SET head = $1 WHERE one = 1", &[&new_head])
                .await
                .map_err(err)?;
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&channel, &new_head.to_string()],
            )
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
            tracing::debug!(events = new_head - head, head = new_head, "feed sequenced");
            Ok(rows.len())
        })
        .await
}

async fn sequencer(feed: std::sync::Weak<Feed>) {
    loop {
        let Some(f) = feed.upgrade() else { return };
        if f.stopped.load(Ordering::Relaxed) {
            return;
        }
        let mut rounds = 0;
        loop {
            match sequence_pass(&f.client, &f.channel).await {
                Ok(n) if n as i64 >= SEQUENCE_BATCH => continue,
                Ok(n) => {
                    if n > 0 {
                        f.follow.notify_one();
                    }
                    // Rows held back by the horizon are taken by a later pass: a few quick ones,
                    // then the poll.
                    if n == 0 && rounds < 20 && pending_exists(&f.client).await {
                        rounds += 1;
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        continue;
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "feed sequencer pass failed; retrying");
                    break;
                }
            }
        }
        // Holding the feed while waiting is fine: `stop` wakes this wait.
        let _ = tokio::time::timeout(SEQUENCE_POLL, f.sequence.notified()).await;
    }
}

async fn pending_exists(client: &PgClient) -> bool {
    client
        .run("feed pending", |conn| async move {
            let row = conn
                .client
                .query_one("SELECT EXISTS (SELECT 1 FROM feed_pending)", &[])
                .await
                .map_err(|e| db_error("feed pending", e))?;
            Ok(row.get::<_, bool>(0))
        })
        .await
        .unwrap_or(false)
}

/// Reads the blocks from the node's head on and delivers them; returns how many blocks.
async fn follow_pass(feed: &Feed) -> StorageResult<usize> {
    let from = feed.head();
    let lo = keys::feed(from);
    let hi = keys::prefix_end(&[keys::FEED]);
    let rows: Vec<(Vec<u8>, Vec<u8>)> = feed
        .client
        .run("follow feed", move |mut conn| async move {
            let stmt = conn
                .prepare("SELECT k, v FROM kv WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3")
                .await
                .map_err(|e| db_error("follow feed", e))?;
            let rows = conn
                .client
                .query(&stmt, &[&lo, &hi, &FOLLOW_BATCH])
                .await
                .map_err(|e| db_error("follow feed", e))?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
        })
        .await?;
    let count = rows.len();
    for (k, v) in rows {
        let first = keys::be_u64(&k, 1).unwrap_or(u64::MAX);
        let head = feed.head();
        if first != head {
            // Blocks tile the feed; a hole here means a damaged store (verify reports it).
            tracing::error!(
                expected = head,
                found = first,
                "feed block out of place; delivery waits"
            );
            return Ok(0);
        }
        let block: FeedBlock = decode(&v, None, Some(first))?;
        let next = first + block.records.len() as u64;
        let events: Vec<_> = crate::feed::block_events(first, block).collect();
        if let Some(listener) = feed.listener.get() {
            listener(&events);
        }
        feed.head.send_replace(next);
    }
    if count > 0 {
        tracing::debug!(head = feed.head(), "feed delivered on this node");
    }
    Ok(count)
}

async fn follower(feed: std::sync::Weak<Feed>) {
    loop {
        let Some(f) = feed.upgrade() else { return };
        if f.stopped.load(Ordering::Relaxed) {
            return;
        }
        match follow_pass(&f).await {
            Ok(n) if n as i64 >= FOLLOW_BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "feed follower read failed; retrying"),
        }
        let _ = tokio::time::timeout(FOLLOW_POLL, f.follow.notified()).await;
    }
}

/// Keeps a connection that `LISTEN`s to the feed's channel and wakes the follower on every
/// notification; reconnects after a failure.
async fn listen(feed: std::sync::Weak<Feed>) {
    loop {
        let Some(f) = feed.upgrade() else { return };
        if f.stopped.load(Ordering::Relaxed) {
            return;
        }
        let config = f.client.config().clone();
        let channel = f.channel.clone();
        drop(f);
        match config.connect(tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut rx) = futures::channel::mpsc::unbounded();
                let stream = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                let forward = stream.for_each(move |m| {
                    let _ = tx.unbounded_send(m);
                    futures::future::ready(())
                });
                let driver = tokio::spawn(forward);
                if client
                    .batch_execute(&format!("LISTEN {channel}"))
                    .await
                    .is_ok()
                {
                    while let Some(message) = rx.next().await {
                        let Some(f) = feed.upgrade() else { return };
                        if f.stopped.load(Ordering::Relaxed) {
                            return;
                        }
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                                f.follow.notify_one()
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => tracing::debug!(error = %e, "feed listener cannot connect; retrying"),
        }
        // Anything missed meanwhile is read by the follower's poll.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

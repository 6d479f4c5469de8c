//! The group committer: appends wait here for durability, and one task fsyncs for all of them.
//!
//! A plain tokio task rather than an actor: it has one job (batch waiters, call `sync` once per
//! batch off the async threads, answer everyone) and no state to protect beyond the poison flag.
//! Every waiter enqueued before a sync starts is covered by it, because its writes were applied
//! before it enqueued. Thread actors do not wait for it inside their handlers: an append's reply
//! is handed to the committer, so one thread's next append is applied while the previous one is
//! being fsynced, and the fsyncs of all threads are shared.
//!
//! **Backpressure**: the queue of waiters is bounded ([`crate::StoreConfig::queue_capacity`]).
//! A writer enqueues its waiter *before* it acknowledges anything or takes its next message
//! ([`Committer::enqueue`]), so a writer that pipelines appends waits for room when fsyncs fall
//! behind, and after [`crate::StoreConfig::queue_timeout`] gets `ResourceExhausted`.
//!
//! **Poison**: once a sync fails, nothing written since the last good sync can be promised
//! durable. The committer then fails every waiter and every later write with `Poisoned` (as
//! fjall and PostgreSQL do) instead of retrying an fsync whose failure may have dropped pages.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use threadstore_api::{ThreadStoreError, ThreadStoreResult};
use threadstore_storage::Journal;
use tokio::sync::{mpsc, oneshot};

type Waiter = oneshot::Sender<ThreadStoreResult<()>>;

/// Handle to the group committer; cheap to clone.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Waiter>,
    poison: Arc<OnceLock<String>>,
    timeout: Duration,
}

/// A place in the committer's queue: resolves once everything written before it was enqueued is
/// durable.
pub struct Ticket(oneshot::Receiver<ThreadStoreResult<()>>);

impl Ticket {
    /// Waits for the fsync that covers this ticket.
    pub async fn durable(self) -> ThreadStoreResult<()> {
        self.0
            .await
            .map_err(|_| ThreadStoreError::internal("group committer stopped"))?
    }
}

impl Committer {
    /// Starts the committer task for `journal`. It stops when the last handle is dropped, and it
    /// holds the journal only weakly, so closing the store releases the engine (and its lock).
    pub fn spawn(journal: Weak<dyn Journal>, capacity: usize, timeout: Duration) -> Self {
        let capacity = capacity.max(1);
        let (tx, mut rx) = mpsc::channel::<Waiter>(capacity);
        let poison: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
        let flag = poison.clone();
        tokio::spawn(async move {
            let mut waiters = Vec::new();
            while let Some(first) = rx.recv().await {
                waiters.push(first);
                // Let writers that are applying right now join this fsync: yield until a round
                // brings no new waiter (bounded), then take what is queued. One fsync takes at
                // most `capacity` waiters, so the bound holds while it runs: at most `capacity`
                // in this fsync and `capacity` queued, and the next writer waits for room.
                for _ in 0..64 {
                    let before = waiters.len();
                    while waiters.len() < capacity {
                        let Ok(w) = rx.try_recv() else { break };
                        waiters.push(w);
                    }
                    if waiters.len() >= capacity || (waiters.len() == before && before > 1) {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                let started = std::time::Instant::now();
                let result = match (flag.get(), journal.upgrade()) {
                    (Some(why), _) => Err(poisoned(why)),
                    (None, Some(journal)) => journal.sync().await,
                    (None, None) => Err(ThreadStoreError::internal("the store is closed")),
                };
                let result = result.map_err(|e| match e {
                    ThreadStoreError::Poisoned { .. } => e,
                    other => {
                        tracing::error!(error = %other, "group commit fsync failed; the store stops accepting writes");
                        let _ = flag.set(other.to_string());
                        poisoned(&other.to_string())
                    }
                });
                tracing::debug!(
                    waiters = waiters.len(),
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "group commit"
                );
                for w in waiters.drain(..) {
                    let _ = w.send(result.clone());
                }
            }
        });
        Self {
            tx,
            poison,
            timeout,
        }
    }

    /// Fails with `Poisoned` once a flush has failed; writers check it before applying anything.
    pub fn check_writable(&self) -> ThreadStoreResult<()> {
        match self.poison.get() {
            Some(why) => Err(poisoned(why)),
            None => Ok(()),
        }
    }

    /// Takes a place in the queue for the next fsync, waiting for room (bounded by the configured
    /// timeout, then `ResourceExhausted`); `Poisoned` once a flush has failed.
    pub async fn enqueue(&self) -> ThreadStoreResult<Ticket> {
        self.check_writable()?;
        let (tx, rx) = oneshot::channel();
        // Room is nearly always there: only a full queue waits (and only then arms a timer).
        let tx = match self.tx.try_send(tx) {
            Ok(()) => return Ok(Ticket(rx)),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(ThreadStoreError::internal("group committer stopped"))
            }
            Err(mpsc::error::TrySendError::Full(tx)) => tx,
        };
        match self.tx.send_timeout(tx, self.timeout).await {
            Ok(()) => Ok(Ticket(rx)),
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                Err(ThreadStoreError::ResourceExhausted {
                    message: format!(
                        "the fsync queue stayed full for {:?}: the disk is not keeping up",
                        self.timeout
                    ),
                })
            }
            Err(mpsc::error::SendTimeoutError::Closed(_)) => {
                Err(ThreadStoreError::internal("group committer stopped"))
            }
        }
    }

    /// Returns once everything written before this call is durable.
    pub async fn durable(&self) -> ThreadStoreResult<()> {
        self.enqueue().await?.durable().await
    }
}

fn poisoned(why: &str) -> ThreadStoreError {
    ThreadStoreError::Poisoned {
        message: why.to_owned(),
    }
}

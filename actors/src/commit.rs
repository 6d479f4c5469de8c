//! The group committer: appends wait here for durability, and one task fsyncs for all of them.
//!
//! A plain tokio task rather than an actor: it has one job (batch waiters, call `sync` once per
//! batch off the async threads, answer everyone) and no state to protect beyond the poison flag.
//! Every waiter enqueued before a sync starts is covered by it, because its writes were applied
//! before it enqueued. Thread actors do not wait for it inside their handlers: an append's reply
//! is handed to the committer, so one thread's next append is applied while the previous one is
//! being fsynced, and the fsyncs of all threads are shared.
//!
//! **Poison**: once a sync fails, nothing written since the last good sync can be promised
//! durable. The committer then fails every waiter and every later write with `Poisoned` (as
//! fjall and PostgreSQL do) instead of retrying an fsync whose failure may have dropped pages.

use std::sync::{Arc, OnceLock, Weak};

use threadstore_api::{ThreadStoreError, ThreadStoreResult};
use threadstore_storage::Journal;
use tokio::sync::{mpsc, oneshot};

type Waiter = oneshot::Sender<ThreadStoreResult<()>>;

/// Handle to the group committer; cheap to clone.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::UnboundedSender<Waiter>,
    poison: Arc<OnceLock<String>>,
}

impl Committer {
    /// Starts the committer task for `journal`. It stops when the last handle is dropped, and it
    /// holds the journal only weakly, so closing the store releases the engine (and its lock).
    pub fn spawn(journal: Weak<dyn Journal>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Waiter>();
        let poison: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
        let flag = poison.clone();
        tokio::spawn(async move {
            let mut waiters = Vec::new();
            while let Some(first) = rx.recv().await {
                waiters.push(first);
                // Let writers that are applying right now join this fsync: yield until a round
                // brings no new waiter (bounded), then take everything queued.
                for _ in 0..64 {
                    let before = waiters.len();
                    while let Ok(w) = rx.try_recv() {
                        waiters.push(w);
                    }
                    if waiters.len() == before && before > 1 {
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
        Self { tx, poison }
    }

    /// Fails with `Poisoned` once a flush has failed; writers check it before applying anything.
    pub fn check_writable(&self) -> ThreadStoreResult<()> {
        match self.poison.get() {
            Some(why) => Err(poisoned(why)),
            None => Ok(()),
        }
    }

    /// Returns once everything written before this call is durable.
    pub async fn durable(&self) -> ThreadStoreResult<()> {
        self.check_writable()?;
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(tx)
            .map_err(|_| ThreadStoreError::internal("group committer stopped"))?;
        rx.await
            .map_err(|_| ThreadStoreError::internal("group committer stopped"))?
    }
}

fn poisoned(why: &str) -> ThreadStoreError {
    ThreadStoreError::Poisoned {
        message: why.to_owned(),
    }
}

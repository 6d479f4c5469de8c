//! The group committer: appends wait here for durability, and one task fsyncs for all of them.
//!
//! A plain tokio task rather than an actor: it has one job (batch waiters, call `sync` once per
//! batch off the async threads, answer everyone) and no state to protect. Every waiter enqueued
//! before a sync starts is covered by it, because its writes were applied before it enqueued.

use std::sync::Weak;

use threadstore_api::{ThreadStoreError, ThreadStoreResult};
use threadstore_storage::Journal;
use tokio::sync::{mpsc, oneshot};

type Waiter = oneshot::Sender<ThreadStoreResult<()>>;

/// Handle to the group committer; cheap to clone.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::UnboundedSender<Waiter>,
}

impl Committer {
    /// Starts the committer task for `journal`. It stops when the last handle is dropped, and it
    /// holds the journal only weakly, so closing the store releases the engine (and its lock).
    pub fn spawn(journal: Weak<dyn Journal>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Waiter>();
        tokio::spawn(async move {
            let mut waiters = Vec::new();
            while let Some(first) = rx.recv().await {
                waiters.push(first);
                while let Ok(w) = rx.try_recv() {
                    waiters.push(w);
                }
                let result = match journal.upgrade() {
                    Some(journal) => journal.sync().await,
                    None => Err(ThreadStoreError::internal("the store is closed")),
                };
                if let Err(e) = &result {
                    tracing::error!(error = %e, "group commit fsync failed");
                }
                for w in waiters.drain(..) {
                    let _ = w.send(result.clone());
                }
            }
        });
        Self { tx }
    }

    /// Returns once everything written before this call is durable.
    pub async fn durable(&self) -> ThreadStoreResult<()> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(tx)
            .map_err(|_| ThreadStoreError::internal("group committer stopped"))?;
        rx.await
            .map_err(|_| ThreadStoreError::internal("group committer stopped"))?
    }
}

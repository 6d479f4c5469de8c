//! `sled-raw`: the same log records written straight into one sled tree under
//! `thread (8 bytes) || position (8 bytes)`, with no actors and no projections. Durable appends
//! wait for a single group-commit task that flushes sled once for everyone waiting (the ceiling
//! for threadstore's stack). Reads scan the thread's records and rebuild turns from them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use threadstore::layers::storage::codec;
use threadstore::layers::storage::projection::rebuild;
use threadstore::layers::storage::LogRecord;
use threadstore::{RolloutItem, RolloutLine};
use tokio::sync::{mpsc, oneshot};

use super::{summary_page, Contender, Mode};

type Waiter = oneshot::Sender<Result<(), String>>;

/// One sled tree, positions counted in memory.
pub struct SledRaw {
    db: sled::Db,
    tree: sled::Tree,
    next: Vec<AtomicU64>,
    /// Durable mode: the group-commit task's queue.
    flush: Option<mpsc::UnboundedSender<Waiter>>,
}

fn key(thread: usize, position: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&(thread as u64).to_be_bytes());
    k[8..].copy_from_slice(&position.to_be_bytes());
    k
}

/// Waits for the first waiter, takes every other one queued by then, flushes once, answers all.
async fn group_commit(db: sled::Db, mut rx: mpsc::UnboundedReceiver<Waiter>) {
    while let Some(first) = rx.recv().await {
        let mut waiters = vec![first];
        while let Ok(w) = rx.try_recv() {
            waiters.push(w);
        }
        let db = db.clone();
        let result = match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }
}

/// sled's defaults except the segment size, which is threadstore's (so the ceiling is measured
/// on the same log layout, and either store can be reopened by plain sled: sled refuses another
/// segment size).
pub fn sled_config(dir: &Path) -> sled::Config {
    let segment = threadstore::SledOptions::default().segment_bytes;
    sled::Config::new().path(dir).segment_size(segment)
}

impl SledRaw {
    /// Opens sled in `dir` with [`sled_config`].
    pub fn open(dir: &Path, mode: Mode, threads: usize) -> anyhow::Result<Self> {
        let db = sled_config(dir).open()?;
        let tree = db.open_tree("log")?;
        let flush = (mode == Mode::Durable).then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(group_commit(db.clone(), rx));
            tx
        });
        Ok(Self {
            db,
            tree,
            next: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            flush,
        })
    }

    fn records(tree: &sled::Tree, thread: usize) -> anyhow::Result<Vec<LogRecord>> {
        tree.scan_prefix((thread as u64).to_be_bytes())
            .values()
            .map(|v| Ok(codec::decode::<LogRecord>(&v?, None, None)?))
            .collect()
    }
}

#[async_trait]
impl Contender for SledRaw {
    fn name(&self) -> &'static str {
        "sled-raw"
    }

    async fn append(&self, thread: usize, items: &[RolloutItem]) -> anyhow::Result<()> {
        let first = self.next[thread].fetch_add(items.len() as u64, Ordering::Relaxed);
        let now = Utc::now();
        let mut batch = sled::Batch::default();
        for (i, item) in items.iter().enumerate() {
            let record = LogRecord::new(
                now,
                None,
                item.kind().to_owned(),
                item.payload_json().to_owned(),
            );
            batch.insert(&key(thread, first + i as u64), codec::encode(&record)?);
        }
        self.tree.apply_batch(batch)?;
        if let Some(flush) = &self.flush {
            let (tx, rx) = oneshot::channel();
            flush
                .send(tx)
                .map_err(|_| anyhow::anyhow!("group commit stopped"))?;
            rx.await?.map_err(anyhow::Error::msg)?;
        }
        Ok(())
    }

    async fn turns_page_newest(&self, thread: usize, n: usize) -> anyhow::Result<usize> {
        let tree = self.tree.clone();
        tokio::task::spawn_blocking(move || {
            let records = Self::records(&tree, thread)?;
            let rebuilt = rebuild::rebuild(&records);
            Ok(summary_page(&rebuilt, &records, n))
        })
        .await?
    }

    async fn load_history(&self, thread: usize) -> anyhow::Result<usize> {
        let tree = self.tree.clone();
        tokio::task::spawn_blocking(move || {
            let lines = Self::records(&tree, thread)?
                .into_iter()
                .map(|r| {
                    Ok(RolloutLine {
                        timestamp: r.timestamp(),
                        ordinal: r.ordinal,
                        item: RolloutItem::from_json_text(r.kind, r.payload)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(lines.len())
        })
        .await?
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        // The group-commit task ends when `flush` is dropped with the contender.
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush()).await??;
        Ok(())
    }
}

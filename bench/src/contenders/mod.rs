//! The contenders of `threadstore bench` (issue 6), one module each, behind one small trait.
//!
//! Every contender stores the same Codex rollout items for threads numbered `0..threads`, and
//! answers the same two reads: the newest page of turns in the summary view (first user message
//! and last agent message of each turn, as Codex's `thread/turns/list` returns), and a thread's
//! whole history. Each one is implemented the way a competent user of that technology would.

mod jsonl;
mod sled_raw;
pub use sled_raw::sled_config;
mod sqlite;
mod store;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use threadstore::layers::storage::projection::rebuild::Rebuilt;
use threadstore::layers::storage::LogRecord;
use threadstore::RolloutItem;

pub use jsonl::Jsonl;
pub use sled_raw::SledRaw;
pub use sqlite::Sqlite;
pub use store::Threadstore;

/// Durable (acknowledged after fsync) or buffered (acknowledged once written, fsynced later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every acknowledged append survives a power cut.
    Durable,
    /// Appends survive a process crash, not necessarily a power cut.
    Buffered,
}

/// What every contender does.
#[async_trait]
pub trait Contender: Send + Sync {
    /// Column name in the table.
    fn name(&self) -> &'static str;
    /// Appends `items` to thread `thread` (an index below the `threads` given at open), in one
    /// write/transaction/batch.
    async fn append(&self, thread: usize, items: &[RolloutItem]) -> anyhow::Result<()>;
    /// The newest `n` turns in the summary view; returns the number of turns.
    async fn turns_page_newest(&self, thread: usize, n: usize) -> anyhow::Result<usize>;
    /// Every item of the thread, parsed into rollout lines; returns the number of items.
    async fn load_history(&self, thread: usize) -> anyhow::Result<usize>;
    /// Flushes and closes.
    async fn close(self: Arc<Self>) -> anyhow::Result<()>;
}

/// The contenders' names, in table order.
pub const NAMES: [&str; 4] = ["threadstore", "jsonl", "sqlite", "sled-raw"];

/// Opens contender `name` in the empty directory `dir` with `threads` threads.
pub async fn open(
    name: &str,
    dir: &Path,
    mode: Mode,
    threads: usize,
) -> anyhow::Result<Arc<dyn Contender>> {
    Ok(match name {
        "threadstore" => Arc::new(Threadstore::open(dir, mode, threads).await?),
        "jsonl" => Arc::new(Jsonl::open(dir, mode, threads)?),
        "sqlite" => Arc::new(Sqlite::open(dir, mode, threads).await?),
        "sled-raw" => Arc::new(SledRaw::open(dir, mode, threads)?),
        other => anyhow::bail!("unknown contender {other}"),
    })
}

/// Reopens contender `name`'s closed store in `dir` and closes it again (what W9 measures the
/// footprint after: engines may compact, checkpoint or clean up on open and close).
pub async fn reopen(name: &str, dir: &Path) -> anyhow::Result<()> {
    let dir = dir.to_path_buf();
    match name {
        "threadstore" => {
            threadstore::SledThreadStore::open(&dir)
                .await?
                .close()
                .await?
        }
        "jsonl" => {}
        "sqlite" => {
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let conn = rusqlite::Connection::open(dir.join("threads.sqlite"))?;
                let n: i64 = conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
                std::hint::black_box(n);
                // Closing the last connection checkpoints the WAL into the database.
                conn.close().map_err(|(_, e)| e)?;
                Ok(())
            })
            .await??
        }
        "sled-raw" => {
            // The closed contender's group-commit task drops its handle (and sled's lock) a
            // moment after close: retry for up to 5 s.
            for attempt in 0.. {
                let dir = dir.clone();
                let opened = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                    let db = sled_raw::sled_config(&dir).open()?;
                    db.flush()?;
                    Ok(())
                })
                .await?;
                match opened {
                    Ok(()) => break,
                    Err(e) if attempt >= 500 => return Err(e),
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                }
            }
        }
        other => anyhow::bail!("unknown contender {other}"),
    }
    Ok(())
}

/// The newest `n` turns of a rebuilt thread in the summary view: for each, the first user
/// message and the last agent message, looked up in `records` (what the contenders without turn
/// projections must do after a full rebuild). Returns the number of turns.
pub(crate) fn summary_page(rebuilt: &Rebuilt, records: &[LogRecord], n: usize) -> usize {
    let mut turns = 0;
    for turn in rebuilt.turns.values().rev().take(n) {
        for position in [turn.first_user, turn.last_agent].into_iter().flatten() {
            let record = &records[position as usize];
            std::hint::black_box((&record.kind, &record.payload));
        }
        turns += 1;
    }
    turns
}

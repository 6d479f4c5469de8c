//! `jsonl`: the approach of Codex's local store. One JSON Lines file per thread; an append writes
//! its whole lines with one `write` and a flush (plus `fdatasync` when durable); listing turns
//! reads and re-parses the whole file and rebuilds the turns with the same rules threadstore uses.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use threadstore::layers::storage::projection::rebuild;
use threadstore::layers::storage::LogRecord;
use threadstore::{RolloutItem, RolloutLine};

use super::{summary_page, Contender, Mode};

struct Inner {
    dir: PathBuf,
    mode: Mode,
    /// Open append handles, one per thread (Codex keeps its rollout writer open per session).
    files: Vec<Mutex<File>>,
}

/// One `.jsonl` file per thread.
pub struct Jsonl {
    inner: Arc<Inner>,
}

fn path(dir: &Path, thread: usize) -> PathBuf {
    dir.join(format!("rollout-{thread:06}.jsonl"))
}

impl Jsonl {
    /// Creates `threads` empty files in `dir` and keeps them open for appending.
    pub fn open(dir: &Path, mode: Mode, threads: usize) -> anyhow::Result<Self> {
        let files = (0..threads)
            .map(|t| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path(dir, t))
                    .map(Mutex::new)
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                mode,
                files,
            }),
        })
    }

    /// Reads and parses the whole file into log records (what Codex does to list turns). A last
    /// line without its newline is being written right now (W8 reads while appending): skipped.
    fn read_records(dir: &Path, thread: usize) -> anyhow::Result<Vec<LogRecord>> {
        let text = std::fs::read_to_string(path(dir, thread))?;
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Ok(LogRecord::from_line(&RolloutLine::from_json_line(l)?)))
            .collect()
    }
}

#[async_trait]
impl Contender for Jsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    async fn append(&self, thread: usize, items: &[RolloutItem]) -> anyhow::Result<()> {
        let mut buf = String::with_capacity(items.len() * 1200);
        for item in items {
            buf.push_str(&RolloutLine::now(item.clone()).to_json_line());
            buf.push('\n');
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut file = inner.files[thread]
                .lock()
                .map_err(|_| anyhow::anyhow!("jsonl file lock poisoned"))?;
            file.write_all(buf.as_bytes())?;
            file.flush()?;
            if inner.mode == Mode::Durable {
                file.sync_data()?;
            }
            Ok(())
        })
        .await?
    }

    async fn turns_page_newest(&self, thread: usize, n: usize) -> anyhow::Result<usize> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let records = Self::read_records(&inner.dir, thread)?;
            let rebuilt = rebuild::rebuild(&records);
            Ok(summary_page(&rebuilt, &records, n))
        })
        .await?
    }

    async fn load_history(&self, thread: usize) -> anyhow::Result<usize> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let text = std::fs::read_to_string(path(&inner.dir, thread))?;
            let lines = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(RolloutLine::from_json_line)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(lines.len())
        })
        .await?
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        for f in &self.inner.files {
            f.lock()
                .map_err(|_| anyhow::anyhow!("jsonl file lock poisoned"))?
                .sync_all()?;
        }
        Ok(())
    }
}

//! The thread-listing contenders (W5, W6): a first page of 50 threads by `updated_at`, newest
//! first, optionally restricted to one working directory.
//!
//! - `threadstore`: `list_threads` (served from its sort indexes).
//! - `sqlite`: a `threads` table with an index on `(archived, updated_ms, id)` and one on
//!   `(archived, cwd, updated_ms, id)`, items in an `items` table; one indexed `LIMIT 51` query.
//! - `jsonl`: Codex's local layout, `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`, each file's
//!   mtime being its `updated_at`. A listing walks the tree, stats every file, sorts by mtime, then
//!   reads the head (up to 10 lines, as Codex does) of the newest files until the page is full:
//!   the first line gives the metadata (and the cwd filter), the first user message the preview.
//! - `sled-raw` has no metadata index: not applicable.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::Context;
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use rusqlite::{params, Connection};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, Durability, ListThreadsParams, RolloutItem,
    RolloutLine, SledThreadStore, SortDirection, ThreadSortKey, ThreadStore,
};

use super::corpus::GenThread;

/// The listing contenders, in table order (sled-raw is shown as not applicable).
pub const LISTERS: [&str; 3] = ["threadstore", "jsonl", "sqlite"];

/// Page size of every listing.
pub const PAGE: usize = 50;

/// What a listing contender does.
#[async_trait]
pub trait Lister: Send + Sync {
    /// Adds whole threads (population; buffered, in big batches).
    async fn insert(&self, threads: Arc<Vec<GenThread>>) -> anyhow::Result<()>;
    /// The first page of [`PAGE`] threads by `updated_at` descending, in `cwd` if given; returns
    /// the number of threads listed.
    async fn page(&self, cwd: Option<String>) -> anyhow::Result<usize>;
    /// Writes forever (for the kill -9 measurement): `writers` tasks each create a thread and
    /// append single realistic items to it, durably; prints `READY` on stdout after `ready_after`
    /// appends in all.
    async fn churn(&self, writers: usize, ready_after: usize) -> anyhow::Result<()>;
    /// Flushes and closes (the last handle; other handles just drop).
    async fn close(self: Arc<Self>) -> anyhow::Result<()>;
}

/// Opens contender `name` in `dir`: `populate` selects the population settings (buffered,
/// actors passivated quickly), otherwise the defaults a runtime would use.
pub async fn open(name: &str, dir: &Path, populate: bool) -> anyhow::Result<Arc<dyn Lister>> {
    Ok(match name {
        "threadstore" => Arc::new(TsLister::open(dir, populate).await?),
        "sqlite" => Arc::new(SqlLister::open(dir, populate)?),
        "jsonl" => Arc::new(JsonlLister::open(dir)?),
        other => anyhow::bail!("no listing contender {other}"),
    })
}

fn ready(n: &std::sync::atomic::AtomicUsize, at: usize) {
    if n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1 == at {
        // The churn child's signal to its parent, on stdout (the protocol between them).
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "READY");
        let _ = stdout.flush();
    }
}

// ---------------------------------------------------------------------------------------------

struct TsLister {
    store: SledThreadStore,
}

impl TsLister {
    async fn open(dir: &Path, populate: bool) -> anyhow::Result<Self> {
        let builder = SledThreadStore::builder(dir);
        let builder = if populate {
            builder
                .durability(Durability::Buffered)
                .idle_timeout(std::time::Duration::from_millis(500))
        } else {
            builder
        };
        let store = builder.open().await?;
        Ok(Self { store })
    }
}

#[async_trait]
impl Lister for TsLister {
    async fn insert(&self, threads: Arc<Vec<GenThread>>) -> anyhow::Result<()> {
        let params: Vec<CreateThreadParams> = threads
            .iter()
            .map(|t| CreateThreadParams {
                thread_id: Some(t.id),
                history: t.lines.clone(),
                ..Default::default()
            })
            .collect();
        let store = &self.store;
        futures::stream::iter(params)
            .map(|p| store.create_thread(p))
            .buffer_unordered(32)
            .try_for_each(|_| async { Ok(()) })
            .await?;
        Ok(())
    }

    async fn page(&self, cwd: Option<String>) -> anyhow::Result<usize> {
        let page = self
            .store
            .list_threads(ListThreadsParams {
                page_size: PAGE,
                sort_key: ThreadSortKey::UpdatedAt,
                sort_direction: SortDirection::Desc,
                cwd_filters: cwd.map(|c| vec![PathBuf::from(c)]),
                ..Default::default()
            })
            .await?;
        Ok(page.items.len())
    }

    async fn churn(&self, writers: usize, ready_after: usize) -> anyhow::Result<()> {
        let items = Arc::new(threadstore::codex::generate::realistic_turn_items(
            0,
            Some("turn-0"),
            1024,
        ));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks = (0..writers).map(|_| {
            let (items, done) = (items.clone(), done.clone());
            async move {
                let w = self
                    .store
                    .create_thread(CreateThreadParams::default())
                    .await?;
                for i in 0.. {
                    let item = items[i % items.len()].clone();
                    self.store
                        .append_items(AppendThreadItemsParams::new(w.thread_id, vec![item]))
                        .await?;
                    ready(&done, ready_after);
                }
                anyhow::Ok(())
            }
        });
        futures::future::try_join_all(tasks).await?;
        Ok(())
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        if let Ok(me) = Arc::try_unwrap(self) {
            me.store.close().await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

const SQL_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS threads(
    id TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    cwd TEXT,
    source TEXT,
    model_provider TEXT,
    preview TEXT NOT NULL,
    item_count INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS threads_by_updated ON threads(archived, updated_ms, id);
CREATE INDEX IF NOT EXISTS threads_by_cwd_updated ON threads(archived, cwd, updated_ms, id);
CREATE TABLE IF NOT EXISTS items(
    thread TEXT NOT NULL,
    pos INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (thread, pos)
);
";

const SQL_PAGE: &str = "SELECT id, created_ms, updated_ms, cwd, source, model_provider, preview, \
     item_count FROM threads WHERE archived = 0 ORDER BY updated_ms DESC, id DESC LIMIT ?1";
const SQL_PAGE_CWD: &str = "SELECT id, created_ms, updated_ms, cwd, source, model_provider, \
     preview, item_count FROM threads WHERE archived = 0 AND cwd = ?2 \
     ORDER BY updated_ms DESC, id DESC LIMIT ?1";

struct SqlLister {
    conn: Arc<Mutex<Connection>>,
}

type ListedRow = (
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
);

impl SqlLister {
    fn open(dir: &Path, populate: bool) -> anyhow::Result<Self> {
        let conn = Connection::open(dir.join("threads.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            if populate { "NORMAL" } else { "FULL" },
        )?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.execute_batch(SQL_SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| anyhow::anyhow!("sqlite lock poisoned"))?;
            f(&mut conn)
        })
        .await?
    }
}

#[async_trait]
impl Lister for SqlLister {
    async fn insert(&self, threads: Arc<Vec<GenThread>>) -> anyhow::Result<()> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut thread = tx.prepare_cached(
                    "INSERT INTO threads (id, created_ms, updated_ms, cwd, source, \
                     model_provider, preview, item_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                let mut item = tx.prepare_cached(
                    "INSERT INTO items (thread, pos, ts_ms, kind, payload) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for t in threads.iter() {
                    let id = t.id.to_string();
                    thread.execute(params![
                        id,
                        t.created.timestamp_millis(),
                        t.updated.timestamp_millis(),
                        t.cwd,
                        "cli",
                        "openai",
                        t.preview,
                        t.lines.len() as i64
                    ])?;
                    for (pos, line) in t.lines.iter().enumerate() {
                        item.execute(params![
                            id,
                            pos as i64,
                            line.timestamp.timestamp_millis(),
                            line.item.kind(),
                            line.item.payload_json()
                        ])?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn page(&self, cwd: Option<String>) -> anyhow::Result<usize> {
        self.with(move |conn| {
            let map = |r: &rusqlite::Row<'_>| -> rusqlite::Result<ListedRow> {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            };
            let rows: Vec<ListedRow> = match cwd {
                Some(cwd) => conn
                    .prepare_cached(SQL_PAGE_CWD)?
                    .query_map(params![PAGE as i64 + 1, cwd], map)?
                    .collect::<rusqlite::Result<_>>()?,
                None => conn
                    .prepare_cached(SQL_PAGE)?
                    .query_map(params![PAGE as i64 + 1], map)?
                    .collect::<rusqlite::Result<_>>()?,
            };
            Ok(std::hint::black_box(rows).len().min(PAGE))
        })
        .await
    }

    async fn churn(&self, writers: usize, ready_after: usize) -> anyhow::Result<()> {
        let items = Arc::new(threadstore::codex::generate::realistic_turn_items(
            0,
            Some("turn-0"),
            1024,
        ));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        self.with(|conn| {
            conn.pragma_update(None, "synchronous", "FULL")?;
            Ok(())
        })
        .await?;
        let tasks = (0..writers).map(|_| {
            let (items, done) = (items.clone(), done.clone());
            async move {
                let id = threadstore::ThreadId::new().to_string();
                let now = chrono::Utc::now().timestamp_millis();
                let id2 = id.clone();
                self.with(move |conn| {
                    conn.execute(
                        "INSERT INTO threads (id, created_ms, updated_ms, cwd, preview, \
                         item_count) VALUES (?1, ?2, ?2, '/churn', '', 0)",
                        params![id2, now],
                    )?;
                    Ok(())
                })
                .await?;
                for i in 0.. {
                    let item = items[i % items.len()].clone();
                    let id = id.clone();
                    self.with(move |conn| {
                        let tx = conn.transaction()?;
                        let now = chrono::Utc::now().timestamp_millis();
                        tx.execute(
                            "INSERT INTO items (thread, pos, ts_ms, kind, payload) \
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![id, i as i64, now, item.kind(), item.payload_json()],
                        )?;
                        tx.execute(
                            "UPDATE threads SET updated_ms = ?2, item_count = item_count + 1 \
                             WHERE id = ?1",
                            params![id, now],
                        )?;
                        tx.commit()?;
                        Ok(())
                    })
                    .await?;
                    ready(&done, ready_after);
                }
                anyhow::Ok(())
            }
        });
        futures::future::try_join_all(tasks).await?;
        Ok(())
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        // Dropping the last connection checkpoints the WAL.
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

struct JsonlLister {
    root: PathBuf,
}

/// Lines of a file's head Codex reads for a listing entry.
const HEAD_LINES: usize = 10;

impl JsonlLister {
    fn open(dir: &Path) -> anyhow::Result<Self> {
        let root = dir.join("sessions");
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn file_of(root: &Path, t: &GenThread) -> PathBuf {
        let c = t.created;
        root.join(c.format("%Y/%m/%d").to_string()).join(format!(
            "rollout-{}-{}.jsonl",
            c.format("%Y-%m-%dT%H-%M-%S"),
            t.id
        ))
    }

    /// Every rollout file under `root` with its mtime.
    fn walk(root: &Path, out: &mut Vec<(SystemTime, PathBuf)>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                Self::walk(&entry.path(), out)?;
            } else if entry.file_name().as_encoded_bytes().ends_with(b".jsonl") {
                out.push((entry.metadata()?.modified()?, entry.path()));
            }
        }
        Ok(())
    }

    /// The listing entry of one file from its head: `None` if it does not pass the cwd filter
    /// or has no `session_meta` first line.
    fn head(path: &Path, cwd: Option<&str>) -> anyhow::Result<Option<(String, String)>> {
        let mut reader = BufReader::with_capacity(16 * 1024, File::open(path)?);
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let Ok(first) = RolloutLine::from_json_line(line.trim_end()) else {
            return Ok(None);
        };
        if first.item.kind() != "session_meta" {
            return Ok(None);
        }
        let meta = first.item.payload_value();
        let file_cwd = meta["cwd"].as_str().unwrap_or_default().to_owned();
        if cwd.is_some_and(|c| c != file_cwd) {
            return Ok(None);
        }
        let mut preview = String::new();
        for _ in 1..HEAD_LINES {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            if let Ok(l) = RolloutLine::from_json_line(line.trim_end()) {
                if l.item.kind() == "event_msg" {
                    let v = l.item.payload_value();
                    if v["type"] == "user_message" {
                        preview = v["message"].as_str().unwrap_or_default().to_owned();
                        break;
                    }
                }
            }
        }
        Ok(Some((file_cwd, preview)))
    }
}

#[async_trait]
impl Lister for JsonlLister {
    async fn insert(&self, threads: Arc<Vec<GenThread>>) -> anyhow::Result<()> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut text = String::new();
            for t in threads.iter() {
                let path = Self::file_of(&root, t);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                text.clear();
                for line in &t.lines {
                    text.push_str(&line.to_json_line());
                    text.push('\n');
                }
                let mut f = File::create(&path)?;
                f.write_all(text.as_bytes())?;
                f.set_modified(SystemTime::from(t.updated))?;
            }
            Ok(())
        })
        .await?
    }

    async fn page(&self, cwd: Option<String>) -> anyhow::Result<usize> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut files = Vec::new();
            Self::walk(&root, &mut files).context("walking the sessions tree")?;
            files.sort_unstable_by(|a, b| b.cmp(a));
            let mut page = Vec::new();
            for (mtime, path) in &files {
                if let Some(entry) = Self::head(path, cwd.as_deref())? {
                    page.push((*mtime, entry));
                    if page.len() > PAGE {
                        break;
                    }
                }
            }
            Ok(std::hint::black_box(page).len().min(PAGE))
        })
        .await?
    }

    async fn churn(&self, writers: usize, ready_after: usize) -> anyhow::Result<()> {
        let items = Arc::new(threadstore::codex::generate::realistic_turn_items(
            0,
            Some("turn-0"),
            1024,
        ));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks = (0..writers).map(|w| {
            let (items, done, root) = (items.clone(), done.clone(), self.root.clone());
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let dir = root.join("churn");
                std::fs::create_dir_all(&dir)?;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(format!("rollout-churn-{w}.jsonl")))?;
                let header = RolloutLine::now(RolloutItem::new(
                    "session_meta",
                    &serde_json::json!({"id": threadstore::ThreadId::new().to_string(), "cwd": "/churn"}),
                ));
                writeln!(f, "{}", header.to_json_line())?;
                for i in 0.. {
                    let line = RolloutLine::now(items[i % items.len()].clone());
                    writeln!(f, "{}", line.to_json_line())?;
                    f.sync_data()?;
                    ready(&done, ready_after);
                }
                Ok(())
            })
        });
        for r in futures::future::try_join_all(tasks).await? {
            r?;
        }
        Ok(())
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        Ok(())
    }
}

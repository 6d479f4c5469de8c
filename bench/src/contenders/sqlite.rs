//! `sqlite`: what a user would pick instead. rusqlite (bundled SQLite), WAL, `synchronous=FULL`
//! when durable and `NORMAL` when buffered. An `items` table keyed by (thread, position), a
//! `turns` table maintained on insert in the same transaction by the same turn rules threadstore
//! uses (its reducer runs over a `TurnTable` backed by SQL), a `threads` table with the next
//! position and the reducer's cursor, and the indexes the reads need. One writer connection
//! (SQLite has one writer at a time anyway) and a small pool of reader connections; all SQLite
//! work runs on the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use threadstore::layers::storage::projection::turns::{self, TurnTable};
use threadstore::layers::storage::projection::{classify, At};
use threadstore::layers::storage::{codec, TurnCursor, TurnRecord};
use threadstore::{RolloutItem, RolloutLine};

use super::{Contender, Mode};

const READERS: usize = 4;

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// One SQLite database in WAL mode.
pub struct Sqlite {
    inner: Arc<Inner>,
}

fn connect(path: &PathBuf, mode: Mode) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        if mode == Mode::Durable {
            "FULL"
        } else {
            "NORMAL"
        },
    )?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

const SCHEMA: &str = "
CREATE TABLE threads(
    thread INTEGER PRIMARY KEY,
    next_pos INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    cursor BLOB NOT NULL
);
CREATE TABLE items(
    thread INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    turn_seq INTEGER,
    PRIMARY KEY (thread, pos)
);
CREATE TABLE turns(
    thread INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    turn_id TEXT NOT NULL,
    status TEXT NOT NULL,
    first_pos INTEGER NOT NULL,
    last_pos INTEGER NOT NULL,
    item_count INTEGER NOT NULL,
    first_user_pos INTEGER,
    last_agent_pos INTEGER,
    record BLOB NOT NULL,
    PRIMARY KEY (thread, seq)
) WITHOUT ROWID;
CREATE INDEX turns_by_id ON turns(thread, turn_id, seq);
CREATE INDEX threads_by_updated ON threads(updated_ms);
";

/// The turn reducer's table, inside the append's transaction.
struct SqlTurns<'a> {
    tx: &'a Transaction<'a>,
    thread: i64,
    error: Option<anyhow::Error>,
}

impl SqlTurns<'_> {
    fn keep<T>(&mut self, r: anyhow::Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }
}

impl TurnTable for SqlTurns<'_> {
    fn get(&self, seq: u64) -> Option<TurnRecord> {
        let bytes: Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT record FROM turns WHERE thread = ?1 AND seq = ?2")
            .and_then(|mut s| {
                s.query_row(params![self.thread, seq as i64], |r| r.get(0))
                    .optional()
            })
            .ok()
            .flatten();
        bytes.and_then(|b| codec::decode(&b, None, None).ok())
    }

    fn find(&self, turn_id: &str) -> Option<u64> {
        self.tx
            .prepare_cached(
                "SELECT seq FROM turns WHERE thread = ?1 AND turn_id = ?2 ORDER BY seq DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![self.thread, turn_id], |r| r.get::<_, i64>(0))
                    .optional()
            })
            .ok()
            .flatten()
            .map(|s| s as u64)
    }

    fn put(&mut self, turn: TurnRecord) {
        let r = (|| -> anyhow::Result<()> {
            let record = codec::encode(&turn)?;
            self.tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO turns (thread, seq, turn_id, status, first_pos, \
                     last_pos, item_count, first_user_pos, last_agent_pos, record) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    self.thread,
                    turn.seq as i64,
                    turn.turn_id,
                    format!("{:?}", turn.status),
                    turn.first_position as i64,
                    turn.last_position as i64,
                    turn.item_count as i64,
                    turn.first_user.map(|p| p as i64),
                    turn.last_agent.map(|p| p as i64),
                    record,
                ])?;
            Ok(())
        })();
        self.keep(r);
    }

    fn remove(&mut self, seq: u64) {
        let r = self
            .tx
            .prepare_cached("DELETE FROM turns WHERE thread = ?1 AND seq = ?2")
            .and_then(|mut s| s.execute(params![self.thread, seq as i64]))
            .map_err(anyhow::Error::from);
        self.keep(r);
    }
}

fn line(ts_ms: i64, kind: String, payload: String) -> anyhow::Result<RolloutLine> {
    Ok(RolloutLine {
        timestamp: Utc.timestamp_millis_opt(ts_ms).single().unwrap_or_default(),
        ordinal: None,
        item: RolloutItem::from_json_text(kind, payload)?,
    })
}

fn append_tx(conn: &mut Connection, thread: i64, items: &[RolloutItem]) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (mut next, cursor): (i64, Vec<u8>) = tx
        .prepare_cached("SELECT next_pos, cursor FROM threads WHERE thread = ?1")?
        .query_row(params![thread], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut cursor: TurnCursor = codec::decode(&cursor, None, None)?;
    let now = Utc::now().timestamp_millis();
    {
        let mut table = SqlTurns {
            tx: &tx,
            thread,
            error: None,
        };
        for item in items {
            let class = classify::classify(item.kind(), item.payload_json());
            let at = At {
                position: next as u64,
                ts_ms: now,
                ordinal: None,
            };
            let seq = turns::apply(&mut cursor, &mut table, at, &class).joined;
            if let Some(e) = table.error.take() {
                return Err(e);
            }
            tx.prepare_cached(
                "INSERT INTO items (thread, pos, ts_ms, kind, payload, turn_seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                thread,
                next,
                now,
                item.kind(),
                item.payload_json(),
                seq.map(|s| s as i64)
            ])?;
            next += 1;
        }
    }
    tx.prepare_cached(
        "UPDATE threads SET next_pos = ?2, updated_ms = ?3, cursor = ?4 WHERE thread = ?1",
    )?
    .execute(params![thread, next, now, codec::encode(&cursor)?])?;
    tx.commit()?;
    Ok(())
}

impl Sqlite {
    /// Creates the database in `dir` with `threads` threads.
    pub async fn open(dir: &Path, mode: Mode, threads: usize) -> anyhow::Result<Self> {
        let path = dir.join("threads.sqlite");
        tokio::task::spawn_blocking(move || {
            let mut writer = connect(&path, mode)?;
            writer.execute_batch(SCHEMA)?;
            let cursor = codec::encode(&TurnCursor::default())?;
            let tx = writer.transaction()?;
            for t in 0..threads {
                tx.execute(
                    "INSERT INTO threads (thread, next_pos, updated_ms, cursor) VALUES (?1, 0, 0, ?2)",
                    params![t as i64, cursor],
                )?;
            }
            tx.commit()?;
            let readers = (0..READERS)
                .map(|_| connect(&path, mode).map(Mutex::new))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Self {
                inner: Arc::new(Inner {
                    writer: Mutex::new(writer),
                    readers,
                    next_reader: AtomicUsize::new(0),
                }),
            })
        })
        .await?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[i]
                .lock()
                .map_err(|_| anyhow::anyhow!("sqlite reader lock poisoned"))?;
            f(&conn)
        })
        .await?
    }
}

#[async_trait]
impl Contender for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn append(&self, thread: usize, items: &[RolloutItem]) -> anyhow::Result<()> {
        let inner = self.inner.clone();
        let items = items.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner
                .writer
                .lock()
                .map_err(|_| anyhow::anyhow!("sqlite writer lock poisoned"))?;
            append_tx(&mut conn, thread as i64, &items)
        })
        .await?
    }

    async fn turns_page_newest(&self, thread: usize, n: usize) -> anyhow::Result<usize> {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let page: Vec<(i64, String, String, Option<i64>, Option<i64>)> = tx
                .prepare_cached(
                    "SELECT seq, turn_id, status, first_user_pos, last_agent_pos FROM turns \
                     WHERE thread = ?1 ORDER BY seq DESC LIMIT ?2",
                )?
                .query_map(params![thread as i64, n as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut item = tx.prepare_cached(
                "SELECT ts_ms, kind, payload FROM items WHERE thread = ?1 AND pos = ?2",
            )?;
            for (_, _, _, first_user, last_agent) in &page {
                for pos in [first_user, last_agent].into_iter().flatten() {
                    let (ts, kind, payload) = item.query_row(params![thread as i64, pos], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    std::hint::black_box(line(ts, kind, payload)?);
                }
            }
            drop(item);
            tx.commit()?;
            Ok(page.len())
        })
        .await
    }

    async fn load_history(&self, thread: usize) -> anyhow::Result<usize> {
        self.read(move |conn| {
            let mut s = conn.prepare_cached(
                "SELECT ts_ms, kind, payload FROM items WHERE thread = ?1 ORDER BY pos",
            )?;
            let lines = s
                .query_map(params![thread as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .map(|row| {
                    let (ts, kind, payload) = row?;
                    line(ts, kind, payload)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(lines.len())
        })
        .await
    }

    async fn close(self: Arc<Self>) -> anyhow::Result<()> {
        Ok(())
    }
}

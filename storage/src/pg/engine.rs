//! [`PgEngine`]: the key layout's reads over the `kv` table, as a [`KvEngine`].
//!
//! `bytea` compares as unsigned bytes, as sled's keys do, so every range read of the layout is
//! an index range scan of `kv`'s primary key. A scan fetches in growing chunks (16, 64, … 1,024
//! entries), so a page that needs a few entries costs one round trip and a long history a few.
//! Writes go through the journal's transactions ([`super::PgJournal`]); [`KvEngine::apply`] is
//! there for completeness (one transaction).

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use super::client::{db_error, PgClient};
use crate::engine::{Entry, KvEngine, Scan, WriteBatch};
use crate::StorageResult;

/// The `kv` table as an ordered key-value engine.
pub struct PgEngine {
    client: Arc<PgClient>,
}

impl PgEngine {
    /// Reads and writes `client`'s `kv` table.
    pub fn new(client: Arc<PgClient>) -> Self {
        Self { client }
    }
}

const FIRST_CHUNK: i64 = 16;
const MAX_CHUNK: i64 = 1024;

/// The statement of a range read (one per combination of bounds and direction).
fn scan_sql(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>, rev: bool) -> &'static str {
    use Bound::*;
    match (lo, hi, rev) {
        (Included(_), Excluded(_), false) => {
            "SELECT k, v FROM kv WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
        }
        (Included(_), Excluded(_), true) => {
            "SELECT k, v FROM kv WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3"
        }
        (Included(_), Included(_), false) => {
            "SELECT k, v FROM kv WHERE k >= $1 AND k <= $2 ORDER BY k LIMIT $3"
        }
        (Included(_), Included(_), true) => {
            "SELECT k, v FROM kv WHERE k >= $1 AND k <= $2 ORDER BY k DESC LIMIT $3"
        }
        (Excluded(_), Excluded(_), false) => {
            "SELECT k, v FROM kv WHERE k > $1 AND k < $2 ORDER BY k LIMIT $3"
        }
        (Excluded(_), Excluded(_), true) => {
            "SELECT k, v FROM kv WHERE k > $1 AND k < $2 ORDER BY k DESC LIMIT $3"
        }
        (Excluded(_), Included(_), false) => {
            "SELECT k, v FROM kv WHERE k > $1 AND k <= $2 ORDER BY k LIMIT $3"
        }
        (Excluded(_), Included(_), true) => {
            "SELECT k, v FROM kv WHERE k > $1 AND k <= $2 ORDER BY k DESC LIMIT $3"
        }
        // Unbounded sides are given as the widest keys instead (see `widen`).
        _ => "SELECT k, v FROM kv WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3",
    }
}

/// An unbounded side as an included empty key (low) or an excluded key above every key (high):
/// every key of the layout starts with a prefix byte below 0xFF.
fn widen(lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lo = match lo {
        Bound::Unbounded => Bound::Included(Vec::new()),
        b => b,
    };
    let hi = match hi {
        Bound::Unbounded => Bound::Excluded(vec![0xFF; 2]),
        b => b,
    };
    (lo, hi)
}

fn bound_key(b: &Bound<Vec<u8>>) -> Vec<u8> {
    match b {
        Bound::Included(k) | Bound::Excluded(k) => k.clone(),
        Bound::Unbounded => Vec::new(),
    }
}

/// A range read in chunks; each chunk starts after the last key of the one before.
struct PgScan {
    client: Arc<PgClient>,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    rev: bool,
    chunk: i64,
    buffer: VecDeque<Entry>,
    done: bool,
}

impl PgScan {
    fn fetch(&mut self) -> StorageResult<()> {
        let sql = scan_sql(&self.lo, &self.hi, self.rev);
        let (lo, hi, limit) = (bound_key(&self.lo), bound_key(&self.hi), self.chunk);
        let rows: Vec<Entry> =
            self.client
                .run_blocking("range read", move |mut conn| async move {
                    let stmt = conn
                        .prepare(sql)
                        .await
                        .map_err(|e| db_error("range read", e))?;
                    let rows = conn
                        .client
                        .query(&stmt, &[&lo, &hi, &limit])
                        .await
                        .map_err(|e| db_error("range read", e))?;
                    Ok(rows
                        .into_iter()
                        .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                        .collect())
                })?;
        if (rows.len() as i64) < self.chunk {
            self.done = true;
        }
        if let Some((last, _)) = rows.last() {
            if self.rev {
                self.hi = Bound::Excluded(last.clone());
            } else {
                self.lo = Bound::Excluded(last.clone());
            }
        }
        self.chunk = (self.chunk * 4).min(MAX_CHUNK);
        self.buffer.extend(rows);
        Ok(())
    }
}

impl Iterator for PgScan {
    type Item = StorageResult<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e));
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

impl KvEngine for PgEngine {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        let key = key.to_vec();
        self.client
            .run_blocking("point read", move |mut conn| async move {
                let stmt = conn
                    .prepare("SELECT v FROM kv WHERE k = $1")
                    .await
                    .map_err(|e| db_error("point read", e))?;
                let row = conn
                    .client
                    .query_opt(&stmt, &[&key])
                    .await
                    .map_err(|e| db_error("point read", e))?;
                Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
            })
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> StorageResult<Vec<Option<Vec<u8>>>> {
        if keys.len() < 2 {
            return keys.iter().map(|k| self.get(k)).collect();
        }
        let wanted = keys.to_vec();
        let mut found: std::collections::HashMap<Vec<u8>, Vec<u8>> =
            self.client
                .run_blocking("point reads", move |mut conn| async move {
                    let stmt = conn
                        .prepare("SELECT k, v FROM kv WHERE k = ANY($1)")
                        .await
                        .map_err(|e| db_error("point reads", e))?;
                    let rows = conn
                        .client
                        .query(&stmt, &[&wanted])
                        .await
                        .map_err(|e| db_error("point reads", e))?;
                    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
                })?;
        Ok(keys.iter().map(|k| found.remove(k)).collect())
    }

    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_> {
        let (lo, hi) = widen(start, end);
        Box::new(PgScan {
            client: self.client.clone(),
            lo,
            hi,
            rev,
            chunk: FIRST_CHUNK,
            buffer: VecDeque::new(),
            done: false,
        })
    }

    fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
        let (puts, removes) = super::writes::final_writes(batch);
        self.client
            .run_blocking("write", move |mut conn| async move {
                let tx = conn
                    .client
                    .transaction()
                    .await
                    .map_err(|e| db_error("write", e))?;
                super::writes::write_kv(&tx, &puts, &removes)
                    .await
                    .map_err(|e| db_error("write", e))?;
                tx.commit().await.map_err(|e| db_error("write", e))
            })
    }

    fn flush(&self) -> StorageResult<()> {
        // Every transaction is durable when it commits (PostgreSQL's WAL, synchronous_commit).
        Ok(())
    }

    fn size_on_disk(&self) -> u64 {
        self.client
            .run_blocking("size", |conn| async move {
                let row = conn
                    .client
                    .query_one(
                        "SELECT (pg_total_relation_size('kv') + pg_total_relation_size('feed_pending'))::bigint",
                        &[],
                    )
                    .await
                    .map_err(|e| db_error("size", e))?;
                Ok(row.get::<_, i64>(0).max(0) as u64)
            })
            .unwrap_or(0)
    }

    fn remote(&self) -> bool {
        true
    }
}

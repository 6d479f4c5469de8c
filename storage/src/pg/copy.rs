//! Copying a store into PostgreSQL (`threadstore migrate --to-postgres`).
//!
//! PostgreSQL holds the same key layout as sled ([`crate::keys`]), so a copy moves every record
//! as it is: logs, thread and turn records, list indexes, request ids, forks, store metadata and
//! the feed's blocks (with the feed head). Leases are not copied: no writer is live after a copy.
//! The source is read in key order on the blocking pool while chunks are written, each chunk in
//! its own statement; the target schema must be empty, so a copy that failed half-way is redone
//! into a fresh (or dropped) schema. The caller then verifies the copy (every thread's
//! projections against its log, on PostgreSQL) and compares the counts of [`CopyReport`].

use std::ops::Bound;
use std::sync::Arc;

use threadstore_api::ThreadStoreError;

use super::client::{db_error, PgClient, PgOptions};
use crate::engine::KvEngine;
use crate::{keys, StorageResult};

/// Most bytes of keys and values in one written chunk.
const CHUNK_BYTES: usize = 4 << 20;

/// What a copy moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Records copied.
    pub records: u64,
    /// Bytes of their keys and values.
    pub bytes: u64,
    /// Thread records among them.
    pub threads: u64,
    /// Log records among them.
    pub items: u64,
    /// The feed head carried over.
    pub feed_head: u64,
}

/// Copies every record of `source` into the empty schema of `options`; `progress` is told the
/// report so far after each chunk.
pub async fn copy_into(
    source: Arc<dyn KvEngine>,
    options: &PgOptions,
    progress: &(dyn Fn(&CopyReport) + Send + Sync),
) -> StorageResult<CopyReport> {
    let client = PgClient::new(options)?;
    super::schema::migrate(&client).await?;
    let schema = options.schema.clone();
    let empty: bool = client
        .run("copy", |conn| async move {
            let row = conn
                .client
                .query_one(
                    "SELECT NOT EXISTS (SELECT 1 FROM kv) AND NOT EXISTS (SELECT 1 FROM feed_pending) \
                     AND (SELECT head FROM feed_head WHERE one = 1) = 0",
                    &[],
                )
                .await
                .map_err(|e| db_error("copy", e))?;
            Ok(row.get(0))
        })
        .await?;
    if !empty {
        return Err(ThreadStoreError::invalid(format!(
            "schema {schema} already holds a store: copy into a new schema (--postgres-schema), or drop this one first (DROP SCHEMA {schema} CASCADE)"
        )));
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<StorageResult<Vec<(Vec<u8>, Vec<u8>)>>>(4);
    let reader_source = source.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for entry in reader_source.scan(Bound::Unbounded, Bound::Unbounded, false) {
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            if k.first() == Some(&keys::WRITER) {
                continue;
            }
            bytes += k.len() + v.len();
            chunk.push((k, v));
            if bytes >= CHUNK_BYTES || chunk.len() >= 8192 {
                if tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
                    return;
                }
                bytes = 0;
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Ok(chunk));
        }
    });
    let mut report = CopyReport::default();
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        for (k, v) in &chunk {
            report.records += 1;
            report.bytes += (k.len() + v.len()) as u64;
            match k.first() {
                Some(&keys::THREAD) => report.threads += 1,
                Some(&keys::LOG) => report.items += 1,
                _ => {}
            }
        }
        client
            .run("copy", move |conn| async move {
                let (ks, vs): (Vec<Vec<u8>>, Vec<Vec<u8>>) = chunk.into_iter().unzip();
                conn.client
                    .execute(
                        "INSERT INTO kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])",
                        &[&ks, &vs],
                    )
                    .await
                    .map_err(|e| db_error("copy", e))
            })
            .await?;
        progress(&report);
    }
    reader
        .await
        .map_err(|e| ThreadStoreError::internal(format!("copy reader failed: {e}")))?;
    let head_source = source.clone();
    report.feed_head = tokio::task::spawn_blocking(move || crate::feed::head(head_source.as_ref()))
        .await
        .map_err(|e| ThreadStoreError::internal(format!("copy reader failed: {e}")))??;
    let head = report.feed_head as i64;
    client
        .run("copy", move |conn| async move {
            conn.client
                .execute("UPDATE feed_head SET head = $1 WHERE one = 1", &[&head])
                .await
                .map_err(|e| db_error("copy", e))
        })
        .await?;
    Ok(report)
}

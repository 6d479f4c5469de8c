//! Layout migrations, run when a store opens. Each brings a store written by an older threadstore
//! to the layout of [`crate::keys`]. A migration only rewrites projections and indexes (never a
//! log record), is idempotent (a crash half-way simply reruns it on the next open), and the new
//! version is recorded under `S layout` last.
//!
//! | layout | change |
//! |--------|--------|
//! | 1      | no `S layout` key; index entries keyed by exact time; `M` keys for every turn member |
//! | 2      | `UpdatedAt`/`RecencyAt` entries keyed by [`keys::index_time`] buckets; `M` keys only for non-contiguous turns; feed events in one [`FeedBlock`] per write group |
//!
//! The rewrites whose old and new forms could not be told apart on a rerun (feed values) are
//! applied in the same batch as the new version key.

use std::ops::Bound;

use threadstore_api::{ThreadId, ThreadSortKey, ThreadStoreError};

use crate::codec::{decode, encode};
use crate::engine::{KvEngine, WriteBatch};
use crate::index::{index_keys, index_value};
use crate::keys;
use crate::records::{FeedBlock, FeedRecord, ThreadRecord, TurnRecord};
use crate::StorageResult;

/// The layout this version writes.
pub const LAYOUT_VERSION: u32 = 2;

/// Writes are applied in batches of this many operations (a migration need not be atomic).
const CHUNK: usize = 10_000;

/// Brings the store in `engine` to [`LAYOUT_VERSION`]; returns the version it found. A store of a
/// newer layout is refused with `Unsupported` and left untouched.
pub fn migrate(engine: &dyn KvEngine) -> StorageResult<u32> {
    let key = keys::store_meta("layout");
    let found = match engine.get(&key)? {
        None => 1,
        Some(v) => <[u8; 4]>::try_from(v.as_slice())
            .map(u32::from_be_bytes)
            .map_err(|_| ThreadStoreError::Corrupt {
                thread_id: None,
                position: None,
                message: format!("store layout version is {} bytes, not 4", v.len()),
            })?,
    };
    if found > LAYOUT_VERSION {
        return Err(ThreadStoreError::Unsupported {
            operation: format!(
                "opening a store of layout {found} (this threadstore reads up to layout {LAYOUT_VERSION})"
            ),
        });
    }
    let mut last = WriteBatch::default();
    if found < 2 {
        to_v2(engine, &mut last)?;
    }
    if found < LAYOUT_VERSION {
        last.put(key, LAYOUT_VERSION.to_be_bytes().to_vec());
        engine.apply(last)?;
        engine.flush()?;
    }
    Ok(found)
}

/// Collects writes and applies them every [`CHUNK`] operations.
struct Chunked<'e> {
    engine: &'e dyn KvEngine,
    batch: WriteBatch,
}

impl Chunked<'_> {
    fn push(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> StorageResult<()> {
        self.batch.ops.push((key, value));
        if self.batch.ops.len() >= CHUNK {
            self.engine.apply(std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }

    fn finish(self) -> StorageResult<()> {
        if !self.batch.ops.is_empty() {
            self.engine.apply(self.batch)?;
        }
        Ok(())
    }
}

fn prefix_keys(engine: &dyn KvEngine, prefix: Vec<u8>) -> StorageResult<Vec<Vec<u8>>> {
    let end = keys::prefix_end(&prefix);
    engine
        .scan(Bound::Included(prefix), Bound::Excluded(end), false)
        .map(|e| e.map(|(k, _)| k))
        .collect()
}

/// Layout 1 → 2: re-keys the moving sort indexes by bucket, drops the membership keys of
/// contiguous turns, and turns each feed record into a block of one (in `last`, with the version).
fn to_v2(engine: &dyn KvEngine, last: &mut WriteBatch) -> StorageResult<()> {
    let feed_prefix = vec![keys::FEED];
    let feed_end = keys::prefix_end(&feed_prefix);
    for entry in engine.scan(
        Bound::Included(feed_prefix),
        Bound::Excluded(feed_end),
        false,
    ) {
        let (k, v) = entry?;
        let position = keys::be_u64(&k, 1);
        let record: FeedRecord = decode(&v, None, position)?;
        last.put(
            k,
            encode(&FeedBlock {
                records: vec![record],
            })?,
        );
    }
    let mut out = Chunked {
        engine,
        batch: WriteBatch::default(),
    };
    let moving = [
        keys::sort_byte(ThreadSortKey::UpdatedAt),
        keys::sort_byte(ThreadSortKey::RecencyAt),
    ];
    for prefix in [keys::INDEX, keys::CWD_INDEX] {
        for k in prefix_keys(engine, vec![prefix])? {
            if k.get(2).is_some_and(|sort| moving.contains(sort)) {
                out.push(k, None)?;
            }
        }
    }
    // Writes go to other prefixes than the one scanned, so scanning while applying is safe.
    let thread_prefix = vec![keys::THREAD];
    let thread_end = keys::prefix_end(&thread_prefix);
    for entry in engine.scan(
        Bound::Included(thread_prefix),
        Bound::Excluded(thread_end),
        false,
    ) {
        let (k, bytes) = entry?;
        let Some(id) = k.get(1..17).and_then(|b| <[u8; 16]>::try_from(b).ok()) else {
            continue;
        };
        let id = ThreadId::from_bytes(id);
        let record: ThreadRecord = decode(&bytes, Some(id), None)?;
        for entry in index_keys(&id, &record.meta) {
            let value = index_value(&id, &entry);
            out.push(entry, Some(value))?;
        }
        let turn_prefix = keys::thread_prefix(keys::TURN, &id);
        let end = keys::prefix_end(&turn_prefix);
        for entry in engine.scan(Bound::Included(turn_prefix), Bound::Excluded(end), false) {
            let (_, v) = entry?;
            let turn: TurnRecord = decode(&v, Some(id), None)?;
            if turn.is_contiguous() {
                for m in prefix_keys(engine, keys::members_of(&id, turn.seq))? {
                    out.push(m, None)?;
                }
            }
        }
    }
    out.finish()
}

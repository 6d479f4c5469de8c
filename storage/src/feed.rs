//! The durable feed on disk: every committed event has a position `0..head`, and the events of
//! one write group are stored together as one [`FeedBlock`] under `F first_position` (layout 2).
//!
//! Writing one key per group rather than one per event matters: appending at the end of the `F`
//! range was measured at a quarter of an append's cost when every commit wrote its own key.
//!
//! **Invariant** (*gapless feed*): the blocks tile `0..head` in key order — each block starts
//! where the previous one ended, and none is empty.

use std::ops::Bound;

use chrono::{TimeZone, Utc};
use threadstore_api::{FeedEvent, ThreadStoreError};

use crate::codec::decode;
use crate::engine::KvEngine;
use crate::keys;
use crate::records::FeedBlock;
use crate::StorageResult;

fn corrupt(message: &str) -> ThreadStoreError {
    ThreadStoreError::Corrupt {
        thread_id: None,
        position: None,
        message: message.into(),
    }
}

fn block_start(key: &[u8]) -> StorageResult<u64> {
    keys::be_u64(key, 1).ok_or_else(|| corrupt("short feed key"))
}

/// The next feed position: the end of the last block (0 for an empty feed).
pub fn head(engine: &dyn KvEngine) -> StorageResult<u64> {
    let prefix = vec![keys::FEED];
    let end = keys::prefix_end(&prefix);
    let Some(last) = engine
        .scan(Bound::Included(prefix), Bound::Excluded(end), true)
        .next()
    else {
        return Ok(0);
    };
    let (k, v) = last?;
    let first = block_start(&k)?;
    let block: FeedBlock = decode(&v, None, Some(first))?;
    Ok(first + block.records.len() as u64)
}

/// Up to `limit` events from position `from` on, in position order.
pub fn range(engine: &dyn KvEngine, from: u64, limit: usize) -> StorageResult<Vec<FeedEvent>> {
    let end = keys::prefix_end(&[keys::FEED]);
    // The block holding `from` starts at or before it.
    let start = match engine
        .scan(
            Bound::Included(vec![keys::FEED]),
            Bound::Included(keys::feed(from)),
            true,
        )
        .next()
    {
        Some(entry) => entry?.0,
        None => keys::feed(from),
    };
    let mut out = Vec::with_capacity(limit.min(1024));
    for entry in engine.scan(Bound::Included(start), Bound::Excluded(end), false) {
        if out.len() >= limit {
            break;
        }
        let (k, v) = entry?;
        let first = block_start(&k)?;
        let block: FeedBlock = decode(&v, None, Some(first))?;
        let room = limit - out.len();
        out.extend(
            block_events(first, block)
                .filter(|e| e.position >= from)
                .take(room),
        );
    }
    Ok(out)
}

/// The events of the block stored under `F first`, with their positions.
pub fn block_events(first: u64, block: FeedBlock) -> impl Iterator<Item = FeedEvent> {
    block
        .records
        .into_iter()
        .enumerate()
        .map(move |(i, rec)| FeedEvent {
            position: first + i as u64,
            thread_id: rec.thread_id,
            at: Utc
                .timestamp_millis_opt(rec.ts_ms)
                .single()
                .unwrap_or_default(),
            kind: rec.kind,
        })
}

#[cfg(test)]
mod tests {
    use threadstore_api::{FeedEventKind, ThreadId};

    use super::*;
    use crate::codec::encode;
    use crate::engine::{MemEngine, WriteBatch};
    use crate::records::FeedRecord;

    /// Blocks of 3, 1 and 2 events: positions 0..6.
    fn feed_of_three_blocks() -> MemEngine {
        let engine = MemEngine::default();
        let mut batch = WriteBatch::default();
        let thread = ThreadId::new();
        let mut position = 0u64;
        for len in [3u64, 1, 2] {
            let records = (0..len)
                .map(|i| FeedRecord {
                    thread_id: thread,
                    ts_ms: (position + i) as i64,
                    kind: FeedEventKind::ItemsAppended {
                        first_position: position + i,
                        count: 1,
                    },
                })
                .collect();
            batch.put(
                keys::feed(position),
                encode(&FeedBlock { records }).unwrap(),
            );
            position += len;
        }
        engine.apply(batch).unwrap();
        engine
    }

    fn positions(engine: &MemEngine, from: u64, limit: usize) -> Vec<u64> {
        range(engine, from, limit)
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect()
    }

    #[test]
    fn ranges_start_inside_blocks_and_cross_them() {
        let engine = feed_of_three_blocks();
        assert_eq!(head(&engine).unwrap(), 6);
        assert_eq!(positions(&engine, 0, 100), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(positions(&engine, 1, 3), vec![1, 2, 3]);
        assert_eq!(positions(&engine, 5, 10), vec![5]);
        assert_eq!(positions(&engine, 2, 0), Vec::<u64>::new());
        assert_eq!(positions(&engine, 6, 10), Vec::<u64>::new());
        // Each event keeps its own record: the position is the block key plus the index.
        let events = range(&engine, 4, 2).unwrap();
        assert_eq!(events[0].at.timestamp_millis(), 4);
        assert_eq!(head(&MemEngine::default()).unwrap(), 0);
    }
}

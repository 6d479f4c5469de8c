//! Layout migrations, run when a store opens. Each brings a store written by an older threadstore
//! to the layout of [`crate::keys`]. A migration only rewrites projections and indexes (never a
//! log record), is idempotent (a crash half-way simply reruns it on the next open), and the new
//! version is recorded under `S layout` last.
//!
//! | layout | change |
//! |--------|--------|
//! | 1      | no `S layout` key; index entries keyed by exact time; `M` keys for every turn member |
//! | 2      | `UpdatedAt`/`RecencyAt` entries keyed by [`keys::index_time`] buckets; `M` keys only for non-contiguous turns; feed events in one [`FeedBlock`] per write group |
//! | 3      | [`TurnRecord`] gains `final_answer` and `paginated`; `TurnCursor.legacy` became [`HistoryMode`] (same bytes); threads whose header says `history_mode: "paginated"` get their projections (with the new `V` item view) derived again by Codex's paginated rules (CONTRACT.md §7) |
//! | 4      | forks by reference: `B` and `K` keys ([`crate::lineage`]); nothing to rewrite (older stores have no forks), the version only keeps an older threadstore from misreading a fork |
//!
//! The rewrites whose old and new forms could not be told apart on a rerun (feed values) are
//! applied in the same batch as the new version key.

use std::ops::Bound;

use threadstore_api::{ThreadId, ThreadSortKey, ThreadStoreError};

use crate::codec::{decode, encode};
use crate::engine::{KvEngine, WriteBatch};
use crate::index::{index_keys, index_value};
use crate::keys;
use crate::projection::{classify, rebuild, ItemClass};
use crate::records::{FeedBlock, FeedRecord, HistoryMode, LogRecord, ThreadRecord, TurnRecord};
use crate::StorageResult;

/// The layout this version writes.
pub const LAYOUT_VERSION: u32 = 4;

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
    if found < 3 {
        to_v3(engine)?;
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
        let (record, _) = thread_record_any(&bytes, id)?;
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

/// A thread record as layouts 1 and 2 wrote it (its turn state without `hidden`).
#[derive(serde::Deserialize)]
struct ThreadRecordV2 {
    thread_id: ThreadId,
    meta: crate::records::ThreadMeta,
    turns: TurnCursorV2,
    next_position: u64,
    epoch: u64,
}

#[derive(serde::Deserialize)]
struct TurnCursorV2 {
    next_seq: u64,
    tail: Option<u64>,
    open: bool,
    mode: HistoryMode,
    visible: u64,
}

impl From<ThreadRecordV2> for ThreadRecord {
    fn from(r: ThreadRecordV2) -> Self {
        Self {
            thread_id: r.thread_id,
            meta: r.meta,
            turns: crate::records::TurnCursor {
                next_seq: r.turns.next_seq,
                tail: r.turns.tail,
                open: r.turns.open,
                mode: r.turns.mode,
                visible: r.turns.visible,
                hidden: Vec::new(),
            },
            next_position: r.next_position,
            epoch: r.epoch,
        }
    }
}

/// A turn record as layouts 1 and 2 wrote it (before `final_answer` and `paginated`).
#[derive(serde::Deserialize)]
struct TurnRecordV2 {
    seq: u64,
    prev: Option<u64>,
    turn_id: String,
    shadows: Option<u64>,
    explicit: bool,
    status: threadstore_api::types::StoredTurnStatus,
    error: Option<(String, Option<String>)>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
    opened_ms: i64,
    first_position: u64,
    last_position: u64,
    item_count: u64,
    first_user: Option<u64>,
    last_agent: Option<u64>,
}

impl From<TurnRecordV2> for TurnRecord {
    fn from(t: TurnRecordV2) -> Self {
        Self {
            seq: t.seq,
            prev: t.prev,
            turn_id: t.turn_id,
            shadows: t.shadows,
            explicit: t.explicit,
            status: t.status,
            error: t.error,
            started_at: t.started_at,
            completed_at: t.completed_at,
            duration_ms: t.duration_ms,
            opened_ms: t.opened_ms,
            first_position: t.first_position,
            last_position: t.last_position,
            item_count: t.item_count,
            first_user: t.first_user,
            last_agent: t.last_agent,
            final_answer: None,
            paginated: false,
            opened_at: t.first_position,
        }
    }
}

/// Layout 2 → 3: re-encodes every turn record with its new fields; a thread whose header says
/// `history_mode: "paginated"` (projected by the older rules) gets its turns, membership,
/// metadata and index entries derived again from its log. Idempotent: a rerun re-derives the
/// same projections, and a turn record already in the new form is left as it is.
fn to_v3(engine: &dyn KvEngine) -> StorageResult<()> {
    let mut out = Chunked {
        engine,
        batch: WriteBatch::default(),
    };
    // The thread keys first: the loop rewrites thread records.
    for k in prefix_keys(engine, vec![keys::THREAD])? {
        let Some(id) = k.get(1..17).and_then(|b| <[u8; 16]>::try_from(b).ok()) else {
            continue;
        };
        let id = ThreadId::from_bytes(id);
        let Some(bytes) = engine.get(&k)? else {
            continue;
        };
        let (record, old_form) = thread_record_any(&bytes, id)?;
        if header_is_paginated(engine, id)? && !record.turns.mode.is_paginated() {
            reproject(engine, &mut out, record)?;
            continue;
        }
        let turn_prefix = keys::thread_prefix(keys::TURN, &id);
        for k in prefix_keys(engine, turn_prefix)? {
            let Some(v) = engine.get(&k)? else { continue };
            if decode::<TurnRecord>(&v, Some(id), None).is_ok() {
                continue;
            }
            let old: TurnRecordV2 = decode(&v, Some(id), None)?;
            out.push(k, Some(encode(&TurnRecord::from(old))?))?;
        }
        if old_form {
            // Last, so a rerun after a crash finds the thread still in the old form.
            out.push(k, Some(encode(&record)?))?;
        }
    }
    out.finish()
}

/// A thread record in the current form or as layouts 1 and 2 wrote it (then `true`).
fn thread_record_any(bytes: &[u8], id: ThreadId) -> StorageResult<(ThreadRecord, bool)> {
    match decode::<ThreadRecord>(bytes, Some(id), None) {
        Ok(record) => Ok((record, false)),
        Err(_) => Ok((
            ThreadRecord::from(decode::<ThreadRecordV2>(bytes, Some(id), None)?),
            true,
        )),
    }
}

/// Whether the thread's first log record is a `session_meta` of a paginated thread.
fn header_is_paginated(engine: &dyn KvEngine, id: ThreadId) -> StorageResult<bool> {
    let Some(bytes) = engine.get(&keys::log(&id, 0))? else {
        return Ok(false);
    };
    let first: LogRecord = decode(&bytes, Some(id), Some(0))?;
    Ok(matches!(
        classify(&first.kind, &first.payload),
        ItemClass::SessionMeta(info) if info.history_mode().is_paginated()
    ))
}

/// Derives a thread's projections again from its log (its writer epoch and length are kept).
fn reproject(
    engine: &dyn KvEngine,
    out: &mut Chunked<'_>,
    record: ThreadRecord,
) -> StorageResult<()> {
    let id = record.thread_id;
    let mut log = Vec::new();
    let prefix = keys::thread_prefix(keys::LOG, &id);
    let end = keys::prefix_end(&prefix);
    for entry in engine.scan(Bound::Included(prefix), Bound::Excluded(end), false) {
        let (k, v) = entry?;
        log.push(decode::<LogRecord>(&v, Some(id), keys::be_u64(&k, 17))?);
    }
    let rebuilt = rebuild::rebuild(&log);
    for prefix in [keys::TURN, keys::TURN_ID, keys::MEMBER, keys::ITEM_VIEW] {
        for k in prefix_keys(engine, keys::thread_prefix(prefix, &id))? {
            out.push(k, None)?;
        }
    }
    for k in index_keys(&id, &record.meta) {
        out.push(k, None)?;
    }
    for (seq, turn) in &rebuilt.turns {
        out.push(keys::turn(&id, *seq), Some(encode(turn)?))?;
        out.push(
            keys::turn_id(&id, &turn.turn_id),
            Some(seq.to_be_bytes().to_vec()),
        )?;
        if !turn.is_contiguous() {
            for pos in rebuilt.members.get(seq).into_iter().flatten() {
                out.push(keys::member(&id, *seq, *pos), Some(Vec::new()))?;
            }
        }
    }
    for (pos, seq) in rebuilt.item_view() {
        out.push(keys::item_view(&id, pos), Some(seq.to_be_bytes().to_vec()))?;
    }
    for k in index_keys(&id, &rebuilt.meta) {
        let value = index_value(&id, &k);
        out.push(k, Some(value))?;
    }
    debug_assert!(matches!(rebuilt.cursor.mode, HistoryMode::Paginated { .. }));
    let updated = ThreadRecord {
        meta: rebuilt.meta,
        turns: rebuilt.cursor,
        ..record
    };
    out.push(keys::thread(&id), Some(encode(&updated)?))
}

//! Reads of the key layout ([`crate::keys`]) over an engine: the blocking building blocks of
//! [`crate::kv_journal::KvJournal`]'s reads, of the index scan ([`crate::index`]) and of
//! commit batches ([`crate::batch`]). Each function reads committed records and decodes them
//! (`Corrupt` on a malformed key or value); where it runs is the caller's choice
//! ([`crate::offload`]).

use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{SortDirection, ThreadId, ThreadStoreError};

use crate::codec::decode;
pub(crate) use crate::engine::prefix_scan;
use crate::engine::KvEngine;
use crate::journal::{ThreadState, TurnPageRecords};
use crate::keys;
use crate::lineage::{self, Bound, Chain, Reading};
use crate::records::{LogRecord, ThreadRecord, TurnRecord};
use crate::StorageResult;

pub(crate) fn load_thread(
    engine: &dyn KvEngine,
    id: ThreadId,
) -> StorageResult<Option<ThreadRecord>> {
    engine
        .get(&keys::thread(&id))?
        .map(|b| decode(&b, Some(id), None))
        .transpose()
}

pub(crate) fn live_writer(engine: &dyn KvEngine, id: ThreadId) -> StorageResult<Option<u64>> {
    Ok(engine
        .get(&keys::writer(&id))?
        .and_then(|b| keys::be_u64(&b, 0)))
}

/// Log records of `chain`'s thread in `[from, to)`, ascending or descending, at most `limit`.
pub(crate) fn log_range_in(
    engine: &dyn KvEngine,
    chain: &Chain,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    chain
        .scan(
            engine,
            keys::LOG,
            &[],
            from,
            to,
            direction,
            limit,
            Bound::Position,
            lineage::any,
        )?
        .into_iter()
        .map(|(pos, seg, v)| Ok((pos, decode(&v, Some(seg.thread), Some(pos))?)))
        .collect()
}

pub(crate) fn log_range(
    engine: &dyn KvEngine,
    id: Reading,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    log_range_in(
        engine,
        &Chain::resolve(engine, id)?,
        from,
        to,
        direction,
        limit,
    )
}

/// One log record of `chain`'s thread.
pub(crate) fn log_at_in(
    engine: &dyn KvEngine,
    chain: &Chain,
    position: u64,
) -> StorageResult<Option<LogRecord>> {
    chain
        .get(
            engine,
            keys::LOG,
            &[],
            position,
            Bound::Position,
            lineage::any,
        )?
        .map(|(seg, b)| decode(&b, Some(seg.thread), Some(position)))
        .transpose()
}

pub(crate) fn log_at(
    engine: &dyn KvEngine,
    id: Reading,
    position: u64,
) -> StorageResult<Option<LogRecord>> {
    log_at_in(engine, &Chain::resolve(engine, id)?, position)
}

/// The records at `positions` that exist, in the given order.
pub(crate) fn logs_at(
    engine: &dyn KvEngine,
    chain: &Chain,
    positions: impl IntoIterator<Item = u64>,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    let mut out = Vec::new();
    if let [own] = chain.segments() {
        // No fork: every record is the thread's own, read in one call.
        let positions: Vec<u64> = positions.into_iter().collect();
        let keys: Vec<Vec<u8>> = positions
            .iter()
            .map(|&p| keys::log(&own.thread, p))
            .collect();
        for (pos, value) in positions.into_iter().zip(engine.get_many(&keys)?) {
            if let Some(b) = value {
                out.push((pos, decode(&b, Some(own.thread), Some(pos))?));
            }
        }
        return Ok(out);
    }
    for pos in positions {
        if let Some(r) = log_at_in(engine, chain, pos)? {
            out.push((pos, r));
        }
    }
    Ok(out)
}

/// One turn of `chain`'s thread.
pub(crate) fn turn_at_in(
    engine: &dyn KvEngine,
    chain: &Chain,
    seq: u64,
) -> StorageResult<Option<TurnRecord>> {
    chain
        .get(engine, keys::TURN, &[], seq, Bound::Seq, lineage::any)?
        .map(|(seg, b)| decode(&b, Some(seg.thread), None))
        .transpose()
}

pub(crate) fn turn_at(
    engine: &dyn KvEngine,
    id: Reading,
    seq: u64,
) -> StorageResult<Option<TurnRecord>> {
    turn_at_in(engine, &Chain::resolve(engine, id)?, seq)
}

fn turn_range_in(
    engine: &dyn KvEngine,
    chain: &Chain,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<TurnRecord>> {
    chain
        .scan(
            engine,
            keys::TURN,
            &[],
            from,
            to,
            direction,
            limit,
            Bound::Seq,
            lineage::any,
        )?
        .into_iter()
        .map(|(_, seg, v)| decode(&v, Some(seg.thread), None))
        .collect()
}

pub(crate) fn turn_range(
    engine: &dyn KvEngine,
    id: Reading,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<TurnRecord>> {
    turn_range_in(
        engine,
        &Chain::resolve(engine, id)?,
        from,
        to,
        direction,
        limit,
    )
}

/// Member positions of `turn` within `[from, to)`: its position range when contiguous, else
/// its membership keys (along the lineage: a fork's inherited members are its parent's keys).
pub(crate) fn members_of(
    engine: &dyn KvEngine,
    chain: &Chain,
    turn: &TurnRecord,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<u64>> {
    if turn.is_contiguous() {
        let lo = from.max(turn.first_position);
        let hi = to.min(turn.last_position.saturating_add(1)).max(lo);
        let range = lo..hi;
        return Ok(match direction {
            SortDirection::Asc => range.take(limit).collect(),
            SortDirection::Desc => range.rev().take(limit).collect(),
        });
    }
    Ok(chain
        .scan(
            engine,
            keys::MEMBER,
            &turn.seq.to_be_bytes(),
            from,
            to,
            direction,
            limit,
            Bound::Position,
            lineage::any,
        )?
        .into_iter()
        .map(|(pos, _, _)| pos)
        .collect())
}

/// Whether `position` has a membership key of turn `seq` along the lineage.
pub(crate) fn has_member(
    engine: &dyn KvEngine,
    chain: &Chain,
    seq: u64,
    position: u64,
) -> StorageResult<bool> {
    Ok(chain
        .get(
            engine,
            keys::MEMBER,
            &seq.to_be_bytes(),
            position,
            Bound::Position,
            lineage::any,
        )?
        .is_some())
}

pub(crate) fn turn_members(
    engine: &dyn KvEngine,
    id: Reading,
    seq: u64,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<u64>> {
    let chain = Chain::resolve(engine, id)?;
    match turn_at_in(engine, &chain, seq)? {
        Some(turn) => members_of(engine, &chain, &turn, from, to, direction, limit),
        None => Ok(Vec::new()),
    }
}

/// The record and the live writer's epoch (see [`crate::journal::Journal::thread_state`]).
pub(crate) fn thread_state(
    engine: &dyn KvEngine,
    id: ThreadId,
) -> StorageResult<Option<ThreadState>> {
    let Some(record) = load_thread(engine, id)? else {
        return Ok(None);
    };
    Ok(Some(ThreadState {
        record,
        live: live_writer(engine, id)?,
        live_here: true,
    }))
}

/// One page of turns with the log records of their item view (see
/// [`crate::journal::Journal::turn_page`]).
pub(crate) fn turn_page(
    e: &dyn KvEngine,
    id: Reading,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
    view: StoredTurnItemsView,
) -> StorageResult<TurnPageRecords> {
    let chain = Chain::resolve(e, id)?;
    let mut turns = turn_range_in(e, &chain, from, to, direction, limit.saturating_add(1))?;
    let more = turns.len() > limit;
    turns.truncate(limit);
    // The summary items of the whole page in one read (one trip on a remote engine).
    let mut summaries: std::collections::HashMap<u64, LogRecord> =
        if view == StoredTurnItemsView::Summary {
            let positions: Vec<u64> = turns.iter().flat_map(|t| t.summary_positions()).collect();
            logs_at(e, &chain, positions)?.into_iter().collect()
        } else {
            Default::default()
        };
    let mut out = Vec::with_capacity(turns.len());
    for t in turns {
        let items = match view {
            StoredTurnItemsView::NotLoaded => Vec::new(),
            StoredTurnItemsView::Summary => t
                .summary_positions()
                .into_iter()
                .filter_map(|p| summaries.remove(&p).map(|r| (p, r)))
                .collect(),
            StoredTurnItemsView::Full => {
                let positions =
                    members_of(e, &chain, &t, 0, u64::MAX, SortDirection::Asc, usize::MAX)?;
                logs_at(e, &chain, positions)?
            }
        };
        out.push((t, items));
    }
    Ok(TurnPageRecords { turns: out, more })
}

/// Log records of the whole thread or of one turn (see [`crate::journal::Journal::item_page`]).
pub(crate) fn item_page(
    e: &dyn KvEngine,
    id: Reading,
    turn: Option<u64>,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    let chain = Chain::resolve(e, id)?;
    match turn {
        None => log_range_in(e, &chain, from, to, direction, limit),
        Some(seq) => {
            let positions = match turn_at_in(e, &chain, seq)? {
                Some(t) => members_of(e, &chain, &t, from, to, direction, limit)?,
                None => Vec::new(),
            };
            logs_at(e, &chain, positions)
        }
    }
}

/// The item view of a paginated thread in `[from, to)`: `(position, turn seq, log record)`.
pub(crate) fn thread_item_page(
    e: &dyn KvEngine,
    id: Reading,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, u64, LogRecord)>> {
    let chain = Chain::resolve(e, id)?;
    let mut out = Vec::new();
    for (position, seg, v) in chain.scan(
        e,
        keys::ITEM_VIEW,
        &[],
        from,
        to,
        direction,
        limit,
        Bound::Position,
        lineage::view_below_seq_bound,
    )? {
        let seq = keys::be_u64(&v, 0).ok_or_else(|| ThreadStoreError::Corrupt {
            thread_id: Some(seg.thread),
            position: Some(position),
            message: "short item view value".into(),
        })?;
        let record = log_at_in(e, &chain, position)?.ok_or_else(|| ThreadStoreError::Corrupt {
            thread_id: Some(id.thread),
            position: Some(position),
            message: "the item view names a position the log does not have".into(),
        })?;
        out.push((position, seq, record));
    }
    Ok(out)
}

/// The seq of the visible turn with this id (along the lineage).
pub(crate) fn find_turn(
    e: &dyn KvEngine,
    id: Reading,
    turn_id: &str,
) -> StorageResult<Option<u64>> {
    Chain::resolve(e, id)?.find_turn(e, turn_id)
}

/// The (first position, count) recorded for an idempotency key.
pub(crate) fn request(
    e: &dyn KvEngine,
    id: ThreadId,
    request_id: &str,
) -> StorageResult<Option<(u64, u64)>> {
    let key = keys::request(&id, request_id);
    Ok(e.get(&key)?
        .and_then(|b| Some((keys::be_u64(&b, 0)?, keys::be_u64(&b, 8)?))))
}

/// Direct children of a thread, from the parent index.
pub(crate) fn children(engine: &dyn KvEngine, parent: ThreadId) -> StorageResult<Vec<ThreadId>> {
    prefix_scan(engine, keys::thread_prefix(keys::PARENT, &parent), false)
        .map(|e| {
            e.and_then(|(k, _)| {
                k.get(17..33)
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .map(ThreadId::from_bytes)
                    .ok_or_else(|| ThreadStoreError::Corrupt {
                        thread_id: Some(parent),
                        position: None,
                        message: "short parent key".into(),
                    })
            })
        })
        .collect()
}

/// The thread recorded for a rollout path.
pub(crate) fn by_rollout_path(e: &dyn KvEngine, path: &str) -> StorageResult<Option<ThreadId>> {
    let key = keys::path(path);
    Ok(e.get(&key)?
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(ThreadId::from_bytes))
}

/// Every thread id, in key order.
pub(crate) fn thread_ids(engine: &dyn KvEngine) -> StorageResult<Vec<ThreadId>> {
    prefix_scan(engine, vec![keys::THREAD], false)
        .map(|e| e.and_then(|(k, _)| thread_key_id(&k)))
        .collect()
}

/// The thread id in a thread record's key.
pub(crate) fn thread_key_id(k: &[u8]) -> StorageResult<ThreadId> {
    k.get(1..17)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(ThreadId::from_bytes)
        .ok_or_else(|| ThreadStoreError::Corrupt {
            thread_id: None,
            position: None,
            message: "short thread key".into(),
        })
}

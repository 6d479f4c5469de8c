//! Reads of the key layout ([`crate::keys`]) over an engine: the blocking building blocks of
//! [`crate::kv_journal::KvJournal`]'s reads, of the index scan ([`crate::index`]) and of
//! commit batches ([`crate::batch`]). Each function reads committed records and decodes them
//! (`Corrupt` on a malformed key or value); where it runs is the caller's choice
//! ([`crate::offload`]).

use std::ops::Bound;

use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{SortDirection, ThreadId, ThreadStoreError};

use crate::codec::decode;
use crate::engine::KvEngine;
use crate::journal::{ThreadState, TurnPageRecords};
use crate::keys;
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

pub(crate) fn prefix_scan(
    engine: &dyn KvEngine,
    prefix: Vec<u8>,
    rev: bool,
) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
    let end = keys::prefix_end(&prefix);
    engine.scan(Bound::Included(prefix), Bound::Excluded(end), rev)
}

/// Keys `base ++ n` for `n` in `[from, to)`, in `direction`, at most `limit` (nothing when
/// the window is empty).
pub(crate) fn bounded_scan(
    engine: &dyn KvEngine,
    base: Vec<u8>,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + '_ {
    let mut lo = base.clone();
    lo.extend_from_slice(&from.to_be_bytes());
    let mut hi = base;
    hi.extend_from_slice(&to.max(from).to_be_bytes());
    engine
        .scan(
            Bound::Included(lo),
            Bound::Excluded(hi),
            direction == SortDirection::Desc,
        )
        .take(if from < to { limit } else { 0 })
}

pub(crate) fn log_range(
    engine: &dyn KvEngine,
    id: ThreadId,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    let mut out = Vec::new();
    for entry in bounded_scan(
        engine,
        keys::thread_prefix(keys::LOG, &id),
        from,
        to,
        direction,
        limit,
    ) {
        let (k, v) = entry?;
        let pos = keys::be_u64(&k, 17).ok_or_else(|| ThreadStoreError::Corrupt {
            thread_id: Some(id),
            position: None,
            message: "short log key".into(),
        })?;
        out.push((pos, decode(&v, Some(id), Some(pos))?));
    }
    Ok(out)
}

pub(crate) fn log_at(
    engine: &dyn KvEngine,
    id: ThreadId,
    position: u64,
) -> StorageResult<Option<LogRecord>> {
    engine
        .get(&keys::log(&id, position))?
        .map(|b| decode(&b, Some(id), Some(position)))
        .transpose()
}

/// The records at `positions` that exist, in the given order.
pub(crate) fn logs_at(
    engine: &dyn KvEngine,
    id: ThreadId,
    positions: impl IntoIterator<Item = u64>,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    let mut out = Vec::new();
    for pos in positions {
        if let Some(r) = log_at(engine, id, pos)? {
            out.push((pos, r));
        }
    }
    Ok(out)
}

pub(crate) fn turn_at(
    engine: &dyn KvEngine,
    id: ThreadId,
    seq: u64,
) -> StorageResult<Option<TurnRecord>> {
    engine
        .get(&keys::turn(&id, seq))?
        .map(|b| decode(&b, Some(id), None))
        .transpose()
}

pub(crate) fn turn_range(
    engine: &dyn KvEngine,
    id: ThreadId,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<TurnRecord>> {
    bounded_scan(
        engine,
        keys::thread_prefix(keys::TURN, &id),
        from,
        to,
        direction,
        limit,
    )
    .map(|e| e.and_then(|(_, v)| decode(&v, Some(id), None)))
    .collect()
}

/// Member positions of `turn` within `[from, to)`: its position range when contiguous, else
/// its membership keys.
pub(crate) fn members_of(
    engine: &dyn KvEngine,
    id: ThreadId,
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
    bounded_scan(
        engine,
        keys::members_of(&id, turn.seq),
        from,
        to,
        direction,
        limit,
    )
    .map(|e| {
        e.and_then(|(k, _)| {
            keys::be_u64(&k, 25).ok_or_else(|| ThreadStoreError::Corrupt {
                thread_id: Some(id),
                position: None,
                message: "short member key".into(),
            })
        })
    })
    .collect()
}

pub(crate) fn turn_members(
    engine: &dyn KvEngine,
    id: ThreadId,
    seq: u64,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<u64>> {
    match turn_at(engine, id, seq)? {
        Some(turn) => members_of(engine, id, &turn, from, to, direction, limit),
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
    }))
}

/// One page of turns with the log records of their item view (see
/// [`crate::journal::Journal::turn_page`]).
pub(crate) fn turn_page(
    e: &dyn KvEngine,
    id: ThreadId,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
    view: StoredTurnItemsView,
) -> StorageResult<TurnPageRecords> {
    let mut turns = turn_range(e, id, from, to, direction, limit.saturating_add(1))?;
    let more = turns.len() > limit;
    turns.truncate(limit);
    let mut out = Vec::with_capacity(turns.len());
    for t in turns {
        let items = match view {
            StoredTurnItemsView::NotLoaded => Vec::new(),
            StoredTurnItemsView::Summary => logs_at(e, id, t.summary_positions())?,
            StoredTurnItemsView::Full => {
                let positions = members_of(e, id, &t, 0, u64::MAX, SortDirection::Asc, usize::MAX)?;
                logs_at(e, id, positions)?
            }
        };
        out.push((t, items));
    }
    Ok(TurnPageRecords { turns: out, more })
}

/// Log records of the whole thread or of one turn (see [`crate::journal::Journal::item_page`]).
pub(crate) fn item_page(
    e: &dyn KvEngine,
    id: ThreadId,
    turn: Option<u64>,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, LogRecord)>> {
    match turn {
        None => log_range(e, id, from, to, direction, limit),
        Some(seq) => {
            let positions = turn_members(e, id, seq, from, to, direction, limit)?;
            logs_at(e, id, positions)
        }
    }
}

/// The item view of a paginated thread in `[from, to)`: `(position, turn seq, log record)`.
pub(crate) fn thread_item_page(
    e: &dyn KvEngine,
    id: ThreadId,
    from: u64,
    to: u64,
    direction: SortDirection,
    limit: usize,
) -> StorageResult<Vec<(u64, u64, LogRecord)>> {
    let corrupt = |message: &str| ThreadStoreError::Corrupt {
        thread_id: Some(id),
        position: None,
        message: message.to_owned(),
    };
    let mut out = Vec::new();
    for entry in bounded_scan(
        e,
        keys::thread_prefix(keys::ITEM_VIEW, &id),
        from,
        to,
        direction,
        limit,
    ) {
        let (k, v) = entry?;
        let position = keys::be_u64(&k, 17).ok_or_else(|| corrupt("short item view key"))?;
        let seq = keys::be_u64(&v, 0).ok_or_else(|| corrupt("short item view value"))?;
        let record = log_at(e, id, position)?.ok_or_else(|| ThreadStoreError::Corrupt {
            thread_id: Some(id),
            position: Some(position),
            message: "the item view names a position the log does not have".into(),
        })?;
        out.push((position, seq, record));
    }
    Ok(out)
}

/// The seq of the visible turn with this id.
pub(crate) fn find_turn(
    e: &dyn KvEngine,
    id: ThreadId,
    turn_id: &str,
) -> StorageResult<Option<u64>> {
    let key = keys::turn_id(&id, turn_id);
    Ok(e.get(&key)?.and_then(|b| keys::be_u64(&b, 0)))
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

//! The engine write batches of [`crate::kv_journal::KvJournal`]'s changes: a thread commit
//! (everything but its feed block, which the write group adds), a thread's deletion, and the
//! release of every writer lease.

use crate::codec::encode;
use crate::engine::{KvEngine, WriteBatch};
use crate::index::{index_keys, index_value};
use crate::journal::{ThreadCommit, WriterChange};
use crate::keys;
use crate::reads::prefix_scan;
use crate::records::ThreadRecord;
use crate::StorageResult;

/// Whether building a commit's batch reads the engine (see [`commit_batch`]).
pub(crate) fn commit_reads(c: &ThreadCommit) -> bool {
    !c.turns.removed.is_empty() || c.turns.put.iter().any(|t| !t.is_contiguous())
}

/// Every write of one commit except its feed block: log records, membership keys, turns, turn
/// ids, the request id, moved index entries, the thread record and the lease.
pub(crate) fn commit_batch(engine: &dyn KvEngine, c: &ThreadCommit) -> StorageResult<WriteBatch> {
    let id = c.record.thread_id;
    let mut batch = WriteBatch::default();
    for (i, (rec, _)) in c.appended.iter().enumerate() {
        batch.put(keys::log(&id, c.first_position + i as u64), encode(rec)?);
    }
    put_members(engine, c, &mut batch)?;
    if c.record.turns.mode.is_paginated() {
        for (i, (_, turn)) in c.appended.iter().enumerate() {
            if let Some(seq) = turn {
                let position = c.first_position + i as u64;
                batch.put(keys::item_view(&id, position), seq.to_be_bytes().to_vec());
            }
        }
    }
    for seq in &c.turns.removed {
        batch.remove(keys::turn(&id, *seq));
        for entry in prefix_scan(engine, keys::members_of(&id, *seq), false) {
            batch.remove(entry?.0);
        }
    }
    if c.record.turns.mode.is_paginated() && !c.turns.removed.is_empty() {
        // The item view entries of dropped turns (a revert, which is rare: the thread's entries
        // are scanned, small keys).
        let removed: std::collections::HashSet<u64> = c.turns.removed.iter().copied().collect();
        let start = keys::thread_prefix(keys::ITEM_VIEW, &id);
        let end = keys::prefix_end(&start);
        for entry in engine.scan(
            std::ops::Bound::Included(start),
            std::ops::Bound::Excluded(end),
            false,
        ) {
            let (k, v) = entry?;
            if keys::be_u64(&v, 0).is_some_and(|seq| removed.contains(&seq)) {
                batch.remove(k);
            }
        }
    }
    for t in &c.turns.put {
        batch.put(keys::turn(&id, t.seq), encode(t)?);
    }
    for (turn_id, seq) in &c.turns.ids {
        match seq {
            Some(seq) => batch.put(keys::turn_id(&id, turn_id), seq.to_be_bytes().to_vec()),
            None => batch.remove(keys::turn_id(&id, turn_id)),
        }
    }
    if let Some((rid, first, count)) = &c.request {
        let mut v = first.to_be_bytes().to_vec();
        v.extend_from_slice(&count.to_be_bytes());
        batch.put(keys::request(&id, rid), v);
    }
    // Only index entries that changed are written: most appends move one sort time.
    let new_index = index_keys(&id, &c.record.meta);
    let old_index = c
        .previous_meta
        .as_ref()
        .map(|prev| index_keys(&id, prev))
        .unwrap_or_default();
    for k in &old_index {
        if !new_index.contains(k) {
            batch.remove(k.clone());
        }
    }
    for k in new_index {
        if !old_index.contains(&k) {
            let v = index_value(&id, &k);
            batch.put(k, v);
        }
    }
    batch.put(keys::thread(&id), encode(&c.record)?);
    match c.writer {
        WriterChange::Keep => {}
        WriterChange::Open(epoch) => batch.put(keys::writer(&id), epoch.to_be_bytes().to_vec()),
        WriterChange::Close => batch.remove(keys::writer(&id)),
    }
    Ok(batch)
}

/// Membership keys of the commit's appended items. A contiguous turn needs none (its members
/// are its position range); the append that first breaks a turn's run also writes keys for
/// the members it had, so a non-contiguous turn always has a key for every member.
pub(crate) fn put_members(
    engine: &dyn KvEngine,
    c: &ThreadCommit,
    batch: &mut WriteBatch,
) -> StorageResult<()> {
    let id = c.record.thread_id;
    let mut joined: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for (i, (_, turn)) in c.appended.iter().enumerate() {
        if let Some(seq) = turn {
            joined
                .entry(*seq)
                .or_default()
                .push(c.first_position + i as u64);
        }
    }
    for (seq, positions) in joined {
        // Turns dropped in this commit are not in `put`: they need no keys.
        let Some(turn) = c.turns.put.iter().find(|t| t.seq == seq) else {
            continue;
        };
        if turn.is_contiguous() {
            continue;
        }
        let before = turn.item_count.saturating_sub(positions.len() as u64);
        let first = turn.first_position;
        if before > 0 && engine.get(&keys::member(&id, seq, first))?.is_none() {
            // Contiguous until now: its members were `first..first + before`.
            for pos in first..first.saturating_add(before) {
                batch.put(keys::member(&id, seq, pos), Vec::new());
            }
        }
        for pos in positions {
            batch.put(keys::member(&id, seq, pos), Vec::new());
        }
    }
    Ok(())
}

/// Every key of one thread: its log, projections, indexes and lease.
pub(crate) fn delete_batch(
    engine: &dyn KvEngine,
    record: &ThreadRecord,
) -> StorageResult<WriteBatch> {
    let id = record.thread_id;
    let mut batch = WriteBatch::default();
    for prefix in keys::PER_THREAD {
        for entry in prefix_scan(engine, keys::thread_prefix(prefix, &id), false) {
            batch.remove(entry?.0);
        }
    }
    for k in index_keys(&id, &record.meta) {
        batch.remove(k);
    }
    batch.remove(keys::writer(&id));
    Ok(batch)
}

/// Every live-writer lease.
pub(crate) fn clear_writers_batch(engine: &dyn KvEngine) -> StorageResult<WriteBatch> {
    let mut batch = WriteBatch::default();
    for entry in prefix_scan(engine, vec![keys::WRITER], false) {
        batch.remove(entry?.0);
    }
    Ok(batch)
}

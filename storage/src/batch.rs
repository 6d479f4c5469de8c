//! The engine write batches of [`crate::kv_journal::KvJournal`]'s changes: a thread commit
//! (everything but its feed block, which the write group adds), a thread's deletion, and the
//! release of every writer lease.

use crate::codec::encode;
use crate::engine::{KvEngine, WriteBatch};
use crate::index::{index_keys, index_value};
use crate::journal::{ThreadCommit, WriterChange};
use std::collections::BTreeSet;

use threadstore_api::{SortDirection, ThreadId};

use crate::keys;
use crate::lineage::{self, Bound, Chain};
use crate::reads::{self, has_member, prefix_scan};
use crate::records::ThreadRecord;
use crate::StorageResult;

/// Whether building a commit's batch reads the engine (see [`commit_batch`]).
pub(crate) fn commit_reads(c: &ThreadCommit) -> bool {
    !c.turns.removed.is_empty() || c.turns.put.iter().any(|t| !t.is_contiguous())
}

/// Every write of one commit except its feed block: log records, membership keys, turns, turn
/// ids, the request id, moved index entries, the thread record and the lease; for a thread in a
/// lineage (`lineage`: it is a fork or has forks, see [`crate::lineage`]) also the fork's link,
/// the copies on write its forks need and a lowered fork base.
pub(crate) fn commit_batch(
    engine: &dyn KvEngine,
    c: &ThreadCommit,
    lineage: bool,
) -> StorageResult<WriteBatch> {
    let id = c.record.thread_id;
    let mut batch = WriteBatch::default();
    let chain = if lineage {
        Chain::of(engine, id)?
    } else {
        Chain::own(id)
    };
    if let Some(link) = &c.fork {
        batch.put(keys::base(&id), link.base.encode());
        batch.put(keys::fork(&link.base.parent, &id), Vec::new());
        for t in &link.inherited {
            batch.put(keys::turn(&id, t.seq), encode(t)?);
        }
        if let Some(t) = &link.own_turn {
            batch.put(keys::turn(&id, t.seq), encode(t)?);
            batch.put(keys::turn_id(&id, &t.turn_id), t.seq.to_be_bytes().to_vec());
        }
    }
    if lineage {
        copy_on_write(engine, c, &chain, &mut batch)?;
        lower_base(engine, c, &mut batch)?;
    }
    for (i, (rec, _)) in c.appended.iter().enumerate() {
        batch.put(keys::log(&id, c.first_position + i as u64), encode(rec)?);
    }
    put_members(engine, &chain, c, &mut batch)?;
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
        .previous
        .as_ref()
        .map(|prev| index_keys(&id, &prev.meta))
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
    chain: &Chain,
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
        if before > 0 && !has_member(engine, chain, seq, first)? {
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

/// Copies on write ([`crate::lineage`]): before this commit changes or drops a turn, a turn id,
/// membership or item-view entry of the thread that one of its forks reads through, the value the
/// fork sees now (read along this thread's own lineage) becomes the fork's own, unless the fork
/// already has one. Only a rare commit touches records below a fork's bounds (a late item of an
/// old turn, a revert or rollback of the parent), so this reads little.
fn copy_on_write(
    engine: &dyn KvEngine,
    c: &ThreadCommit,
    chain: &Chain,
    batch: &mut WriteBatch,
) -> StorageResult<()> {
    let id = c.record.thread_id;
    let forks = lineage::forks(engine, id)?;
    if forks.is_empty() {
        return Ok(());
    }
    let touched: BTreeSet<u64> = c
        .turns
        .put
        .iter()
        .map(|t| t.seq)
        .chain(c.turns.removed.iter().copied())
        .collect();
    for (fork, base) in forks {
        for &seq in touched.range(..base.seq_base) {
            let Some(old) = reads::turn_at_in(engine, chain, seq)? else {
                continue;
            };
            if engine.get(&keys::turn(&fork, seq))?.is_none() {
                batch.put(keys::turn(&fork, seq), encode(&old)?);
            }
            // Its members and item-view entries below the fork's end: a drop removes them here
            // (also when the fork has its own record of the turn, which reads them).
            if c.turns.removed.contains(&seq) {
                let members = reads::members_of(
                    engine,
                    chain,
                    &old,
                    0,
                    base.end,
                    SortDirection::Asc,
                    usize::MAX,
                )?;
                for &pos in &members {
                    if !old.is_contiguous() {
                        batch.put(keys::member(&fork, seq, pos), Vec::new());
                    }
                    if c.record.turns.mode.is_paginated() {
                        let view = chain.get(
                            engine,
                            keys::ITEM_VIEW,
                            &[],
                            pos,
                            Bound::Position,
                            lineage::any,
                        )?;
                        if let Some((_, v)) = view {
                            batch.put(keys::item_view(&fork, pos), v);
                        }
                    }
                }
            }
        }
        for (turn_id, _) in &c.turns.ids {
            if engine.get(&keys::turn_id(&fork, turn_id))?.is_some() {
                continue;
            }
            if let Some(old) = chain.find_turn(engine, turn_id)? {
                if old < base.seq_base {
                    batch.put(keys::turn_id(&fork, turn_id), old.to_be_bytes().to_vec());
                }
            }
        }
    }
    Ok(())
}

/// A fork that drops turns it inherited (a revert or rollback into its parent's prefix) stops
/// reading its parent's turns from the first one dropped on.
fn lower_base(
    engine: &dyn KvEngine,
    c: &ThreadCommit,
    batch: &mut WriteBatch,
) -> StorageResult<()> {
    let id = c.record.thread_id;
    let Some(first) = c.turns.removed.iter().min().copied() else {
        return Ok(());
    };
    if let Some(mut base) = lineage::base(engine, id)? {
        if first < base.seq_base {
            base.seq_base = first;
            batch.put(keys::base(&id), base.encode());
        }
    }
    Ok(())
}

/// Every key of one thread: its log, projections, indexes and lease. A thread whose forks still
/// read through it keeps what they read ([`keys::LINEAGE_READ`]) as a tombstone; a fork's
/// deletion unlinks it from its parent and removes a tombstoned parent (and so on up) that no
/// fork reads any more.
pub(crate) fn delete_batch(
    engine: &dyn KvEngine,
    record: &ThreadRecord,
) -> StorageResult<WriteBatch> {
    let id = record.thread_id;
    let mut batch = WriteBatch::default();
    let keep_for_forks = lineage::has_forks(engine, id)?;
    for prefix in keys::PER_THREAD {
        if keep_for_forks && keys::LINEAGE_READ.contains(&prefix) {
            continue;
        }
        for entry in prefix_scan(engine, keys::thread_prefix(prefix, &id), false) {
            batch.remove(entry?.0);
        }
    }
    for k in index_keys(&id, &record.meta) {
        batch.remove(k);
    }
    batch.remove(keys::writer(&id));
    if !keep_for_forks {
        unlink(engine, id, &mut batch)?;
    }
    Ok(batch)
}

/// Removes `thread`'s link from its parent; a tombstoned parent (no thread record) with no other
/// fork is removed too, and so on up the lineage.
fn unlink(engine: &dyn KvEngine, thread: ThreadId, batch: &mut WriteBatch) -> StorageResult<()> {
    let mut at = thread;
    for _ in 0..lineage::MAX_DEPTH {
        let Some(base) = lineage::base(engine, at)? else {
            return Ok(());
        };
        batch.remove(keys::fork(&base.parent, &at));
        let parent = base.parent;
        let others = lineage::forks(engine, parent)?
            .into_iter()
            .any(|(fork, _)| fork != at);
        if others || engine.get(&keys::thread(&parent))?.is_some() {
            return Ok(());
        }
        for prefix in keys::PER_THREAD {
            for entry in prefix_scan(engine, keys::thread_prefix(prefix, &parent), false) {
                let (k, _) = entry?;
                if k != keys::fork(&parent, &at) {
                    batch.remove(k);
                }
            }
        }
        at = parent;
    }
    Ok(())
}

/// Every live-writer lease.
pub(crate) fn clear_writers_batch(engine: &dyn KvEngine) -> StorageResult<WriteBatch> {
    let mut batch = WriteBatch::default();
    for entry in prefix_scan(engine, vec![keys::WRITER], false) {
        batch.remove(entry?.0);
    }
    Ok(batch)
}

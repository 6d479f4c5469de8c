//! Forks by reference (CONTRACT.md §7, `fork_thread`): a fork's history is a prefix of its
//! parent's plus its own lines, and creating it copies nothing of the prefix.
//!
//! **Model.** A fork has a [`Base`] (`B fork` key): its parent, the end of the prefix it reads
//! (log positions below `end`) and the first turn seq it owns (`seq_base`: the parent's turns
//! below it are the fork's too). Its own log starts at `end`, its own turns at `seq_base`. Every
//! read of a thread walks its [`Chain`]: the thread's own keys first, then its parent's within
//! the bounds, then the grandparent's within the tighter bounds, and so on; a key the thread has
//! itself overrides the same key further up (see [`Chain::scan`]).
//!
//! **Invariants** (what keeps a fork's view fixed while its parent moves on):
//! - *append-only prefix*: the parent never changes a log record; its later lines have positions
//!   at or above every fork's `end`, its later turns seqs at or above every fork's `seq_base`.
//! - *copy on write*: before a commit of the parent changes or drops a turn, turn id, membership
//!   or item-view record that a fork reads through, the commit copies the old value to the fork
//!   (unless the fork has its own), in the same atomic batch ([`crate::batch`]). Commits of
//!   threads in a lineage are serialized ([`crate::kv_journal::KvJournal`]), so the copy cannot
//!   race the fork's own writes.
//! - *tombstones*: a deleted thread with forks keeps what forks read (log and projections, no
//!   thread record, no index entries); the last fork's deletion removes it.
//! - *reverts in a fork*: reverting a fork to a turn it inherited lowers its `seq_base` (the
//!   inherited turns from there on disappear) and hides the lines, as in any thread.

use std::collections::BTreeMap;

use threadstore_api::{SortDirection, ThreadId, ThreadStoreError};

use crate::engine::{bounded_scan, prefix_scan, KvEngine};
use crate::keys;
use crate::StorageResult;

/// Longest lineage followed (deeper chains are reported as corrupt: a cycle or a damaged key).
pub const MAX_DEPTH: usize = 1_024;

/// A fork's reference to the prefix of its parent it reads through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base {
    /// The thread forked.
    pub parent: ThreadId,
    /// Log positions below this are the parent's lines (the fork's own start here).
    pub end: u64,
    /// Turn seqs below this are the parent's turns (the fork's own start here).
    pub seq_base: u64,
}

impl Base {
    /// The `B` value: parent(16) end(8) seq_base(8).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(32);
        v.extend_from_slice(self.parent.as_bytes());
        v.extend_from_slice(&self.end.to_be_bytes());
        v.extend_from_slice(&self.seq_base.to_be_bytes());
        v
    }

    /// Decodes a `B` value (`Corrupt` naming `thread` when malformed).
    pub fn decode(bytes: &[u8], thread: ThreadId) -> StorageResult<Self> {
        let parent = bytes
            .get(..16)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(ThreadId::from_bytes);
        match (parent, keys::be_u64(bytes, 16), keys::be_u64(bytes, 24)) {
            (Some(parent), Some(end), Some(seq_base)) if bytes.len() == 32 => Ok(Self {
                parent,
                end,
                seq_base,
            }),
            _ => Err(ThreadStoreError::Corrupt {
                thread_id: Some(thread),
                position: None,
                message: "malformed fork base record".into(),
            }),
        }
    }
}

/// The fork base of `thread`, if it is a fork.
pub fn base(engine: &dyn KvEngine, thread: ThreadId) -> StorageResult<Option<Base>> {
    engine
        .get(&keys::base(&thread))?
        .map(|b| Base::decode(&b, thread))
        .transpose()
}

/// The forks of `parent`, each with its base.
pub fn forks(engine: &dyn KvEngine, parent: ThreadId) -> StorageResult<Vec<(ThreadId, Base)>> {
    let mut out = Vec::new();
    for entry in prefix_scan(engine, keys::thread_prefix(keys::FORK, &parent), false) {
        let (k, _) = entry?;
        let child = k
            .get(17..33)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(ThreadId::from_bytes)
            .ok_or_else(|| ThreadStoreError::Corrupt {
                thread_id: Some(parent),
                position: None,
                message: "short fork key".into(),
            })?;
        match base(engine, child)? {
            Some(b) if b.parent == parent => out.push((child, b)),
            _ => {
                return Err(ThreadStoreError::Corrupt {
                    thread_id: Some(parent),
                    position: None,
                    message: format!("fork {child} has no base naming its parent"),
                })
            }
        }
    }
    Ok(out)
}

/// Whether `thread` has forks.
pub fn has_forks(engine: &dyn KvEngine, thread: ThreadId) -> StorageResult<bool> {
    Ok(
        prefix_scan(engine, keys::thread_prefix(keys::FORK, &thread), false)
            .next()
            .transpose()?
            .is_some(),
    )
}

/// One thread of a chain and the part of its keys the chain's first thread reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Whose keys.
    pub thread: ThreadId,
    /// Positions below this.
    pub end: u64,
    /// Turn seqs below this.
    pub seq_end: u64,
}

/// Which bound of a [`Segment`] applies to a key family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Keys numbered by log position (`L`, `V`, `M` within a turn).
    Position,
    /// Keys numbered by turn seq (`U`).
    Seq,
}

impl Segment {
    fn bound(&self, bound: Bound) -> u64 {
        match bound {
            Bound::Position => self.end,
            Bound::Seq => self.seq_end,
        }
    }
}

/// A thread to read, and whether it may be in a lineage: a journal that knows which threads are
/// (see [`crate::kv_journal::KvJournal`]) spares every other thread the read of a fork base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The thread.
    pub thread: ThreadId,
    /// Whether it may be a fork (its chain is then read; else it is the thread alone).
    pub maybe_fork: bool,
}

/// A thread and its ancestors by fork, nearest first (one segment for a thread that is no fork).
#[derive(Clone, Debug)]
pub struct Chain {
    segments: Vec<Segment>,
}

impl Chain {
    /// The chain of `thread`: one point read per ancestor.
    pub fn of(engine: &dyn KvEngine, thread: ThreadId) -> StorageResult<Self> {
        let mut segments = vec![Segment {
            thread,
            end: u64::MAX,
            seq_end: u64::MAX,
        }];
        let (mut at, mut end, mut seq_end) = (thread, u64::MAX, u64::MAX);
        while let Some(b) = base(engine, at)? {
            if segments.len() > MAX_DEPTH {
                return Err(ThreadStoreError::Corrupt {
                    thread_id: Some(thread),
                    position: None,
                    message: format!("fork lineage deeper than {MAX_DEPTH} (a cycle?)"),
                });
            }
            end = end.min(b.end);
            seq_end = seq_end.min(b.seq_base);
            segments.push(Segment {
                thread: b.parent,
                end,
                seq_end,
            });
            at = b.parent;
        }
        Ok(Self { segments })
    }

    /// The chain of `reading`'s thread: read when it may be a fork, else the thread alone.
    pub fn resolve(engine: &dyn KvEngine, reading: Reading) -> StorageResult<Self> {
        if reading.maybe_fork {
            Self::of(engine, reading.thread)
        } else {
            Ok(Self::own(reading.thread))
        }
    }

    /// The chain of a thread known to be no fork (no read).
    pub fn own(thread: ThreadId) -> Self {
        Self {
            segments: vec![Segment {
                thread,
                end: u64::MAX,
                seq_end: u64::MAX,
            }],
        }
    }

    /// The segments, the thread itself first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The thread the chain is of.
    pub fn thread(&self) -> ThreadId {
        self.segments[0].thread
    }

    /// Whether the thread is a fork.
    pub fn is_fork(&self) -> bool {
        self.segments.len() > 1
    }

    /// The value of `family thread sub n` along the chain: the first segment (nearest first)
    /// whose bound admits `n`, has the key and whose value passes `keep`.
    pub fn get(
        &self,
        engine: &dyn KvEngine,
        family: u8,
        sub: &[u8],
        n: u64,
        bound: Bound,
        keep: impl Fn(&Segment, &[u8]) -> bool,
    ) -> StorageResult<Option<(Segment, Vec<u8>)>> {
        for seg in &self.segments {
            if n >= seg.bound(bound) {
                continue;
            }
            let mut k = keys::thread_prefix(family, &seg.thread);
            k.extend_from_slice(sub);
            k.extend_from_slice(&n.to_be_bytes());
            if let Some(v) = engine.get(&k)? {
                if keep(seg, &v) {
                    return Ok(Some((*seg, v)));
                }
            }
        }
        Ok(None)
    }

    /// Entries `family thread sub n` with `n` in `[from, to)` along the chain, in `direction`, at
    /// most `limit`: each segment's keys below its bound that pass `keep`, a nearer segment's
    /// entry overriding a farther one's with the same `n`. Reads at most `limit` entries per
    /// segment (a merged page's entries are each within their segment's first `limit`).
    #[allow(clippy::too_many_arguments)]
    pub fn scan(
        &self,
        engine: &dyn KvEngine,
        family: u8,
        sub: &[u8],
        from: u64,
        to: u64,
        direction: SortDirection,
        limit: usize,
        bound: Bound,
        keep: impl Fn(&Segment, &[u8]) -> bool,
    ) -> StorageResult<Vec<(u64, Segment, Vec<u8>)>> {
        let offset = 17 + sub.len();
        let number = |k: &[u8], seg: &Segment| {
            keys::be_u64(k, offset).ok_or_else(|| ThreadStoreError::Corrupt {
                thread_id: Some(seg.thread),
                position: None,
                message: format!("short key under prefix {}", char::from(family)),
            })
        };
        let base_of = |seg: &Segment| {
            let mut b = keys::thread_prefix(family, &seg.thread);
            b.extend_from_slice(sub);
            b
        };
        if !self.is_fork() {
            let seg = &self.segments[0];
            let mut out = Vec::new();
            for entry in bounded_scan(engine, base_of(seg), from, to, direction, usize::MAX) {
                let (k, v) = entry?;
                if keep(seg, &v) {
                    out.push((number(&k, seg)?, *seg, v));
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            return Ok(out);
        }
        let mut merged: BTreeMap<u64, (Segment, Vec<u8>)> = BTreeMap::new();
        for seg in &self.segments {
            let hi = to.min(seg.bound(bound));
            let mut taken = 0;
            for entry in bounded_scan(engine, base_of(seg), from, hi, direction, usize::MAX) {
                if taken >= limit {
                    break;
                }
                let (k, v) = entry?;
                if !keep(seg, &v) {
                    continue;
                }
                taken += 1;
                merged.entry(number(&k, seg)?).or_insert((*seg, v));
            }
        }
        let take = |(n, (seg, v)): (u64, (Segment, Vec<u8>))| (n, seg, v);
        Ok(match direction {
            SortDirection::Asc => merged.into_iter().take(limit).map(take).collect(),
            SortDirection::Desc => merged.into_iter().rev().take(limit).map(take).collect(),
        })
    }

    /// The seq the turn id names along the chain: the thread's own `N` key, else the nearest
    /// ancestor's naming a turn below that ancestor's seq bound.
    pub fn find_turn(&self, engine: &dyn KvEngine, turn_id: &str) -> StorageResult<Option<u64>> {
        for seg in &self.segments {
            let key = keys::turn_id(&seg.thread, turn_id);
            if let Some(seq) = engine.get(&key)?.and_then(|b| keys::be_u64(&b, 0)) {
                if seq < seg.seq_end {
                    return Ok(Some(seq));
                }
            }
        }
        Ok(None)
    }
}

/// `keep` for item-view entries: the entry's turn is below the segment's seq bound (a fork that
/// reverted into its inherited turns no longer sees their items).
pub fn view_below_seq_bound(seg: &Segment, value: &[u8]) -> bool {
    keys::be_u64(value, 0).is_some_and(|seq| seq < seg.seq_end)
}

/// `keep` that keeps everything.
pub fn any(_: &Segment, _: &[u8]) -> bool {
    true
}

//! Rebuilds every projection of one thread from its log, with the same reducers the actor uses
//! incrementally. `verify` compares the result with what is stored.

use std::collections::BTreeMap;

use super::classify::classify;
use super::turns::{MemTurnTable, TurnTable};
use super::{meta, turns, At};
use crate::records::{LogRecord, ThreadMeta, TurnCursor, TurnRecord};

/// Everything derived from one thread's log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rebuilt {
    /// Metadata.
    pub meta: ThreadMeta,
    /// Turn reducer state.
    pub cursor: TurnCursor,
    /// Visible turns.
    pub turns: BTreeMap<u64, TurnRecord>,
    /// Turn membership: turn seq → positions, for visible turns only.
    pub members: BTreeMap<u64, Vec<u64>>,
    /// Number of log records.
    pub next_position: u64,
}

/// Incremental rebuild state: feed records in position order, then [`Builder::finish`].
#[derive(Default)]
pub struct Builder {
    meta: ThreadMeta,
    cursor: TurnCursor,
    table: MemTurnTable,
    members: BTreeMap<u64, Vec<u64>>,
    next_position: u64,
}

impl Rebuilt {
    /// The item view's entries, `(position, turn seq)` in position order: every member of a
    /// visible turn of a paginated thread (see [`crate::keys`]); none for other threads.
    pub fn item_view(&self) -> Vec<(u64, u64)> {
        if !self.cursor.mode.is_paginated() {
            return Vec::new();
        }
        let mut view: Vec<(u64, u64)> = self
            .members
            .iter()
            .flat_map(|(seq, positions)| positions.iter().map(move |p| (*p, *seq)))
            .collect();
        view.sort_unstable();
        view
    }
}

impl Builder {
    /// Applies the record at the next position.
    pub fn push(&mut self, record: &LogRecord) {
        let at = At::of(record, self.next_position);
        let class = classify(&record.kind, &record.payload);
        meta::apply(&mut self.meta, self.cursor.mode, at, &class);
        let applied = turns::apply(&mut self.cursor, &mut self.table, at, &class);
        if let Some(seq) = applied.joined {
            self.members.entry(seq).or_default().push(at.position);
        }
        self.next_position += 1;
    }

    /// The projections so far.
    pub fn finish(self) -> Rebuilt {
        let MemTurnTable { turns, .. } = self.table;
        let members = self
            .members
            .into_iter()
            .filter(|(seq, _)| turns.contains_key(seq))
            .collect();
        Rebuilt {
            meta: self.meta,
            cursor: self.cursor,
            turns,
            members,
            next_position: self.next_position,
        }
    }

    /// Position the next pushed record takes.
    pub fn position(&self) -> u64 {
        self.next_position
    }

    /// A visible turn (for callers inspecting state mid-stream).
    pub fn turn(&self, seq: u64) -> Option<TurnRecord> {
        self.table.get(seq)
    }
}

/// Rebuilds from a whole log.
pub fn rebuild<'a>(records: impl IntoIterator<Item = &'a LogRecord>) -> Rebuilt {
    let mut b = Builder::default();
    for r in records {
        b.push(r);
    }
    b.finish()
}

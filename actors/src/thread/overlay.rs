//! The turn table the thread actor reduces into: records prefetched from the journal plus the
//! changes of the batch being built. The reducer ([`threadstore_storage::projection::turns`])
//! stays synchronous and I/O-free; this module does the (async) reads the next item may need
//! before it is reduced, and hands the batch's changes to the commit as [`TurnChanges`].

use std::collections::{BTreeMap, HashMap};

use threadstore_api::{ThreadId, ThreadStoreResult};
use threadstore_storage::projection::turns::TurnTable;
use threadstore_storage::projection::ItemClass;
use threadstore_storage::{Journal, TurnChanges, TurnCursor, TurnRecord};

/// Prefetched turns plus pending changes.
#[derive(Default)]
pub struct TurnOverlay {
    cache: BTreeMap<u64, TurnRecord>,
    ids: HashMap<String, Option<u64>>,
    dirty: BTreeMap<u64, ()>,
    removed: BTreeMap<u64, String>,
    id_changes: BTreeMap<String, Option<u64>>,
}

impl TurnOverlay {
    /// An overlay that already holds the actor's cached tail turn.
    pub fn new(tail: Option<TurnRecord>) -> Self {
        let mut o = Self::default();
        if let Some(t) = tail {
            o.ids.insert(t.turn_id.clone(), Some(t.seq));
            o.cache.insert(t.seq, t);
        }
        o
    }

    async fn load(
        &mut self,
        journal: &dyn Journal,
        id: ThreadId,
        seq: u64,
    ) -> ThreadStoreResult<()> {
        if self.cache.contains_key(&seq) || self.removed.contains_key(&seq) {
            return Ok(());
        }
        if let Some(t) = journal.turn(id, seq).await? {
            self.cache.insert(seq, t);
        }
        Ok(())
    }

    /// Loads what reducing `class` may read: the tail, a turn named by id, or a rollback chain.
    pub async fn prefetch(
        &mut self,
        journal: &dyn Journal,
        id: ThreadId,
        cursor: &TurnCursor,
        class: &ItemClass,
    ) -> ThreadStoreResult<()> {
        if let Some(tail) = cursor.tail {
            self.load(journal, id, tail).await?;
        }
        match class {
            ItemClass::TurnComplete {
                turn_id: Some(t), ..
            }
            | ItemClass::TurnAborted {
                turn_id: Some(t), ..
            }
            | ItemClass::TurnContext {
                turn_id: Some(t), ..
            }
            | ItemClass::TurnStarted {
                turn_id: Some(t), ..
            }
            | ItemClass::CompletedItem {
                turn_id: Some(t), ..
            } => {
                if !self.ids.contains_key(t.as_str()) {
                    let seq = journal.find_turn(id, t).await?;
                    self.ids.insert(t.clone(), seq);
                }
                if let Some(Some(seq)) = self.ids.get(t.as_str()).copied() {
                    self.load(journal, id, seq).await?;
                }
            }
            ItemClass::Reverted { turn_id } => {
                if !self.ids.contains_key(turn_id.as_str()) {
                    let seq = journal.find_turn(id, turn_id).await?;
                    self.ids.insert(turn_id.clone(), seq);
                }
                let Some(Some(target)) = self.ids.get(turn_id.as_str()).copied() else {
                    return Ok(());
                };
                let mut next = cursor.tail;
                while let Some(seq) = next.filter(|seq| *seq >= target) {
                    self.load(journal, id, seq).await?;
                    next = self.cache.get(&seq).and_then(|t| t.prev);
                }
                self.load(journal, id, target).await?;
            }
            ItemClass::RolledBack { num_turns } => {
                let mut next = cursor.tail;
                for _ in 0..=*num_turns {
                    let Some(seq) = next else { break };
                    self.load(journal, id, seq).await?;
                    next = self.cache.get(&seq).and_then(|t| t.prev);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The batch's changes: turns to write, turns to drop, and turn ids whose turn changed.
    pub fn into_changes(self) -> TurnChanges {
        let put = self
            .dirty
            .keys()
            .filter(|s| !self.removed.contains_key(s))
            .filter_map(|s| self.cache.get(s).cloned())
            .collect();
        TurnChanges {
            put,
            removed: self.removed.into_keys().collect(),
            ids: self.id_changes.into_iter().collect(),
        }
    }

    /// Whether `seq` was dropped in this batch.
    pub fn is_removed(&self, seq: u64) -> bool {
        self.removed.contains_key(&seq)
    }
}

impl TurnTable for TurnOverlay {
    fn get(&self, seq: u64) -> Option<TurnRecord> {
        if self.removed.contains_key(&seq) {
            return None;
        }
        self.cache.get(&seq).cloned()
    }

    fn find(&self, turn_id: &str) -> Option<u64> {
        self.ids
            .get(turn_id)
            .copied()
            .flatten()
            .filter(|s| !self.removed.contains_key(s))
    }

    fn put(&mut self, turn: TurnRecord) {
        if !self.cache.contains_key(&turn.seq) {
            self.ids.insert(turn.turn_id.clone(), Some(turn.seq));
            self.id_changes.insert(turn.turn_id.clone(), Some(turn.seq));
        }
        self.dirty.insert(turn.seq, ());
        self.cache.insert(turn.seq, turn);
    }

    fn remove(&mut self, seq: u64) {
        if let Some(t) = self.cache.get(&seq) {
            // Rollbacks remove from the newest turn backwards, so when the id is not in the
            // overlay yet, no newer turn with this id is visible: the id names this turn.
            let names_this = match self.ids.get(&t.turn_id) {
                None => true,
                Some(named) => *named == Some(seq),
            };
            if names_this {
                self.ids.insert(t.turn_id.clone(), t.shadows);
                self.id_changes.insert(t.turn_id.clone(), t.shadows);
            }
            self.removed.insert(seq, t.turn_id.clone());
        }
    }
}

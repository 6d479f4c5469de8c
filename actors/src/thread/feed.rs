//! Which feed events a commit's items and turn changes produce, in log order.

use std::collections::{HashMap, HashSet};

use threadstore_api::FeedEventKind;
use threadstore_storage::projection::turns::Applied;
use threadstore_storage::{TurnCursor, TurnRecord};

/// A turn event noted while a commit's items are reduced, in item order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnMark {
    /// The turn with this seq opened.
    Started(u64),
    /// The turn with this seq completed: a `task_complete`/`turn_aborted` targeted it, or it was
    /// an open implicit turn that the next turn closed.
    Completed(u64),
}

impl TurnMark {
    fn seq(self) -> u64 {
        match self {
            Self::Started(s) | Self::Completed(s) => s,
        }
    }
}

/// Notes the turn events of one reduced item, given the turn cursor `before` and `after` it and
/// the turn it joined: a new turn opened (and closed the open implicit turn before it), or a
/// `task_complete`/`turn_aborted` completed its turn. `get` reads a turn's current state.
pub fn note_turn_marks(
    marks: &mut Vec<TurnMark>,
    before: &TurnCursor,
    after: &TurnCursor,
    applied: Applied,
    get: impl Fn(u64) -> Option<TurnRecord>,
) {
    if after.next_seq > before.next_seq {
        // A new turn opened; an open implicit turn before it has just been closed.
        if let (true, Some(prev)) = (before.open, before.tail) {
            if get(prev).is_some_and(|t| !t.explicit) {
                marks.push(TurnMark::Completed(prev));
            }
        }
        marks.push(TurnMark::Started(before.next_seq));
    }
    if let Some(seq) = applied.ended {
        marks.push(TurnMark::Completed(seq));
    }
}

/// The final state (after the whole commit) of every marked turn that is still visible.
pub fn final_turns(
    marks: &[TurnMark],
    get: impl Fn(u64) -> Option<TurnRecord>,
) -> HashMap<u64, TurnRecord> {
    marks
        .iter()
        .map(|m| m.seq())
        .collect::<HashSet<_>>()
        .into_iter()
        .filter_map(|seq| get(seq).map(|t| (seq, t)))
        .collect()
}

/// Appends a commit's item and turn events to `events`: `ItemsAppended` for its `count` items
/// from `first` on (when there are any), then its turn events ([`turn_events`]).
pub fn commit_events(
    first: u64,
    count: u64,
    marks: &[TurnMark],
    turns: &HashMap<u64, TurnRecord>,
    events: &mut Vec<FeedEventKind>,
) {
    if count > 0 {
        events.push(FeedEventKind::ItemsAppended {
            first_position: first,
            count,
        });
    }
    turn_events(marks, turns, events);
}

/// Appends `TurnStarted` and `TurnCompleted` events in the order their items came, each turn
/// completed at most once per commit; turns a rollback in the same commit dropped give none.
pub fn turn_events(
    marks: &[TurnMark],
    turns: &HashMap<u64, TurnRecord>,
    events: &mut Vec<FeedEventKind>,
) {
    let mut completed = HashSet::new();
    for mark in marks {
        let Some(t) = turns.get(&mark.seq()) else {
            continue;
        };
        match mark {
            TurnMark::Started(_) => events.push(FeedEventKind::TurnStarted {
                turn_id: t.turn_id.clone(),
            }),
            TurnMark::Completed(seq) if completed.insert(*seq) => {
                let summary = t.summary_positions();
                events.push(FeedEventKind::TurnCompleted {
                    turn_id: t.turn_id.clone(),
                    status: t.status,
                    summary_positions: summary,
                    duration_ms: t.duration_ms,
                });
            }
            TurnMark::Completed(_) => {}
        }
    }
}

//! The turn reducer: one item in, turn state out (CONTRACT.md §3). Deterministic and free of I/O:
//! it reads and writes turns only through a [`TurnTable`], which is a plain map when rebuilding
//! from scratch ([`MemTurnTable`]) and a prefetched overlay over the journal inside the thread actor.
//!
//! Rules, in short:
//! - `task_started` closes the current turn and opens an explicit one (its `turn_id`, else
//!   `rollout-<position>`), `inProgress`.
//! - `task_complete` completes the turn it names (else the most recent): `inProgress`/`completed`
//!   become `completed`, `failed`/`interrupted` stay; `turn_aborted` makes it `interrupted`.
//! - an `error` that affects turn status fails the open turn, with its message.
//! - without turn events, a `user_message` (a non-contextual `response_item` user message in legacy
//!   streams) opens an implicit turn `rollout-<position>`, `completed` unless aborted.
//! - items while no turn is open join the most recent turn; before the first turn they are the
//!   preamble (no turn); thread-level items (`session_meta`, name, patch, archive) join no turn.
//! - `thread_rolled_back {num_turns}` closes the current turn and drops the last N turns.
//! - `turn_context` with a known `turn_id` joins that turn; `compacted` joins the current turn.
//! - threadstore's `thread_reverted {turn_id}` (every era) drops that turn and every later one
//!   and hides the lines from its opening line to the revert (`TurnCursor::hidden`).
//!
//! Paginated threads ([`HistoryMode::Paginated`], CONTRACT.md §7) follow Codex's paginated rules
//! instead: a turn exists only through `task_started` (a repeated one changes nothing); its
//! members are exactly the `item_completed` lines naming it by `turn_id`, wherever they are; the
//! first `task_complete` / `turn_aborted` naming it wins (`task_complete.error` fails it, a
//! `turn_aborted` without `turn_id` is ignored); every other line belongs to no turn, and lines
//! before a sub-agent's own start ordinal touch nothing.

use std::collections::{BTreeMap, HashMap};

use threadstore_api::types::StoredTurnStatus;

use super::classify::{ItemClass, TurnItemClass};
use super::At;
use crate::records::{HistoryMode, TurnCursor, TurnRecord};

/// Where the reducer reads and writes turn records.
pub trait TurnTable {
    /// A visible turn by sequence number.
    fn get(&self, seq: u64) -> Option<TurnRecord>;
    /// The sequence number of the visible turn with this id.
    fn find(&self, turn_id: &str) -> Option<u64>;
    /// Inserts or replaces a turn; a new turn's id now names it.
    fn put(&mut self, turn: TurnRecord);
    /// Drops a turn (rollback); its id names the turn it shadowed again, if any.
    fn remove(&mut self, seq: u64);
}

/// What one item did to the turns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The turn the item joined (`None`: preamble, thread-level, or not a turn item).
    pub joined: Option<u64>,
    /// The turn the item ended (a `task_complete` / `turn_aborted` that applied).
    pub ended: Option<u64>,
}

/// Applies one item.
pub fn apply(
    cursor: &mut TurnCursor,
    table: &mut impl TurnTable,
    at: At,
    class: &ItemClass,
) -> Applied {
    note_mode(cursor, class);
    if let ItemClass::Reverted { turn_id } = class {
        revert(cursor, table, turn_id, at.position);
        return Applied::default();
    }
    if !cursor.mode.owns(at.ordinal) || class.is_thread_level() {
        return Applied::default();
    }
    if cursor.mode.is_paginated() {
        return paginated(cursor, table, at, class);
    }
    if let ItemClass::RolledBack { num_turns } = class {
        roll_back(cursor, table, *num_turns);
        return Applied::default();
    }
    let Some(seq) = target(cursor, table, at.position, at.ts_ms, class) else {
        return Applied::default();
    };
    let joined = join(table, seq, at.position, class);
    let ended = matches!(
        class,
        ItemClass::TurnComplete { .. } | ItemClass::TurnAborted { .. }
    )
    .then_some(joined)
    .flatten();
    Applied { joined, ended }
}

/// The first header decides the rules: the importer's pre-envelope marker, or Codex's
/// `history_mode: "paginated"` (with a sub-agent's own start ordinal).
fn note_mode(cursor: &mut TurnCursor, class: &ItemClass) {
    let ItemClass::SessionMeta(info) = class else {
        return;
    };
    if cursor.next_seq == 0 && cursor.mode == HistoryMode::Standard {
        cursor.mode = info.history_mode();
    }
}

/// Codex's paginated rules (see the module docs).
fn paginated(
    cursor: &mut TurnCursor,
    table: &mut impl TurnTable,
    at: At,
    class: &ItemClass,
) -> Applied {
    match class {
        ItemClass::TurnStarted {
            turn_id,
            started_at,
        } => {
            let (id, start) = opening(turn_id, *started_at, at.position, at.ts_ms);
            if table.find(&id).is_none() {
                open_turn(cursor, table, id, true, start, at.position, at.ts_ms);
            }
            Applied::default()
        }
        ItemClass::TurnComplete {
            turn_id,
            completed_at,
            duration_ms,
            error,
        } => end_paginated(
            table,
            turn_id.as_deref(),
            TurnEnd {
                aborted: false,
                error: error.clone(),
                completed_at: *completed_at,
                duration_ms: *duration_ms,
            },
            at.ts_ms,
        ),
        ItemClass::TurnAborted {
            turn_id,
            completed_at,
            duration_ms,
        } => end_paginated(
            table,
            turn_id.as_deref(),
            TurnEnd {
                aborted: true,
                error: None,
                completed_at: *completed_at,
                duration_ms: *duration_ms,
            },
            at.ts_ms,
        ),
        ItemClass::CompletedItem { turn_id, item } => {
            let Some(mut t) = turn_id
                .as_deref()
                .and_then(|id| table.find(id))
                .and_then(|seq| table.get(seq))
            else {
                return Applied::default();
            };
            if t.item_count == 0 {
                // The turn's range starts at its first member (its `task_started` is none).
                t.first_position = at.position;
            }
            t.item_count += 1;
            t.last_position = t.last_position.max(at.position);
            match item {
                TurnItemClass::UserMessage { .. } => {
                    t.first_user.get_or_insert(at.position);
                }
                TurnItemClass::AgentMessage { phase } => match phase.as_deref() {
                    Some("final_answer") => t.final_answer = Some(at.position),
                    None => t.last_agent = Some(at.position),
                    Some(_) => {}
                },
                TurnItemClass::Other => {}
            }
            let seq = t.seq;
            table.put(t);
            Applied {
                joined: Some(seq),
                ended: None,
            }
        }
        _ => Applied::default(),
    }
}

/// A paginated terminal event: the first one naming a turn ends it; later ones change nothing.
fn end_paginated(
    table: &mut impl TurnTable,
    turn_id: Option<&str>,
    end: TurnEnd,
    ts_ms: i64,
) -> Applied {
    let Some(mut t) = turn_id
        .and_then(|id| table.find(id))
        .and_then(|seq| table.get(seq))
    else {
        return Applied::default();
    };
    if t.status != StoredTurnStatus::InProgress {
        return Applied::default();
    }
    end.apply(&mut t, ts_ms);
    let seq = t.seq;
    table.put(t);
    Applied {
        joined: None,
        ended: Some(seq),
    }
}

/// `thread_reverted`: drops the turn `turn_id` and every later visible turn, and hides their
/// lines, from the turn's opening line up to the revert itself, except earlier reverts' own
/// lines. An unknown turn changes nothing.
fn revert(cursor: &mut TurnCursor, table: &mut impl TurnTable, turn_id: &str, position: u64) {
    let Some(first) = table.find(turn_id).and_then(|seq| table.get(seq)) else {
        return;
    };
    cursor.open = false;
    while let Some(seq) = cursor.tail.filter(|seq| *seq >= first.seq) {
        cursor.tail = table.get(seq).and_then(|t| t.prev);
        table.remove(seq);
        cursor.visible = cursor.visible.saturating_sub(1);
    }
    // Earlier reverts' own lines (each range ends at one) stay visible: the trail of reverts.
    let mut from = first.opened_at;
    let mut markers: Vec<u64> = cursor
        .hidden
        .iter()
        .map(|(_, to)| *to)
        .filter(|to| (from..position).contains(to))
        .collect();
    markers.sort_unstable();
    for marker in markers {
        if from < marker {
            cursor.hidden.push((from, marker));
        }
        from = marker + 1;
    }
    if from < position {
        cursor.hidden.push((from, position));
    }
}

/// `thread_rolled_back`: closes the current turn and drops the last `num_turns` turns.
fn roll_back(cursor: &mut TurnCursor, table: &mut impl TurnTable, num_turns: u64) {
    cursor.open = false;
    for _ in 0..num_turns {
        let Some(seq) = cursor.tail else { break };
        cursor.tail = table.get(seq).and_then(|t| t.prev);
        table.remove(seq);
        cursor.visible = cursor.visible.saturating_sub(1);
    }
}

/// The turn the item belongs to, after the turn changes the item itself makes (opening,
/// completing or failing a turn).
fn target(
    cursor: &mut TurnCursor,
    table: &mut impl TurnTable,
    position: u64,
    ts_ms: i64,
    class: &ItemClass,
) -> Option<u64> {
    let open_tail = if cursor.open { cursor.tail } else { None };
    match class {
        ItemClass::TurnStarted {
            turn_id,
            started_at,
        } => {
            let (id, start) = opening(turn_id, *started_at, position, ts_ms);
            Some(open_turn(cursor, table, id, true, start, position, ts_ms))
        }
        ItemClass::TurnComplete {
            turn_id,
            completed_at,
            duration_ms,
            error,
        } => {
            let end = TurnEnd {
                aborted: false,
                error: error.clone(),
                completed_at: *completed_at,
                duration_ms: *duration_ms,
            };
            complete_turn(cursor, table, turn_id.as_deref(), end, ts_ms)
        }
        ItemClass::TurnAborted {
            turn_id,
            completed_at,
            duration_ms,
        } => {
            let end = TurnEnd {
                aborted: true,
                error: None,
                completed_at: *completed_at,
                duration_ms: *duration_ms,
            };
            complete_turn(cursor, table, turn_id.as_deref(), end, ts_ms)
        }
        ItemClass::Error {
            message,
            details,
            affects_turn,
        } => {
            if let (Some(seq), true) = (open_tail, *affects_turn) {
                fail_turn(table, seq, message, details);
            }
            cursor.tail
        }
        ItemClass::UserMessage { .. } => user_prompt(cursor, table, open_tail, position, ts_ms),
        ItemClass::ResponseMessage {
            role,
            contextual: false,
            ..
        } if cursor.mode == HistoryMode::PreEnvelope && role == "user" => {
            user_prompt(cursor, table, open_tail, position, ts_ms)
        }
        ItemClass::TurnContext {
            turn_id: Some(id), ..
        } => table.find(id).or(cursor.tail),
        _ => cursor.tail,
    }
}

/// The id and start (unix seconds) of the turn a `task_started` at `position` opens: its
/// `turn_id`, else `rollout-<position>`; its `started_at`, else the line's time.
fn opening(
    turn_id: &Option<String>,
    started_at: Option<i64>,
    position: u64,
    ts_ms: i64,
) -> (String, i64) {
    let id = turn_id
        .clone()
        .unwrap_or_else(|| format!("rollout-{position}"));
    (id, started_at.unwrap_or_else(|| secs(ts_ms)))
}

/// How a `task_complete` or `turn_aborted` ends its turn.
struct TurnEnd {
    aborted: bool,
    /// `task_complete.error`: the turn failed.
    error: Option<(String, Option<String>)>,
    /// Completion, unix seconds.
    completed_at: Option<i64>,
    /// Duration, ms.
    duration_ms: Option<i64>,
}

/// Completes the turn named by `turn_id` (else the most recent); returns it.
fn complete_turn(
    cursor: &mut TurnCursor,
    table: &mut impl TurnTable,
    turn_id: Option<&str>,
    end: TurnEnd,
    ts_ms: i64,
) -> Option<u64> {
    let target = turn_id.and_then(|id| table.find(id)).or(cursor.tail);
    if let Some(seq) = target {
        if let Some(mut t) = table.get(seq) {
            end.apply(&mut t, ts_ms);
            table.put(t);
        }
        if cursor.tail == Some(seq) {
            cursor.open = false;
        }
    }
    target
}

impl TurnEnd {
    /// Sets the turn's status and times: aborted → `interrupted`; an error → `failed` with it;
    /// else `inProgress`/`completed` → `completed` (`failed`/`interrupted` stay).
    fn apply(self, t: &mut TurnRecord, ts_ms: i64) {
        t.status = match (self.aborted, &self.error, t.status) {
            (true, _, _) => StoredTurnStatus::Interrupted,
            (false, Some(_), _) => StoredTurnStatus::Failed,
            (false, None, StoredTurnStatus::InProgress | StoredTurnStatus::Completed) => {
                StoredTurnStatus::Completed
            }
            (false, None, kept) => kept,
        };
        if let (false, Some(error)) = (self.aborted, self.error) {
            t.error = Some(error);
        }
        // Saturating: timestamps come from outside input (a payload may say anything).
        let done_ms = self.completed_at.map_or(ts_ms, |s| s.saturating_mul(1000));
        t.completed_at = Some(self.completed_at.unwrap_or_else(|| secs(ts_ms)));
        t.duration_ms = Some(
            self.duration_ms
                .unwrap_or(done_ms.saturating_sub(t.opened_ms))
                .max(0),
        );
    }
}

/// An error that affects turn status fails the open turn, with its message.
fn fail_turn(table: &mut impl TurnTable, seq: u64, message: &str, details: &Option<String>) {
    if let Some(mut t) = table.get(seq) {
        t.status = StoredTurnStatus::Failed;
        t.error = Some((message.to_owned(), details.clone()));
        table.put(t);
    }
}

/// Counts the item at `position` in turn `seq` and notes it as the turn's first user prompt or
/// last agent message; returns the turn (`None` if it is not visible).
fn join(table: &mut impl TurnTable, seq: u64, position: u64, class: &ItemClass) -> Option<u64> {
    let mut t = table.get(seq)?;
    t.item_count += 1;
    t.last_position = t.last_position.max(position);
    match class {
        ItemClass::UserMessage { .. }
        | ItemClass::ResponseMessage {
            contextual: false, ..
        } if is_user(class) => {
            t.first_user.get_or_insert(position);
        }
        ItemClass::AgentMessage => t.last_agent = Some(position),
        ItemClass::ResponseMessage { role, .. } if role == "assistant" => {
            t.last_agent = Some(position)
        }
        _ => {}
    }
    table.put(t);
    Some(seq)
}

fn is_user(class: &ItemClass) -> bool {
    match class {
        ItemClass::UserMessage { .. } => true,
        ItemClass::ResponseMessage {
            role, contextual, ..
        } => role == "user" && !contextual,
        _ => false,
    }
}

/// A user prompt outside an open explicit turn opens an implicit turn.
fn user_prompt(
    cursor: &mut TurnCursor,
    table: &mut impl TurnTable,
    open_tail: Option<u64>,
    position: u64,
    ts_ms: i64,
) -> Option<u64> {
    if let Some(seq) = open_tail {
        if table.get(seq).is_some_and(|t| t.explicit) {
            return Some(seq);
        }
    }
    let id = format!("rollout-{position}");
    Some(open_turn(
        cursor,
        table,
        id,
        false,
        secs(ts_ms),
        position,
        ts_ms,
    ))
}

fn open_turn(
    cursor: &mut TurnCursor,
    table: &mut impl TurnTable,
    turn_id: String,
    explicit: bool,
    started_at: i64,
    position: u64,
    ts_ms: i64,
) -> u64 {
    let seq = cursor.next_seq;
    cursor.next_seq += 1;
    let shadows = table.find(&turn_id);
    table.put(TurnRecord {
        seq,
        prev: cursor.tail,
        shadows,
        turn_id,
        explicit,
        status: if explicit {
            StoredTurnStatus::InProgress
        } else {
            StoredTurnStatus::Completed
        },
        error: None,
        started_at: Some(started_at),
        completed_at: None,
        duration_ms: None,
        opened_ms: ts_ms,
        opened_at: position,
        first_position: position,
        last_position: position,
        item_count: 0,
        first_user: None,
        last_agent: None,
        final_answer: None,
        paginated: cursor.mode.is_paginated(),
    });
    cursor.tail = Some(seq);
    cursor.open = true;
    cursor.visible += 1;
    seq
}

fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// A complete in-memory turn table (rebuilds and tests).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemTurnTable {
    /// Visible turns by sequence number.
    pub turns: BTreeMap<u64, TurnRecord>,
    ids: HashMap<String, u64>,
}

impl TurnTable for MemTurnTable {
    fn get(&self, seq: u64) -> Option<TurnRecord> {
        self.turns.get(&seq).cloned()
    }

    fn find(&self, turn_id: &str) -> Option<u64> {
        self.ids.get(turn_id).copied()
    }

    fn put(&mut self, turn: TurnRecord) {
        if !self.turns.contains_key(&turn.seq) {
            self.ids.insert(turn.turn_id.clone(), turn.seq);
        }
        self.turns.insert(turn.seq, turn);
    }

    fn remove(&mut self, seq: u64) {
        if let Some(t) = self.turns.remove(&seq) {
            if self.ids.get(&t.turn_id) == Some(&seq) {
                match t.shadows {
                    Some(older) => self.ids.insert(t.turn_id, older),
                    None => self.ids.remove(&t.turn_id),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::projection::rebuild::{rebuild, Rebuilt};
    use crate::records::{HistoryMode, LogRecord};
    use threadstore_api::types::StoredTurnStatus::{Completed, Failed, InProgress, Interrupted};

    /// Lines of one thread: ordinal = position.
    fn thread(lines: &[(&str, Value)]) -> Rebuilt {
        let records: Vec<LogRecord> = lines
            .iter()
            .enumerate()
            .map(|(n, (kind, payload))| LogRecord {
                ts_ms: 1_000 * n as i64,
                ordinal: Some(n as u64),
                kind: (*kind).to_owned(),
                payload: payload.to_string(),
                sub_ms_nanos: 0,
            })
            .collect();
        rebuild(&records)
    }

    fn header(extra: Value) -> (&'static str, Value) {
        let mut v =
            json!({"id": "01a0a04a-bfb2-7e12-8e42-9bdd2783d9d2", "history_mode": "paginated"});
        if let (Value::Object(v), Value::Object(extra)) = (&mut v, extra) {
            v.extend(extra);
        }
        ("session_meta", v)
    }

    fn ev(payload: Value) -> (&'static str, Value) {
        ("event_msg", payload)
    }

    fn started(turn: &str) -> (&'static str, Value) {
        ev(json!({"type": "task_started", "turn_id": turn, "started_at": 1}))
    }

    fn item(turn: &str, item: Value) -> (&'static str, Value) {
        ev(json!({"type": "item_completed", "turn_id": turn, "item": item}))
    }

    fn user(turn: &str, text: &str) -> (&'static str, Value) {
        item(
            turn,
            json!({"type": "UserMessage", "id": "u", "content": [{"type": "text", "text": text}]}),
        )
    }

    fn agent(turn: &str, phase: Option<&str>) -> (&'static str, Value) {
        item(
            turn,
            json!({"type": "AgentMessage", "id": "a", "content": [{"type": "Text", "text": "x"}], "phase": phase}),
        )
    }

    #[test]
    fn items_join_the_turn_they_name_and_other_lines_join_none() {
        let r = thread(&[
            header(json!({})),
            started("t1"),
            (
                "response_item",
                json!({"type": "message", "role": "user", "content": []}),
            ),
            user("t1", "first"),
            started("t2"),
            // A late item of t1 still joins t1, by its own turn id.
            agent("t1", Some("final_answer")),
            user("t2", "second"),
            ev(json!({"type": "token_count"})),
            ev(json!({"type": "task_complete", "turn_id": "t1"})),
        ]);
        assert!(r.cursor.mode.is_paginated());
        let turns: Vec<_> = r.turns.values().collect();
        assert_eq!(turns.len(), 2);
        assert_eq!(r.members[&turns[0].seq], vec![3, 5]);
        assert_eq!(r.members[&turns[1].seq], vec![6]);
        assert_eq!(turns[0].summary_positions(), vec![3, 5]);
        assert_eq!((turns[0].status, turns[1].status), (Completed, InProgress));
        assert_eq!(r.meta.preview, "first");
    }

    #[test]
    fn the_first_terminal_event_wins_and_an_error_fails_the_turn() {
        let r = thread(&[
            header(json!({})),
            started("t1"),
            ev(json!({"type": "task_complete", "turn_id": "t1",
                "error": {"message": "boom", "codex_error_info": "internal_server_error"}})),
            ev(json!({"type": "task_complete", "turn_id": "t1"})),
            started("t2"),
            ev(json!({"type": "turn_aborted", "turn_id": null, "reason": "interrupted"})),
            ev(json!({"type": "turn_aborted", "turn_id": "t2", "reason": "interrupted"})),
            ev(json!({"type": "task_complete", "turn_id": "t2"})),
            // An `error` event does not fail a paginated turn.
            started("t3"),
            ev(json!({"type": "error", "message": "retrying"})),
        ]);
        let turns: Vec<_> = r.turns.values().collect();
        assert_eq!(turns[0].status, Failed);
        assert_eq!(
            turns[0].error,
            Some((
                "boom".to_owned(),
                Some("\"internal_server_error\"".to_owned())
            ))
        );
        assert_eq!(turns[1].status, Interrupted);
        assert_eq!(turns[2].status, InProgress);
    }

    #[test]
    fn the_summary_takes_the_final_answer_else_a_phaseless_message_once_ended() {
        let open = thread(&[
            header(json!({})),
            started("t1"),
            user("t1", "q"),
            agent("t1", None),
            agent("t1", Some("commentary")),
        ]);
        let t = open.turns.values().next().unwrap();
        assert_eq!(
            t.summary_positions(),
            vec![2],
            "no phase-less answer while running"
        );
        let mut lines = vec![
            header(json!({})),
            started("t1"),
            user("t1", "q"),
            agent("t1", None),
            agent("t1", Some("commentary")),
            ev(json!({"type": "task_complete", "turn_id": "t1"})),
        ];
        let ended = thread(&lines);
        let t = ended.turns.values().next().unwrap();
        assert_eq!(
            t.summary_positions(),
            vec![2, 3],
            "the phase-less one once ended"
        );
        lines.insert(5, agent("t1", Some("final_answer")));
        lines.push(agent("t1", Some("commentary")));
        let answered = thread(&lines);
        let t = answered.turns.values().next().unwrap();
        assert_eq!(
            t.summary_positions(),
            vec![2, 5],
            "final_answer first; commentary never"
        );
    }

    #[test]
    fn a_subagents_copied_context_is_not_its_own() {
        let r = thread(&[
            header(json!({"subagent_history_start_ordinal": 4})),
            started("parent"),
            user("parent", "the parent's prompt"),
            ev(json!({"type": "task_complete", "turn_id": "parent"})),
            started("own"),
            user("own", "the child's task"),
        ]);
        assert_eq!(
            r.cursor.mode,
            HistoryMode::Paginated {
                own_from_ordinal: 4
            }
        );
        let ids: Vec<&str> = r.turns.values().map(|t| t.turn_id.as_str()).collect();
        assert_eq!(ids, vec!["own"]);
        assert_eq!(r.meta.preview, "the child's task");
    }

    #[test]
    fn without_the_paginated_header_the_standard_rules_stay() {
        let r = thread(&[
            (
                "session_meta",
                json!({"id": "01a0a04a-bfb2-7e12-8e42-9bdd2783d9d2"}),
            ),
            started("t1"),
            ev(json!({"type": "user_message", "message": "hi"})),
            ev(json!({"type": "task_complete", "turn_id": "t1"})),
        ]);
        assert_eq!(r.cursor.mode, HistoryMode::Standard);
        let t = r.turns.values().next().unwrap();
        assert_eq!(t.item_count, 3);
        assert_eq!(t.status, Completed);
    }
}

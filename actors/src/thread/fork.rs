//! `Fork`: forks this thread by reference (CONTRACT.md §7, `fork_thread`; the storage side is
//! `threadstore_storage::lineage`).
//!
//! Handled by the parent's actor, so no commit of the parent runs between reading where the fork
//! ends and committing the fork: from that commit on, the parent's commits copy on write what the
//! fork reads. The fork's first commit writes its record (the parent's, cut at the boundary), its
//! link, its header line (`session_meta` with [`FORK_BASE_FIELD`], from which the metadata
//! reducer starts the fork's identity) and, for a fork mid-turn, its copy of the open turn and a
//! `turn_aborted` that interrupts it. Nothing of the prefix is copied: the cost is constant in
//! its length (one turn record for a fork mid-turn, plus a scan of the parent's turns after the
//! boundary to count the fork's visible turns).

use chrono::Utc;
use kameo::message::{Context, Message};
use serde_json::{json, Map, Value};
use threadstore_api::item::{check_ordinals, format_timestamp, kinds};
use threadstore_api::types::StoredTurnStatus;
use threadstore_api::{
    ForkBoundary, SortDirection, ThreadId, ThreadStoreError, ThreadStoreResult, ThreadWriter,
};
use threadstore_storage::lineage::Base;
use threadstore_storage::projection::classify::{FORK_BASE_FIELD, PAGINATED};
use threadstore_storage::projection::turns::{self, MemTurnTable, TurnTable};
use threadstore_storage::projection::{classify, At, ItemClass};
use threadstore_storage::{ForkLink, LogRecord, ThreadRecord, TurnCursor, TurnRecord};
use tracing::instrument;

use super::append::ordinal_error;
use super::{Change, ThreadActor};

/// Forks this thread into `child`.
#[derive(Clone)]
pub struct Fork {
    /// The fork's id.
    pub child: ThreadId,
    /// Where its inherited history ends.
    pub boundary: ForkBoundary,
    /// Its rollout path.
    pub rollout_path: Option<String>,
    /// Its first own line (an imported fork's header), else generated.
    pub header: Option<LogRecord>,
}

/// Where a fork ends in its parent.
struct Cut {
    /// First position that is the fork's own.
    end: u64,
    /// First turn seq that is the fork's own.
    seq_base: u64,
    /// The fork's newest visible turn when it starts.
    tail: Option<TurnRecord>,
    /// Whether that turn is still open at the cut (the reducer's state there).
    open: bool,
    /// The parent's turn in progress (a `Latest` fork mid-turn), which the fork takes over as
    /// its own record and interrupts.
    own_turn: Option<TurnRecord>,
}

impl Message<Fork> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadWriter>;

    #[instrument(level = "debug", name = "thread.fork", skip_all, err(level = "debug"), fields(thread_id = %self.id, child = %msg.child, boundary = ?msg.boundary))]
    async fn handle(&mut self, msg: Fork, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let parent = self.record()?.clone();
        if self.deps.journal.thread(msg.child).await?.is_some() {
            return Err(ThreadStoreError::Conflict {
                message: format!("thread {} already exists", msg.child),
                actual_position: None,
            });
        }
        let cut = self.cut(&parent, &msg.boundary).await?;
        let inherited = self.inherited_at_cut(&parent, &cut).await?;
        let after = self
            .deps
            .journal
            .turn_range(
                self.id,
                cut.seq_base,
                u64::MAX,
                SortDirection::Asc,
                usize::MAX,
            )
            .await?
            .len() as u64;
        let mut record = ThreadRecord {
            thread_id: msg.child,
            next_position: cut.end,
            epoch: 1,
            ..parent.clone()
        };
        record.turns.next_seq = cut.seq_base;
        record.turns.tail = cut.tail.as_ref().map(|t| t.seq);
        record.turns.open = cut.open;
        record.turns.visible = parent.turns.visible.saturating_sub(after);
        // Reverts recorded in the prefix stay; later ones are the parent's alone.
        record.turns.hidden.retain(|(_, to)| *to <= cut.end);
        if cut.seq_base == 0 {
            // No turn opened before the cut, so no prompt either: the parent's preview is not
            // the fork's (a revert keeps a thread's preview, and so does a fork of it).
            record.meta.preview = String::new();
            record.meta.first_user_message = None;
        }
        let mut ordinal = self.ordinal_before(cut.end).await?;
        let prefix_ordinal = ordinal;
        let mut next_ordinal = || {
            ordinal = ordinal.map(|o| o + 1);
            ordinal
        };
        let given = msg.header.is_some();
        let first = match msg.header {
            Some(line) => {
                if line.kind != kinds::SESSION_META {
                    return Err(ThreadStoreError::invalid(format!(
                        "a fork's first line must be a session_meta, not {}",
                        line.kind
                    )));
                }
                check_ordinals(prefix_ordinal, [line.ordinal])
                    .map_err(|e| ordinal_error(msg.child, e, 1))?;
                line
            }
            None => header(self.id, msg.child, &parent, &cut, next_ordinal()),
        };
        let mut lines = vec![first];
        if let Some(open) = cut.own_turn.as_ref().filter(|_| !given) {
            lines.push(LogRecord::new(
                Utc::now(),
                next_ordinal(),
                kinds::EVENT_MSG.to_owned(),
                json!({"type": "turn_aborted", "turn_id": open.turn_id, "reason": "interrupted"})
                    .to_string(),
            ));
        }
        record.meta.rollout_path = msg.rollout_path;
        let fork = ForkLink {
            base: Base {
                parent: self.id,
                end: cut.end,
                seq_base: cut.seq_base,
            },
            own_turn: cut.own_turn.clone(),
            inherited,
        };
        // The fork's first commit, made here (the fork has no actor yet; its actor loads this
        // state when first called).
        let mut child = ThreadActor::detached(msg.child, self.deps.clone());
        child.tail = cut.own_turn.or(cut.tail);
        child
            .open_new(Change::new_thread(record, lines, Some(fork)))
            .await
    }
}

impl ThreadActor {
    /// Inherited turns this thread changed after the cut: a line after it that names an older
    /// turn (Codex's paginated rules attach items and ends by turn id, so a late item or end can
    /// change a turn that ended before the cut). Each is replayed from its opening line to the
    /// cut with the turn reducer, giving the record the fork inherits. Reads the lines after the
    /// cut (none for a `Latest` fork) and each such turn's span.
    async fn inherited_at_cut(
        &self,
        parent: &ThreadRecord,
        cut: &Cut,
    ) -> ThreadStoreResult<Vec<TurnRecord>> {
        let journal = self.deps.journal.as_ref();
        let mut changed = std::collections::BTreeSet::new();
        let mut from = cut.end;
        while from < parent.next_position {
            let chunk = journal
                .log_range(
                    self.id,
                    from,
                    parent.next_position,
                    SortDirection::Asc,
                    1024,
                )
                .await?;
            let Some((last, _)) = chunk.last() else { break };
            from = last + 1;
            for (_, line) in chunk {
                let named = match classify(&line.kind, &line.payload) {
                    ItemClass::CompletedItem {
                        turn_id: Some(t), ..
                    }
                    | ItemClass::TurnComplete {
                        turn_id: Some(t), ..
                    }
                    | ItemClass::TurnAborted {
                        turn_id: Some(t), ..
                    } => t,
                    _ => continue,
                };
                if let Some(seq) = journal.find_turn(self.id, &named).await? {
                    if seq < cut.seq_base {
                        changed.insert(seq);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(changed.len());
        for seq in changed {
            let Some(now) = journal.turn(self.id, seq).await? else {
                continue;
            };
            let mut cursor = TurnCursor {
                next_seq: seq,
                tail: now.prev,
                mode: parent.turns.mode,
                ..TurnCursor::default()
            };
            let mut table = MemTurnTable::default();
            let mut from = now.opened_at;
            while from < cut.end {
                let chunk = journal
                    .log_range(self.id, from, cut.end, SortDirection::Asc, 1024)
                    .await?;
                let Some((last, _)) = chunk.last() else { break };
                from = last + 1;
                for (position, line) in chunk {
                    let class = classify(&line.kind, &line.payload);
                    turns::apply(&mut cursor, &mut table, At::of(&line, position), &class);
                }
            }
            if let Some(mut then) = table.get(seq) {
                then.shadows = now.shadows;
                if then != now {
                    out.push(then);
                }
            }
        }
        Ok(out)
    }

    /// Where `boundary` cuts this thread.
    async fn cut(&self, parent: &ThreadRecord, boundary: &ForkBoundary) -> ThreadStoreResult<Cut> {
        let journal = self.deps.journal.as_ref();
        let turn = |turn_id: &str| {
            let turn_id = turn_id.to_owned();
            async move {
                let found = match journal.find_turn(self.id, &turn_id).await? {
                    Some(seq) => journal.turn(self.id, seq).await?,
                    None => None,
                };
                found.ok_or_else(|| {
                    ThreadStoreError::invalid(format!(
                        "turn not found: {turn_id} (thread {} has no visible turn with this id)",
                        self.id
                    ))
                })
            }
        };
        // Whether the reducer's state at the cut (`end`) has its tail open: a turn in progress
        // is, a paginated thread's tail stays open after it ends (the next `task_started` moves
        // on), and a revert after the tail opened closes it.
        let open_at_cut = |tail: &Option<TurnRecord>, end: u64| {
            tail.as_ref().is_some_and(|t| {
                (t.status == StoredTurnStatus::InProgress || parent.turns.mode.is_paginated())
                    && !parent
                        .turns
                        .hidden
                        .iter()
                        .any(|(_, revert)| *revert > t.opened_at && *revert < end)
            })
        };
        Ok(match boundary {
            ForkBoundary::Latest => {
                let in_progress = parent.turns.open
                    && self
                        .tail
                        .as_ref()
                        .is_some_and(|t| t.status == StoredTurnStatus::InProgress);
                Cut {
                    end: parent.next_position,
                    // The turn in progress is the newest: the fork's own copy overrides it.
                    seq_base: parent.turns.next_seq,
                    tail: self.tail.clone(),
                    open: parent.turns.open,
                    own_turn: if in_progress { self.tail.clone() } else { None },
                }
            }
            ForkBoundary::ThroughTurn(turn_id) => {
                let t = turn(turn_id).await?;
                if t.status == StoredTurnStatus::InProgress
                    && parent.turns.open
                    && parent.turns.tail == Some(t.seq)
                {
                    return Err(ThreadStoreError::invalid(format!(
                        "lastTurnId '{turn_id}' identifies an in-progress turn"
                    )));
                }
                let next = journal
                    .turn_range(self.id, t.seq + 1, u64::MAX, SortDirection::Asc, 1)
                    .await?;
                let (end, seq_base) = match next.first() {
                    Some(n) => (n.opened_at, n.seq),
                    None => (parent.next_position, parent.turns.next_seq),
                };
                let tail = Some(t);
                Cut {
                    end,
                    seq_base,
                    open: open_at_cut(&tail, end),
                    tail,
                    own_turn: None,
                }
            }
            ForkBoundary::BeforeTurn(turn_id) => {
                let t = turn(turn_id).await?;
                let tail = match t.prev {
                    Some(prev) => journal.turn(self.id, prev).await?,
                    None => None,
                };
                Cut {
                    end: t.opened_at,
                    seq_base: t.seq,
                    open: open_at_cut(&tail, t.opened_at),
                    tail,
                    own_turn: None,
                }
            }
        })
    }
}

/// The fork's header: its identity, the parent's settings, and where it joins the parent.
fn header(
    parent_id: ThreadId,
    child: ThreadId,
    parent: &ThreadRecord,
    cut: &Cut,
    ordinal: Option<u64>,
) -> LogRecord {
    let now = Utc::now();
    let meta = &parent.meta;
    let mut m = Map::new();
    m.insert("id".into(), json!(child.to_string()));
    m.insert("timestamp".into(), json!(format_timestamp(&now)));
    m.insert("forked_from_id".into(), json!(parent_id.to_string()));
    let mut opt = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    opt("cwd", meta.cwd.as_ref());
    opt("originator", meta.originator.as_ref());
    opt("cli_version", meta.cli_version.as_ref());
    opt("source", meta.source.as_ref());
    opt("thread_source", meta.thread_source.as_ref());
    opt("model_provider", meta.model_provider.as_ref());
    // The fork keeps its parent's name, as Codex's forks do.
    opt("thread_name", meta.name.as_ref());
    if parent.turns.mode.is_paginated() {
        m.insert("history_mode".into(), json!(PAGINATED));
    }
    m.insert(
        FORK_BASE_FIELD.into(),
        json!({
            "thread_id": parent_id.to_string(),
            "end_position": cut.end,
            "seq_base": cut.seq_base,
        }),
    );
    LogRecord::new(
        now,
        ordinal,
        kinds::SESSION_META.to_owned(),
        Value::Object(m).to_string(),
    )
}

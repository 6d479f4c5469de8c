//! The thread actor: one per active thread, the only writer of its log.
//!
//! State owned here and nowhere else: the thread's record (metadata, turn reducer state, next
//! position, epoch), the live writer's epoch and the cached tail turn. Each operation is one
//! message type in its own module; every change goes through `ThreadActor::commit`, which runs
//! the reducers over a `TurnOverlay` (`overlay.rs`: turns prefetched from the journal), notes the
//! feed events (`feed.rs`) and commits log, projections and feed events in one atomic journal
//! write; the caller then waits for durability (`Sync` mode), appends through the group committer.

mod append;
mod create;
#[cfg(feature = "fault-injection")]
mod fault;
mod feed;
mod fork;
mod lifecycle;
mod limits;
mod metadata;
mod overlay;
mod revert;
mod snapshot;

use std::sync::Arc;

use chrono::Utc;
use kameo::actor::{Actor, ActorRef};
use threadstore_api::{FeedEventKind, ThreadId, ThreadStoreError, ThreadStoreResult, ThreadWriter};
use threadstore_storage::projection::turns::TurnTable;
use threadstore_storage::projection::{classify, meta, turns, At};
use threadstore_storage::{
    ForkLink, Journal, LogRecord, ThreadCommit, ThreadRecord, TurnChanges, TurnRecord, WriterChange,
};
use tracing::instrument;

pub use append::Append;
pub use create::Create;
#[cfg(feature = "fault-injection")]
pub use fault::{Crash, Stall};
pub use fork::Fork;
pub use lifecycle::{Discard, Flush, Resume, Shutdown};
pub use metadata::{Delete, Patch, SetArchived};
pub use revert::{Revert, Rollback};
pub use snapshot::ThreadSnapshot;

use crate::commit::Committer;
use crate::config::{Durability, StoreConfig};
use overlay::TurnOverlay;

/// One change to commit: the record it starts from, what to append, and what else changes.
pub(crate) struct Change {
    /// The record the change starts from (its lease fields already updated).
    record: ThreadRecord,
    /// The committed record before the change (`None` for a new thread), to move index entries.
    previous: Option<ThreadRecord>,
    /// Lines to append.
    lines: Vec<LogRecord>,
    /// Idempotency key of an append.
    request: Option<String>,
    /// Lease change.
    writer: WriterChange,
    /// Feed events that precede the item and turn events.
    events: Vec<FeedEventKind>,
    /// The fork this change creates (a fork's first commit).
    fork: Option<ForkLink>,
}

impl Change {
    /// The first change of a new thread: `record` with `lines`, a live writer at epoch 1, and
    /// the fork it links when it is one.
    fn new_thread(record: ThreadRecord, lines: Vec<LogRecord>, fork: Option<ForkLink>) -> Self {
        Self {
            record,
            previous: None,
            lines,
            request: None,
            writer: WriterChange::Open(1),
            events: vec![
                FeedEventKind::ThreadCreated,
                FeedEventKind::WriterOpened { epoch: 1 },
            ],
            fork,
        }
    }

    /// A change to an existing thread, starting from its current record.
    fn on(current: &ThreadRecord) -> Self {
        Self {
            record: current.clone(),
            previous: Some(current.clone()),
            lines: Vec::new(),
            request: None,
            writer: WriterChange::Keep,
            events: Vec::new(),
            fork: None,
        }
    }
}

/// A change's lines after the reducers ran.
struct Reduced {
    /// Each line with the turn it joined.
    appended: Vec<(LogRecord, Option<u64>)>,
    /// The turn events the lines caused, in log order.
    marks: Vec<feed::TurnMark>,
}

/// What a thread actor needs from the store.
#[derive(Clone)]
pub struct ThreadDeps {
    /// The journal.
    pub journal: Arc<dyn Journal>,
    /// The group committer.
    pub committer: Committer,
    /// Settings.
    pub config: Arc<StoreConfig>,
}

/// One thread's actor.
pub struct ThreadActor {
    id: ThreadId,
    deps: ThreadDeps,
    record: Option<ThreadRecord>,
    live: Option<u64>,
    /// Whether the live writer was opened through this store (see `ThreadState::live_here`).
    live_here: bool,
    tail: Option<TurnRecord>,
    /// The state above may be behind the journal's (a journal shared by many nodes, after a
    /// failed or contended commit): it is read again before the next message.
    stale: bool,
    /// Why the thread's durable state could not be loaded (a corrupt record, an I/O error):
    /// every message is answered with it, so callers learn what is damaged instead of "actor
    /// stopped". The actor is passivated like any idle one, and a later activation reads again.
    broken: Option<ThreadStoreError>,
}

impl Actor for ThreadActor {
    type Args = (ThreadId, ThreadDeps);
    type Error = ThreadStoreError;

    /// Loads the thread's state; never fails (see `broken`), because kameo would stop the actor
    /// and lose the error.
    async fn on_start((id, deps): Self::Args, _me: ActorRef<Self>) -> Result<Self, Self::Error> {
        let mut actor = Self {
            id,
            deps,
            record: None,
            live: None,
            live_here: true,
            tail: None,
            stale: false,
            broken: None,
        };
        if let Err(e) = actor.load().await {
            tracing::error!(thread = %id, error = %e, "thread state cannot be loaded; every call on it reports this error");
            actor.broken = Some(e);
            // On a shared journal (a database that may come back), read again at the next call.
            actor.stale = actor.deps.journal.shared();
        }
        tracing::debug!(thread = %id, exists = actor.record.is_some(), "thread actor activated");
        Ok(actor)
    }

    /// Reads the thread's state again first when it may be stale (a journal shared by many
    /// nodes): a message never acts on state another node has changed since a failed commit.
    async fn on_message(
        &mut self,
        msg: kameo::message::BoxMessage<Self>,
        actor_ref: ActorRef<Self>,
        tx: Option<kameo::reply::BoxReplySender>,
        stop: &mut bool,
    ) -> Result<(), Box<dyn kameo::reply::ReplyError>> {
        if self.stale {
            self.reload().await;
        }
        msg.handle_dyn(self, actor_ref, tx, stop).await
    }
}

impl ThreadActor {
    /// The state of a thread that does not exist yet, outside any actor: a fork's first commit
    /// is made by its parent's actor with it (see `fork.rs`).
    fn detached(id: ThreadId, deps: ThreadDeps) -> Self {
        Self {
            id,
            deps,
            record: None,
            live: None,
            live_here: true,
            tail: None,
            stale: false,
            broken: None,
        }
    }

    /// Reads the state again (after a commit on a shared journal failed); a failure leaves the
    /// actor answering with it until a read succeeds.
    async fn reload(&mut self) {
        self.record = None;
        self.live = None;
        self.tail = None;
        match self.load().await {
            Ok(()) => {
                self.stale = false;
                self.broken = None;
            }
            Err(e) => {
                tracing::warn!(thread = %self.id, error = %e, "thread state cannot be read again yet");
                self.broken = Some(e);
            }
        }
    }

    async fn load(&mut self) -> ThreadStoreResult<()> {
        let journal = self.deps.journal.clone();
        let Some(state) = journal.thread_state(self.id).await? else {
            return Ok(());
        };
        self.tail = match state.record.turns.tail {
            Some(seq) => journal.turn(self.id, seq).await?,
            None => None,
        };
        self.live = state.live;
        self.live_here = state.live_here;
        self.record = Some(state.record);
        Ok(())
    }

    /// Fails with the load error of a broken actor.
    fn check_loaded(&self) -> ThreadStoreResult<()> {
        match &self.broken {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn record(&self) -> ThreadStoreResult<&ThreadRecord> {
        self.check_loaded()?;
        self.record
            .as_ref()
            .ok_or(ThreadStoreError::ThreadNotFound { thread_id: self.id })
    }

    fn check_archived(&self, include_archived: bool) -> ThreadStoreResult<()> {
        if !include_archived && self.record()?.meta.archived_ms.is_some() {
            return Err(ThreadStoreError::Archived { thread_id: self.id });
        }
        Ok(())
    }

    /// Appends the change's lines (possibly none) and commits them with every projection change,
    /// the lease and idempotency updates and the feed events, in one atomic journal write;
    /// returns the first position.
    #[instrument(
        level = "debug",
        name = "thread.commit",
        skip_all,
        err(level = "debug"),
        fields(thread_id = %self.id, lines = change.lines.len(), first_position = change.record.next_position)
    )]
    async fn commit(&mut self, change: Change) -> ThreadStoreResult<u64> {
        let Change {
            mut record,
            previous,
            lines,
            request,
            writer,
            mut events,
            fork,
        } = change;
        let first = record.next_position;
        let mut overlay = TurnOverlay::new(self.tail.clone());
        let Reduced { appended, marks } = self.reduce(&mut record, &mut overlay, lines).await?;
        let tail_seq = record.turns.tail;
        let marked = feed::final_turns(&marks, |seq| overlay.get(seq));
        let turn_changes = overlay.into_changes();
        let count = appended.len() as u64;
        feed::commit_events(first, count, &marks, &marked, &mut events);
        let new_tail = self.tail_after(tail_seq, &turn_changes).await?;
        let commit = ThreadCommit {
            record: record.clone(),
            previous,
            previous_live: self.live,
            appended,
            first_position: first,
            turns: turn_changes,
            request: request.map(|r| (r, first, count)),
            writer,
            events,
            ts_ms: Utc::now().timestamp_millis(),
            fork,
        };
        self.deps.committer.check_writable()?;
        if let Err(e) = self.deps.journal.commit(commit).await {
            // Another node may have written, or the outcome is unknown: read before acting again.
            if self.deps.journal.shared() {
                self.stale = true;
            }
            return Err(e);
        }
        self.adopt(record, new_tail, writer);
        Ok(first)
    }

    /// Runs the reducers over `lines`, appended to `record` from its next position on: each
    /// line's turn reads are prefetched into `overlay`, then metadata and turns are reduced and
    /// the turn events noted. Lines whose turn a later rollback in the same change dropped join
    /// no turn.
    async fn reduce(
        &self,
        record: &mut ThreadRecord,
        overlay: &mut TurnOverlay,
        lines: Vec<LogRecord>,
    ) -> ThreadStoreResult<Reduced> {
        let journal = self.deps.journal.as_ref();
        let mut appended = Vec::with_capacity(lines.len());
        // Turn events in log order, materialized from the turns' final state by the caller.
        let mut marks: Vec<feed::TurnMark> = Vec::new();
        for line in lines {
            let pos = record.next_position;
            let class = classify(&line.kind, &line.payload);
            overlay
                .prefetch(journal, self.id, &record.turns, &class)
                .await?;
            let at = At::of(&line, pos);
            meta::apply(&mut record.meta, record.turns.mode, at, &class);
            let before = record.turns.clone();
            let applied = turns::apply(&mut record.turns, overlay, at, &class);
            feed::note_turn_marks(&mut marks, &before, &record.turns, applied, |seq| {
                overlay.get(seq)
            });
            appended.push((line, applied.joined));
            record.next_position += 1;
        }
        for (_, turn) in appended.iter_mut() {
            if turn.is_some_and(|s| overlay.is_removed(s)) {
                *turn = None;
            }
        }
        Ok(Reduced { appended, marks })
    }

    /// The tail turn after a change, for the next change to start from: from the change's turn
    /// changes, the cached tail, or (a rollback back to an older turn) the journal.
    async fn tail_after(
        &self,
        tail_seq: Option<u64>,
        changes: &TurnChanges,
    ) -> ThreadStoreResult<Option<TurnRecord>> {
        Ok(match tail_seq {
            Some(seq) => match changes.put.iter().find(|t| t.seq == seq) {
                Some(t) => Some(t.clone()),
                None if self.tail.as_ref().is_some_and(|t| t.seq == seq) => self.tail.clone(),
                None => self.deps.journal.turn(self.id, seq).await?,
            },
            None => None,
        })
    }

    /// Takes on the state of a committed change.
    fn adopt(&mut self, record: ThreadRecord, tail: Option<TurnRecord>, writer: WriterChange) {
        self.record = Some(record);
        self.tail = tail;
        match writer {
            WriterChange::Keep => {}
            WriterChange::Open(epoch) => {
                self.live = Some(epoch);
                self.live_here = true;
            }
            WriterChange::Close => self.live = None,
        }
    }

    /// Commits a new thread's first change, waits for durability, and returns its writer.
    async fn open_new(&mut self, change: Change) -> ThreadStoreResult<ThreadWriter> {
        self.commit(change).await?;
        self.wait_durable().await?;
        let record = self.record()?;
        Ok(ThreadWriter {
            thread_id: self.id,
            epoch: record.epoch,
            next_position: record.next_position,
        })
    }

    /// The ordinal of the line before `position` (`None` at the start, or when it has none): what
    /// the next line's ordinal must exceed.
    async fn ordinal_before(&self, position: u64) -> ThreadStoreResult<Option<u64>> {
        Ok(match position.checked_sub(1) {
            Some(last) => self
                .deps
                .journal
                .log_at(self.id, last)
                .await?
                .and_then(|r| r.ordinal),
            None => None,
        })
    }

    /// The committer to wait on before acknowledging a write, in `Sync` mode.
    fn sync_committer(&self) -> Option<crate::commit::Committer> {
        (self.deps.config.durability == Durability::Sync).then(|| self.deps.committer.clone())
    }

    /// Waits for durability in `Sync` mode (rare operations wait inline; appends delegate).
    async fn wait_durable(&self) -> ThreadStoreResult<()> {
        match self.sync_committer() {
            Some(c) => c.durable().await,
            None => Ok(()),
        }
    }

    /// Appends one store-generated event (metadata patch, archive) to the log, with its feed event,
    /// recorded at `at` (default: now).
    async fn append_event(
        &mut self,
        payload: serde_json::Value,
        event: FeedEventKind,
        at: Option<chrono::DateTime<Utc>>,
    ) -> ThreadStoreResult<()> {
        let current = self.record()?.clone();
        let line = LogRecord::new(
            at.unwrap_or_else(Utc::now),
            None,
            threadstore_api::item::kinds::EVENT_MSG.to_owned(),
            payload.to_string(),
        );
        let mut change = Change::on(&current);
        change.lines.push(line);
        change.events.push(event);
        self.commit(change).await?;
        self.wait_durable().await
    }
}

//! The thread actor: one per active thread, the only writer of its log.
//!
//! State owned here and nowhere else: the thread's record (metadata, turn reducer state, next
//! position, epoch), the live writer's epoch and the cached tail turn. Each operation is one
//! message type in its own module; every change goes through [`ThreadActor::commit_lines`], which
//! runs the reducers, commits log and projections in one atomic journal write, then waits for
//! durability when the store is in `Sync` mode.

mod append;
mod create;
#[cfg(feature = "fault-injection")]
mod fault;
mod lifecycle;
mod metadata;
mod snapshot;

use std::sync::Arc;

use chrono::Utc;
use kameo::actor::{Actor, ActorRef};
use threadstore_api::{ThreadId, ThreadStoreError, ThreadStoreResult};
use threadstore_storage::projection::overlay::TurnOverlay;
use threadstore_storage::projection::{classify, meta, turns};
use threadstore_storage::{
    Journal, LogRecord, ThreadCommit, ThreadRecord, TurnRecord, WriterChange,
};

pub use append::Append;
pub use create::Create;
#[cfg(feature = "fault-injection")]
pub use fault::Crash;
pub use lifecycle::{Discard, Flush, Resume, Shutdown};
pub use metadata::{Delete, Patch, SetArchived};
pub use snapshot::{Snapshot, ThreadSnapshot};

use crate::commit::Committer;
use crate::config::{Durability, StoreConfig};

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
    tail: Option<TurnRecord>,
}

impl Actor for ThreadActor {
    type Args = (ThreadId, ThreadDeps);
    type Error = ThreadStoreError;

    async fn on_start((id, deps): Self::Args, _me: ActorRef<Self>) -> Result<Self, Self::Error> {
        let record = deps.journal.thread(id).await?;
        let live = deps.journal.live_writer(id).await?;
        let tail = match record.as_ref().and_then(|r| r.turns.tail) {
            Some(seq) => deps.journal.turn(id, seq).await?,
            None => None,
        };
        tracing::debug!(thread = %id, exists = record.is_some(), "thread actor activated");
        Ok(Self {
            id,
            deps,
            record,
            live,
            tail,
        })
    }
}

impl ThreadActor {
    fn record(&self) -> ThreadStoreResult<&ThreadRecord> {
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

    /// Appends `lines` (possibly none) and commits them with every projection change and the
    /// given lease and idempotency updates; returns the first position.
    async fn commit_lines(
        &mut self,
        base: ThreadRecord,
        previous: Option<&ThreadRecord>,
        lines: Vec<LogRecord>,
        request: Option<String>,
        writer: WriterChange,
    ) -> ThreadStoreResult<u64> {
        let journal = self.deps.journal.clone();
        let mut record = base;
        let first = record.next_position;
        let mut overlay = TurnOverlay::new(self.tail.clone());
        let mut appended = Vec::with_capacity(lines.len());
        for line in lines {
            let pos = record.next_position;
            let class = classify(&line.kind, &line.payload);
            overlay
                .prefetch(journal.as_ref(), self.id, &record.turns, &class)
                .await?;
            meta::apply(
                &mut record.meta,
                record.turns.legacy,
                pos,
                line.ts_ms,
                &class,
            );
            let turn = turns::apply(&mut record.turns, &mut overlay, pos, line.ts_ms, &class);
            appended.push((line, turn));
            record.next_position += 1;
        }
        for (_, turn) in appended.iter_mut() {
            if turn.is_some_and(|s| overlay.is_removed(s)) {
                *turn = None;
            }
        }
        let tail_seq = record.turns.tail;
        let turn_changes = overlay.into_changes();
        let new_tail = match tail_seq {
            Some(seq) => match turn_changes.put.iter().find(|t| t.seq == seq) {
                Some(t) => Some(t.clone()),
                None if self.tail.as_ref().is_some_and(|t| t.seq == seq) => self.tail.clone(),
                None => journal.turn(self.id, seq).await?,
            },
            None => None,
        };
        let count = appended.len() as u64;
        let commit = ThreadCommit {
            record: record.clone(),
            previous_meta: previous.map(|p| p.meta.clone()),
            appended,
            first_position: first,
            turns: turn_changes,
            request: request.map(|r| (r, first, count)),
            writer,
        };
        self.deps.committer.check_writable()?;
        journal.commit(commit).await?;
        self.record = Some(record);
        self.tail = new_tail;
        match writer {
            WriterChange::Keep => {}
            WriterChange::Open(epoch) => self.live = Some(epoch),
            WriterChange::Close => self.live = None,
        }
        Ok(first)
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

    /// Appends one store-generated event (metadata patch, archive) to the log.
    async fn append_event(&mut self, payload: serde_json::Value) -> ThreadStoreResult<()> {
        let current = self.record()?.clone();
        let line = LogRecord {
            ts_ms: Utc::now().timestamp_millis(),
            ordinal: None,
            kind: threadstore_api::item::kinds::EVENT_MSG.to_owned(),
            payload: payload.to_string(),
        };
        self.commit_lines(
            current.clone(),
            Some(&current),
            vec![line],
            None,
            WriterChange::Keep,
        )
        .await?;
        self.wait_durable().await
    }
}

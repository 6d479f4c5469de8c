//! Writer lifecycle: `Resume`, `Shutdown`, `Discard`, `Flush` (CONTRACT.md §2).

use kameo::message::{Context, Message};
use threadstore_api::{FeedEventKind, ThreadStoreError, ThreadStoreResult, ThreadWriter};
use threadstore_storage::WriterChange;
use tracing::instrument;

use super::{Change, ThreadActor};

/// Reopens the thread for appends with a new epoch (fencing older handles).
#[derive(Clone)]
pub struct Resume {
    /// Allow an archived thread.
    pub include_archived: bool,
}

/// Flushes and closes the live writer.
#[derive(Clone)]
pub struct Shutdown;

/// Closes any writer and fences every older handle; fine for unknown threads.
#[derive(Clone)]
pub struct Discard;

/// Returns once everything committed is durable.
#[derive(Clone)]
pub struct Flush;

impl Message<Resume> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadWriter>;

    #[instrument(level = "debug", name = "thread.resume", skip_all, err(level = "debug"), fields(thread_id = %self.id))]
    async fn handle(&mut self, msg: Resume, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.check_archived(msg.include_archived)?;
        let current = self.record()?.clone();
        // A writer opened on another node sharing the store is taken over (fenced): that node
        // may be gone, and must not keep the thread from being resumed (CONTRACT.md §10).
        if self.live.is_some() && self.live_here {
            return Err(ThreadStoreError::Conflict {
                message: format!("thread {} already has a live writer", self.id),
                actual_position: None,
            });
        }
        let mut change = Change::on(&current);
        change.record.epoch += 1;
        let epoch = change.record.epoch;
        change.writer = WriterChange::Open(epoch);
        change.events.push(FeedEventKind::WriterOpened { epoch });
        self.commit(change).await?;
        self.wait_durable().await?;
        Ok(ThreadWriter {
            thread_id: self.id,
            epoch,
            next_position: current.next_position,
        })
    }
}

impl Message<Shutdown> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    #[instrument(level = "debug", name = "thread.shutdown", skip_all, err(level = "debug"), fields(thread_id = %self.id))]
    async fn handle(&mut self, _: Shutdown, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let current = self.record()?.clone();
        if self.live.is_none() {
            return Err(ThreadStoreError::ThreadNotFound { thread_id: self.id });
        }
        let mut change = Change::on(&current);
        change.writer = WriterChange::Close;
        change.events.push(FeedEventKind::WriterClosed);
        self.commit(change).await?;
        self.deps.committer.durable().await
    }
}

impl Message<Discard> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    #[instrument(level = "debug", name = "thread.discard", skip_all, err(level = "debug"), fields(thread_id = %self.id))]
    async fn handle(&mut self, _: Discard, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.check_loaded()?;
        let Some(current) = self.record.clone() else {
            return Ok(());
        };
        let mut change = Change::on(&current);
        change.record.epoch += 1;
        change.writer = WriterChange::Close;
        if self.live.is_some() {
            change.events.push(FeedEventKind::WriterClosed);
        }
        self.commit(change).await?;
        self.wait_durable().await
    }
}

impl Message<Flush> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    #[instrument(level = "debug", name = "thread.flush", skip_all, err(level = "debug"), fields(thread_id = %self.id))]
    async fn handle(&mut self, _: Flush, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.record()?;
        self.deps.committer.durable().await
    }
}

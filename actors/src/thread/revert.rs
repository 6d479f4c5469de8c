//! `Rollback`: Codex's legacy rollback of the last turns (older eras), an appended
//! `thread_rolled_back` event the turn reducer applies.
//!
//! `Revert`: hides a turn and every later one (CONTRACT.md §7, `revert_thread`). Non-destructive
//! and event-sourced: the actor appends threadstore's `event_msg/thread_reverted {turn_id}`, the
//! turn reducer drops the turns and hides their lines from the turn's opening line on, and a
//! rebuild replays the same. The live writer is fenced first (its epoch is bumped), as Codex
//! shuts the running thread down before it reverts.

use chrono::Utc;
use kameo::message::{Context, Message};
use serde_json::json;
use threadstore_api::{FeedEventKind, ThreadStoreError, ThreadStoreResult};
use threadstore_storage::projection::classify::REVERTED;
use threadstore_storage::{LogRecord, WriterChange};
use tracing::instrument;

use super::{Change, ThreadActor, ThreadSnapshot};

/// Drops the last `num_turns` turns of a thread of an older era (Codex's legacy rollback).
#[derive(Clone)]
pub struct Rollback {
    /// How many.
    pub num_turns: u32,
}

impl Message<Rollback> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadSnapshot>;

    #[instrument(level = "debug", name = "thread.rollback", skip_all, err(level = "debug"), fields(thread_id = %self.id, num_turns = msg.num_turns))]
    async fn handle(&mut self, msg: Rollback, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let current = self.record()?.clone();
        if current.turns.mode.is_paginated() {
            return Err(ThreadStoreError::invalid(format!(
                "paginated threads do not support thread/rollback (thread {}): use revert_thread",
                self.id
            )));
        }
        if msg.num_turns == 0 {
            return Err(ThreadStoreError::invalid(
                "num_turns must be at least 1".to_owned(),
            ));
        }
        let mut change = Change::on(&current);
        change.lines.push(LogRecord::new(
            Utc::now(),
            None,
            threadstore_api::item::kinds::EVENT_MSG.to_owned(),
            json!({"type": "thread_rolled_back", "num_turns": msg.num_turns}).to_string(),
        ));
        self.commit(change).await?;
        self.wait_durable().await?;
        self.snapshot()
    }
}

/// Hides `before_turn_id` and every later turn.
#[derive(Clone)]
pub struct Revert {
    /// The first turn hidden.
    pub before_turn_id: String,
    /// Recorded with the revert (see `RevertThreadParams::revision`).
    pub revision: Option<String>,
}

impl Message<Revert> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadSnapshot>;

    #[instrument(level = "debug", name = "thread.revert", skip_all, err(level = "debug"), fields(thread_id = %self.id, turn_id = %msg.before_turn_id))]
    async fn handle(&mut self, msg: Revert, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let current = self.record()?.clone();
        if self
            .deps
            .journal
            .find_turn(self.id, &msg.before_turn_id)
            .await?
            .is_none()
        {
            return Err(ThreadStoreError::invalid(format!(
                "turn not found: {} (thread {} has no visible turn with this id)",
                msg.before_turn_id, self.id
            )));
        }
        let mut change = Change::on(&current);
        change.record.epoch += 1;
        change.writer = WriterChange::Close;
        if self.live.is_some() {
            change.events.push(FeedEventKind::WriterClosed);
        }
        change.events.push(FeedEventKind::ThreadReverted {
            turn_id: msg.before_turn_id.clone(),
        });
        change.lines.push(LogRecord::new(
            Utc::now(),
            None,
            threadstore_api::item::kinds::EVENT_MSG.to_owned(),
            json!({"type": REVERTED, "turn_id": msg.before_turn_id, "revision": msg.revision})
                .to_string(),
        ));
        self.commit(change).await?;
        self.wait_durable().await?;
        self.snapshot()
    }
}

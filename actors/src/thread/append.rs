//! `Append`: items to a live thread — fencing, optimistic concurrency, idempotency, limits.

use chrono::Utc;
use kameo::message::{Context, Message};
use kameo::reply::DelegatedReply;
use threadstore_api::item::{check_ordinals, OrdinalOutOfOrder};
use threadstore_api::ThreadId;
use threadstore_api::{AppendResult, AppendThreadItemsParams, ThreadStoreError, ThreadStoreResult};
use threadstore_storage::{LogRecord, ThreadRecord};
use tracing::instrument;

use super::limits::{check_fields, check_items};
use super::{Change, ThreadActor};

/// Appends items to this actor's thread.
#[derive(Clone)]
pub struct Append(pub AppendThreadItemsParams);

impl ThreadActor {
    /// Checks the caller may write: a live writer exists and the handle is not stale.
    fn check_writer(&self, presented: Option<u64>) -> ThreadStoreResult<()> {
        let record = self.record()?;
        let stale = |epoch| ThreadStoreError::StaleWriter {
            thread_id: self.id,
            epoch,
            current_epoch: record.epoch,
        };
        match (self.live, presented) {
            (_, Some(e)) if e < record.epoch => Err(stale(e)),
            (Some(live), Some(e)) if e != live => Err(stale(e)),
            (None, _) => Err(ThreadStoreError::ThreadNotFound { thread_id: self.id }),
            _ => Ok(()),
        }
    }

    /// Ordinals given with an append must go on from the thread's: each greater than the one
    /// before it and than the last stored item's (one point read, only when ordinals are given).
    /// A thread whose last item has no ordinal is checked within the batch only.
    async fn check_ordinals(
        &self,
        current: &ThreadRecord,
        ordinals: &[Option<u64>],
    ) -> ThreadStoreResult<()> {
        if ordinals.iter().all(Option::is_none) {
            return Ok(());
        }
        let previous = self.ordinal_before(current.next_position).await?;
        check_ordinals(previous, ordinals.iter().copied())
            .map_err(|e| ordinal_error(self.id, e, ordinals.len()))
    }
}

impl Message<Append> for ThreadActor {
    type Reply = DelegatedReply<ThreadStoreResult<AppendResult>>;

    /// Applies the append, takes a place in the group committer's queue (in `Sync` mode), and
    /// hands the reply to it, so this thread's next message is handled while the fsync is
    /// pending. A deduplicated retry waits for the same fsync as a new append: its original may
    /// have been applied but not yet synced. Taking the place before the next message is what
    /// makes a full fsync queue push back on a pipelining writer.
    #[instrument(level = "debug", name = "thread.append", skip_all, fields(thread_id = %self.id, items = msg.0.items.len(), request_id = ?msg.0.request_id))]
    async fn handle(&mut self, msg: Append, ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let applied = self.apply_append(msg.0).await;
        match (applied, self.sync_committer()) {
            (Ok(result), Some(committer)) if result.item_count > 0 => {
                match committer.enqueue().await {
                    Ok(ticket) => ctx.spawn(async move { ticket.durable().await.map(|()| result) }),
                    Err(e) => ctx.reply(Err(e)),
                }
            }
            (applied, _) => ctx.reply(applied),
        }
    }
}

impl ThreadActor {
    async fn apply_append(
        &mut self,
        p: AppendThreadItemsParams,
    ) -> ThreadStoreResult<AppendResult> {
        // A poisoned store acknowledges nothing, not even a retry of an append it applied.
        self.deps.committer.check_writable()?;
        self.check_writer(p.writer_epoch)?;
        let current = self.record()?.clone();
        if let Some(rid) = &p.request_id {
            if let Some((first, count)) = self.deps.journal.request(self.id, rid).await? {
                return Ok(AppendResult {
                    first_position: first,
                    item_count: count,
                    deduplicated: true,
                });
            }
        }
        if let Some(expected) = p.expected_position {
            if expected != current.next_position {
                return Err(ThreadStoreError::Conflict {
                    message: format!(
                        "expected position {expected}, but the next position of thread {} is {}",
                        self.id, current.next_position
                    ),
                    actual_position: Some(current.next_position),
                });
            }
        }
        if !p.timestamps.is_empty() && p.timestamps.len() != p.items.len() {
            return Err(ThreadStoreError::invalid(format!(
                "{} timestamps for {} items: give one per item or none",
                p.timestamps.len(),
                p.items.len()
            )));
        }
        if !p.ordinals.is_empty() && p.ordinals.len() != p.items.len() {
            return Err(ThreadStoreError::invalid(format!(
                "{} ordinals for {} items: give one per item or none",
                p.ordinals.len(),
                p.items.len()
            )));
        }
        self.check_ordinals(&current, &p.ordinals).await?;
        check_fields(
            &self.deps.config,
            [("request_id", p.request_id.as_ref().map(String::len))],
        )?;
        check_items(
            &self.deps.config,
            p.items.iter().map(|i| i.encoded_len()),
            p.items.len(),
        )?;
        if p.items.is_empty() {
            return Ok(AppendResult {
                first_position: current.next_position,
                item_count: 0,
                deduplicated: false,
            });
        }
        let now = Utc::now();
        let lines = p
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                LogRecord::new(
                    p.timestamps.get(i).copied().unwrap_or(now),
                    p.ordinals.get(i).copied().flatten(),
                    item.kind().to_owned(),
                    item.payload_json().to_owned(),
                )
            })
            .collect::<Vec<_>>();
        let count = lines.len() as u64;
        let mut change = Change::on(&current);
        change.lines = lines;
        change.request = p.request_id;
        let first = self.commit(change).await?;
        Ok(AppendResult {
            first_position: first,
            item_count: count,
            deduplicated: false,
        })
    }
}

/// `InvalidRequest` for an ordinal that does not increase (see [`check_ordinals`]).
pub(super) fn ordinal_error(id: ThreadId, e: OrdinalOutOfOrder, items: usize) -> ThreadStoreError {
    let before = if e.index == 0 {
        "the thread's last stored item".to_string()
    } else {
        "the latest item before it".to_string()
    };
    ThreadStoreError::invalid(format!(
        "ordinal {} of item {} (of {items}) is not greater than ordinal {} of {before} in thread {id}: \
         rollout lines are numbered in order, and a duplicate or backwards ordinal means lines were \
         lost, repeated or reordered; nothing was written",
        e.ordinal, e.index, e.previous
    ))
}

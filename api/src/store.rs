use std::any::Any;

use async_trait::async_trait;

use crate::event::{FeedStream, SubscribeParams};
use crate::params::*;
use crate::types::*;
use crate::{RolloutItem, ThreadId, ThreadStoreError, ThreadStoreResult};

/// The thread store contract (Codex's `ThreadStore`, completed). Object-safe: use it as
/// `Arc<dyn ThreadStore>`. Every backend passes the same conformance suite.
#[async_trait]
pub trait ThreadStore: Send + Sync + 'static {
    /// Escape hatch for downcasting to a concrete backend.
    fn as_any(&self) -> &dyn Any;

    /// Creates a thread and opens a live writer on it. `Conflict` if the id exists.
    async fn create_thread(&self, params: CreateThreadParams) -> ThreadStoreResult<ThreadWriter>;

    /// Reopens an existing thread for appends after its durable prefix. `Conflict` if a live
    /// writer holds it; the new handle's epoch fences every older handle.
    async fn resume_thread(&self, params: ResumeThreadParams) -> ThreadStoreResult<ThreadWriter>;

    /// Appends items, in order, all-or-nothing. Needs a live writer.
    async fn append_items(
        &self,
        params: AppendThreadItemsParams,
    ) -> ThreadStoreResult<AppendResult>;

    /// Makes the thread's creation durable (threadstore materializes threads at create, so this
    /// is a durability barrier). `ThreadNotFound` for an unknown thread.
    async fn persist_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()>;

    /// [`persist_thread`](Self::persist_thread) with Codex's `PersistContext` (the same barrier
    /// for both contexts: threadstore materializes threads when they are created).
    async fn persist_thread_with(&self, params: PersistThreadParams) -> ThreadStoreResult<()> {
        self.persist_thread(params.thread_id).await
    }

    /// Returns once everything appended to the thread is durable (fsynced) and readable.
    async fn flush_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()>;

    /// Flushes and closes the live writer; later appends fail until a resume.
    async fn shutdown_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()>;

    /// Idempotent release: keeps what is durable, closes the writer and fences every older handle.
    /// Unknown ids are fine.
    async fn discard_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()>;

    /// Every persisted item, in order.
    async fn load_history(
        &self,
        params: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredThreadHistory>;

    /// Every line of the thread's log as recorded, reverted lines included (a fork's prefix read
    /// through its parent, as recorded there): what an export in Codex's layout (an original
    /// rollout and its revert rollouts) needs. `load_history` is the thread's history; this is
    /// its audit trail.
    async fn load_log(
        &self,
        params: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredThreadHistory> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "load_log".into(),
        })
    }

    /// A thread's summary, optionally with its history.
    async fn read_thread(&self, params: ReadThreadParams) -> ThreadStoreResult<StoredThread>;

    /// The same, addressed by the rollout path recorded at import or creation.
    async fn read_thread_by_rollout_path(
        &self,
        params: ReadThreadByRolloutPathParams,
    ) -> ThreadStoreResult<StoredThread>;

    /// One page of threads, sorted and filtered, from indexes.
    async fn list_threads(&self, params: ListThreadsParams) -> ThreadStoreResult<ThreadPage>;

    /// Threads whose name, preview or first message contains the term, with a snippet.
    async fn search_threads(
        &self,
        params: SearchThreadsParams,
    ) -> ThreadStoreResult<ThreadSearchPage>;

    /// One page of a thread's turns with the chosen item view.
    async fn list_turns(&self, params: ListTurnsParams) -> ThreadStoreResult<TurnPage>;

    /// One page of items, of one turn or of the whole thread.
    async fn list_items(&self, params: ListItemsParams) -> ThreadStoreResult<ItemPage>;

    /// The suffix of the thread's history a resume needs: from its last `compacted` line on
    /// (the whole history when it has none), read backwards from the end in O(suffix).
    async fn load_latest_model_context(
        &self,
        params: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredModelContext> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "load_latest_model_context".into(),
        })
    }

    /// Reverts a thread, non-destructively (CONTRACT.md §7): `before_turn_id` and every later
    /// turn disappear from its turns, items and history, their lines stay in the log, the live
    /// writer is fenced (its epoch bumped: resume to append again), and the feed gets
    /// `ThreadReverted`. An unknown turn is `InvalidRequest`. Returns the thread after it, with
    /// cursors at its newest retained turn and item.
    async fn revert_thread(&self, params: RevertThreadParams) -> ThreadStoreResult<RevertedThread> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "revert_thread".into(),
        })
    }

    /// Drops the thread's last `num_turns` turns as Codex's legacy rollback does (Codex's
    /// deprecated `thread/rollback`): appends `event_msg/thread_rolled_back {num_turns}`, which
    /// the turn reducer applies (the lines stay in the log). Threads of the older eras only:
    /// a paginated thread is `InvalidRequest` (use [`revert_thread`](Self::revert_thread)), and
    /// so is `num_turns` 0. Returns the thread after it.
    async fn rollback_thread(
        &self,
        params: RollbackThreadParams,
    ) -> ThreadStoreResult<StoredThread> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "rollback_thread".into(),
        })
    }

    /// Forks a thread by reference (CONTRACT.md §7): a new thread whose history is the prefix of
    /// `thread_id` that `boundary` names plus its own lines, created in O(1) of that prefix
    /// (nothing of it is copied), with a live writer at epoch 1 (returned). Every read of the
    /// fork follows its lineage; archiving, reverting or deleting the parent never changes what
    /// the fork shows. A fork of a turn in progress (`Latest`) starts with that turn interrupted
    /// (its first lines are its header and a `turn_aborted`). `ThreadNotFound` for an unknown
    /// parent, `Conflict` if the new id exists, `InvalidRequest` for an unknown turn or a
    /// `ThroughTurn` of a turn in progress.
    async fn fork_thread(&self, params: ForkThreadParams) -> ThreadStoreResult<ThreadWriter> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "fork_thread".into(),
        })
    }

    /// Every occurrence of a term in one thread (CONTRACT.md §8), in log order, one page:
    /// matches in user messages and in each turn's summary agent message (its final answer),
    /// with a snippet, the match's UTF-16 range and a cursor at the item's turn
    /// ([`crate::occurrence`] has the rules). Codex serves paginated threads only; threadstore
    /// searches every era. A blank term or a page size over 250 is `InvalidRequest`.
    async fn search_thread_occurrences(
        &self,
        params: SearchOccurrencesParams,
    ) -> ThreadStoreResult<OccurrencePage> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "search_thread_occurrences".into(),
        })
    }

    /// One page of Codex's item view (CONTRACT.md §7), of one turn or of the whole thread: each
    /// item as Codex's v2 `ThreadItem` with its turn id ([`crate::thread_item`]). Paged like
    /// [`list_items`](Self::list_items). Paginated threads: O(page). Older eras (which Codex
    /// itself does not serve): each turn's lines mapped one by one as Codex's replay of a legacy
    /// rollout builds items, the turn's lines that make no item read too, the whole thread turn
    /// by turn from the turn holding the page's start (found in O(log turns)).
    async fn list_thread_items(
        &self,
        params: ListItemsParams,
    ) -> ThreadStoreResult<ThreadItemPage> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "list_thread_items".into(),
        })
    }

    /// Applies a literal metadata patch (recorded in the log) and returns the updated thread.
    async fn update_thread_metadata(
        &self,
        params: UpdateThreadMetadataParams,
    ) -> ThreadStoreResult<StoredThread>;

    /// Moves the thread to the archived collection; idempotent, returns the current state.
    async fn archive_thread(&self, params: ArchiveThreadParams) -> ThreadStoreResult<StoredThread>;

    /// Moves the thread back to the active collection; idempotent, returns the current state.
    async fn unarchive_thread(
        &self,
        params: ArchiveThreadParams,
    ) -> ThreadStoreResult<StoredThread>;

    /// Removes the log, every projection and every index entry of the thread, and of every
    /// thread it spawned (its descendants by `parent_thread_id`), descendants first.
    async fn delete_thread(&self, params: DeleteThreadParams) -> ThreadStoreResult<()>;

    /// Archives threads in order and returns the ones archived (Codex's `archive_threads`). The
    /// batch stops at the first failure: a failure of the first thread is returned as is; a later
    /// one is `Internal` naming the threads already archived and the one that failed (the batch
    /// is not atomic, and says what it completed).
    async fn archive_threads(
        &self,
        params: ArchiveThreadsParams,
    ) -> ThreadStoreResult<Vec<ThreadId>> {
        let mut archived = Vec::with_capacity(params.thread_ids.len());
        for thread_id in params.thread_ids {
            match self
                .archive_thread(ArchiveThreadParams::new(thread_id))
                .await
            {
                Ok(_) => archived.push(thread_id),
                Err(e) if archived.is_empty() => return Err(e),
                Err(e) => {
                    let done: Vec<String> = archived.iter().map(ToString::to_string).collect();
                    return Err(ThreadStoreError::internal(format!(
                        "archive partially completed; archived thread ids: {}; failed thread {thread_id}: {e}",
                        done.join(", ")
                    )));
                }
            }
        }
        Ok(archived)
    }

    /// Deletes threads in order, each with its descendants (Codex's `delete_threads`): a thread
    /// already missing counts as deleted; the first other error stops the batch and is returned.
    async fn delete_threads(&self, params: DeleteThreadsParams) -> ThreadStoreResult<()> {
        for thread_id in params.thread_ids {
            match self.delete_thread(DeleteThreadParams::new(thread_id)).await {
                Ok(()) | Err(ThreadStoreError::ThreadNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The store's counters: the feed head, bytes on disk, live actors and feed subscribers
    /// (what `threadstore stats` prints). A backend without them returns `Unsupported`.
    async fn store_stats(&self, params: StoreStatsParams) -> ThreadStoreResult<StoreStats> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "store_stats".into(),
        })
    }

    /// Subscribes to committed events (one thread, a set, or all; of some kinds or all; from
    /// now, the beginning or a position): every matching event once, in feed order, with no gap
    /// between catching up from the durable feed and following live commits, and one
    /// [`FeedMessage::Live`](crate::FeedMessage::Live) when caught up. A backend without a feed returns `Unsupported`.
    async fn subscribe(&self, params: SubscribeParams) -> ThreadStoreResult<FeedStream> {
        let _ = params;
        Err(ThreadStoreError::Unsupported {
            operation: "subscribe".into(),
        })
    }
}

/// Writing through the handle: the handle's epoch goes with every append, so an append from a
/// handle that another create, resume or discard has superseded fails with `StaleWriter`
/// instead of interleaving with the new writer. (Defined beside the trait it calls, so `types`
/// does not depend on `store`.)
impl ThreadWriter {
    /// Params appending `items` through this handle (`writer_epoch` set); add a `request_id` or
    /// `expected_position` before passing them to [`ThreadStore::append_items`].
    pub fn append_params(&self, items: Vec<RolloutItem>) -> AppendThreadItemsParams {
        AppendThreadItemsParams {
            writer_epoch: Some(self.epoch),
            ..AppendThreadItemsParams::new(self.thread_id, items)
        }
    }

    /// Appends `items` through this handle (fenced by its epoch) and advances
    /// [`ThreadWriter::next_position`] past them.
    pub async fn append(
        &mut self,
        store: &(impl ThreadStore + ?Sized),
        items: Vec<RolloutItem>,
    ) -> ThreadStoreResult<AppendResult> {
        let result = store.append_items(self.append_params(items)).await?;
        self.next_position = self.next_position.max(result.next_position());
        Ok(result)
    }
}

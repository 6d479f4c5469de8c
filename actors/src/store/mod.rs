//! [`ActorStore`]: the `ThreadStore` implementation shared by every engine.
//!
//! Writes go to the thread's actor as one message per operation. Reads of committed state
//! (`read_thread`, `load_history`, `list_turns`, `list_items`) never involve the actor: they read
//! the thread's record from the journal (committed atomically with everything it describes) and
//! then read records bounded by it, so a read never queues behind appends and never activates a
//! cold thread. Cross-thread listings read the indexes directly. A call on an id the journal does
//! not know costs no actor: only `create_thread`, or a call on an existing thread, activates one.

mod convert;
mod list;
mod occurrences;
mod read;
mod search;

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use kameo::actor::{ActorRef, Spawn};
use kameo::error::SendError;
use kameo::message::Message;
use threadstore_api::*;
use threadstore_storage::{Journal, JournalMaintenance, LogRecord};
use tokio::sync::OnceCell;
use tracing::field::{display, Empty};
use tracing::{instrument, Span};

pub use convert::stored_thread;
pub use search::SearchPlace;

use crate::commit::Committer;
use crate::config::StoreConfig;
use crate::registry::{LiveCount, Lookup, Registry, Route, StopAll};
use crate::thread::{self, ThreadActor, ThreadDeps, ThreadSnapshot};

/// The actor-based store over any journal (its [`Journal`] core for the actors and reads, its
/// [`JournalMaintenance`] side for opening, `verify` and the tools).
pub struct ActorStore {
    journal: Arc<dyn JournalMaintenance>,
    bus: crate::bus::Bus,
    config: Arc<StoreConfig>,
    runtime: OnceCell<(ActorRef<Registry>, Committer)>,
    search: search::SearchSlot,
}

impl ActorStore {
    /// A store over `journal`. Actors start on the first call, on the caller's tokio runtime.
    /// Its full-text index lives in memory (see [`Self::with_search_place`]).
    pub fn new(journal: Arc<dyn JournalMaintenance>, config: StoreConfig) -> Self {
        let bus = crate::bus::Bus::with_capacity(config.bus_ring_capacity);
        let publisher = bus.clone();
        let place = if config.search_index {
            SearchPlace::Memory
        } else {
            SearchPlace::Off
        };
        let search = search::SearchSlot::new(place);
        let poke = search.poker();
        journal.set_feed_listener(Box::new(move |events| {
            publisher.publish(events);
            poke();
        }));
        Self {
            journal,
            bus,
            config: Arc::new(config),
            runtime: OnceCell::new(),
            search,
        }
    }

    /// Keeps the full-text index at `place` (unless the config turns it off). Before first use.
    pub fn with_search_place(mut self, place: SearchPlace) -> Self {
        if self.config.search_index {
            self.search.set_place(place);
        }
        self
    }

    /// The journal, with its maintenance side (tools: verify, stats, rebuild). The [`Journal`]
    /// core's methods are callable on it as well.
    pub fn journal(&self) -> &Arc<dyn JournalMaintenance> {
        &self.journal
    }

    /// The settings.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    async fn parts(&self) -> &(ActorRef<Registry>, Committer) {
        self.runtime
            .get_or_init(|| async {
                // The actors and the committer hold the core only.
                let journal: Arc<dyn Journal> = self.journal.clone();
                let committer = Committer::spawn(
                    Arc::downgrade(&journal),
                    self.config.queue_capacity,
                    self.config.queue_timeout,
                );
                let deps = ThreadDeps {
                    journal,
                    committer: committer.clone(),
                    config: self.config.clone(),
                };
                (Registry::spawn(deps), committer)
            })
            .await
    }

    /// Flushes, stops every actor and waits for them, so the journal (and, for sled, the
    /// directory lock) is released when the store is dropped right after.
    pub async fn close(&self) -> ThreadStoreResult<()> {
        self.bus.shutdown();
        self.search.stop().await;
        if let Some((registry, committer)) = self.runtime.get() {
            committer.durable().await?;
            let _ = registry.ask(StopAll).await;
            let _ = registry.stop_gracefully().await;
            registry.wait_for_shutdown().await;
        }
        // A stopped actor's state (which holds the journal) is dropped just after its shutdown is
        // signalled; wait for the last of them so the caller owns the only reference.
        for _ in 0..10_000 {
            if Arc::strong_count(&self.journal) == 1 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        Err(ThreadStoreError::internal(
            "actors still hold the journal 10 s after close",
        ))
    }

    /// Test hook (feature `fault-injection`): makes the thread's actor panic mid-message.
    #[cfg(feature = "fault-injection")]
    pub async fn crash_thread_actor(&self, id: ThreadId) -> ThreadStoreResult<()> {
        self.tell_existing(id, thread::Crash).await
    }

    /// Test hook (feature `fault-injection`): keeps the thread's actor busy for `for_`.
    #[cfg(feature = "fault-injection")]
    pub async fn stall_thread_actor(
        &self,
        id: ThreadId,
        for_: std::time::Duration,
    ) -> ThreadStoreResult<()> {
        self.tell_existing(id, thread::Stall(for_)).await
    }

    /// Number of live thread actors.
    pub async fn live_actors(&self) -> ThreadStoreResult<usize> {
        let (registry, _) = self.parts().await;
        registry
            .ask(LiveCount)
            .await
            .map_err(|e| ThreadStoreError::internal(format!("registry unavailable: {e}")))
    }

    /// Feed events from position `from` on, at most `limit`, in commit order (the durable feed the
    /// event bus catches up from).
    pub async fn feed(&self, from: u64, limit: usize) -> ThreadStoreResult<Vec<FeedEvent>> {
        self.journal.feed_range(from, limit).await
    }

    /// Number of live subscriptions (their tasks end when their stream is dropped).
    pub fn subscriber_count(&self) -> usize {
        self.bus.subscriber_count()
    }

    /// The next feed position.
    pub fn feed_head(&self) -> u64 {
        self.journal.feed_head()
    }

    /// Checks every projection against a rebuild from the log (see `threadstore_storage::verify`).
    /// With a full-text index, the index is checked too (documents per thread, see
    /// `threadstore_search::verify`).
    pub async fn verify(&self) -> ThreadStoreResult<threadstore_storage::verify::VerifyReport> {
        let mut report = threadstore_storage::verify::verify(self.journal.as_ref()).await?;
        if self.config.search_index {
            let problems = match self.verify_search().await {
                Ok(problems) => problems,
                Err(e) => vec![(None, format!("search index: {e}"))],
            };
            report
                .differences
                .extend(problems.into_iter().map(|(thread_id, what)| {
                    threadstore_storage::verify::Difference { thread_id, what }
                }));
        }
        Ok(report)
    }

    /// Makes everything committed so far durable.
    pub async fn flush_all(&self) -> ThreadStoreResult<()> {
        let (_, committer) = self.parts().await;
        committer.durable().await
    }

    /// The thread's live actor, or a new one when `activate` is set; `None` when none is live.
    async fn route(
        &self,
        id: ThreadId,
        activate: bool,
    ) -> ThreadStoreResult<Option<ActorRef<ThreadActor>>> {
        let (registry, _) = self.parts().await;
        loop {
            let route = registry
                .ask(Lookup { id, activate })
                .await
                .map_err(|e| ThreadStoreError::internal(format!("registry unavailable: {e}")))?;
            match route {
                Route::Ready(actor) => return Ok(Some(actor)),
                Route::WaitFor(old) => old.wait_for_shutdown().await,
                Route::NotLive => return Ok(None),
            }
        }
    }

    /// The actor of a thread: a live one, else (for `Activation::Existing`) one activated only if
    /// the journal knows the thread.
    async fn actor(
        &self,
        id: ThreadId,
        activation: Activation,
    ) -> ThreadStoreResult<ActorRef<ThreadActor>> {
        let not_found = || ThreadStoreError::ThreadNotFound { thread_id: id };
        match activation {
            Activation::Create => self.route(id, true).await?.ok_or_else(not_found),
            Activation::Existing => {
                if let Some(actor) = self.route(id, false).await? {
                    return Ok(actor);
                }
                if self.journal.thread(id).await?.is_none() {
                    return Err(not_found());
                }
                self.route(id, true).await?.ok_or_else(not_found)
            }
        }
    }

    /// Sends one message to a thread's actor; retries when the actor was passivated before it
    /// could take the message (it was not processed), never after.
    ///
    /// On a journal shared by many nodes, a call another node's commit got ahead of
    /// (`Contended`) is sent again: the actor has read the thread's state again by then, so the
    /// retry sees the other node's change (a fenced writer, a taken position, a known request id).
    async fn call<M, T>(&self, id: ThreadId, activation: Activation, msg: M) -> ThreadStoreResult<T>
    where
        M: Clone + Send + 'static,
        T: Send + 'static,
        ThreadActor: Message<M>,
        <ThreadActor as Message<M>>::Reply: kameo::Reply<Ok = T, Error = ThreadStoreError>,
    {
        let mut msg = msg;
        let shared = self.journal.shared();
        let (mut restarts, mut contended) = (0u32, 0u32);
        loop {
            let actor = self.actor(id, activation).await?;
            let again = shared.then(|| msg.clone());
            match actor
                .ask(msg)
                .mailbox_timeout(self.config.mailbox_timeout)
                .await
            {
                Ok(v) => return Ok(v),
                Err(SendError::HandlerError(e)) => match (e, again) {
                    (ThreadStoreError::Contended { .. }, Some(m)) if contended < MAX_CONTENDED => {
                        contended += 1;
                        tokio::time::sleep(contention_backoff(contended)).await;
                        msg = m;
                    }
                    (e, _) => return Err(e),
                },
                Err(SendError::ActorNotRunning(m)) | Err(SendError::ActorRestarting(m)) => {
                    restarts += 1;
                    if restarts >= 8 {
                        return Err(ThreadStoreError::internal(format!(
                            "thread {id}'s actor kept stopping"
                        )));
                    }
                    msg = m;
                    actor.wait_for_shutdown().await;
                }
                Err(SendError::MailboxFull(_)) | Err(SendError::Timeout(_)) => {
                    return Err(ThreadStoreError::ResourceExhausted {
                        message: format!(
                            "thread {id}'s mailbox stayed full for {:?}",
                            self.config.mailbox_timeout
                        ),
                    })
                }
                Err(SendError::ActorStopped) => {
                    return Err(ThreadStoreError::internal(format!(
                        "thread {id}'s actor stopped while handling the call; it is re-activated from durable state on the next call"
                    )))
                }
            }
        }
    }

    /// A message to an existing thread's actor.
    async fn tell_existing<M, T>(&self, id: ThreadId, msg: M) -> ThreadStoreResult<T>
    where
        M: Clone + Send + 'static,
        T: Send + 'static,
        ThreadActor: Message<M>,
        <ThreadActor as Message<M>>::Reply: kameo::Reply<Ok = T, Error = ThreadStoreError>,
    {
        self.call(id, Activation::Existing, msg).await
    }

    /// The thread's committed state, read from the journal (no actor involved); `Archived`
    /// unless `include_archived`.
    async fn committed(
        &self,
        id: ThreadId,
        include_archived: bool,
    ) -> ThreadStoreResult<ThreadSnapshot> {
        let state = self
            .journal
            .thread_state(id)
            .await?
            .ok_or(ThreadStoreError::ThreadNotFound { thread_id: id })?;
        if !include_archived && state.record.meta.archived_ms.is_some() {
            return Err(ThreadStoreError::Archived { thread_id: id });
        }
        Ok(ThreadSnapshot {
            record: state.record,
            live: state.live.is_some(),
        })
    }
}

/// How many times a call another node's commit got ahead of is sent again before `Contended`
/// reaches the caller.
const MAX_CONTENDED: u32 = 64;

/// The wait before the `attempt`-th retry of a contended call: growing (up to ~20 ms) and
/// jittered, so nodes racing for one thread do not keep colliding in step.
fn contention_backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let cap_us = 500u64 << attempt.min(5);
    std::time::Duration::from_micros(h.finish() % cap_us.min(20_000))
}

/// Whether a call may start an actor for an id the journal does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Activation {
    /// `create_thread`: the id is new.
    Create,
    /// Every other call: only threads that exist get an actor.
    Existing,
}

impl Drop for ActorStore {
    /// Best effort when the store is dropped without `close`: stop the actors in the background
    /// (they hold the journal until they are gone).
    fn drop(&mut self) {
        if let (Some((registry, _)), Ok(handle)) =
            (self.runtime.get(), tokio::runtime::Handle::try_current())
        {
            let registry = registry.clone();
            handle.spawn(async move {
                let _ = registry.stop_gracefully().await;
            });
        }
    }
}

#[async_trait]
impl ThreadStore for ActorStore {
    fn as_any(&self) -> &dyn Any {
        self
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = Empty, epoch = Empty, items = params.history.len()))]
    async fn create_thread(&self, params: CreateThreadParams) -> ThreadStoreResult<ThreadWriter> {
        let id = params.thread_id.unwrap_or_else(ThreadId::new);
        Span::current().record("thread_id", display(id));
        let writer = self
            .call(id, Activation::Create, thread::Create(params))
            .await?;
        Span::current().record("epoch", writer.epoch);
        Ok(writer)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id))]
    async fn resume_thread(&self, params: ResumeThreadParams) -> ThreadStoreResult<ThreadWriter> {
        self.tell_existing(
            params.thread_id,
            thread::Resume {
                include_archived: params.include_archived,
            },
        )
        .await
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(
        thread_id = %params.thread_id,
        items = params.items.len(),
        first_position = Empty,
        deduplicated = Empty,
    ))]
    async fn append_items(
        &self,
        params: AppendThreadItemsParams,
    ) -> ThreadStoreResult<AppendResult> {
        let result = self
            .tell_existing(params.thread_id, thread::Append(params))
            .await?;
        let span = Span::current();
        span.record("first_position", result.first_position);
        span.record("deduplicated", result.deduplicated);
        Ok(result)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %thread_id))]
    async fn persist_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.tell_existing(thread_id, thread::Flush).await
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %thread_id))]
    async fn flush_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.tell_existing(thread_id, thread::Flush).await?;
        // Searchable too (bounded: a failing index never fails or holds up a flush).
        self.search.sync(self, search::FLUSH_WAIT).await;
        Ok(())
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %thread_id))]
    async fn shutdown_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.tell_existing(thread_id, thread::Shutdown).await
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %thread_id))]
    async fn discard_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        match self.tell_existing(thread_id, thread::Discard).await {
            Err(ThreadStoreError::ThreadNotFound { .. }) => Ok(()),
            other => other,
        }
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, items = Empty))]
    async fn load_history(
        &self,
        params: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredThreadHistory> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let history = self.history(&snap).await?;
        Span::current().record("items", history.items.len());
        Ok(history)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, items = Empty))]
    async fn load_log(
        &self,
        params: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredThreadHistory> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let log = self
            .lines(&snap, vec![(0, snap.record.next_position)])
            .await?;
        Span::current().record("items", log.items.len());
        Ok(log)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, from = Empty, items = Empty))]
    async fn load_latest_model_context(
        &self,
        params: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredModelContext> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let context = read::latest_model_context(self.journal.as_ref(), &snap).await?;
        Span::current().record("from", context.from_position);
        Span::current().record("items", context.items.len());
        Ok(context)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, history = params.include_history))]
    async fn read_thread(&self, params: ReadThreadParams) -> ThreadStoreResult<StoredThread> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let mut thread = stored_thread(&snap.record, snap.live);
        if params.include_history {
            thread.history = Some(self.history(&snap).await?);
        }
        Ok(thread)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(rollout_path = %params.rollout_path.display()))]
    async fn read_thread_by_rollout_path(
        &self,
        params: ReadThreadByRolloutPathParams,
    ) -> ThreadStoreResult<StoredThread> {
        let path = params.rollout_path.to_string_lossy().into_owned();
        let id = self.journal.by_rollout_path(&path).await?.ok_or_else(|| {
            ThreadStoreError::invalid(format!("no thread recorded for rollout path {path}"))
        })?;
        self.read_thread(ReadThreadParams {
            thread_id: id,
            include_archived: params.include_archived,
            include_history: params.include_history,
        })
        .await
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(page_size = params.page_size, archived = params.archived, threads = Empty))]
    async fn list_threads(&self, params: ListThreadsParams) -> ThreadStoreResult<ThreadPage> {
        let page = list::list_threads(self, params).await?;
        Span::current().record("threads", page.items.len());
        Ok(page)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(term = %params.search_term, threads = Empty))]
    async fn search_threads(
        &self,
        params: SearchThreadsParams,
    ) -> ThreadStoreResult<ThreadSearchPage> {
        let page = search::search_threads(self, params).await?;
        Span::current().record("threads", page.items.len());
        Ok(page)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, page_size = params.page_size, turns = Empty))]
    async fn list_turns(&self, params: ListTurnsParams) -> ThreadStoreResult<TurnPage> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let page = read::list_turns(self.journal.as_ref(), &snap, &params).await?;
        Span::current().record("turns", page.turns.len());
        Ok(page)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, turn_id = ?params.turn_id, items = Empty))]
    async fn list_items(&self, params: ListItemsParams) -> ThreadStoreResult<ItemPage> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let page = read::list_items(self.journal.as_ref(), &snap, &params).await?;
        Span::current().record("items", page.items.len());
        Ok(page)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, turn_id = ?params.turn_id, items = Empty))]
    async fn list_thread_items(
        &self,
        params: ListItemsParams,
    ) -> ThreadStoreResult<ThreadItemPage> {
        let snap = self
            .committed(params.thread_id, params.include_archived)
            .await?;
        let page = read::list_thread_items(self.journal.as_ref(), &snap, &params).await?;
        Span::current().record("items", page.items.len());
        Ok(page)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, occurrences = Empty))]
    async fn search_thread_occurrences(
        &self,
        params: SearchOccurrencesParams,
    ) -> ThreadStoreResult<OccurrencePage> {
        let snap = self.committed(params.thread_id, true).await?;
        let page = occurrences::search_occurrences(self.journal.as_ref(), &snap, &params).await?;
        Span::current().record("occurrences", page.occurrences.len());
        Ok(page)
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id))]
    async fn update_thread_metadata(
        &self,
        params: UpdateThreadMetadataParams,
    ) -> ThreadStoreResult<StoredThread> {
        let snap = self
            .tell_existing(
                params.thread_id,
                thread::Patch {
                    patch: params.patch,
                    include_archived: params.include_archived,
                    at: params.at,
                },
            )
            .await?;
        Ok(stored_thread(&snap.record, snap.live))
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, turn_id = %params.before_turn_id))]
    async fn revert_thread(&self, params: RevertThreadParams) -> ThreadStoreResult<RevertedThread> {
        let snap = self
            .tell_existing(
                params.thread_id,
                thread::Revert {
                    before_turn_id: params.before_turn_id,
                    revision: params.revision,
                },
            )
            .await?;
        let (turns_backwards_cursor, items_backwards_cursor) =
            read::newest_cursors(self.journal.as_ref(), &snap).await?;
        Ok(RevertedThread {
            thread: stored_thread(&snap.record, snap.live),
            turns_backwards_cursor,
            items_backwards_cursor,
        })
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, num_turns = params.num_turns))]
    async fn rollback_thread(
        &self,
        params: RollbackThreadParams,
    ) -> ThreadStoreResult<StoredThread> {
        let snap = self
            .tell_existing(
                params.thread_id,
                thread::Rollback {
                    num_turns: params.num_turns,
                },
            )
            .await?;
        Ok(stored_thread(&snap.record, snap.live))
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, child = Empty))]
    async fn fork_thread(&self, params: ForkThreadParams) -> ThreadStoreResult<ThreadWriter> {
        let child = params.new_thread_id.unwrap_or_else(ThreadId::new);
        Span::current().record("child", display(child));
        if child == params.thread_id {
            return Err(ThreadStoreError::invalid(format!(
                "a fork needs a new id; {child} is the thread forked"
            )));
        }
        self.tell_existing(
            params.thread_id,
            thread::Fork {
                child,
                boundary: params.boundary,
                rollout_path: params
                    .rollout_path
                    .map(|p| p.to_string_lossy().into_owned()),
                header: params.header.as_ref().map(LogRecord::from_line),
            },
        )
        .await
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id))]
    async fn archive_thread(&self, params: ArchiveThreadParams) -> ThreadStoreResult<StoredThread> {
        let snap = self
            .tell_existing(
                params.thread_id,
                thread::SetArchived {
                    archived: true,
                    at: params.at,
                },
            )
            .await?;
        Ok(stored_thread(&snap.record, snap.live))
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id))]
    async fn unarchive_thread(
        &self,
        params: ArchiveThreadParams,
    ) -> ThreadStoreResult<StoredThread> {
        let snap = self
            .tell_existing(
                params.thread_id,
                thread::SetArchived {
                    archived: false,
                    at: params.at,
                },
            )
            .await?;
        Ok(stored_thread(&snap.record, snap.live))
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(thread_id = %params.thread_id, descendants = Empty))]
    async fn delete_thread(&self, params: DeleteThreadParams) -> ThreadStoreResult<()> {
        let root = params.thread_id;
        // An unknown thread is `ThreadNotFound`, whatever claims it as a parent.
        self.committed(root, true).await?;
        let descendants = self.descendants(root).await?;
        Span::current().record("descendants", descendants.len());
        // Deepest first, so a failure leaves every ancestor of what remains in place.
        for id in descendants.into_iter().rev() {
            match self.tell_existing(id, thread::Delete).await {
                Ok(()) | Err(ThreadStoreError::ThreadNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.tell_existing(root, thread::Delete).await
    }

    /// See [`crate::bus`] for how catch-up and live delivery meet without a gap.
    #[instrument(level = "debug", skip_all, err(level = "debug"), fields(start = ?params.start))]
    async fn subscribe(&self, params: SubscribeParams) -> ThreadStoreResult<FeedStream> {
        Ok(Box::pin(self.bus.subscribe(self.journal.clone(), params)))
    }

    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn store_stats(&self, _params: StoreStatsParams) -> ThreadStoreResult<StoreStats> {
        Ok(StoreStats {
            feed_head: self.feed_head(),
            bytes_on_disk: self.journal.size_on_disk(),
            live_actors: self.live_actors().await? as u64,
            subscribers: self.subscriber_count() as u64,
            search_index: self.search.stats(self).await,
            feed_lag: self.journal.feed_lag().await?,
        })
    }
}

impl ActorStore {
    /// Every thread spawned from `root`, transitively (by `parent_thread_id`), in breadth-first
    /// order: parents before their children. A spawn graph with a cycle (ids are the callers')
    /// visits each thread once.
    async fn descendants(&self, root: ThreadId) -> ThreadStoreResult<Vec<ThreadId>> {
        let mut seen = std::collections::HashSet::from([root]);
        let mut order = Vec::new();
        let mut queue = std::collections::VecDeque::from([root]);
        while let Some(parent) = queue.pop_front() {
            for child in self.journal.children(parent).await? {
                if seen.insert(child) {
                    order.push(child);
                    queue.push_back(child);
                }
            }
        }
        Ok(order)
    }

    /// Streams the whole log in chunks, bounded by the snapshot's next position.
    async fn history(&self, snap: &ThreadSnapshot) -> ThreadStoreResult<StoredThreadHistory> {
        // Reverted ranges are no history (their lines stay in the log).
        let ranges = snap
            .record
            .turns
            .visible_ranges(0, snap.record.next_position);
        self.lines(snap, ranges).await
    }

    /// The thread's lines in `ranges` (ascending, disjoint), in log order.
    async fn lines(
        &self,
        snap: &ThreadSnapshot,
        ranges: Vec<(u64, u64)>,
    ) -> ThreadStoreResult<StoredThreadHistory> {
        let id = snap.record.thread_id;
        let mut items = Vec::new();
        for (mut from, end) in ranges {
            while from < end {
                let chunk = self
                    .journal
                    .log_range(id, from, end, SortDirection::Asc, 1024)
                    .await?;
                let Some((last, _)) = chunk.last() else { break };
                from = last + 1;
                items.extend(
                    chunk
                        .into_iter()
                        .map(|(p, r)| convert::line(id, p, r))
                        .collect::<ThreadStoreResult<Vec<_>>>()?,
                );
            }
        }
        Ok(StoredThreadHistory {
            thread_id: id,
            items,
        })
    }
}

//! The write group: concurrent commits are combined into one engine batch.
//!
//! **Why**: sled 0.34 seals and writes its IO buffer twice for every `apply_batch` (it rolls the
//! buffer before and after reserving the batch manifest), so one batch per append costs two write
//! syscalls and a hand-off to sled's IO threads, whatever the batch's size. Measured with 64
//! writers: ~1.8 write syscalls and ~3.9 KB written per single-item append. Combining the commits
//! that arrive while a batch is being applied pays that cost once per group instead.
//!
//! **How** (leader/follower, as LevelDB's write group): a commit that finds no leader becomes the
//! leader; the others queue up and wait. The leader takes everything queued (at most
//! [`WriteGroupOptions::max_group_commits`]), gives the feed events consecutive positions in queue
//! order, applies all of it as one batch (with one feed block for all their events, see
//! [`crate::feed`]) inline when small, else off the async worker ([`crate::offload::apply`]),
//! publishes the events to the listener, answers every follower,
//! then hands leadership to the oldest waiting commit (or steps down). Each leader applies one
//! group, so no caller is stuck leading for others. (A dedicated writer thread was tried: it adds
//! two thread hand-offs per group on every append's path.)
//!
//! **Failure semantics**:
//! - *Cancellation*: leadership is handed on by a drop guard, so a leader whose future is dropped
//!   (at its one await point, before applying) never leaves the others waiting, and so is a
//!   waiting commit dropped after leadership was handed to it but before it read that. A commit whose
//!   caller is gone before its group is built is not applied (its thread actor never learned of
//!   it, so applying it would leave the actor's state behind the store's).
//! - *Panics*: a panic in the engine's apply (or the listener) is caught: the group fails with
//!   `Internal`, the head does not move, and the next group goes on.
//! - *Backpressure*: at most [`WriteGroupOptions::queue_capacity`] commits are in flight (queued or
//!   applying); a commit that finds no room waits up to [`WriteGroupOptions::queue_timeout`], then
//!   fails with `ResourceExhausted` and writes nothing.
//!
//! **Invariants**:
//! - *Atomic per commit*: a group is applied all or nothing, so each commit in it is too, also
//!   across a crash; groups are applied in order, so a crash leaves a prefix of whole commits.
//! - *Feed order = apply order*: positions are assigned by the one leader, right before applying,
//!   and the head only advances after a successful apply; a failed group burns no positions.
//! - *Listener calls never interleave*: only the leader calls it, after applying and before
//!   handing off.
//! - Commits of one thread are never in the same group twice out of order: its actor awaits each
//!   commit before the next. Keys of different threads are disjoint, so merging cannot reorder
//!   writes to one key.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use threadstore_api::{FeedEvent, FeedEventKind, ThreadId, ThreadStoreError};
use tokio::sync::{oneshot, Semaphore};

use crate::codec::encode;
use crate::engine::{KvEngine, WriteBatch};
use crate::journal::FeedListener;
use crate::keys;
use crate::records::{FeedBlock, FeedRecord};
use crate::StorageResult;

/// One commit's writes and feed events.
pub struct GroupCommit {
    /// Writes of the commit (log, projections, indexes).
    pub batch: WriteBatch,
    /// The thread the events are about.
    pub thread: ThreadId,
    /// Commit time, unix ms.
    pub ts_ms: i64,
    /// Feed events, given consecutive positions.
    pub events: Vec<FeedEventKind>,
}

/// Settings of the write group.
#[derive(Clone, Debug)]
pub struct WriteGroupOptions {
    /// Commits in flight (queued or being applied); beyond it, `commit` waits for room.
    pub queue_capacity: usize,
    /// How long `commit` waits for room before `ResourceExhausted`.
    pub queue_timeout: Duration,
    /// Most commits combined into one engine batch.
    pub max_group_commits: usize,
}

impl Default for WriteGroupOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            queue_timeout: Duration::from_secs(10),
            max_group_commits: 512,
        }
    }
}

/// What a waiting commit is told.
enum Outcome {
    /// Its group was applied (or failed).
    Done(StorageResult<()>),
    /// It leads the next group; its own commit comes back to it.
    Lead(GroupCommit),
}

struct Waiting {
    commit: GroupCommit,
    tx: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct State {
    /// A leader is applying a group (or about to).
    leading: bool,
    /// Commits waiting for the next group, in arrival order.
    queue: VecDeque<Waiting>,
}

/// Combines concurrent commits into one engine batch each (see the module docs).
pub struct WriteGroup {
    engine: Arc<dyn KvEngine>,
    listener: Arc<OnceLock<FeedListener>>,
    state: Mutex<State>,
    /// Next feed position.
    head: AtomicU64,
    /// Room for commits in flight.
    room: Semaphore,
    queue_timeout: Duration,
    max_group: usize,
}

impl WriteGroup {
    /// A write group over `engine` whose next feed position is `head`. The listener is read when
    /// each group is published, so it may be set later. Settings of 0 are taken as 1 (stores
    /// validate their settings before: `StoreConfig::validate`).
    pub fn new(
        engine: Arc<dyn KvEngine>,
        head: u64,
        listener: Arc<OnceLock<FeedListener>>,
        options: &WriteGroupOptions,
    ) -> Self {
        Self {
            engine,
            listener,
            state: Mutex::new(State::default()),
            head: AtomicU64::new(head),
            room: Semaphore::new(options.queue_capacity.clamp(1, Semaphore::MAX_PERMITS)),
            queue_timeout: options.queue_timeout,
            max_group: options.max_group_commits.max(1),
        }
    }

    /// The next feed position (= feed events applied so far).
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// The state. Its lock is never held across code that can panic (only queue and flag
    /// updates), so a poisoned lock still holds a consistent state and is recovered.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `commit` with whatever else is waiting, atomically; returns once it is applied
    /// (see the module docs for cancellation, panics and backpressure).
    pub async fn commit(&self, commit: GroupCommit) -> StorageResult<()> {
        // Room is nearly always there: only a full group waits (and only then arms a timer).
        let room = match self.room.try_acquire() {
            Ok(permit) => Ok(Ok(permit)),
            Err(_) => tokio::time::timeout(self.queue_timeout, self.room.acquire()).await,
        };
        let _room = match room {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(ThreadStoreError::internal("the write group is closed")),
            Err(_) => {
                return Err(ThreadStoreError::ResourceExhausted {
                    message: format!(
                        "the write queue stayed full for {:?}; nothing was written",
                        self.queue_timeout
                    ),
                })
            }
        };
        let rx = {
            let mut state = self.state();
            if state.leading {
                let (tx, rx) = oneshot::channel();
                state.queue.push_back(Waiting { commit, tx });
                Err(rx)
            } else {
                state.leading = true;
                Ok(commit)
            }
        };
        let own = match rx {
            Ok(own) => own,
            Err(rx) => {
                let mut follower = Follower {
                    group: self,
                    rx: Some(rx),
                };
                match follower.answer().await {
                    Some(Outcome::Done(result)) => return result,
                    Some(Outcome::Lead(own)) => own,
                    None => return Err(ThreadStoreError::internal("write group leader vanished")),
                }
            }
        };
        self.lead(own).await
    }

    /// Leads one group: `own` first, then what is queued; hands leadership on when done or
    /// dropped.
    async fn lead(&self, own: GroupCommit) -> StorageResult<()> {
        let _leadership = Leadership(self);
        // Let commits that are being computed right now on this worker join the group: one
        // yield is enough to collect them, and costs far less than the batch it saves.
        tokio::task::yield_now().await;
        let followers: Vec<Waiting> = {
            let mut state = self.state();
            let n = state.queue.len().min(self.max_group - 1);
            state.queue.drain(..n).collect()
        };
        // A follower whose caller is gone is left out (see the module docs).
        let (commits, answers): (Vec<GroupCommit>, Vec<_>) = std::iter::once((own, None))
            .chain(
                followers
                    .into_iter()
                    .filter(|w| !w.tx.is_closed())
                    .map(|w| (w.commit, Some(w.tx))),
            )
            .unzip();
        let bytes = commits.iter().map(|c| c.batch.bytes()).sum();
        let result = crate::offload::apply(bytes, || self.apply_group(commits));
        for tx in answers.into_iter().flatten() {
            let _ = tx.send(Outcome::Done(result.clone()));
        }
        result
    }

    /// Hands leadership to the oldest waiting commit whose caller still listens, or steps down.
    fn hand_off(&self) {
        let mut state = self.state();
        while let Some(next) = state.queue.pop_front() {
            if next.tx.send(Outcome::Lead(next.commit)).is_ok() {
                return;
            }
            // Its caller is gone: the commit is dropped, never applied.
        }
        state.leading = false;
    }

    /// Applies one group as one batch; publishes and advances the head on success. A panic in
    /// the engine fails the group and leaves the head where it was.
    fn apply_group(&self, commits: Vec<GroupCommit>) -> StorageResult<()> {
        let head = self.head();
        let mut merged = WriteBatch::default();
        let mut block = FeedBlock::default();
        let mut published: Vec<FeedEvent> = Vec::new();
        let mut position = head;
        for commit in commits {
            add(
                &mut merged,
                &mut block,
                &mut published,
                &mut position,
                commit,
            );
        }
        // One feed key per group (see `crate::feed`); a group without events writes none.
        if !block.records.is_empty() {
            merged.put(keys::feed(head), encode(&block)?);
        }
        match catch_unwind(AssertUnwindSafe(|| self.engine.apply(merged))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(panic) => {
                let why = panic_message(panic.as_ref());
                tracing::error!(panic = %why, "the engine panicked while applying a write group");
                return Err(ThreadStoreError::internal(format!(
                    "the engine panicked while applying the write: {why}; nothing was acknowledged"
                )));
            }
        }
        if let (Some(listener), false) = (self.listener.get(), published.is_empty()) {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| listener(&published))) {
                tracing::error!(panic = %panic_message(panic.as_ref()), "the feed listener panicked; the write is applied");
            }
        }
        self.head.store(position, Ordering::Release);
        Ok(())
    }
}

/// A waiting commit's end of its channel. Dropped before its answer is read (its caller's future
/// was cancelled), it closes the channel and, if leadership had already been handed to it, hands
/// it on: otherwise that leadership would be lost with the message and every later commit would
/// queue forever.
struct Follower<'a> {
    group: &'a WriteGroup,
    rx: Option<oneshot::Receiver<Outcome>>,
}

impl Follower<'_> {
    /// The answer, or `None` if the leader dropped the channel.
    async fn answer(&mut self) -> Option<Outcome> {
        let answer = self.rx.as_mut()?.await.ok();
        self.rx = None;
        answer
    }
}

impl Drop for Follower<'_> {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if let Ok(Outcome::Lead(_)) = rx.try_recv() {
                // Its commit is dropped, never applied (see the module docs).
                self.group.hand_off();
            }
        }
    }
}

/// Held by the leader; hands leadership on when the leader finishes, fails, panics or is
/// dropped.
struct Leadership<'a>(&'a WriteGroup);

impl Drop for Leadership<'_> {
    fn drop(&mut self) {
        self.0.hand_off();
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Adds one commit's writes to the group's batch and its events to the group's feed block.
fn add(
    merged: &mut WriteBatch,
    block: &mut FeedBlock,
    published: &mut Vec<FeedEvent>,
    position: &mut u64,
    commit: GroupCommit,
) {
    let GroupCommit {
        batch,
        thread,
        ts_ms,
        events,
    } = commit;
    merged.ops.extend(batch.ops);
    let at = Utc.timestamp_millis_opt(ts_ms).single().unwrap_or_default();
    for kind in events {
        block.records.push(FeedRecord {
            thread_id: thread,
            ts_ms,
            kind: kind.clone(),
        });
        published.push(FeedEvent {
            position: *position,
            thread_id: thread,
            at,
            kind,
        });
        *position += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::engine::{MemEngine, Scan};

    /// A memory engine that counts batches, is slow, and can be made to fail or panic.
    #[derive(Default)]
    struct Flaky {
        inner: MemEngine,
        batches: AtomicUsize,
        fail: AtomicBool,
        panic_once: AtomicBool,
    }

    impl KvEngine for Flaky {
        fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
            self.inner.get(key)
        }
        fn scan(
            &self,
            start: std::ops::Bound<Vec<u8>>,
            end: std::ops::Bound<Vec<u8>>,
            rev: bool,
        ) -> Scan<'_> {
            self.inner.scan(start, end, rev)
        }
        fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            if self.panic_once.swap(false, Ordering::SeqCst) {
                panic!("engine bug");
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err(ThreadStoreError::internal("disk on fire"));
            }
            // Slow enough that commits pile up behind the one being applied.
            std::thread::sleep(Duration::from_micros(200));
            self.inner.apply(batch)
        }
        fn flush(&self) -> StorageResult<()> {
            Ok(())
        }
        fn size_on_disk(&self) -> u64 {
            0
        }
    }

    fn commit(thread: ThreadId, n: u64) -> GroupCommit {
        let mut batch = WriteBatch::default();
        batch.put(keys::log(&thread, n), n.to_be_bytes().to_vec());
        GroupCommit {
            batch,
            thread,
            ts_ms: 1,
            events: vec![FeedEventKind::ItemsAppended {
                first_position: n,
                count: 1,
            }],
        }
    }

    fn group_over(
        flaky: &Arc<Flaky>,
        head: u64,
        listener: Option<FeedListener>,
        options: &WriteGroupOptions,
    ) -> WriteGroup {
        let slot = Arc::new(OnceLock::new());
        if let Some(l) = listener {
            let _ = slot.set(l);
        }
        let engine: Arc<dyn KvEngine> = flaky.clone();
        WriteGroup::new(engine, head, slot, options)
    }

    /// `tasks` tasks, each committing positions `0..per_task` of a thread of its own; each
    /// task's result is its thread.
    fn spawn_writers(
        group: &Arc<WriteGroup>,
        tasks: usize,
        per_task: u64,
    ) -> Vec<tokio::task::JoinHandle<ThreadId>> {
        (0..tasks)
            .map(|_| {
                let group = group.clone();
                tokio::spawn(async move {
                    let thread = ThreadId::new();
                    for n in 0..per_task {
                        group.commit(commit(thread, n)).await.unwrap();
                    }
                    thread
                })
            })
            .collect()
    }

    /// The positions in the durable feed from `from` on.
    fn feed_positions(flaky: &Flaky, from: u64) -> Vec<u64> {
        crate::feed::range(&flaky.inner, from, usize::MAX)
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect()
    }

    /// Many concurrent committers: every write lands once, feed positions are gapless and unique,
    /// the listener sees each event once in position order, and commits were combined.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_are_combined_and_ordered() {
        let flaky = Arc::new(Flaky::default());
        let seen = Arc::new(Mutex::new(Vec::<u64>::new()));
        let listener: FeedListener = {
            let seen = seen.clone();
            Box::new(move |events: &[FeedEvent]| {
                let mut seen = seen.lock().unwrap();
                seen.extend(events.iter().map(|e| e.position));
            })
        };
        let group = Arc::new(group_over(
            &flaky,
            10,
            Some(listener),
            &WriteGroupOptions::default(),
        ));
        let (tasks, per_task) = (32usize, 20u64);
        let handles = spawn_writers(&group, tasks, per_task);
        let mut threads = Vec::new();
        for h in handles {
            threads.push(h.await.unwrap());
        }
        let total = tasks as u64 * per_task;
        assert_eq!(group.head(), 10 + total);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, (10..10 + total).collect::<Vec<_>>());
        for t in threads {
            for n in 0..per_task {
                assert!(flaky.get(&keys::log(&t, n)).unwrap().is_some());
            }
        }
        // The durable feed holds the same positions, one block per group.
        assert_eq!(
            feed_positions(&flaky, 10),
            (10..10 + total).collect::<Vec<_>>()
        );
        let batches = flaky.batches.load(Ordering::SeqCst) as u64;
        assert!(batches < total, "{batches} batches for {total} commits");
    }

    /// A failed apply fails every commit of the group, burns no feed position and publishes
    /// nothing; the next group starts at the same head.
    #[tokio::test]
    async fn a_failed_group_fails_its_commits_and_keeps_the_head() {
        let flaky = Arc::new(Flaky::default());
        let published = Arc::new(AtomicUsize::new(0));
        let counter = published.clone();
        let listener: FeedListener = Box::new(move |events: &[FeedEvent]| {
            counter.fetch_add(events.len(), Ordering::SeqCst);
        });
        let group = group_over(&flaky, 3, Some(listener), &WriteGroupOptions::default());
        flaky.fail.store(true, Ordering::SeqCst);
        let err = group.commit(commit(ThreadId::new(), 0)).await.unwrap_err();
        assert!(err.to_string().contains("disk on fire"));
        assert_eq!(group.head(), 3);
        assert_eq!(published.load(Ordering::SeqCst), 0);
        flaky.fail.store(false, Ordering::SeqCst);
        group.commit(commit(ThreadId::new(), 0)).await.unwrap();
        assert_eq!(group.head(), 4);
        assert!(flaky.get(&keys::feed(3)).unwrap().is_some());
        assert_eq!(published.load(Ordering::SeqCst), 1);
    }

    /// Callers dropped (cancelled) while they lead or wait never leave the others waiting:
    /// leadership is handed on, every commit that is not cancelled is applied, and the feed
    /// stays gapless.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leader_cancel_hands_on_leadership() {
        let flaky = Arc::new(Flaky::default());
        let group = Arc::new(group_over(&flaky, 0, None, &WriteGroupOptions::default()));
        let steady = spawn_writers(&group, 8, 20);
        for n in 0..200u64 {
            let group = group.clone();
            // Dropped at its first pending poll: while leading (at the yield) or waiting.
            let _ = tokio::time::timeout(Duration::from_nanos(1), async move {
                group.commit(commit(ThreadId::new(), n)).await
            })
            .await;
        }
        for s in steady {
            let thread = tokio::time::timeout(Duration::from_secs(10), s)
                .await
                .expect("a commit waited forever behind a cancelled leader")
                .unwrap();
            for n in 0..20u64 {
                assert!(flaky.get(&keys::log(&thread, n)).unwrap().is_some());
            }
        }
        tokio::time::timeout(
            Duration::from_secs(10),
            group.commit(commit(ThreadId::new(), 0)),
        )
        .await
        .expect("a later commit must not wait forever")
        .unwrap();
        let head = group.head();
        assert!(head > 8 * 20, "{head}");
        assert_eq!(feed_positions(&flaky, 0), (0..head).collect::<Vec<_>>());
    }

    /// A panic inside the engine's apply fails that group with `Internal` and no position, and
    /// the write group goes on.
    #[tokio::test]
    async fn engine_panic_fails_the_group_and_the_next_goes_through() {
        let flaky = Arc::new(Flaky::default());
        let group = group_over(&flaky, 0, None, &WriteGroupOptions::default());
        flaky.panic_once.store(true, Ordering::SeqCst);
        let err = group.commit(commit(ThreadId::new(), 0)).await.unwrap_err();
        assert!(matches!(err, ThreadStoreError::Internal { .. }), "{err:?}");
        assert!(err.to_string().contains("engine bug"), "{err}");
        assert_eq!(group.head(), 0);
        group.commit(commit(ThreadId::new(), 0)).await.unwrap();
        assert_eq!(group.head(), 1);
    }

    /// A full queue is backpressure, then `ResourceExhausted` after the timeout.
    #[tokio::test]
    async fn a_full_write_queue_is_resource_exhausted() {
        /// An engine whose apply blocks until released (30 s at most).
        struct Stuck(std::sync::Mutex<bool>, std::sync::Condvar, MemEngine);
        impl KvEngine for Stuck {
            fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
                self.2.get(key)
            }
            fn scan(
                &self,
                s: std::ops::Bound<Vec<u8>>,
                e: std::ops::Bound<Vec<u8>>,
                r: bool,
            ) -> Scan<'_> {
                self.2.scan(s, e, r)
            }
            fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
                // Bounded, so a test that never releases it fails instead of hanging.
                let mut held = self.0.lock().unwrap();
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                while *held && std::time::Instant::now() < deadline {
                    held = self
                        .1
                        .wait_timeout(held, Duration::from_millis(100))
                        .unwrap()
                        .0;
                }
                self.2.apply(batch)
            }
            fn flush(&self) -> StorageResult<()> {
                Ok(())
            }
            fn size_on_disk(&self) -> u64 {
                0
            }
        }
        let stuck = Arc::new(Stuck(
            std::sync::Mutex::new(true),
            std::sync::Condvar::new(),
            MemEngine::default(),
        ));
        let options = WriteGroupOptions {
            queue_capacity: 3,
            queue_timeout: Duration::from_millis(100),
            max_group_commits: 1,
        };
        let engine: Arc<dyn KvEngine> = stuck.clone();
        let group = Arc::new(WriteGroup::new(
            engine,
            0,
            Arc::new(OnceLock::new()),
            &options,
        ));
        // One commit being applied (stuck) and two queued fill everything. Each runs on an OS
        // thread of its own with its own runtime, so the stuck apply blocks only that thread,
        // whatever the test runtime's workers do (a CI run hung when a stuck worker held them).
        // Wait until they hold every place rather than sleeping, with a deadline that fails
        // instead of hanging.
        let mut waiting = Vec::new();
        for n in 0..3u64 {
            let group = group.clone();
            waiting.push(std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(group.commit(commit(ThreadId::new(), n)))
            }));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while group.room.available_permits() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the three commits never held every place"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let err = group.commit(commit(ThreadId::new(), 9)).await.unwrap_err();
        assert!(
            matches!(err, ThreadStoreError::ResourceExhausted { .. }),
            "{err:?}"
        );
        *stuck.0.lock().unwrap() = false;
        stuck.1.notify_all();
        for w in waiting {
            w.join().expect("a committer thread").unwrap();
        }
        assert_eq!(group.head(), 3);
    }
}

//! The write group: concurrent commits are combined into one engine batch.
//!
//! **Why**: sled 0.34 seals and writes its IO buffer twice for every `apply_batch` (it rolls the
//! buffer before and after reserving the batch manifest), so one batch per append costs two write
//! syscalls and a hand-off to sled's IO threads, whatever the batch's size. Measured with 64
//! writers: ~1.8 write syscalls and ~3.9 KB written per single-item append. Combining the commits
//! that arrive while a batch is being applied pays that cost once per group instead.
//!
//! **How** (leader/follower, as LevelDB's write group): a commit that finds no leader becomes the
//! leader; the others queue up and wait. The leader takes everything queued, gives the feed events
//! consecutive positions in queue order, applies all of it as one batch (with one feed block for
//! all their events, see [`crate::feed`]), publishes the events to
//! the listener, answers every follower, then hands leadership to the oldest waiting commit (or
//! steps down). Each leader applies one group, so no caller is stuck leading for others.
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

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use threadstore_api::{FeedEvent, FeedEventKind, ThreadId, ThreadStoreError};
use tokio::sync::oneshot;

use crate::codec::encode;
use crate::engine::{KvEngine, WriteBatch};
use crate::keys;
use crate::records::{FeedBlock, FeedRecord};
use crate::StorageResult;

/// Called with each commit's feed events, in feed order, right after they are applied.
pub type Listener = dyn Fn(&[FeedEvent]) + Send + Sync;

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

struct State {
    /// Next feed position.
    head: u64,
    /// A leader is applying a group.
    leading: bool,
    /// Commits waiting for the next group, in arrival order.
    queue: Vec<Waiting>,
}

/// Combines concurrent commits into one engine batch each (see the module docs).
pub struct WriteGroup {
    state: Mutex<State>,
}

fn lock_poisoned() -> ThreadStoreError {
    ThreadStoreError::internal("write group lock poisoned")
}

impl WriteGroup {
    /// A write group whose next feed position is `head`.
    pub fn new(head: u64) -> Self {
        Self {
            state: Mutex::new(State {
                head,
                leading: false,
                queue: Vec::new(),
            }),
        }
    }

    /// The next feed position (= feed events applied so far).
    pub fn head(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.head)
    }

    /// Applies `commit` with whatever else is waiting, atomically; returns once it is applied.
    pub async fn commit(
        &self,
        engine: &Arc<dyn KvEngine>,
        listener: Option<&Listener>,
        commit: GroupCommit,
    ) -> StorageResult<()> {
        let rx = {
            let mut state = self.state.lock().map_err(|_| lock_poisoned())?;
            if state.leading {
                let (tx, rx) = oneshot::channel();
                state.queue.push(Waiting { commit, tx });
                Err(rx)
            } else {
                state.leading = true;
                Ok(commit)
            }
        };
        let own = match rx {
            Ok(own) => own,
            Err(rx) => match rx.await {
                Ok(Outcome::Done(result)) => return result,
                Ok(Outcome::Lead(own)) => own,
                Err(_) => return Err(ThreadStoreError::internal("write group leader vanished")),
            },
        };
        self.lead(engine, listener, own).await
    }

    /// Applies one group (`own` first, then everything queued), answers the followers and hands
    /// leadership on. A hand-off whose receiver is gone (its caller was cancelled) is applied
    /// here, so every queued commit is applied exactly once.
    async fn lead(
        &self,
        engine: &Arc<dyn KvEngine>,
        listener: Option<&Listener>,
        own: GroupCommit,
    ) -> StorageResult<()> {
        let mut mine = Some(own);
        let mut own_result = Ok(());
        let mut first_round = true;
        loop {
            let Some(own) = mine.take() else {
                return own_result;
            };
            // Let commits that are being computed right now on this worker join the group: one
            // yield is enough to collect them, and costs far less than the batch it saves.
            tokio::task::yield_now().await;
            let result = self.apply_group(engine, listener, own);
            if first_round {
                own_result = result;
                first_round = false;
            }
            let mut state = self.state.lock().map_err(|_| lock_poisoned())?;
            if state.queue.is_empty() {
                state.leading = false;
                return own_result;
            }
            let next = state.queue.remove(0);
            drop(state);
            if let Err(Outcome::Lead(orphan)) = next.tx.send(Outcome::Lead(next.commit)) {
                mine = Some(orphan);
            }
        }
    }

    /// Takes the queue, applies `own` and the queued commits as one batch, publishes, answers.
    fn apply_group(
        &self,
        engine: &Arc<dyn KvEngine>,
        listener: Option<&Listener>,
        own: GroupCommit,
    ) -> StorageResult<()> {
        let (followers, head) = {
            let mut state = self.state.lock().map_err(|_| lock_poisoned())?;
            (std::mem::take(&mut state.queue), state.head)
        };
        let mut merged = WriteBatch::default();
        let mut block = FeedBlock::default();
        let mut published: Vec<FeedEvent> = Vec::new();
        let mut position = head;
        add(&mut merged, &mut block, &mut published, &mut position, own);
        let mut answers: Vec<oneshot::Sender<Outcome>> = Vec::with_capacity(followers.len());
        for w in followers {
            add(
                &mut merged,
                &mut block,
                &mut published,
                &mut position,
                w.commit,
            );
            answers.push(w.tx);
        }
        // One feed key per group (see `crate::feed`); a group without events writes none.
        let applied = if block.records.is_empty() {
            engine.apply(merged)
        } else {
            encode(&block).and_then(|value| {
                merged.put(keys::feed(head), value);
                engine.apply(merged)
            })
        };
        if applied.is_ok() {
            // Publish and advance the head under the lock, so a subscriber that reads the head
            // ("from now") sees either both or neither.
            let mut state = self.state.lock().map_err(|_| lock_poisoned())?;
            if let Some(listener) = listener {
                if !published.is_empty() {
                    listener(&published);
                }
            }
            state.head = position;
        }
        for tx in answers {
            // A follower whose caller was cancelled no longer listens; its writes are applied.
            let _ = tx.send(Outcome::Done(applied.clone()));
        }
        applied
    }
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

    /// A memory engine that counts batches and can be made to fail.
    #[derive(Default)]
    struct Flaky {
        inner: MemEngine,
        batches: AtomicUsize,
        fail: AtomicBool,
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
            if self.fail.load(Ordering::SeqCst) {
                return Err(ThreadStoreError::internal("disk on fire"));
            }
            // Slow enough that commits pile up behind the leader.
            std::thread::sleep(std::time::Duration::from_micros(200));
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

    /// Many concurrent committers: every write lands once, feed positions are gapless and unique,
    /// the listener sees each event once in position order, and commits were combined.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_are_combined_and_ordered() {
        let flaky = Arc::new(Flaky::default());
        let engine: Arc<dyn KvEngine> = flaky.clone();
        let group = Arc::new(WriteGroup::new(10));
        let seen = Arc::new(Mutex::new(Vec::<u64>::new()));
        let listener: Arc<Listener> = {
            let seen = seen.clone();
            Arc::new(move |events: &[FeedEvent]| {
                let mut seen = seen.lock().unwrap();
                seen.extend(events.iter().map(|e| e.position));
            })
        };
        let (tasks, per_task) = (32usize, 20u64);
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let (engine, group, listener) = (engine.clone(), group.clone(), listener.clone());
            handles.push(tokio::spawn(async move {
                let thread = ThreadId::new();
                for n in 0..per_task {
                    group
                        .commit(&engine, Some(listener.as_ref()), commit(thread, n))
                        .await
                        .unwrap();
                }
                thread
            }));
        }
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
                assert!(engine.get(&keys::log(&t, n)).unwrap().is_some());
            }
        }
        // The durable feed holds the same positions, one block per group.
        let feed: Vec<u64> = crate::feed::range(engine.as_ref(), 10, usize::MAX)
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(feed, (10..10 + total).collect::<Vec<_>>());
        let batches = flaky.batches.load(Ordering::SeqCst) as u64;
        assert!(batches < total, "{batches} batches for {total} commits");
    }

    /// A failed apply fails every commit of the group, burns no feed position and publishes
    /// nothing; the next group starts at the same head.
    #[tokio::test]
    async fn a_failed_group_fails_its_commits_and_keeps_the_head() {
        let flaky = Arc::new(Flaky::default());
        let engine: Arc<dyn KvEngine> = flaky.clone();
        let group = WriteGroup::new(3);
        let published = Arc::new(AtomicUsize::new(0));
        let counter = published.clone();
        let listener = move |events: &[FeedEvent]| {
            counter.fetch_add(events.len(), Ordering::SeqCst);
        };
        flaky.fail.store(true, Ordering::SeqCst);
        let err = group
            .commit(&engine, Some(&listener), commit(ThreadId::new(), 0))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("disk on fire"));
        assert_eq!(group.head(), 3);
        assert_eq!(published.load(Ordering::SeqCst), 0);
        flaky.fail.store(false, Ordering::SeqCst);
        group
            .commit(&engine, Some(&listener), commit(ThreadId::new(), 0))
            .await
            .unwrap();
        assert_eq!(group.head(), 4);
        assert!(engine.get(&keys::feed(3)).unwrap().is_some());
        assert_eq!(published.load(Ordering::SeqCst), 1);
    }
}

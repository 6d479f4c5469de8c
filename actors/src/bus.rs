//! The event bus: live and catch-up subscriptions to one thread, a set, or all.
//!
//! Built on tokio channels rather than kameo_actors' pub-sub, on purpose: kameo_actors delivers
//! best-effort by default (a full mailbox silently drops), while a subscriber here must see every
//! event exactly once, in feed order. So:
//!
//! - The **durable feed** (journal `F` keys) is the source of truth; every commit's events have
//!   gapless positions in commit order.
//! - The journal hands each commit's events to [`Bus::publish`] under its feed lock, which forwards
//!   them to a `tokio::sync::broadcast` ring. `send` never waits, so writers never wait for a
//!   subscriber, however slow.
//! - Each subscription is a task with a **bounded** buffer towards its consumer. It subscribes to
//!   the ring first, then catches up from the durable feed up to the head, then forwards live
//!   events, skipping positions it already delivered: no gap, no duplicate across the switch.
//! - A subscriber that falls so far behind that the ring overwrote events it had not read gets
//!   [`FeedMessage::Lagged`] with the position to resume from, and its stream ends; subscribing
//!   again from that position catches up from the durable feed, so nothing is lost.
//! - Dropping the stream closes the buffer; the task notices (`closed()`) and exits.

use std::sync::{Arc, Weak};

use futures::Stream;
use threadstore_api::{FeedEvent, FeedMessage, FeedStart, SubscribeParams, ThreadStoreResult};
use threadstore_storage::Journal;
use tokio::sync::{broadcast, mpsc, watch};

/// The bus: a broadcast ring of committed events.
#[derive(Clone)]
pub struct Bus {
    ring: broadcast::Sender<FeedEvent>,
    stopped: watch::Sender<bool>,
}

/// Events kept in the live ring for subscribers that are momentarily behind.
pub const RING_CAPACITY: usize = 4096;

impl Bus {
    /// A bus with the default ring.
    pub fn new() -> Self {
        Self::with_capacity(RING_CAPACITY)
    }

    /// A bus whose live ring holds `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        let (ring, _) = broadcast::channel(capacity.max(1));
        let (stopped, _) = watch::channel(false);
        Self { ring, stopped }
    }

    /// Number of live subscription tasks.
    pub fn subscriber_count(&self) -> usize {
        self.ring.receiver_count()
    }

    /// Ends every subscription (the store is closing).
    pub fn shutdown(&self) {
        let _ = self.stopped.send(true);
    }

    /// Forwards committed events (called by the journal, in feed order). Never waits.
    pub fn publish(&self, events: &[FeedEvent]) {
        for e in events {
            let _ = self.ring.send(e.clone());
        }
    }

    /// Subscribes; the stream yields events in feed order from the chosen start.
    pub fn subscribe(
        &self,
        journal: Arc<dyn Journal>,
        params: SubscribeParams,
    ) -> impl Stream<Item = ThreadStoreResult<FeedMessage>> + Send + 'static {
        let live = self.ring.subscribe();
        let mut params = params;
        // "Now" is the feed head at the time of this call, not when the task first runs.
        if params.start == FeedStart::Now {
            params.start = FeedStart::At(journal.feed_head());
        }
        let capacity = if params.buffer == 0 {
            1024
        } else {
            params.buffer
        };
        let (tx, rx) = mpsc::channel(capacity);
        let stop = self.stopped.subscribe();
        tokio::spawn(run(Arc::downgrade(&journal), params, live, tx, stop));
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) })
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

fn wanted(p: &SubscribeParams, e: &FeedEvent) -> bool {
    p.threads.as_ref().is_none_or(|t| t.contains(&e.thread_id))
        && p.kinds.as_ref().is_none_or(|k| k.contains(&e.kind.kind()))
}

type Out = mpsc::Sender<ThreadStoreResult<FeedMessage>>;

/// Delivers durable events in `[*next, until)` (or up to the head when `until` is `None`).
/// Subscription tasks hold the journal weakly, so a closing store is not kept open by them.
async fn catch_up(
    journal: &Weak<dyn Journal>,
    p: &SubscribeParams,
    next: &mut u64,
    until: Option<u64>,
    out: &Out,
) -> Result<(), ()> {
    loop {
        let Some(journal) = journal.upgrade() else {
            return Err(());
        };
        let end = until.unwrap_or_else(|| journal.feed_head());
        if *next >= end {
            return Ok(());
        }
        let limit = (end - *next).min(512) as usize;
        let batch = match journal.feed_range(*next, limit).await {
            Ok(b) => b,
            Err(e) => {
                let _ = out.send(Err(e)).await;
                return Err(());
            }
        };
        if batch.is_empty() {
            return Ok(());
        }
        for e in batch {
            *next = e.position + 1;
            if wanted(p, &e) && out.send(Ok(FeedMessage::Event(e))).await.is_err() {
                return Err(());
            }
        }
    }
}

async fn run(
    journal: Weak<dyn Journal>,
    p: SubscribeParams,
    mut live: broadcast::Receiver<FeedEvent>,
    out: Out,
    mut stop: watch::Receiver<bool>,
) {
    let Some(head) = journal.upgrade().map(|j| j.feed_head()) else {
        return;
    };
    let mut next = match p.start {
        FeedStart::Now => head,
        FeedStart::Beginning => 0,
        FeedStart::After(pos) => pos.saturating_add(1),
        FeedStart::At(pos) => pos,
    };
    if catch_up(&journal, &p, &mut next, None, &out).await.is_err() {
        return;
    }
    if out
        .send(Ok(FeedMessage::Live {
            next_position: next,
        }))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let received = tokio::select! {
            _ = out.closed() => return,
            _ = stop.wait_for(|s| *s) => return,
            r = live.recv() => r,
        };
        match received {
            Ok(e) if e.position < next => continue,
            Ok(e) => {
                // Events published before this task caught up are read from the durable feed.
                if catch_up(&journal, &p, &mut next, Some(e.position), &out)
                    .await
                    .is_err()
                {
                    return;
                }
                next = e.position + 1;
                if wanted(&p, &e) && out.send(Ok(FeedMessage::Event(e))).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                let _ = out
                    .send(Ok(FeedMessage::Lagged { resume_from: next }))
                    .await;
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

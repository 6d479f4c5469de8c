//! The registry: which thread actors are live, activation on first use, passivation of idle ones.
//!
//! Invariant: at most one running actor per thread. A passivated (or crashed) actor is kept in
//! `stopping` until it has fully shut down; a lookup for that thread is told to wait for it, so a
//! new incarnation never overlaps the old one.
//!
//! Only lookups that may create a thread, or that come for a thread known to exist, activate an
//! actor (`Lookup::activate`); the store checks the journal first, so an unknown id costs no
//! actor. Recency is kept in an ordered map (use tick → thread), so evicting the least recently
//! used actors at the cap costs O(log n) each, not a sort of every live actor.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use kameo::actor::{Actor, ActorRef, Spawn};
use kameo::mailbox;
use kameo::message::{Context, Message};
use threadstore_api::ThreadId;
use tracing::instrument;

use crate::thread::{ThreadActor, ThreadDeps};

/// A live actor and when it was last used.
struct Live {
    actor: ActorRef<ThreadActor>,
    used: Instant,
    /// Its key in `Registry::recency`.
    tick: u64,
}

/// Live thread actors.
pub struct Registry {
    deps: ThreadDeps,
    live: HashMap<ThreadId, Live>,
    /// Live threads by last use, oldest first.
    recency: BTreeMap<u64, ThreadId>,
    next_tick: u64,
    stopping: HashMap<ThreadId, ActorRef<ThreadActor>>,
}

impl Actor for Registry {
    type Args = ThreadDeps;
    type Error = kameo::error::Infallible;

    async fn on_start(deps: Self::Args, me: ActorRef<Self>) -> Result<Self, Self::Error> {
        let period = (deps.config.idle_timeout / 2).max(Duration::from_millis(10));
        let weak = me.downgrade();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(me) = weak.upgrade() else { break };
                if me.tell(Sweep).await.is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            deps,
            live: HashMap::new(),
            recency: BTreeMap::new(),
            next_tick: 0,
            stopping: HashMap::new(),
        })
    }

    async fn on_stop(
        &mut self,
        _: kameo::actor::WeakActorRef<Self>,
        _: kameo::error::ActorStopReason,
    ) -> Result<(), Self::Error> {
        self.stop_all().await;
        Ok(())
    }
}

/// Answer to [`Lookup`].
#[derive(kameo::Reply)]
pub enum Route {
    /// Send to this actor.
    Ready(ActorRef<ThreadActor>),
    /// An older incarnation is still shutting down: wait for it, then look up again.
    WaitFor(ActorRef<ThreadActor>),
    /// No actor is live and the lookup did not ask to activate one.
    NotLive,
}

/// Finds the actor of a thread; activates one when `activate` is set.
pub struct Lookup {
    /// The thread.
    pub id: ThreadId,
    /// Start an actor if none is live.
    pub activate: bool,
}

/// Passivates idle actors (sent periodically).
pub struct Sweep;

/// Number of live actors (stats and tests).
pub struct LiveCount;

/// Stops every thread actor (after their queued messages) and waits until they are gone.
pub struct StopAll;

impl Registry {
    fn tick(&mut self) -> u64 {
        self.next_tick += 1;
        self.next_tick
    }

    fn passivate(&mut self, id: ThreadId) {
        if let Some(Live { actor, tick, .. }) = self.live.remove(&id) {
            self.recency.remove(&tick);
            tracing::debug!(thread = %id, "passivating thread actor");
            let stopping = actor.clone();
            tokio::spawn(async move {
                let _ = stopping.stop_gracefully().await;
            });
            self.stopping.insert(id, actor);
        }
    }

    async fn stop_all(&mut self) {
        let actors: Vec<_> = self
            .live
            .drain()
            .map(|(_, l)| l.actor)
            .chain(self.stopping.drain().map(|(_, a)| a))
            .collect();
        for a in &actors {
            let _ = a.stop_gracefully().await;
        }
        for a in &actors {
            a.wait_for_shutdown().await;
        }
    }

    fn reap(&mut self) {
        self.stopping.retain(|_, a| a.is_alive());
    }
}

impl Message<Lookup> for Registry {
    type Reply = Route;

    #[instrument(level = "trace", name = "registry.lookup", skip_all, fields(thread_id = %msg.id, activate = msg.activate, live = self.live.len()))]
    async fn handle(&mut self, msg: Lookup, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let id = msg.id;
        let now = Instant::now();
        let tick = self.tick();
        if let Some(live) = self.live.get_mut(&id) {
            if live.actor.is_alive() {
                live.used = now;
                self.recency.remove(&live.tick);
                live.tick = tick;
                self.recency.insert(tick, id);
                return Route::Ready(live.actor.clone());
            }
            self.passivate(id);
        }
        if let Some(old) = self.stopping.get(&id) {
            if old.is_alive() {
                return Route::WaitFor(old.clone());
            }
            self.stopping.remove(&id);
        }
        if !msg.activate {
            return Route::NotLive;
        }
        while self.live.len() >= self.deps.config.max_live_actors {
            let Some((_, victim)) = self.recency.pop_first() else {
                break;
            };
            self.passivate(victim);
        }
        let actor = ThreadActor::spawn_with_mailbox(
            (id, self.deps.clone()),
            mailbox::bounded(self.deps.config.mailbox_capacity),
        );
        self.live.insert(
            id,
            Live {
                actor: actor.clone(),
                used: now,
                tick,
            },
        );
        self.recency.insert(tick, id);
        Route::Ready(actor)
    }
}

impl Message<Sweep> for Registry {
    type Reply = ();

    #[instrument(level = "trace", name = "registry.sweep", skip_all, fields(live = self.live.len()))]
    async fn handle(&mut self, _: Sweep, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let timeout = self.deps.config.idle_timeout;
        let idle: Vec<ThreadId> = self
            .live
            .iter()
            .filter(|(_, l)| l.used.elapsed() >= timeout || !l.actor.is_alive())
            .map(|(k, _)| *k)
            .collect();
        for id in idle {
            self.passivate(id);
        }
        self.reap();
    }
}

impl Message<LiveCount> for Registry {
    type Reply = usize;

    #[instrument(level = "trace", name = "registry.live_count", skip_all)]
    async fn handle(&mut self, _: LiveCount, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.live.len()
    }
}

impl Message<StopAll> for Registry {
    type Reply = ();

    #[instrument(level = "debug", name = "registry.stop_all", skip_all, fields(live = self.live.len()))]
    async fn handle(&mut self, _: StopAll, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.stop_all().await;
    }
}

//! The registry: which thread actors are live, activation on first use, passivation of idle ones.
//!
//! Invariant: at most one running actor per thread. A passivated (or crashed) actor is kept in
//! `stopping` until it has fully shut down; a lookup for that thread is told to wait for it, so a
//! new incarnation never overlaps the old one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kameo::actor::{Actor, ActorRef, Spawn};
use kameo::mailbox;
use kameo::message::{Context, Message};
use threadstore_api::ThreadId;

use crate::thread::{ThreadActor, ThreadDeps};

/// Live thread actors.
pub struct Registry {
    deps: ThreadDeps,
    live: HashMap<ThreadId, (ActorRef<ThreadActor>, Instant)>,
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
}

/// Finds or activates the actor of a thread.
pub struct Lookup(pub ThreadId);

/// Passivates idle actors (sent periodically).
pub struct Sweep;

/// Number of live actors (stats and tests).
pub struct LiveCount;

/// Stops every thread actor (after their queued messages) and waits until they are gone.
pub struct StopAll;

impl Registry {
    fn passivate(&mut self, id: ThreadId) {
        if let Some((actor, _)) = self.live.remove(&id) {
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
            .map(|(_, (a, _))| a)
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

    async fn handle(&mut self, msg: Lookup, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let id = msg.0;
        let now = Instant::now();
        if let Some((actor, used)) = self.live.get_mut(&id) {
            if actor.is_alive() {
                *used = now;
                return Route::Ready(actor.clone());
            }
            self.passivate(id);
        }
        if let Some(old) = self.stopping.get(&id) {
            if old.is_alive() {
                return Route::WaitFor(old.clone());
            }
            self.stopping.remove(&id);
        }
        if self.live.len() >= self.deps.config.max_live_actors {
            self.reap();
            let excess = self.live.len() + 1 - self.deps.config.max_live_actors;
            let mut by_age: Vec<(Instant, ThreadId)> =
                self.live.iter().map(|(k, (_, t))| (*t, *k)).collect();
            by_age.sort();
            for (_, victim) in by_age.into_iter().take(excess) {
                self.passivate(victim);
            }
        }
        let actor = ThreadActor::spawn_with_mailbox(
            (id, self.deps.clone()),
            mailbox::bounded(self.deps.config.mailbox_capacity),
        );
        self.live.insert(id, (actor.clone(), now));
        Route::Ready(actor)
    }
}

impl Message<Sweep> for Registry {
    type Reply = ();

    async fn handle(&mut self, _: Sweep, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let timeout = self.deps.config.idle_timeout;
        let idle: Vec<ThreadId> = self
            .live
            .iter()
            .filter(|(_, (a, used))| used.elapsed() >= timeout || !a.is_alive())
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

    async fn handle(&mut self, _: LiveCount, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.live.len()
    }
}

impl Message<StopAll> for Registry {
    type Reply = ();

    async fn handle(&mut self, _: StopAll, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.stop_all().await;
    }
}

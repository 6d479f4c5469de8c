//! `feed/subscribe`: the store's event bus as `feed/event` notifications.
//!
//! The bus subscription is opened before the subscription is accepted, so "from now" means from
//! the moment the server answered. Events are forwarded in feed order; a client that reads too
//! slowly makes the bus report `Lagged`, and the server then resubscribes from the position it
//! was told, catching up from the durable feed: the client sees every event once, just later.

use std::collections::HashSet;

use futures::StreamExt;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage, SubscriptionSink};
use serde_json::Value;
use threadstore_actors::store::ActorStore;
use threadstore_actors::{
    BusMessage, FeedStart, InMemoryThreadStore, SledThreadStore, SubscribeParams,
};
use threadstore_api::{ThreadStore, ThreadStoreError};

use super::methods::{error_object, parse};
use super::{ServeError, ServerState};
use crate::protocol::event::{event_json, live_json};
use crate::protocol::methods as m;
use crate::protocol::FeedSubscribeRequest;

/// The actor store behind `store`, when it has one (the bus lives there).
pub(crate) fn actor_store(store: &dyn ThreadStore) -> Option<&ActorStore> {
    let any = store.as_any();
    any.downcast_ref::<SledThreadStore>()
        .map(SledThreadStore::actor_store)
        .or_else(|| {
            any.downcast_ref::<InMemoryThreadStore>()
                .map(InMemoryThreadStore::actor_store)
        })
}

pub(crate) fn register(module: &mut RpcModule<ServerState>) -> Result<(), ServeError> {
    module.register_subscription(
        m::FEED_SUBSCRIBE,
        m::FEED_EVENT,
        m::FEED_UNSUBSCRIBE,
        |params, pending: PendingSubscriptionSink, state, _| async move {
            let request: FeedSubscribeRequest = match parse(m::FEED_SUBSCRIBE, &params) {
                Ok(r) => r,
                Err(e) => return pending.reject(error_object(&e)).await,
            };
            let Some(actors) = actor_store(state.store.as_ref()) else {
                let e = ThreadStoreError::Unsupported {
                    operation: m::FEED_SUBSCRIBE.into(),
                };
                return pending.reject(error_object(&e)).await;
            };
            let params = SubscribeParams {
                threads: request
                    .thread_ids
                    .map(|ids| ids.into_iter().collect::<HashSet<_>>()),
                kinds: request.kinds.map(|k| k.into_iter().collect::<HashSet<_>>()),
                start: request.from.map_or(FeedStart::Now, FeedStart::At),
                buffer: 0,
            };
            let stream = actors.subscribe(params.clone());
            let Ok(sink) = pending.accept().await else {
                return;
            };
            forward(actors, params, Box::pin(stream), sink).await;
        },
    )?;
    Ok(())
}

async fn send(sink: &SubscriptionSink, value: &Value) -> bool {
    match serde_json::value::to_raw_value(value) {
        Ok(raw) => sink.send(SubscriptionMessage::from(raw)).await.is_ok(),
        Err(e) => {
            tracing::warn!(error = %e, "feed event did not serialize");
            true
        }
    }
}

type BusStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = threadstore_api::ThreadStoreResult<BusMessage>> + Send>,
>;

async fn forward(
    actors: &ActorStore,
    mut params: SubscribeParams,
    mut stream: BusStream,
    sink: SubscriptionSink,
) {
    let mut live_sent = false;
    loop {
        let message = tokio::select! {
            _ = sink.closed() => return,
            m = stream.next() => m,
        };
        let keep_going = match message {
            // The store is closing.
            None => return,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "feed subscription failed");
                return;
            }
            Some(Ok(BusMessage::Event(e))) => send(&sink, &event_json(&e)).await,
            Some(Ok(BusMessage::Live { next_position })) => {
                if live_sent {
                    true
                } else {
                    live_sent = true;
                    send(&sink, &live_json(next_position)).await
                }
            }
            Some(Ok(BusMessage::Lagged { resume_from })) => {
                tracing::debug!(
                    resume_from,
                    "feed subscriber lagged; catching up from the durable feed"
                );
                params.start = FeedStart::At(resume_from);
                stream = Box::pin(actors.subscribe(params.clone()));
                true
            }
        };
        if !keep_going {
            return;
        }
    }
}

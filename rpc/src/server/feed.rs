//! `feed/subscribe`: the store's event bus as `feed/event` notifications.
//!
//! The bus subscription is opened before the subscription is accepted, so "from now" means from
//! the moment the server answered. Events are forwarded in feed order; a client that reads too
//! slowly makes the bus report `Lagged`, and the server then resubscribes from the position it
//! was told, catching up from the durable feed: the client sees every event once, just later.

use futures::StreamExt;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage, SubscriptionSink};
use serde_json::Value;
use threadstore_api::{FeedMessage, FeedStart, FeedStream, SubscribeParams, ThreadStore};

use super::methods::{error_object, parse};
use super::{ServeError, ServerState};
use crate::protocol::event::{event_json, live_json};
use crate::protocol::methods as m;
use crate::protocol::FeedSubscribeRequest;

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
            let params = SubscribeParams::from(request);
            // A store without a feed answers `Unsupported`, which the client gets as such.
            let stream = match state.store.subscribe(params.clone()).await {
                Ok(stream) => stream,
                Err(e) => return pending.reject(error_object(&e)).await,
            };
            let Ok(sink) = pending.accept().await else {
                return;
            };
            forward(state.store.as_ref(), params, stream, sink).await;
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

async fn forward(
    store: &dyn ThreadStore,
    mut params: SubscribeParams,
    mut stream: FeedStream,
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
            Some(Ok(FeedMessage::Event(e))) => send(&sink, &event_json(&e)).await,
            Some(Ok(FeedMessage::Live { next_position })) => {
                if live_sent {
                    true
                } else {
                    live_sent = true;
                    send(&sink, &live_json(next_position)).await
                }
            }
            Some(Ok(FeedMessage::Lagged { resume_from })) => {
                tracing::debug!(
                    resume_from,
                    "feed subscriber lagged; catching up from the durable feed"
                );
                params.start = FeedStart::At(resume_from);
                match store.subscribe(params.clone()).await {
                    Ok(again) => {
                        stream = again;
                        true
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "feed resubscription failed");
                        false
                    }
                }
            }
        };
        if !keep_going {
            return;
        }
    }
}

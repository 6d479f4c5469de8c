//! The WebSocket server's RPC middleware: gives the protocol errors jsonrpsee would otherwise
//! answer bare a typed `data` object ([`crate::protocol::error`]).
//!
//! - A call (alone or in a batch) to a method the server does not have is answered here with
//!   `-32601` and `{"error": "MethodNotFound", "method": …}` instead of jsonrpsee's bare
//!   "Method not found".
//! - A batch entry that is not a JSON-RPC request, which jsonrpsee marks `-32600` without data,
//!   gets `{"error": "InvalidRequest", "message": …}`.
//!
//! Notifications (no `id`) pass through; jsonrpsee neither runs nor answers them. Single
//! messages that are not JSON, not JSON-RPC, or over the size limit never reach this layer: see
//! [`super::ws`].

use std::future::Future;

use jsonrpsee::core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification};
use jsonrpsee::server::middleware::rpc::{ResponseFuture, RpcServiceT};
use jsonrpsee::types::{ErrorObject, Request};
use jsonrpsee::{MethodResponse, Methods};
use tower::Layer;

use crate::protocol::error::{malformed_request, method_not_found, INVALID_REQUEST};

/// Adds typed `data` to the protocol errors of the methods it knows.
#[derive(Clone, Debug)]
pub struct ProtocolErrorsLayer {
    methods: Methods,
}

impl ProtocolErrorsLayer {
    /// A layer answering every method `methods` does not have with a typed `-32601`.
    pub fn new(methods: Methods) -> Self {
        Self { methods }
    }
}

impl<S> Layer<S> for ProtocolErrorsLayer {
    type Service = ProtocolErrors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProtocolErrors {
            inner,
            methods: self.methods.clone(),
        }
    }
}

/// The service [`ProtocolErrorsLayer`] wraps around jsonrpsee's RPC service.
#[derive(Clone, Debug)]
pub struct ProtocolErrors<S> {
    inner: S,
    methods: Methods,
}

impl<S> ProtocolErrors<S> {
    fn knows(&self, method: &str) -> bool {
        self.methods.method(method).is_some()
    }
}

/// jsonrpsee's bare `-32600` for a batch entry that is not a request.
fn is_bare_invalid_request(e: &ErrorObject<'_>) -> bool {
    e.code() == INVALID_REQUEST && e.data().is_none()
}

impl<S> RpcServiceT for ProtocolErrors<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        if self.knows(request.method_name()) {
            return ResponseFuture::future(self.inner.call(request));
        }
        tracing::debug!(method = request.method_name(), "unknown method");
        let error = method_not_found(request.method_name());
        let Request { id, extensions, .. } = request;
        ResponseFuture::ready(MethodResponse::error(id, error).with_extensions(extensions))
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let entries = batch
            .into_iter()
            .map(|entry| match entry {
                Ok(BatchEntry::Call(request)) if !self.knows(request.method_name()) => Err(
                    BatchEntryErr::new(request.id.clone(), method_not_found(request.method_name())),
                ),
                Err(e) => {
                    let (error, id) = e.into_parts();
                    let error = if is_bare_invalid_request(&error) {
                        malformed_request(
                            "a batch entry needs \"jsonrpc\": \"2.0\", a string \"method\" and an optional id",
                        )
                    } else {
                        error.into_owned()
                    };
                    Err(BatchEntryErr::new(id, error))
                }
                other => other,
            })
            .collect();
        self.inner.batch(Batch::from(entries))
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.inner.notification(n)
    }
}

//! The server side: [`rpc_module`] builds the JSON-RPC methods over any `Arc<dyn ThreadStore>`;
//! [`ws`] serves them over WebSocket, [`stdio`] over newline-delimited stdin/stdout.
//!
//! Every method parses its params into the protocol's request type (a failure is `-32600` with
//! `InvalidRequest` data), calls the store, and maps the store's error once
//! ([`crate::protocol::error`]). `feed/subscribe` is the store's own
//! [`ThreadStore::subscribe`], so a wrapped store (e.g. a `RecordingThreadStore`) serves it too;
//! a store without a feed answers it with `Unsupported`.

mod auth;
mod feed;
mod methods;
mod middleware;
pub mod stdio;
pub mod ws;

use std::sync::Arc;

use jsonrpsee::RpcModule;
use threadstore_api::ThreadStore;

pub use auth::BearerAuthLayer;
pub use middleware::{ProtocolErrors, ProtocolErrorsLayer};

/// What every method handler sees: the store and the limits it is served with.
pub struct ServerState {
    /// The store being served.
    pub store: Arc<dyn ThreadStore>,
    /// Largest request message the transport accepts (reported by `server/info`).
    pub max_message_bytes: u64,
}

/// Errors while building or starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A method name was registered twice (a bug).
    #[error("registering JSON-RPC methods: {0}")]
    Register(#[from] jsonrpsee::core::RegisterMethodError),
    /// Binding or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A non-loopback address without a token.
    #[error("refusing to listen on {addr}: it is not a loopback address, so a bearer token is required (--token or THREADSTORE_TOKEN); clients then send `Authorization: Bearer <token>`")]
    TokenRequired {
        /// The address asked for.
        addr: String,
    },
    /// The listen address does not parse or resolve.
    #[error("bad listen address {addr:?}: {message}")]
    BadAddress {
        /// The address asked for.
        addr: String,
        /// Why.
        message: String,
    },
}

/// Builds the module with every method of [`crate::protocol::methods`] over `store`, for a
/// transport that accepts requests of up to `max_message_bytes`.
pub fn rpc_module(
    store: Arc<dyn ThreadStore>,
    max_message_bytes: u64,
) -> Result<RpcModule<ServerState>, ServeError> {
    let mut module = RpcModule::new(ServerState {
        store,
        max_message_bytes,
    });
    methods::register_all(&mut module)?;
    feed::register(&mut module)?;
    Ok(module)
}

/// The module [`rpc_module`] builds, as the transports take it.
pub type Module = RpcModule<ServerState>;

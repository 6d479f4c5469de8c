//! The WebSocket transport (jsonrpsee's server, WebSocket only).
//!
//! Limits: `max_message_bytes` per request (over it: error `-32007` "Request is too big"),
//! `max_connections` (over it the WebSocket handshake is refused with HTTP `429 Too Many
//! Requests`; open connections are unaffected). A bearer token is required before binding any
//! non-loopback address.
//!
//! **Error `data` over WebSocket.** Store errors, bad params, unknown methods (`-32601` with
//! `{"error": "MethodNotFound", "method": …}`, added by [`super::ProtocolErrorsLayer`]) and
//! malformed entries of a batch (`-32600` with `{"error": "InvalidRequest", …}`) carry a typed
//! `data` object, as on stdio. Three errors cannot: jsonrpsee 0.26 writes them to the
//! connection itself, before any middleware runs and with no hook to change them, so they come
//! exactly as jsonrpsee makes them (`id: null` for the first and third):
//!
//! - a single message that is not JSON (or a batch array that is not): `-32700` "Parse error",
//!   no `data`;
//! - a single JSON object that is not a JSON-RPC request (no `method`, no `"jsonrpc": "2.0"`…):
//!   `-32600` "Invalid request", no `data` (the `id` is kept when it parses);
//! - a message over `max_message_bytes`: `-32007` "Request is too big" with the string
//!   `data` `"Exceeded max limit of N"`.

use std::net::{SocketAddr, ToSocketAddrs};

use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::{Methods, RpcModule};

use super::middleware::ProtocolErrorsLayer;
use super::{BearerAuthLayer, ServeError, ServerState};

/// How to serve over WebSocket.
#[derive(Clone, Debug)]
pub struct WsOptions {
    /// `host:port` to listen on (port 0 picks a free port).
    pub listen: String,
    /// Bearer token clients must send; required for non-loopback addresses.
    pub token: Option<String>,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: u32,
    /// Most concurrent connections; a handshake over it gets HTTP `429 Too Many Requests`.
    pub max_connections: u32,
}

pub use crate::protocol::limits::{DEFAULT_MAX_MESSAGE_BYTES, MAX_RESPONSE_BYTES};
/// Default connection limit.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 128;

impl Default for WsOptions {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:7878".into(),
            token: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Resolves the listen address and refuses a non-loopback one without a token.
pub fn check_listen(listen: &str, token: Option<&str>) -> Result<Vec<SocketAddr>, ServeError> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| ServeError::BadAddress {
            addr: listen.into(),
            message: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(ServeError::BadAddress {
            addr: listen.into(),
            message: "resolves to no address".into(),
        });
    }
    let token_set = token.is_some_and(|t| !t.is_empty());
    if !token_set && addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(ServeError::TokenRequired {
            addr: listen.into(),
        });
    }
    Ok(addrs)
}

/// Binds and starts serving `module`; returns the bound address and the handle that stops it.
pub async fn start(
    module: RpcModule<ServerState>,
    options: &WsOptions,
) -> Result<(SocketAddr, ServerHandle), ServeError> {
    let addrs = check_listen(&options.listen, options.token.as_deref())?;
    let token = options.token.clone().filter(|t| !t.is_empty());
    let config = ServerConfig::builder()
        .ws_only()
        .max_request_body_size(options.max_message_bytes)
        .max_response_body_size(MAX_RESPONSE_BYTES.max(options.max_message_bytes))
        .max_connections(options.max_connections)
        .build();
    let methods = Methods::from(module);
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(BearerAuthLayer::new(token)))
        .set_rpc_middleware(
            RpcServiceBuilder::new().layer(ProtocolErrorsLayer::new(methods.clone())),
        )
        .build(&addrs[..])
        .await
        .map_err(|source| ServeError::Io {
            context: format!("cannot listen on {}", options.listen),
            source,
        })?;
    let addr = server.local_addr().map_err(|source| ServeError::Io {
        context: "reading the bound address".into(),
        source,
    })?;
    Ok((addr, server.start(methods)))
}

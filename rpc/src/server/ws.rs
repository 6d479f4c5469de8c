//! The WebSocket transport (jsonrpsee's server, WebSocket only).
//!
//! Limits: `max_message_bytes` per request (over it: error `-32007` "Request is too big"),
//! `max_connections` (over it the connection is refused). A bearer token is required before
//! binding any non-loopback address.

use std::net::{SocketAddr, ToSocketAddrs};

use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::RpcModule;

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
    /// Most concurrent connections.
    pub max_connections: u32,
}

/// Default request size limit: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;
/// Default connection limit.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 128;
/// Largest response: whole histories can be big, so far above the request limit.
pub const MAX_RESPONSE_BYTES: u32 = 1024 * 1024 * 1024;

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
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(BearerAuthLayer::new(token)))
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
    Ok((addr, server.start(module)))
}

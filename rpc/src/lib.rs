//! # threadstore-rpc: the JSON-RPC server and its remote client
//!
//! `threadstore serve` exposes a store to other processes over **JSON-RPC 2.0**, either on a
//! **WebSocket** (`threadstore serve --listen 127.0.0.1:7878`) or on **stdio**
//! (`threadstore serve --stdio`: one JSON message per line on stdin/stdout, logs on stderr).
//! [`RemoteThreadStore`] is a `ThreadStore` that forwards every operation to such a server, so a
//! runtime written against `Arc<dyn ThreadStore>` works unchanged against a remote store; the
//! conformance suite runs through it.
//!
//! Features: `server` (the server, over any `ThreadStore`) and `client` ([`RemoteThreadStore`]);
//! neither is on by default. [`protocol`] is always there. The crate depends on the contract
//! (`threadstore-api`) only.
//!
//! ## Protocol
//!
//! Method names and shapes follow Codex's app-server where Codex has the method (`thread/list`,
//! `thread/read`, `thread/turns/list`, `thread/turns/items/list`, `thread/items/list`,
//! `thread/revert`, `thread/archive`, `thread/unarchive`, `thread/name/set`,
//! `thread/metadata/update`, `thread/delete`, `thread/search`); the rest of the `ThreadStore`
//! contract uses the same style: `thread/create`, `thread/resume`, `thread/items/append`,
//! `thread/persist`, `thread/flush`, `thread/shutdown`, `thread/discard`, `thread/history/load`,
//! `thread/modelContext/load`, `thread/readByRolloutPath`, and
//! the event feed `feed/subscribe` / `feed/unsubscribe` with `feed/event` notifications. Params
//! are one JSON object with camelCase fields ([`protocol::requests`]); results are camelCase
//! objects ([`protocol::results`]): pages are `{data, nextCursor}` (threads) or `{data,
//! nextCursor, backwardsCursor}` (turns, items), threads, turns and items are the objects of
//! [`protocol::thread`], [`protocol::turn`] and [`protocol::item`] (the same ones `threadstore
//! threads|turns|items --json` print).
//!
//! **Writers.** `thread/create` and `thread/resume` return `{writer: {threadId, epoch,
//! nextPosition}, thread}`. Appends may send `writerEpoch` (fencing: an older epoch is
//! `StaleWriter`), `expectedPosition` (optimistic concurrency: a mismatch is `Conflict` with
//! `actualPosition`) and `requestId` (idempotency for the thread's lifetime).
//!
//! **Errors** ([`protocol::error`]): `-32600` bad request (invalid params, a malformed request,
//! `InvalidRequest`, `ThreadNotFound`, `Conflict`, `Archived`, `StaleWriter`), `-32601` unknown
//! method or `Unsupported`, `-32001` `ResourceExhausted`, `-32603` internal (`Internal`,
//! `Corrupt`, `Poisoned`, `Locked`), `-32700` unparsable JSON, `-32007` message over the size
//! limit. Every error carries `data: {"error": "<Variant>", …fields in camelCase}`, from which the
//! client rebuilds the same `ThreadStoreError`: store errors name their variant, and the protocol
//! errors are `{"error": "MethodNotFound", "method": …}` (`-32601`), `{"error": "ParseError"}`
//! (`-32700`), `{"error": "MessageTooLarge", "maxMessageBytes": N, "messageBytes": n}` (`-32007`)
//! and `{"error": "InvalidRequest", "message": …}` (`-32600`, e.g. no `method`). Exceptions, on
//! WebSocket only, because jsonrpsee 0.26 answers them itself before any server code runs: a
//! single message that is not JSON (`-32700`) or not a JSON-RPC request (`-32600`) comes without
//! `data`, and an oversized one (`-32007`) with jsonrpsee's string `data` `"Exceeded max limit of
//! N"` ([`server::ws`]). Inside a batch, malformed entries and unknown methods do carry `data`.
//!
//! **Notifications.** A message without an `id` is a JSON-RPC notification: the server neither
//! runs nor answers it, on both transports (the spec forbids an answer, and every method here has
//! a result worth waiting for). Over stdio it is logged at `warn` on stderr; send an `id` to have
//! a method run. A malformed message without an `id` is not a notification: it gets `-32600`
//! with `id: null`.
//!
//! **Feed.** `feed/subscribe {threadIds?, kinds?, from?}` answers with a subscription id, then
//! sends `{"method": "feed/event", "params": {"subscription": id, "result": event}}` for every
//! committed event in feed order (replaying the durable feed from `from` first), and once
//! `{"kind": "live", "nextPosition": n}` when caught up. A slow subscriber never loses events:
//! when it falls behind the bus's ring, the server catches it up from the durable feed.
//!
//! **Limits.** Requests over `--max-message-bytes` (16 MiB by default) get `-32007` and the
//! connection stays open; at most `--max-connections` (128) WebSocket connections at once, and a
//! handshake over the limit is refused with HTTP `429 Too Many Requests` ("Too many connections.
//! Please try again later.") while the open connections carry on; page sizes over 200 are
//! `InvalidRequest`.
//! A non-loopback `--listen` address needs a bearer token (`--token` / `THREADSTORE_TOKEN`), which
//! clients send as `Authorization: Bearer <token>`.

#[cfg(feature = "client")]
pub mod client;
pub mod protocol;
#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "client")]
pub use client::{RemoteOptions, RemoteThreadStore};
#[cfg(feature = "server")]
pub use server::{rpc_module, ServeError, ServerState};

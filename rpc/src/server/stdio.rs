//! The stdio transport: newline-delimited JSON-RPC 2.0 on a reader and a writer (stdin and
//! stdout for `threadstore serve --stdio`; logs go to stderr).
//!
//! Each input line is one request (or a batch array); each output line is one response or one
//! notification. Requests are handled in order, one at a time; notifications of feed
//! subscriptions are written as they come, between responses. After the answer to a change Codex
//! notifies of (`thread/archive`, `thread/fork`, …) come Codex's notifications of it
//! ([`crate::protocol::notifications`]).
//!
//! Every protocol error carries a typed `data` object ([`crate::protocol::error`]):
//!
//! - a line that is not JSON: `-32700`, `{"error": "ParseError"}`, `id: null`;
//! - a line over the size limit: `-32007`, `{"error": "MessageTooLarge", "maxMessageBytes": N,
//!   "messageBytes": n}`, `id: null` (the line is skipped, not parsed);
//! - JSON that is not a JSON-RPC 2.0 request (not an object, no string `method`, `jsonrpc` not
//!   `"2.0"`, an `id` that is not a string, number or null, an empty batch): `-32600`,
//!   `{"error": "InvalidRequest", "message": …}`, with the request's `id` when it has a valid one;
//! - an unknown method: `-32601`, `{"error": "MethodNotFound", "method": …}`.
//!
//! A request without an `id` (a JSON-RPC notification) is neither run nor answered, as on
//! WebSocket: the spec forbids answering it, and no method of this protocol is meant to be
//! fire-and-forget. It is logged at `warn` on stderr. A malformed message without an `id` is not a
//! notification and is answered with `-32600`.
//!
//! Read the process's stdin through [`stdin`], not `tokio::io::stdin()`: tokio reads stdin on its
//! blocking pool, and a read that waits for a line that never comes keeps the runtime (and so the
//! process) alive after a shutdown signal until the client closes stdin. [`stdin`] reads on a
//! thread of its own, which the process simply leaves behind when it exits.

use std::io::Read as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::sync::{mpsc, oneshot};

use super::ServerState;
use crate::protocol::error::{malformed_request, message_too_large, method_not_found, parse_error};
use crate::protocol::notifications::{codex_notifications, NOTIFYING};

/// Buffered notifications per request before the subscription waits for stdout.
const SUBSCRIPTION_BUFFER: usize = 1024;

/// Bytes the stdin thread reads per chunk.
const STDIN_CHUNK: usize = 64 * 1024;

/// Chunks read ahead by the stdin thread before it waits for the server to take them.
const STDIN_READ_AHEAD: usize = 4;

/// How long a shutdown signal waits for the answers already queued to be written (a client that
/// stops reading stdout must not keep the server from closing the store).
const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The process's stdin, read on a dedicated thread (see the module documentation).
///
/// The thread blocks in `read` and hands each chunk over a channel; it ends at the end of stdin,
/// on a read error (passed on to the reader) or once the [`StdinReader`] is dropped and its next
/// chunk cannot be handed over. A thread still blocked in `read` when the process exits is just
/// left behind: it holds no runtime open and no lock of the store.
pub fn stdin() -> std::io::Result<StdinReader> {
    let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>(STDIN_READ_AHEAD);
    std::thread::Builder::new()
        .name("threadstore-stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; STDIN_CHUNK];
            loop {
                let chunk = match stdin.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => Ok(buf[..n].to_vec()),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = chunk.is_err();
                if tx.blocking_send(chunk).is_err() || failed {
                    return;
                }
            }
        })?;
    Ok(StdinReader {
        chunks: rx,
        pending: Vec::new(),
        offset: 0,
    })
}

/// An [`AsyncRead`] over the chunks of the stdin thread started by [`stdin`].
#[derive(Debug)]
pub struct StdinReader {
    chunks: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    offset: usize,
}

impl AsyncRead for StdinReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some(rest) = this.pending.get(this.offset..).filter(|r| !r.is_empty()) {
                let n = rest.len().min(buf.remaining());
                buf.put_slice(&rest[..n]);
                this.offset += n;
                return Poll::Ready(Ok(()));
            }
            match this.chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.pending = chunk;
                    this.offset = 0;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                // The end of stdin (or the thread is gone): EOF.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// What the writer task receives: a line, or a request to report when everything before is written.
enum Out {
    Line(String),
    Flush(oneshot::Sender<()>),
}

/// A JSON-RPC error response, fields in the usual order.
#[derive(Serialize)]
struct ErrorResponse<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    error: &'a ErrorObjectOwned,
}

/// A JSON-RPC error response line.
fn error_line(id: &Value, error: &ErrorObjectOwned) -> String {
    let response = ErrorResponse {
        jsonrpc: "2.0",
        id,
        error,
    };
    serde_json::to_string(&response).unwrap_or_else(|e| {
        // Unreachable in practice (ids and error objects are plain JSON); still answer something.
        tracing::warn!(error = %e, "an error response did not serialize");
        format!(
            r#"{{"jsonrpc":"2.0","id":null,"error":{{"code":{},"message":"Internal error"}}}}"#,
            crate::protocol::error::INTERNAL_ERROR
        )
    })
}

/// What a JSON object is, as a JSON-RPC 2.0 message.
enum Shape {
    /// A request: it has an `id` and so gets an answer.
    Call { id: Value, method: String },
    /// A notification: no `id`, no answer.
    Notification { method: String },
    /// Not a JSON-RPC request; `id` is the object's own when it has a valid one.
    Invalid { id: Value, why: &'static str },
}

fn shape(object: &Map<String, Value>) -> Shape {
    let id = match object.get("id") {
        None => None,
        Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(id.clone()),
        Some(_) => {
            return Shape::Invalid {
                id: Value::Null,
                why: "\"id\" must be a string, a number or null",
            }
        }
    };
    let invalid = |why| Shape::Invalid {
        id: id.clone().unwrap_or(Value::Null),
        why,
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("\"jsonrpc\" must be \"2.0\"");
    }
    let Some(method) = object.get("method").and_then(Value::as_str) else {
        return invalid("\"method\" must be a string");
    };
    let method = method.to_owned();
    match id {
        Some(id) => Shape::Call { id, method },
        None => Shape::Notification { method },
    }
}

enum Line {
    Text(String),
    TooBig(usize),
    End,
}

/// Reads one line of at most `max` bytes; a longer one is skipped to its end and reported.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Line> {
    let mut line: Vec<u8> = Vec::new();
    let mut skipped = 0usize;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(match (skipped, line.is_empty()) {
                (0, true) => Line::End,
                (0, false) => Line::Text(String::from_utf8_lossy(&line).into_owned()),
                (n, _) => Line::TooBig(n),
            });
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], i + 1),
            None => (buf, buf.len()),
        };
        let found_end = done > chunk.len();
        if skipped > 0 || line.len() + chunk.len() > max {
            skipped += line.len() + chunk.len();
            line.clear();
        } else {
            line.extend_from_slice(chunk);
        }
        reader.consume(done);
        if found_end {
            return Ok(if skipped > 0 {
                Line::TooBig(skipped)
            } else {
                Line::Text(String::from_utf8_lossy(&line).into_owned())
            });
        }
    }
}

/// What the serve loop writes after a line's answer: Codex's notifications of the changes the
/// line made (at once), then it releases the subscriptions the line started.
#[derive(Default)]
struct After {
    /// Codex notification lines, in order.
    notices: Vec<String>,
    /// Fired once the answer is queued: a subscription's notifications wait for it.
    released: Vec<oneshot::Sender<()>>,
}

/// Answers one message of a line (already known to be JSON); `None` for a notification. Codex's
/// notifications of the change go to `after.notices`; any subscription notifications the call
/// starts are held until the caller fires the sender pushed on `after.released`.
async fn answer(
    module: &RpcModule<ServerState>,
    request: &str,
    out: &mpsc::Sender<Out>,
    after: &mut After,
) -> Option<String> {
    let value: Value = serde_json::from_str(request).unwrap_or(Value::Null);
    let Some(object) = value.as_object() else {
        return Some(error_line(
            &Value::Null,
            &malformed_request("expected a request object"),
        ));
    };
    let (id, method) = match shape(object) {
        Shape::Invalid { id, why } => return Some(error_line(&id, &malformed_request(why))),
        Shape::Notification { method } => {
            tracing::warn!(
                method,
                "ignoring a JSON-RPC notification (no id): notifications are neither run nor answered; send an id"
            );
            return None;
        }
        Shape::Call { id, method } if module.method(&method).is_none() => {
            tracing::debug!(method, "unknown method");
            return Some(error_line(&id, &method_not_found(&method)));
        }
        Shape::Call { id, method } => (id, method),
    };
    match module.raw_json_request(request, SUBSCRIPTION_BUFFER).await {
        Ok((response, mut notifications)) => {
            let out = out.clone();
            // Codex's notifications of a change follow its answer (only those answers are read
            // again).
            if NOTIFYING.contains(&method.as_str()) {
                let answered: Value = serde_json::from_str(response.get()).unwrap_or(Value::Null);
                if let Some(result) = answered.get("result") {
                    let params = object.get("params").unwrap_or(&Value::Null);
                    after.notices.extend(
                        codex_notifications(&method, params, result)
                            .iter()
                            .map(Value::to_string),
                    );
                }
            }
            // A subscription's notifications wait until its answer (the subscription id) is queued.
            let (release, queued) = oneshot::channel::<()>();
            after.released.push(release);
            tokio::spawn(async move {
                let _ = queued.await;
                while let Some(n) = notifications.recv().await {
                    if out.send(Out::Line(n.get().to_owned())).await.is_err() {
                        break;
                    }
                }
            });
            Some(response.get().to_owned())
        }
        Err(e) => Some(error_line(&id, &malformed_request(e))),
    }
}

/// Answers a batch (a JSON array) entry by entry; `None` when every entry is a notification.
async fn answer_batch(
    module: &RpcModule<ServerState>,
    batch: &str,
    out: &mpsc::Sender<Out>,
    after: &mut After,
) -> Option<String> {
    let requests: Vec<&RawValue> = serde_json::from_str(batch).unwrap_or_default();
    if requests.is_empty() {
        return Some(error_line(
            &Value::Null,
            &malformed_request("an empty batch"),
        ));
    }
    let mut replies = Vec::new();
    for r in requests {
        if let Some(reply) = answer(module, r.get(), out, after).await {
            replies.push(reply);
        }
    }
    (!replies.is_empty()).then(|| format!("[{}]", replies.join(",")))
}

/// Serves `module` on `input`/`output` until `input` ends or `shutdown` resolves.
pub async fn serve<R, W>(
    module: RpcModule<ServerState>,
    input: R,
    output: W,
    max_message_bytes: usize,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(SUBSCRIPTION_BUFFER);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(out) = out_rx.recv().await {
            match out {
                Out::Line(line) => {
                    output.write_all(line.as_bytes()).await?;
                    output.write_all(b"\n").await?;
                    output.flush().await?;
                }
                Out::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
        Ok::<(), std::io::Error>(())
    });
    let mut reader = BufReader::new(input);
    tokio::pin!(shutdown);
    let mut signalled = false;
    loop {
        let line = tokio::select! {
            _ = &mut shutdown => {
                signalled = true;
                break;
            }
            l = read_line(&mut reader, max_message_bytes) => l?,
        };
        let mut after = After::default();
        let reply = match line {
            Line::End => break,
            Line::TooBig(n) => Some(error_line(
                &Value::Null,
                &message_too_large(max_message_bytes as u64, Some(n as u64)),
            )),
            Line::Text(text) if text.trim().is_empty() => None,
            Line::Text(text) => match serde_json::from_str::<&RawValue>(&text) {
                Err(e) => Some(error_line(&Value::Null, &parse_error(e))),
                Ok(raw) if raw.get().trim_start().starts_with('[') => {
                    answer_batch(&module, raw.get(), &out_tx, &mut after).await
                }
                Ok(raw) => answer(&module, raw.get(), &out_tx, &mut after).await,
            },
        };
        if let Some(reply) = reply {
            if out_tx.send(Out::Line(reply)).await.is_err() {
                break;
            }
        }
        for notice in after.notices {
            if out_tx.send(Out::Line(notice)).await.is_err() {
                break;
            }
        }
        for release in after.released {
            let _ = release.send(());
        }
    }
    // Every answer is written before returning; subscriptions keep their own senders, so the
    // writer task lives on until the caller closes the store (which ends every subscription).
    // After a shutdown signal the wait is bounded: a client that stopped reading stdout must not
    // keep the store open.
    let (flushed_tx, flushed_rx) = oneshot::channel();
    let flushed = async {
        if out_tx.send(Out::Flush(flushed_tx)).await.is_ok() {
            let _ = flushed_rx.await;
        }
    };
    if signalled {
        if tokio::time::timeout(SHUTDOWN_FLUSH_TIMEOUT, flushed)
            .await
            .is_err()
        {
            tracing::warn!(
                seconds = SHUTDOWN_FLUSH_TIMEOUT.as_secs(),
                "stdout not drained after the shutdown signal; closing anyway"
            );
        }
    } else {
        flushed.await;
    }
    drop(out_tx);
    if writer.is_finished() {
        if let Ok(Err(e)) = writer.await {
            return Err(e);
        }
    }
    Ok(())
}

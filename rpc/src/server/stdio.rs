//! The stdio transport: newline-delimited JSON-RPC 2.0 on a reader and a writer (stdin and
//! stdout for `threadstore serve --stdio`; logs go to stderr).
//!
//! Each input line is one request (or a batch array); each output line is one response or one
//! `feed/event` notification. Requests are handled in order, one at a time; notifications of feed
//! subscriptions are written as they come, between responses. A line that is not JSON gets
//! `-32700`, a line over the size limit `-32007` (both with `id: null`); a request without an
//! `id` (a JSON-RPC notification) gets no answer, as the spec says.

use jsonrpsee::types::ErrorCode;
use jsonrpsee::RpcModule;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::ServerState;
use crate::protocol::error::{OVERSIZED_REQUEST, PARSE_ERROR};

/// Buffered notifications per request before the subscription waits for stdout.
const SUBSCRIPTION_BUFFER: usize = 1024;

/// What the writer task receives: a line, or a request to report when everything before is written.
enum Out {
    Line(String),
    Flush(oneshot::Sender<()>),
}

/// A JSON-RPC error response line, fields in the usual order.
fn error_line(code: i32, message: String, id: Value) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{}}}}}"#,
        Value::String(message)
    )
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

/// Answers one request object (already known to be JSON); `None` for a notification. Any
/// notifications the call starts are held until the caller fires the sender pushed on `released`.
async fn answer(
    module: &RpcModule<ServerState>,
    request: &str,
    out: &mpsc::Sender<Out>,
    released: &mut Vec<oneshot::Sender<()>>,
) -> Option<String> {
    let value: Value = serde_json::from_str(request).unwrap_or(Value::Null);
    let Some(object) = value.as_object() else {
        return Some(error_line(
            ErrorCode::InvalidRequest.code(),
            "Invalid request: expected a JSON-RPC request object".into(),
            Value::Null,
        ));
    };
    let Some(id) = object.get("id").cloned() else {
        tracing::warn!("ignoring a JSON-RPC notification (no id): send an id to get an answer");
        return None;
    };
    match module.raw_json_request(request, SUBSCRIPTION_BUFFER).await {
        Ok((response, mut notifications)) => {
            let out = out.clone();
            // A subscription's notifications wait until its answer (the subscription id) is queued.
            let (release, queued) = oneshot::channel::<()>();
            released.push(release);
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
        Err(e) => Some(error_line(
            ErrorCode::InvalidRequest.code(),
            format!("Invalid request: {e}"),
            id,
        )),
    }
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
    loop {
        let line = tokio::select! {
            _ = &mut shutdown => break,
            l = read_line(&mut reader, max_message_bytes) => l?,
        };
        let mut released = Vec::new();
        let reply = match line {
            Line::End => break,
            Line::TooBig(n) => Some(error_line(
                OVERSIZED_REQUEST,
                format!("Request is too big: {n} bytes, the limit is {max_message_bytes} (--max-message-bytes)"),
                Value::Null,
            )),
            Line::Text(text) if text.trim().is_empty() => None,
            Line::Text(text) => match serde_json::from_str::<&RawValue>(&text) {
                Err(e) => Some(error_line(PARSE_ERROR, format!("Parse error: {e}"), Value::Null)),
                Ok(raw) if raw.get().trim_start().starts_with('[') => {
                    let requests: Vec<&RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
                    let mut replies = Vec::new();
                    for r in requests {
                        if let Some(reply) = answer(&module, r.get(), &out_tx, &mut released).await {
                            replies.push(reply);
                        }
                    }
                    (!replies.is_empty()).then(|| format!("[{}]", replies.join(",")))
                }
                Ok(raw) => answer(&module, raw.get(), &out_tx, &mut released).await,
            },
        };
        if let Some(reply) = reply {
            if out_tx.send(Out::Line(reply)).await.is_err() {
                break;
            }
        }
        for release in released {
            let _ = release.send(());
        }
    }
    // Every answer is written before returning; subscriptions keep their own senders, so the
    // writer task lives on until the caller closes the store (which ends every subscription).
    let (flushed_tx, flushed_rx) = oneshot::channel();
    if out_tx.send(Out::Flush(flushed_tx)).await.is_ok() {
        let _ = flushed_rx.await;
    }
    drop(out_tx);
    if writer.is_finished() {
        if let Ok(Err(e)) = writer.await {
            return Err(e);
        }
    }
    Ok(())
}

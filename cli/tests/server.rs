//! End-to-end tests of `threadstore serve` (issue 7): the real binary, real WebSocket and stdio
//! connections.
//!
//! - the whole conformance suite (and its restart cases, restarting the server with SIGTERM)
//!   through `RemoteThreadStore`, one server process per case;
//! - protocol errors on a raw WebSocket: unparsable JSON (-32700), unknown method (-32601, with
//!   `MethodNotFound` data), bad params and malformed requests (-32600), a message over
//!   `--max-message-bytes` (-32007), typed error data, the same inside a batch;
//! - `--max-connections`: the connection over the limit is refused with HTTP 429, the others work;
//! - two clients writing different threads at once while a third follows the feed;
//! - the bearer token and the loopback rule;
//! - the stdio transport, including a feed subscription, every protocol error with its typed data,
//!   and notifications (not answered);
//! - graceful shutdown on SIGTERM, after which the CLI reads the store and prints the same
//!   `thread/turns/list` object the server returned.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures::StreamExt;
use jsonrpsee::client_transport::ws::{Url, WsTransportClientBuilder};
use jsonrpsee::core::client::{ReceivedMessage, TransportReceiverT, TransportSenderT};
use serde_json::{json, Value};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, FeedEventKind, RemoteThreadStore, RolloutItem,
    ThreadId, ThreadStore, ThreadStoreError,
};
use threadstore::{FeedMessage, SubscribeParams};
use threadstore_rpc::protocol::ListTurnsRequest;
use threadstore_rpc::RemoteOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");

mod conformance {
    use threadstore_tests::harness::Backend;

    threadstore_tests::conformance_suite!(Backend::Remote(crate::BIN));
    threadstore_tests::conformance_suite!(restart, Backend::Remote(crate::BIN));
}

/// Starts `threadstore --data <data> serve --listen 127.0.0.1:0 <extra>` and returns it with its URL.
async fn spawn_ws(data: &Path, extra: &[&str]) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "error")
        .env_remove("THREADSTORE_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap()
        .to_owned();
    (child, url)
}

/// Sends each raw text message on one WebSocket connection and returns the reply to each.
async fn raw_exchange(url: &str, messages: Vec<String>) -> Vec<Value> {
    let (mut tx, mut rx) = WsTransportClientBuilder::default()
        .max_request_size(64 * 1024 * 1024)
        .build(Url::parse(url).unwrap())
        .await
        .unwrap();
    let mut replies = Vec::new();
    for m in messages {
        tx.send(m).await.unwrap();
        let reply = loop {
            match tokio::time::timeout(Duration::from_secs(30), rx.receive())
                .await
                .unwrap()
                .unwrap()
            {
                ReceivedMessage::Text(t) => break t,
                ReceivedMessage::Bytes(b) => break String::from_utf8(b).unwrap(),
                ReceivedMessage::Pong => continue,
            }
        };
        replies.push(serde_json::from_str(&reply).unwrap());
    }
    replies
}

fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

async fn sigterm(child: &mut tokio::process::Child) -> std::process::ExitStatus {
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_over_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn_ws(&dir.path().join("db"), &["--max-message-bytes", "4096"]).await;
    let unknown = ThreadId::new();
    let replies = raw_exchange(
        &url,
        vec![
            "{not json".into(),
            request(1, "thread/frobnicate", json!({})),
            request(2, "thread/read", json!({"threadId": 42})),
            request(3, "thread/read", json!({"threadId": unknown})),
            request(4, "thread/list", json!({"limit": 201})),
            request(5, "thread/create", json!({"history": [{"timestamp": "2025-01-01T00:00:00Z", "type": "session_meta", "payload": {"pad": "x".repeat(8000)}}]})),
            request(6, "thread/list", json!({})),
            json!({"jsonrpc": "2.0", "id": 7}).to_string(),
            json!([
                {"jsonrpc": "2.0", "id": 8, "method": "thread/frobnicate"},
                {"jsonrpc": "2.0", "id": 9},
                {"jsonrpc": "2.0", "id": 10, "method": "thread/list", "params": {}},
            ])
            .to_string(),
        ],
    )
    .await;
    // Not JSON: -32700. jsonrpsee answers this one itself, before any server code runs, so it
    // has no `data` over WebSocket (stdio has `{"error": "ParseError"}`; see `server::ws`).
    assert_eq!(replies[0]["error"]["code"], -32700, "{}", replies[0]);
    assert_eq!(replies[0]["id"], Value::Null);
    assert!(replies[0]["error"].get("data").is_none(), "{}", replies[0]);
    // Unknown method: -32601 with typed data naming the method.
    assert_eq!(replies[1]["error"]["code"], -32601, "{}", replies[1]);
    assert_eq!(replies[1]["id"], 1);
    assert_eq!(
        replies[1]["error"]["data"],
        json!({"error": "MethodNotFound", "method": "thread/frobnicate"})
    );
    assert!(replies[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("thread/frobnicate"));
    assert_eq!(replies[2]["error"]["code"], -32600, "{}", replies[2]);
    assert_eq!(replies[2]["error"]["data"]["error"], "InvalidRequest");
    assert_eq!(replies[3]["error"]["code"], -32600);
    assert_eq!(replies[3]["error"]["data"]["error"], "ThreadNotFound");
    assert_eq!(replies[3]["error"]["data"]["threadId"], unknown.to_string());
    assert_eq!(replies[4]["error"]["data"]["error"], "InvalidRequest");
    assert!(replies[4]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("maximum of 200"));
    // Over the limit: -32007; jsonrpsee answers it itself, with its own string `data`.
    assert_eq!(replies[5]["error"]["code"], -32007, "{}", replies[5]);
    assert!(replies[5]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("too big"));
    assert_eq!(replies[5]["error"]["data"], "Exceeded max limit of 4096");
    // The connection survives every error.
    assert_eq!(replies[6]["result"]["data"], json!([]), "{}", replies[6]);
    // A single object that is not a JSON-RPC request: -32600 with its id, answered by jsonrpsee
    // itself (no `data` over WebSocket).
    assert_eq!(replies[7]["error"]["code"], -32600, "{}", replies[7]);
    assert_eq!(replies[7]["id"], 7);
    // In a batch every entry reaches the server's middleware, so each error has typed data.
    let batch = replies[8].as_array().expect("a batch answer");
    let by_id = |id: u64| {
        batch
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no answer for {id} in {batch:?}"))
    };
    assert_eq!(by_id(8)["error"]["code"], -32601);
    assert_eq!(
        by_id(8)["error"]["data"],
        json!({"error": "MethodNotFound", "method": "thread/frobnicate"})
    );
    assert_eq!(by_id(9)["error"]["code"], -32600);
    assert_eq!(by_id(9)["error"]["data"]["error"], "InvalidRequest");
    assert_eq!(by_id(10)["result"]["data"], json!([]));

    // The same limit through the client: a clear ResourceExhausted.
    let remote = RemoteThreadStore::connect(&url).await.unwrap();
    let w = remote
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let big = RolloutItem::agent_message(&"y".repeat(10_000));
    let err = remote
        .append_items(AppendThreadItemsParams::new(w.thread_id, vec![big]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ThreadStoreError::ResourceExhausted { .. }),
        "{err:?}"
    );
    // An unknown method through the client: its typed data maps to `Unsupported`.
    let err = remote
        .call::<_, Value>("thread/frobnicate", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ThreadStoreError::Unsupported {
            operation: "thread/frobnicate".into()
        }
    );
    assert!(sigterm(&mut child).await.success());
}

/// Sends a WebSocket handshake on a plain TCP connection to `url` and returns the HTTP response
/// text (status line, headers and as much of the body as arrives within a few seconds).
async fn raw_handshake(url: &str) -> String {
    use tokio::io::AsyncReadExt;
    let addr = url.trim_start_matches("ws://").trim_end_matches('/');
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let handshake = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&response).contains("try again later") {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => response.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("reading the handshake answer: {e}"),
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_refuses_the_extra_one_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn_ws(&dir.path().join("db"), &["--max-connections", "2"]).await;
    let first = RemoteThreadStore::connect(&url).await.unwrap();
    let second = RemoteThreadStore::connect(&url).await.unwrap();

    // The third: the handshake is refused with HTTP 429 and a message saying why.
    let err = RemoteThreadStore::connect(&url)
        .await
        .err()
        .expect("a third connection over --max-connections 2");
    assert!(err.to_string().contains("429"), "{err}");
    let response = raw_handshake(&url).await;
    assert!(
        response.starts_with("HTTP/1.1 429"),
        "refusal status: {response}"
    );
    assert!(
        response.contains("Too many connections"),
        "refusal body: {response}"
    );

    // The first two are unaffected.
    let a = first
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    let b = second
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    assert_ne!(a.thread_id, b.thread_id);
    assert!(first.is_connected() && second.is_connected());

    // Closing one frees its place (the server notices the close asynchronously).
    drop(second);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let third = loop {
        match RemoteThreadStore::connect(&url).await {
            Ok(store) => break store,
            Err(e) if tokio::time::Instant::now() < deadline => {
                assert!(e.to_string().contains("429"), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the freed place was never reused: {e}"),
        }
    };
    third.shutdown_thread(b.thread_id).await.unwrap();
    drop(first);
    drop(third);
    assert!(sigterm(&mut child).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_and_a_feed_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn_ws(&dir.path().join("db"), &[]).await;
    let watcher = RemoteThreadStore::connect(&url).await.unwrap();
    // Through the `ThreadStore` trait, as for a local store.
    let mut feed = watcher.subscribe(SubscribeParams::default()).await.unwrap();
    // Live from the moment the server answered: the marker comes first.
    let first = feed.next().await.unwrap().unwrap();
    assert!(matches!(first, FeedMessage::Live { .. }), "{first:?}");

    const BATCHES: u64 = 25;
    let writer = |name: &'static str| {
        let url = url.clone();
        tokio::spawn(async move {
            let store = RemoteThreadStore::connect(&url).await.unwrap();
            let w = store
                .create_thread(CreateThreadParams::default())
                .await
                .unwrap();
            for i in 0..BATCHES {
                let mut p = AppendThreadItemsParams::new(
                    w.thread_id,
                    vec![
                        RolloutItem::user_message(&format!("{name} {i}")),
                        RolloutItem::agent_message("ok"),
                    ],
                );
                p.writer_epoch = Some(w.epoch);
                p.expected_position = Some(1 + 2 * i);
                store.append_items(p).await.unwrap();
            }
            store.shutdown_thread(w.thread_id).await.unwrap();
            w.thread_id
        })
    };
    let (a, b) = (writer("a"), writer("b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    // Every thread's events arrive, in feed order: created, writer opened, the header and every
    // batch appended, writer closed.
    let mut appended: HashMap<ThreadId, u64> = HashMap::new();
    let mut closed = 0;
    let mut last_position = None;
    while closed < 2 {
        let message = tokio::time::timeout(Duration::from_secs(30), feed.next())
            .await
            .expect("feed events within 30 s")
            .unwrap()
            .unwrap();
        let FeedMessage::Event(e) = message else {
            panic!("second live marker: {message:?}")
        };
        assert!(last_position < Some(e.position), "feed order");
        last_position = Some(e.position);
        assert!(e.thread_id == a || e.thread_id == b);
        match e.kind {
            FeedEventKind::ItemsAppended { count, .. } => {
                *appended.entry(e.thread_id).or_default() += count
            }
            FeedEventKind::WriterClosed => closed += 1,
            _ => {}
        }
    }
    assert_eq!(appended[&a], 1 + 2 * BATCHES);
    assert_eq!(appended[&b], 1 + 2 * BATCHES);
    drop(feed);
    drop(watcher);
    assert!(sigterm(&mut child).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_and_loopback_rule() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    // A non-loopback address without a token: refused before anything is opened.
    let out = std::process::Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("THREADSTORE_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bearer token is required"), "{stderr}");
    assert!(
        !data.exists(),
        "no store is created when the start is refused"
    );

    let (mut child, url) = spawn_ws(&data, &["--token", "s3cret"]).await;
    let err = RemoteThreadStore::connect(&url)
        .await
        .err()
        .expect("no token, no connection");
    assert!(err.to_string().contains("401"), "{err}");
    let wrong = RemoteOptions {
        token: Some("guess".into()),
        ..Default::default()
    };
    assert!(RemoteThreadStore::connect_with(&url, wrong).await.is_err());
    let right = RemoteOptions {
        token: Some("s3cret".into()),
        ..Default::default()
    };
    let store = RemoteThreadStore::connect_with(&url, right).await.unwrap();
    store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    drop(store);
    assert!(sigterm(&mut child).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_transport() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .arg("--data")
        .arg(dir.path().join("db"))
        .args(["serve", "--stdio", "--max-message-bytes", "2048"])
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let mut send = async |text: String| {
        stdin.write_all(text.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
    };

    send(request(1, "thread/create", json!({"cwd": "/repo"}))).await;
    let created = next().await;
    let id = created["result"]["writer"]["threadId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["result"]["writer"]["nextPosition"], 1);
    assert_eq!(created["result"]["thread"]["cwd"], "/repo");

    send(request(
        2,
        "feed/subscribe",
        json!({"threadIds": [id], "kinds": ["turnCompleted"]}),
    ))
    .await;
    // The answer (the subscription id) comes before the subscription's first notification.
    let subscribed = next().await;
    let subscription = subscribed["result"].clone();
    assert_eq!(subscribed["id"], 2, "{subscribed}");
    let live = next().await;
    assert_eq!(live["method"], "feed/event");
    assert_eq!(live["params"]["result"]["kind"], "live");

    let items = json!([
        {"type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}},
        {"type": "event_msg", "payload": {"type": "user_message", "message": "hello"}},
        {"type": "event_msg", "payload": {"type": "agent_message", "message": "hi"}},
        {"type": "event_msg", "payload": {"type": "task_complete", "turn_id": "t1", "last_agent_message": "hi"}},
    ]);
    send(request(
        3,
        "thread/items/append",
        json!({"threadId": id, "items": items, "expectedPosition": 1}),
    ))
    .await;
    // The notification and the answer may come in either order.
    let (mut answer, mut event) = (next().await, next().await);
    if answer.get("method").is_some() {
        std::mem::swap(&mut answer, &mut event);
    }
    assert_eq!(answer["id"], 3);
    assert_eq!(answer["result"]["firstPosition"], 1);
    assert_eq!(answer["result"]["lastPosition"], 4);
    assert_eq!(event["params"]["subscription"], subscription);
    assert_eq!(event["params"]["result"]["kind"], "turnCompleted");
    assert_eq!(event["params"]["result"]["turnId"], "t1");
    assert_eq!(event["params"]["result"]["status"], "completed");

    send(request(4, "thread/turns/list", json!({"threadId": id}))).await;
    let turns = next().await;
    let turn = &turns["result"]["data"][0];
    assert_eq!(turn["turnId"], "t1");
    assert_eq!(turn["status"], "completed");
    assert_eq!(turn["lines"].as_array().unwrap().len(), 2);
    assert_eq!(turn["lines"][0]["payload"]["message"], "hello");
    assert_eq!(turn["lines"][0]["position"], 2);
    assert_eq!(turn["items"][0]["type"], "userMessage");
    assert_eq!(turn["items"][0]["content"][0]["text"], "hello");

    send(request(
        7,
        "thread/list",
        json!({"searchTerm": "z".repeat(3000)}),
    ))
    .await;
    let too_big = next().await;
    assert_eq!(too_big["error"]["code"], -32007, "{too_big}");
    assert_eq!(too_big["id"], Value::Null);
    assert!(too_big["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2048"));
    assert_eq!(too_big["error"]["data"]["error"], "MessageTooLarge");
    assert_eq!(too_big["error"]["data"]["maxMessageBytes"], 2048);
    assert!(too_big["error"]["data"]["messageBytes"].as_u64().unwrap() > 2048);
    send("][".into()).await;
    let unparsable = next().await;
    assert_eq!(unparsable["error"]["code"], -32700, "{unparsable}");
    assert_eq!(unparsable["error"]["data"], json!({"error": "ParseError"}));
    assert_eq!(unparsable["id"], Value::Null);
    send(request(5, "no/such/method", json!({}))).await;
    let unknown = next().await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    assert_eq!(unknown["id"], 5);
    assert_eq!(
        unknown["error"]["data"],
        json!({"error": "MethodNotFound", "method": "no/such/method"})
    );
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no/such/method"));
    // Not JSON-RPC: no method, a wrong version, not an object, an empty batch.
    for (line, id) in [
        (json!({"jsonrpc": "2.0", "id": 8}), json!(8)),
        (
            json!({"jsonrpc": "1.0", "id": 9, "method": "thread/list"}),
            json!(9),
        ),
        (json!({"jsonrpc": "2.0"}), Value::Null),
        (json!(42), Value::Null),
        (json!([]), Value::Null),
    ] {
        send(line.to_string()).await;
        let invalid = next().await;
        assert_eq!(invalid["error"]["code"], -32600, "{line} -> {invalid}");
        assert_eq!(
            invalid["error"]["data"]["error"], "InvalidRequest",
            "{invalid}"
        );
        assert_eq!(invalid["id"], id, "{invalid}");
    }
    // A batch: each entry answered with its typed error, a notification in it not at all.
    send(
        json!([
            {"jsonrpc": "2.0", "id": 11, "method": "thread/frobnicate"},
            {"jsonrpc": "2.0", "id": 12},
            {"jsonrpc": "2.0", "method": "thread/list"},
        ])
        .to_string(),
    )
    .await;
    let batch = next().await;
    let batch = batch.as_array().expect("a batch answer");
    assert_eq!(batch.len(), 2, "{batch:?}");
    assert_eq!(batch[0]["id"], 11);
    assert_eq!(batch[0]["error"]["data"]["error"], "MethodNotFound");
    assert_eq!(batch[1]["id"], 12);
    assert_eq!(batch[1]["error"]["data"]["error"], "InvalidRequest");
    // A notification (no id) is neither run nor answered: the next line answers the next request.
    send(
        json!({"jsonrpc": "2.0", "method": "thread/delete", "params": {"threadId": id}})
            .to_string(),
    )
    .await;
    send(request(13, "thread/read", json!({"threadId": id}))).await;
    let read = next().await;
    assert_eq!(read["id"], 13, "{read}");
    assert_eq!(read["result"]["thread"]["id"], id, "{read}");
    send(request(
        6,
        "thread/items/append",
        json!({"threadId": id, "items": [], "writerEpoch": 0}),
    ))
    .await;
    let stale = next().await;
    assert_eq!(stale["error"]["data"]["error"], "StaleWriter", "{stale}");
    assert_eq!(stale["error"]["data"]["currentEpoch"], 1);

    // The end of stdin stops the server cleanly.
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_cleanly_and_the_cli_prints_the_same_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    let (mut child, url) = spawn_ws(&data, &[]).await;
    let store = RemoteThreadStore::connect(&url).await.unwrap();
    let w = store
        .create_thread(CreateThreadParams::default())
        .await
        .unwrap();
    for t in 0..3 {
        let turn = format!("turn-{t}");
        store
            .append_items(AppendThreadItemsParams::new(
                w.thread_id,
                vec![
                    RolloutItem::task_started(&turn),
                    RolloutItem::user_message(&format!("question {t}")),
                    RolloutItem::agent_message(&format!("answer {t}")),
                    RolloutItem::task_complete(&turn, Some("done")),
                ],
            ))
            .await
            .unwrap();
    }
    // Left live on purpose: the shutdown must flush and close it.
    let page: Value = store
        .call(
            "thread/turns/list",
            &ListTurnsRequest {
                thread_id: w.thread_id,
                include_archived: true,
                cursor: None,
                limit: 2,
                sort_direction: Default::default(),
                items_view: Default::default(),
            },
        )
        .await
        .unwrap();
    drop(store);
    assert!(sigterm(&mut child).await.success());

    // The lock is released and the CLI prints exactly what the server returned.
    let out = std::process::Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .args(["turns", &w.thread_id.to_string(), "--json", "--limit", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, page);
    assert_eq!(page["data"][0]["turnId"], "turn-2");
    assert!(page["nextCursor"].is_string());
    let verify = std::process::Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .arg("verify")
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// `serve --stdio` exits promptly and cleanly on SIGTERM and on SIGINT while its stdin is still
/// open (a blocked stdin read must not keep the process alive), and releases the directory lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_server_exits_on_sigterm() {
    for signal in ["-TERM", "-INT"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut child = tokio::process::Command::new(BIN)
            .arg("--data")
            .arg(&data)
            .args(["serve", "--stdio"])
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        // Kept open (and in scope) until the end of the case.
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = request(1, "thread/create", json!({"cwd": "/repo"})) + "\n";
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let created: Value = serde_json::from_str(&answer).unwrap();
        let thread_id = created["result"]["writer"]["threadId"]
            .as_str()
            .unwrap()
            .to_owned();

        let pid = child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .unwrap_or_else(|_| panic!("serve --stdio still running 10 s after kill {signal}"))
            .unwrap();
        assert!(status.success(), "kill {signal}: {status}");

        // The lock is released and the live thread was flushed and closed: the CLI opens the
        // store, finds the thread and verifies every projection.
        for args in [vec!["show", thread_id.as_str()], vec!["verify"]] {
            let out = std::process::Command::new(BIN)
                .arg("--data")
                .arg(&data)
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "kill {signal}, {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        drop(stdin);
    }
}

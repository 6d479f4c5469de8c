//! Codex's wire shapes (issue "every answer validates against Codex's published schema"): the
//! answers of threadstore's Codex-named JSON-RPC methods, called in-process on the server's
//! module over a store holding the real fixtures (four legacy eras and the paginated one),
//! archived, named, reverted and live threads, are validated against
//! `shared/reference/codex-app-server-v2.schemas.json` with a JSON Schema validator: every
//! `Thread`, every response that has a `…Response` definition, and every `ThreadItem` of
//! `thread/items/list`.
//!
//! Without the reference file (or the fixtures) the test says why and passes, except in CI.

use std::sync::Arc;

use serde_json::{json, Value};
use threadstore::codex::import::{import_file, ImportOptions};
use threadstore::layers::rpc::rpc_module;
use threadstore::{InMemoryThreadStore, ThreadId, ThreadStore};

/// Validators for the schema's definitions, by name (each compiled once).
struct Schema(
    Value,
    std::collections::HashMap<String, jsonschema::Validator>,
);

impl Schema {
    fn load() -> Option<Self> {
        let path =
            threadstore_tests::fixtures::shared_reference("codex-app-server-v2.schemas.json")?;
        Some(Self(
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap(),
            Default::default(),
        ))
    }

    /// The errors of `value` against `#/definitions/<name>`.
    fn errors(&mut self, name: &str, value: &Value) -> Vec<String> {
        assert!(
            self.0["definitions"].get(name).is_some(),
            "the schema has no definition {name}"
        );
        let schema = &self.0;
        let validator = self.1.entry(name.to_owned()).or_insert_with(|| {
            let mut root = schema.clone();
            root["$ref"] = json!(format!("#/definitions/{name}"));
            jsonschema::draft7::new(&root).expect("the schema compiles")
        });
        validator
            .iter_errors(value)
            .map(|e| format!("{name}: {e} at {}", e.instance_path()))
            .collect()
    }
}

struct Calls {
    module: threadstore::layers::rpc::server::Module,
    schema: Schema,
    failures: Vec<String>,
    checked: usize,
}

impl Calls {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.module
            .call::<_, Value>(method, [params.clone()])
            .await
            .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
    }

    fn check(&mut self, what: &str, definition: &str, value: &Value) {
        self.checked += 1;
        for e in self.schema.errors(definition, value) {
            self.failures.push(format!("{what}: {e}"));
        }
    }

    /// Calls `method` and validates its answer against `response`, and each `Thread` in it.
    async fn answer(&mut self, method: &str, params: Value, response: Option<&str>) -> Value {
        let answer = self.call(method, params.clone()).await;
        let what = format!("{method} {params}");
        if let Some(response) = response {
            self.check(&what, response, &answer);
        }
        if answer.get("thread").is_some() {
            let thread = answer["thread"].clone();
            self.check(&what, "Thread", &thread);
        }
        if let Some(data) = answer.get("data").and_then(Value::as_array).cloned() {
            for entry in data {
                if entry.get("preview").is_some() {
                    self.check(&what, "Thread", &entry);
                }
                if let Some(thread) = entry.get("thread") {
                    self.check(&what, "Thread", thread);
                }
                if let Some(item) = entry.get("item") {
                    self.check(&what, "ThreadItem", item);
                }
            }
        }
        answer
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_named_answers_validate_against_codexs_schema() {
    let Some(mut schema) = Schema::load() else {
        return;
    };
    let Some(legacy) = threadstore_tests::fixtures::fixture_files("codex", "jsonl") else {
        return;
    };
    let Some(paginated) = threadstore_tests::fixtures::fixture_files("codex-paginated", "jsonl")
    else {
        return;
    };
    // The validator does reject: a Thread without its required fields, and a raw rollout line
    // where a ThreadItem belongs.
    assert!(!schema
        .errors("Thread", &json!({"id": "x", "preview": ""}))
        .is_empty());
    assert!(!schema
        .errors("ThreadItem", &json!({"type": "event_msg", "payload": {}}))
        .is_empty());
    let store = Arc::new(InMemoryThreadStore::default());
    let mut ids = Vec::new();
    for file in legacy.iter().chain(&paginated) {
        let report = import_file(store.as_ref(), file, &ImportOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        ids.push(report.thread_id);
    }
    let paginated_id = *ids.last().unwrap();
    // A live thread (status idle), and a thread created with almost nothing known.
    let live = store
        .create_thread(threadstore::CreateThreadParams::default())
        .await
        .unwrap()
        .thread_id;
    let module = rpc_module(store.clone() as Arc<dyn ThreadStore>, 64 << 20).unwrap();
    let mut calls = Calls {
        module,
        schema,
        failures: Vec::new(),
        checked: 0,
    };

    let first = ids[0];
    calls
        .answer(
            "thread/name/set",
            json!({"threadId": first, "name": "named"}),
            Some("ThreadSetNameResponse"),
        )
        .await;
    calls
        .answer(
            "thread/metadata/update",
            json!({"threadId": first, "gitInfo": {"sha": "abc", "branch": "main", "originUrl": null}}),
            Some("ThreadMetadataUpdateResponse"),
        )
        .await;
    calls
        .answer(
            "thread/archive",
            json!({"threadId": ids[1]}),
            Some("ThreadArchiveResponse"),
        )
        .await;
    calls
        .answer(
            "thread/unarchive",
            json!({"threadId": ids[1]}),
            Some("ThreadUnarchiveResponse"),
        )
        .await;
    calls
        .answer("thread/archive", json!({"threadId": ids[2]}), None)
        .await;
    for archived in [false, true] {
        calls
            .answer(
                "thread/list",
                json!({"limit": 100, "archived": archived}),
                Some("ThreadListResponse"),
            )
            .await;
    }
    for id in ids.iter().chain([&live]) {
        calls
            .answer(
                "thread/read",
                json!({"threadId": id, "includeArchived": true}),
                Some("ThreadReadResponse"),
            )
            .await;
    }
    calls
        .answer("thread/search", json!({"searchTerm": "hello"}), None)
        .await;
    // Turns of every era, in every view: Codex's Turn with ThreadItems.
    for id in &ids {
        for view in ["notLoaded", "summary", "full"] {
            let page = calls
                .call(
                    "thread/turns/list",
                    json!({"threadId": id, "includeArchived": true, "itemsView": view, "limit": 200}),
                )
                .await;
            for turn in page["data"].as_array().unwrap() {
                calls.check(&format!("thread/turns/list {id} {view}"), "Turn", turn);
            }
            // Codex's item view of the first turn, in every era.
            if view == "full" {
                if let Some(turn) = page["data"][0]["id"].as_str() {
                    calls
                        .answer(
                            "thread/items/list",
                            json!({"threadId": id, "turnId": turn, "limit": 100}),
                            None,
                        )
                        .await;
                }
            }
        }
    }
    // Codex's item view of the paginated fixture: every item a v2 ThreadItem.
    let items = calls
        .answer(
            "thread/items/list",
            json!({"threadId": paginated_id, "limit": 100}),
            None,
        )
        .await;
    assert_eq!(items["data"].as_array().map(Vec::len), Some(12));
    // Resume and fork answer with Codex's session settings beside the thread (a legacy thread and
    // the paginated one, forked at each boundary, with and without turns).
    for id in [first, paginated_id] {
        calls
            .answer(
                "thread/resume",
                json!({"threadId": id, "includeArchived": true}),
                Some("ThreadResumeResponse"),
            )
            .await;
    }
    let turns = calls
        .call(
            "thread/turns/list",
            json!({"threadId": paginated_id, "sortDirection": "asc"}),
        )
        .await;
    let first_turn = turns["data"][0]["id"].clone();
    for params in [
        json!({"threadId": paginated_id}),
        json!({"threadId": paginated_id, "lastTurnId": first_turn}),
        json!({"threadId": paginated_id, "beforeTurnId": first_turn, "excludeTurns": true}),
        json!({"threadId": first}),
    ] {
        let fork = calls
            .answer("thread/fork", params, Some("ThreadForkResponse"))
            .await;
        let fork_id = fork["thread"]["id"].clone();
        assert!(fork["thread"]["forkedFromId"].as_str().is_some());
        let read = calls
            .answer(
                "thread/read",
                json!({"threadId": fork_id, "includeTurns": true}),
                Some("ThreadReadResponse"),
            )
            .await;
        // `includeTurns` fills the thread's turns, as Codex's.
        assert_eq!(
            read["thread"]["turns"].as_array().map(Vec::len),
            read["thread"]["turnCount"].as_u64().map(|n| n as usize)
        );
    }
    // Codex's deprecated rollback, on a legacy thread: its thread with its turns.
    calls
        .answer(
            "thread/rollback",
            json!({"threadId": ids[3], "numTurns": 1}),
            Some("ThreadRollbackResponse"),
        )
        .await;
    // A revert's answer carries a Thread.
    let turns = calls
        .call(
            "thread/turns/list",
            json!({"threadId": paginated_id, "sortDirection": "asc"}),
        )
        .await;
    let second_turn = turns["data"][1]["id"].clone();
    calls
        .answer(
            "thread/revert",
            json!({"threadId": paginated_id, "beforeTurnId": second_turn}),
            None,
        )
        .await;
    calls
        .answer(
            "thread/delete",
            json!({"threadId": live}),
            Some("ThreadDeleteResponse"),
        )
        .await;
    let _: ThreadId = live;
    assert!(calls.checked > 30, "only {} answers checked", calls.checked);
    assert!(
        calls.failures.is_empty(),
        "{} answers do not validate against Codex's schema:\n{}",
        calls.failures.len(),
        calls.failures.join("\n")
    );
}

/// Every TurnItem variant Codex writes in paginated rollouts (shapes as
/// `shared/reference/codex-thread-items.md` §2 gives them), mapped by threadstore to Codex's v2
/// `ThreadItem`, validates against the schema, and keeps its variant's name.
#[test]
fn every_thread_item_variant_threadstore_produces_validates() {
    use threadstore::thread_item::thread_item;
    let Some(mut schema) = Schema::load() else {
        return;
    };
    let turn_items = [
        json!({"type": "UserMessage", "id": "u1", "client_id": "c1", "content": [
            {"type": "text", "text": "hi", "text_elements": [{"byte_range": {"start": 0, "end": 2}, "placeholder": null}]},
            {"type": "image", "image_url": "data:image/png;base64,AAAA"},
            {"type": "local_image", "path": "/tmp/a.png"}]}),
        json!({"type": "HookPrompt", "id": "h1", "fragments": [{"text": "be careful", "hookRunId": "r1"}]}),
        json!({"type": "AgentMessage", "id": "a1", "content": [{"type": "Text", "text": "done"}],
            "phase": "final_answer"}),
        json!({"type": "Plan", "id": "p1", "text": "1. fix\n2. test"}),
        json!({"type": "Reasoning", "id": "r1", "summary_text": ["thinking"], "raw_content": []}),
        json!({"type": "CommandExecution", "id": "x1", "command": ["bash", "-lc", "echo hi"],
            "cwd": "/repo", "parsed_cmd": [{"type": "unknown", "cmd": "echo hi"}], "source": "agent",
            "status": "completed", "aggregated_output": "hi\n", "exit_code": 0,
            "duration": {"secs": 0, "nanos": 5_000_000}, "process_id": "123"}),
        json!({"type": "FileChange", "id": "f1", "status": "completed", "changes": {
            "/repo/a.rs": {"type": "add", "content": "fn main() {}\n"},
            "/repo/b.rs": {"type": "update", "unified_diff": "@@ -1 +1 @@\n-a\n+b\n", "move_path": null}}}),
        json!({"type": "McpToolCall", "id": "m1", "server": "docs", "tool": "search",
            "arguments": {"q": "x"}, "status": "completed",
            "result": {"content": [{"type": "text", "text": "found"}], "isError": false},
            "duration": {"secs": 1, "nanos": 0}}),
        json!({"type": "WebSearch", "id": "w1", "query": "rust", "action": {"type": "search", "query": "rust"}}),
        json!({"type": "ImageView", "id": "i1", "path": "/repo/shot.png"}),
        json!({"type": "ImageGeneration", "id": "g1", "status": "completed", "revised_prompt": "a cat",
            "result": "AAAA", "saved_path": "/tmp/cat.png"}),
        json!({"type": "EnteredReviewMode", "id": "e1", "target": {"type": "uncommittedChanges"},
            "user_facing_hint": "current changes"}),
        json!({"type": "ExitedReviewMode", "id": "e2", "review_output": {"findings": [],
            "overall_correctness": "patch is correct", "overall_explanation": "Looks good.",
            "overall_confidence_score": 0.9}}),
        json!({"type": "ContextCompaction", "id": "k1"}),
    ];
    let mut failures = Vec::new();
    for turn_item in &turn_items {
        let name = turn_item["type"].as_str().unwrap();
        let item = thread_item(turn_item).unwrap_or_else(|| panic!("{name} maps to no item"));
        let camel = format!("{}{}", name[..1].to_lowercase(), &name[1..]);
        assert_eq!(item["type"], json!(camel), "{name}");
        failures.extend(schema.errors("ThreadItem", &item));
    }
    assert!(
        failures.is_empty(),
        "ThreadItems that do not validate:\n{}",
        failures.join("\n")
    );
}

/// Codex's notifications of a change, over the stdio transport (served in-process on a pipe):
/// after the answer to `thread/name/set`, `thread/fork`, `thread/revert`, `thread/archive`,
/// `thread/unarchive` and `thread/delete` come `thread/name/updated`, `thread/started`,
/// `thread/reverted`, `thread/archived`, `thread/unarchived` and `thread/deleted`, each valid
/// against Codex's `ServerNotification`, each after its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_notifications_follow_the_changes_they_report() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let Some(mut schema) = Schema::load() else {
        return;
    };
    let Some(paginated) = threadstore_tests::fixtures::fixture_files("codex-paginated", "jsonl")
    else {
        return;
    };
    let store = Arc::new(InMemoryThreadStore::default());
    let id = import_file(store.as_ref(), &paginated[0], &ImportOptions::default())
        .await
        .unwrap()
        .thread_id;
    let turns = store
        .list_turns(threadstore::ListTurnsParams {
            sort_direction: threadstore::SortDirection::Asc,
            ..threadstore::ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    let first_turn = turns.turns[0].turn_id.clone();
    let module = rpc_module(store.clone() as Arc<dyn ThreadStore>, 64 << 20).unwrap();
    let (mut to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    let served = tokio::spawn(threadstore::layers::rpc::server::stdio::serve(
        module,
        server_in,
        server_out,
        64 << 20,
        std::future::pending(),
    ));
    let mut lines = BufReader::new(from_server).lines();
    // Every request is written first; the answers and notifications are read once the input
    // ends (the server answers the lines in order).
    let mut sent = Vec::new();
    // The fork's id, from the answer to `thread/fork` (id 2).
    let forked_name = |v: &Value| {
        (v["id"] == json!(2))
            .then(|| v["result"]["thread"]["id"].as_str().map(str::to_owned))
            .flatten()
    };
    {
        // Writes one request and returns its id.
        let mut next_id = 0;
        let mut call = async |method: &str, params: Value| -> Value {
            next_id += 1;
            let line = json!({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params});
            to_server
                .write_all(format!("{line}\n").as_bytes())
                .await
                .unwrap();
            json!(next_id)
        };
        sent.push((
            "thread/name/set",
            call(
                "thread/name/set",
                json!({"threadId": id, "name": "Renamed"}),
            )
            .await,
        ));
        sent.push((
            "thread/fork",
            call("thread/fork", json!({"threadId": id})).await,
        ));
        sent.push((
            "thread/revert",
            call(
                "thread/revert",
                json!({"threadId": id, "beforeTurnId": first_turn}),
            )
            .await,
        ));
        sent.push((
            "thread/archive",
            call("thread/archive", json!({"threadId": id})).await,
        ));
        sent.push((
            "thread/unarchive",
            call("thread/unarchive", json!({"threadId": id})).await,
        ));
        sent.push((
            "thread/read",
            call("thread/read", json!({"threadId": id})).await,
        ));
        sent.push((
            "thread/delete",
            call("thread/delete", json!({"threadId": id})).await,
        ));
    }
    drop(to_server);
    let mut messages = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        messages.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    served.await.unwrap().unwrap();
    let mut failures = Vec::new();
    let mut order = Vec::new();
    for m in &messages {
        if let Some(method) = m.get("method").and_then(Value::as_str) {
            failures.extend(schema.errors("ServerNotification", m));
            order.push(format!("notify {method}"));
        } else {
            let (call, _) = sent.iter().find(|(_, i)| *i == m["id"]).unwrap();
            assert!(m.get("result").is_some(), "{call}: {m}");
            order.push(format!("answer {call}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        order,
        [
            "answer thread/name/set",
            "notify thread/name/updated",
            "answer thread/fork",
            "notify thread/started",
            "answer thread/revert",
            "notify thread/reverted",
            "answer thread/archive",
            "notify thread/archived",
            "answer thread/unarchive",
            "notify thread/unarchived",
            "answer thread/read",
            "answer thread/delete",
            "notify thread/deleted",
        ]
    );
    let started = messages
        .iter()
        .find(|m| m["method"] == "thread/started")
        .unwrap();
    let forked = messages.iter().find_map(forked_name);
    assert_eq!(
        started["params"]["thread"]["id"].as_str(),
        forked.as_deref(),
        "thread/started carries the fork"
    );
    assert_ne!(forked, Some(id.to_string()));
    assert_eq!(
        messages[1]["params"],
        json!({"threadId": id, "threadName": "Renamed"})
    );
}

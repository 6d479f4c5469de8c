//! End-to-end tests of the `threadstore` binary's inspection and import commands: each test runs
//! the real binary as a child process against a store in a temporary directory.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use threadstore::codex::{generate_rollout, GenSpec, RolloutEra};
use threadstore::ThreadId;
use threadstore_tests::fixtures::{fixture_files, CODEX};

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");

/// Runs `threadstore --data <data> <args>` and returns its output.
fn ts(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("THREADSTORE_DATA")
        // Tables are 100 columns wide, whatever the width of the terminal running the tests.
        .env_remove("COLUMNS")
        .output()
        .expect("the threadstore binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must succeed.
fn ok(data: &Path, args: &[&str]) -> Output {
    let o = ts(data, args);
    assert!(
        o.status.success(),
        "threadstore {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    o
}

/// Runs a command that must print one JSON object.
fn json(data: &Path, args: &[&str]) -> Value {
    let o = ok(data, args);
    serde_json::from_slice(&o.stdout).expect("one JSON object on stdout")
}

/// Runs a command that must print one JSON object per line.
fn json_lines(data: &Path, args: &[&str]) -> Vec<Value> {
    let o = ok(data, args);
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

/// A generated Codex home and what it should import as.
struct CodexHome {
    root: PathBuf,
    /// E3 thread in `sessions/`, named twice in the session index (newest wins).
    named: ThreadId,
    /// Thread whose file has a torn last line.
    torn: ThreadId,
    torn_file: PathBuf,
    torn_line: usize,
    /// Thread of the compressed file.
    compressed: ThreadId,
    /// Thread in `archived_sessions/`.
    archived: ThreadId,
    /// Every thread, in no particular order.
    all: Vec<ThreadId>,
}

fn rollout_name(n: usize, id: ThreadId, ext: &str) -> String {
    format!("rollout-2026-01-02T10-00-{n:02}-{id}.{ext}")
}

/// Writes a Codex home: four eras in `sessions/2026/01/02/` (one `.jsonl.zst`, one with a torn
/// last line), one archived session, and a `session_index.jsonl`.
fn codex_home(root: &Path) -> CodexHome {
    let day = root.join("sessions/2026/01/02");
    let archived_dir = root.join("archived_sessions");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(&archived_dir).unwrap();
    let spec = |turns: usize, seed: u64| GenSpec {
        thread_id: ThreadId::new(),
        turns,
        seed,
        ..Default::default()
    };
    let mut all = Vec::new();

    let named = spec(4, 1);
    std::fs::write(
        day.join(rollout_name(1, named.thread_id, "jsonl")),
        generate_rollout(RolloutEra::E3TurnIds, &named),
    )
    .unwrap();
    all.push(named.thread_id);

    let e2 = spec(3, 2);
    std::fs::write(
        day.join(rollout_name(2, e2.thread_id, "jsonl")),
        generate_rollout(RolloutEra::E2OldEnvelope, &e2),
    )
    .unwrap();
    all.push(e2.thread_id);

    let legacy = spec(2, 3);
    std::fs::write(
        day.join(rollout_name(3, legacy.thread_id, "jsonl")),
        generate_rollout(RolloutEra::E0Legacy, &legacy),
    )
    .unwrap();
    all.push(legacy.thread_id);

    let compressed = spec(3, 4);
    let text = generate_rollout(RolloutEra::E3TurnIds, &compressed);
    let packed = zstd::encode_all(text.as_bytes(), 3).unwrap();
    std::fs::write(
        day.join(rollout_name(4, compressed.thread_id, "jsonl.zst")),
        packed,
    )
    .unwrap();
    all.push(compressed.thread_id);

    let torn = spec(2, 5);
    let mut text = generate_rollout(RolloutEra::E1EarlyEnvelope, &torn);
    let torn_line = text.lines().count() + 1;
    text.push_str(r#"{"timestamp":"2026-01-02T10:09:00.000Z","type":"event_msg","payload":{"type":"agent_mes"#);
    let torn_file = day.join(rollout_name(5, torn.thread_id, "jsonl"));
    std::fs::write(&torn_file, text).unwrap();
    all.push(torn.thread_id);

    let archived = spec(2, 6);
    std::fs::write(
        archived_dir.join(rollout_name(6, archived.thread_id, "jsonl")),
        generate_rollout(RolloutEra::E3TurnIds, &archived),
    )
    .unwrap();
    all.push(archived.thread_id);

    let mut index = std::fs::File::create(root.join("session_index.jsonl")).unwrap();
    let id = named.thread_id;
    writeln!(
        index,
        r#"{{"id":"{id}","thread_name":"Fix the build","updated_at":"2026-01-03T09:00:00Z"}}"#
    )
    .unwrap();
    writeln!(
        index,
        r#"{{"id":"{id}","thread_name":"old name","updated_at":"2026-01-02T09:00:00Z"}}"#
    )
    .unwrap();
    let id = archived.thread_id;
    writeln!(
        index,
        r#"{{"id":"{id}","thread_name":"Archived work","updated_at":"2026-01-02T09:00:00Z"}}"#
    )
    .unwrap();
    let id = ThreadId::new();
    writeln!(
        index,
        r#"{{"id":"{id}","thread_name":"not imported","updated_at":"2026-01-02T09:00:00Z"}}"#
    )
    .unwrap();
    writeln!(index, "not json").unwrap();

    CodexHome {
        root: root.to_path_buf(),
        named: named.thread_id,
        torn: torn.thread_id,
        torn_file,
        torn_line,
        compressed: compressed.thread_id,
        archived: archived.thread_id,
        all,
    }
}

fn by_thread(lines: &[Value], id: ThreadId) -> &Value {
    lines
        .iter()
        .find(|l| l["threadId"] == id.to_string())
        .unwrap_or_else(|| panic!("no line for thread {id} in {lines:#?}"))
}

#[test]
fn import_codex_home_then_list_show_turns_items_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    let home_arg = home.root.to_str().unwrap();

    // Import: one JSON line per file, with its thread id and source file.
    let lines = json_lines(&data, &["import", home_arg, "--json"]);
    assert_eq!(lines.len(), home.all.len(), "{lines:#?}");
    for id in &home.all {
        let l = by_thread(&lines, *id);
        assert_eq!(l["alreadyImported"], false);
        assert!(l["items"].as_u64().unwrap() > 0, "{l}");
        assert!(l["source"].as_str().unwrap().contains(&id.to_string()));
    }
    let torn = by_thread(&lines, home.torn);
    let skipped = torn["skippedLines"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{torn}");
    assert_eq!(skipped[0]["line"], home.torn_line);
    assert_eq!(skipped[0]["torn"], true);
    assert!(by_thread(&lines, home.compressed)["source"]
        .as_str()
        .unwrap()
        .ends_with(".jsonl.zst"));
    assert_eq!(by_thread(&lines, home.archived)["archived"], true);
    assert_eq!(by_thread(&lines, home.named)["name"], "Fix the build");
    assert_eq!(by_thread(&lines, home.archived)["name"], "Archived work");

    // Re-import: nothing written, every file reported as already imported.
    let again = json_lines(&data, &["import", home_arg, "--json"]);
    assert_eq!(again.len(), home.all.len());
    for l in &again {
        assert_eq!(l["alreadyImported"], true, "{l}");
        assert_eq!(l["items"], 0);
    }

    // threads --json: the thread/list result object.
    let list = json(&data, &["threads", "--json"]);
    let active = list["data"].as_array().unwrap();
    assert_eq!(active.len(), home.all.len() - 1, "{list:#}");
    assert!(list["nextCursor"].is_null());
    let named = active
        .iter()
        .find(|t| t["threadId"] == home.named.to_string())
        .unwrap();
    assert_eq!(named["id"], named["threadId"]);
    assert_eq!(named["name"], "Fix the build");
    assert_eq!(named["archived"], false);
    assert_eq!(named["turnCount"], 4);
    assert!(named["createdAt"].is_i64() && named["updatedAt"].is_i64());
    assert_eq!(named["cwd"], "/home/user/project");
    let archived = json(&data, &["threads", "--json", "--archived"]);
    assert_eq!(archived["data"].as_array().unwrap().len(), 1);
    assert_eq!(archived["data"][0]["threadId"], home.archived.to_string());
    assert_eq!(archived["data"][0]["archived"], true);

    // Paging threads: a cursor from page one gives the rest.
    let first = json(
        &data,
        &[
            "threads", "--json", "--limit", "2", "--sort", "created", "--asc",
        ],
    );
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap();
    let rest = json(
        &data,
        &[
            "threads", "--json", "--sort", "created", "--asc", "--cursor", cursor,
        ],
    );
    assert_eq!(rest["data"].as_array().unwrap().len(), home.all.len() - 3);
    let search = json(&data, &["threads", "--json", "--search", "fix the BUILD"]);
    assert_eq!(search["data"].as_array().unwrap().len(), 1);

    // Human table.
    let table = stdout(&ok(&data, &["threads"]));
    assert!(table.contains(&home.named.to_string()), "{table}");
    assert!(table.contains("[Fix the build]"), "{table}");

    // show.
    let shown = json(&data, &["show", &home.named.to_string(), "--json"]);
    assert_eq!(shown["name"], "Fix the build");
    assert!(shown["path"]
        .as_str()
        .unwrap()
        .contains("sessions/2026/01/02/"));
    let shown = stdout(&ok(&data, &["show", &home.archived.to_string()]));
    assert!(shown.contains("archived at"), "{shown}");

    // turns --json: the thread/turns/list result object.
    let id = home.named.to_string();
    let page = json(&data, &["turns", &id, "--json", "--limit", "2"]);
    let turns = page["data"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert!(page["nextCursor"].is_string(), "{page:#}");
    assert!(page["backwardsCursor"].is_string(), "{page:#}");
    for turn in turns {
        assert!(turn["turnId"].is_string());
        assert_eq!(turn["id"], turn["turnId"]);
        assert_eq!(turn["status"], "completed");
        assert!(turn["startedAt"].is_i64() && turn["completedAt"].is_i64());
        assert!(turn["durationMs"].is_i64());
        let lines = turn["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "summary: first user + last agent message");
        for line in lines {
            assert!(line["position"].is_u64());
            assert!(line["type"].is_string() && line["payload"].is_object());
            assert!(line["timestamp"].is_string());
        }
        // The same two as Codex's ThreadItems.
        let items = turn["items"].as_array().unwrap();
        let kinds: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["userMessage", "agentMessage"], "{turn:#}");
    }
    let cursor = page["nextCursor"].as_str().unwrap();
    let older = json(
        &data,
        &["turns", &id, "--json", "--limit", "2", "--cursor", cursor],
    );
    assert_eq!(older["data"].as_array().unwrap().len(), 2);
    assert!(older["nextCursor"].is_null());
    assert_ne!(older["data"][0]["turnId"], turns[0]["turnId"]);
    let asc = json(
        &data,
        &["turns", &id, "--json", "--asc", "--view", "notLoaded"],
    );
    assert_eq!(asc["data"].as_array().unwrap().len(), 4);
    assert_eq!(asc["data"][3]["turnId"], turns[0]["turnId"]);
    assert!(asc["data"][0]["items"].as_array().unwrap().is_empty());
    let full = json(
        &data,
        &["turns", &id, "--json", "--limit", "1", "--view", "full"],
    );
    let full_lines = full["data"][0]["lines"].as_array().unwrap();
    assert_eq!(
        full_lines.len() as u64,
        full["data"][0]["itemCount"].as_u64().unwrap()
    );
    let human = stdout(&ok(&data, &["turns", &id]));
    assert_eq!(
        human.lines().filter(|l| l.contains("completed")).count(),
        4,
        "{human}"
    );
    assert!(human.contains("user: "), "{human}");

    // items: one turn's, then the whole thread's in pages.
    let turn_id = turns[0]["turnId"].as_str().unwrap();
    let items = json(&data, &["items", &id, "--turn", turn_id, "--json"]);
    assert_eq!(items["data"].as_array().unwrap().len(), full_lines.len());
    let first = json(&data, &["items", &id, "--json", "--limit", "3"]);
    assert_eq!(first["data"][0]["position"], 0);
    assert_eq!(first["data"][0]["type"], "session_meta");
    let cursor = first["nextCursor"].as_str().unwrap();
    let next = json(
        &data,
        &["items", &id, "--json", "--limit", "3", "--cursor", cursor],
    );
    assert_eq!(next["data"][0]["position"], 3);
    let human = stdout(&ok(&data, &["items", &id, "--limit", "3"]));
    assert!(human.contains("session_meta"), "{human}");

    // stats and verify.
    let stats = json(&data, &["stats", "--json"]);
    assert_eq!(stats["threads"], home.all.len());
    assert_eq!(stats["archivedThreads"], 1);
    assert!(stats["feedHead"].as_u64().unwrap() > 0);
    assert!(stats["bytesOnDisk"].as_u64().unwrap() > 0);
    let verify = ok(&data, &["verify"]);
    assert!(
        stdout(&verify).contains("every projection matches"),
        "{}",
        stdout(&verify)
    );
    let verify = json(&data, &["verify", "--json"]);
    assert_eq!(verify["threads"], home.all.len());
    assert_eq!(verify["ok"], true);
}

#[test]
fn import_prints_progress_lines_torn_lines_and_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    let o = ok(&data, &["import", home.root.to_str().unwrap()]);
    let (out, err) = (stdout(&o), stderr(&o));
    let torn = format!(
        "warning: {}:{}: skipped: torn last line",
        home.torn_file.strip_prefix(&home.root).unwrap().display(),
        home.torn_line
    );
    assert!(err.contains(&torn), "stderr: {err}");
    assert!(
        err.contains("session_index.jsonl:5: skipped"),
        "stderr: {err}"
    );
    assert!(
        out.contains("imported 6 threads") && out.contains("1 archived, 2 named"),
        "stdout: {out}"
    );
    assert!(
        out.contains("1 unreadable line skipped (1 torn)"),
        "stdout: {out}"
    );
    let o = ok(&data, &["import", home.root.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(out.contains("6 already present"), "stdout: {out}");
    assert!(out.contains("0 unreadable lines skipped"), "stdout: {out}");
    assert!(!stderr(&o).contains("torn"), "reported once, when imported");
    assert_eq!(out.matches("already imported").count(), 6, "stdout: {out}");
    // A single file works too, and is already there.
    let o = ok(
        &data,
        &["import", home.torn_file.to_str().unwrap(), "--json"],
    );
    assert!(stdout(&o).contains("\"alreadyImported\":true"));
}

/// `import` finishes a thread whose import was cut short (only its first lines are stored) and
/// reports a thread with the same id but other contents as a conflict (exit code 1).
#[test]
fn import_finishes_an_interrupted_import_and_reports_a_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let folder = tmp.path().join("rollouts");
    std::fs::create_dir_all(&folder).unwrap();
    let (partial, other) = (
        GenSpec {
            turns: 4,
            ..GenSpec::default()
        },
        GenSpec::default(),
    );
    let partial_file = folder.join(rollout_name(1, partial.thread_id, "jsonl"));
    let partial_text = generate_rollout(RolloutEra::E3TurnIds, &partial);
    std::fs::write(&partial_file, &partial_text).unwrap();
    let other_file = folder.join(rollout_name(2, other.thread_id, "jsonl"));
    std::fs::write(&other_file, generate_rollout(RolloutEra::E3TurnIds, &other)).unwrap();
    let total = partial_text.lines().count();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use threadstore::{CreateThreadParams, RolloutLine, ThreadStore};
        let store = threadstore::SledThreadStore::open(&data).await.unwrap();
        let first: Vec<RolloutLine> = partial_text
            .lines()
            .take(5)
            .map(|l| RolloutLine::from_json_line(l).unwrap())
            .collect();
        store
            .create_thread(CreateThreadParams {
                thread_id: Some(partial.thread_id),
                rollout_path: Some(partial_file.clone()),
                history: first,
                ..Default::default()
            })
            .await
            .unwrap();
        store
            .create_thread(CreateThreadParams {
                thread_id: Some(other.thread_id),
                ..Default::default()
            })
            .await
            .unwrap();
        store.close().await.unwrap();
    });

    let o = ts(&data, &["import", folder.to_str().unwrap()]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains(&format!(
            "finished {} (appended {} of {total} items",
            partial.thread_id,
            total - 5
        )) && out.contains(&format!("{} missing items appended", total - 5)),
        "stdout: {out}"
    );
    assert!(
        out.contains("1 interrupted import finished") && out.contains("1 conflict:"),
        "stdout: {out}"
    );
    assert!(
        err.contains("conflict") && err.contains(&other.thread_id.to_string()),
        "stderr: {err}"
    );
    let show = json(&data, &["show", &partial.thread_id.to_string(), "--json"]);
    assert_eq!(show["itemCount"], total as u64, "{show}");

    let o = ok(&data, &["import", partial_file.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(out.contains("1 already present"), "stdout: {out}");
    assert!(
        out.contains("0 interrupted imports finished"),
        "stdout: {out}"
    );
    ok(&data, &["verify"]);
}

#[test]
fn helpful_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");

    // No store yet: inspection commands do not create one.
    let o = ts(&data, &["threads"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no store in"), "{}", stderr(&o));
    assert!(!data.exists());

    let home = codex_home(&tmp.path().join("codex"));
    ok(&data, &["import", home.root.to_str().unwrap()]);

    let unknown = ThreadId::new();
    for cmd in ["show", "turns", "items"] {
        let o = ts(&data, &[cmd, &unknown.to_string()]);
        assert!(!o.status.success(), "{cmd}");
        let expected = format!("no thread {unknown} in {}", data.display());
        assert!(stderr(&o).contains(&expected), "{cmd}: {}", stderr(&o));
    }
    let o = ts(&data, &["show", "not-a-uuid"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("invalid thread id \"not-a-uuid\""),
        "{}",
        stderr(&o)
    );

    let o = ts(
        &data,
        &["turns", &home.named.to_string(), "--cursor", "garbage"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("bad cursor \"garbage\""),
        "{}",
        stderr(&o)
    );
    let o = ts(&data, &["threads", "--cursor", "garbage"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("bad cursor"), "{}", stderr(&o));

    let o = ts(&data, &["items", &home.named.to_string(), "--turn", "nope"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("has no turn \"nope\""),
        "{}",
        stderr(&o)
    );

    let o = ts(
        &data,
        &["import", tmp.path().join("missing").to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot import"), "{}", stderr(&o));
}

/// Spawns `tail` and waits until it has caught up (its "following" line on stderr).
fn spawn_tail(data: &Path, args: &[&str]) -> std::process::Child {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .arg("tail")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("following the feed") => return child,
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("tail did not start following: {e}");
            }
        }
    }
}

/// Stops a child with SIGINT (what Ctrl-C sends) and returns its exit status.
fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait().unwrap()
}

#[test]
fn tail_holds_the_store_and_replays_the_feed() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    ok(&data, &["import", home.root.to_str().unwrap()]);

    // Replay one thread's events from the start of the feed, as JSON lines.
    let id = home.named.to_string();
    let mut tail = spawn_tail(&data, &[&id, "--from", "0", "--json"]);

    // A second process cannot open the store while tail holds it.
    let o = ts(&data, &["threads"]);
    assert!(!o.status.success());
    let expected = format!(
        "the store in {} is in use by another threadstore process",
        data.display()
    );
    assert!(stderr(&o).contains(&expected), "{}", stderr(&o));

    let status = interrupt(&mut tail);
    assert!(status.success(), "tail exits cleanly on Ctrl-C: {status:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut tail.stdout.take().unwrap(), &mut out).unwrap();
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["kind"], "threadCreated", "{out}");
    assert!(events.iter().all(|e| e["threadId"] == id.as_str()));
    assert!(events
        .windows(2)
        .all(|w| w[0]["position"].as_u64() < w[1]["position"].as_u64()));
    let completed = events
        .iter()
        .filter(|e| e["kind"] == "turnCompleted")
        .count();
    assert_eq!(completed, 4, "{out}");
    assert!(
        events.iter().any(|e| e["kind"] == "metadataUpdated"),
        "the name patch"
    );

    // The lock is released: the store opens again.
    ok(&data, &["threads"]);

    // Human lines, every thread.
    let mut tail = spawn_tail(&data, &["--from", "0"]);
    assert!(interrupt(&mut tail).success());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut tail.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        out.lines().next().unwrap().trim_start().starts_with("0 "),
        "{out}"
    );
    assert!(
        out.contains("turnCompleted") && out.contains("itemsAppended"),
        "{out}"
    );
}

#[test]
fn imports_every_codex_fixture() {
    // Skipped when ../shared/fixtures/codex is missing, a failure in CI.
    let Some(files) = fixture_files(CODEX, "jsonl") else {
        return;
    };
    let files: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let mut args = vec!["import", "--json"];
    args.extend(files.iter().map(String::as_str));
    let lines = json_lines(&data, &args);
    assert_eq!(lines.len(), files.len());
    for l in &lines {
        assert_eq!(l["alreadyImported"], false, "{l}");
        assert!(l["items"].as_u64().unwrap() > 0, "{l}");
        assert!(l["skippedLines"].as_array().unwrap().is_empty(), "{l}");
        let id = l["threadId"].as_str().unwrap();
        let page = json(&data, &["turns", id, "--json", "--limit", "5"]);
        assert_eq!(
            page["data"].as_array().unwrap().len() as u64,
            l["turns"].as_u64().unwrap().min(5),
            "{l}"
        );
    }
    let list = json(&data, &["threads", "--json", "--limit", "200"]);
    assert_eq!(list["data"].as_array().unwrap().len(), files.len());
    ok(&data, &["verify"]);
    let again = json_lines(&data, &args);
    assert!(again.iter().all(|l| l["alreadyImported"] == true));
}

/// Every thread of a store as `threads --json` objects by id (active and archived), without the
/// rollout path (each store names the file it imported from) and `updatedAt`-independent fields
/// kept as they are.
fn all_threads(data: &Path) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    for archived in [false, true] {
        let mut args = vec!["threads", "--json", "--limit", "200"];
        if archived {
            args.push("--archived");
        }
        let page = json(data, &args);
        assert!(page["nextCursor"].is_null());
        for t in page["data"].as_array().unwrap() {
            let mut t = t.clone();
            t.as_object_mut().unwrap().remove("path");
            out.insert(t["threadId"].as_str().unwrap().to_owned(), t);
        }
    }
    out
}

#[test]
fn export_then_import_into_a_fresh_store_gives_the_same_threads_turns_and_items() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    let out = tmp.path().join("export");
    ok(&first, &["import", home.root.to_str().unwrap()]);

    // --json: one object per thread.
    let lines = json_lines(
        &first,
        &["export", "--out", out.to_str().unwrap(), "--json"],
    );
    assert_eq!(lines.len(), home.all.len());
    for l in &lines {
        let file = PathBuf::from(l["file"].as_str().unwrap());
        assert!(file.is_file(), "{l}");
        assert!(file.starts_with(&out));
        let rel = l["relativePath"].as_str().unwrap();
        assert!(rel.contains(l["threadId"].as_str().unwrap()), "{l}");
        assert!(rel.ends_with(".jsonl"), "{l}");
        assert!(
            l["items"].as_u64().unwrap() > 0 && l["turns"].is_u64(),
            "{l}"
        );
    }
    let archived = by_thread(&lines, home.archived);
    assert_eq!(archived["archived"], true);
    assert!(archived["relativePath"]
        .as_str()
        .unwrap()
        .starts_with("archived_sessions/rollout-2026-01-02T10-00-"));
    // Imported threads keep their Codex file names.
    let named = by_thread(&lines, home.named);
    assert_eq!(
        named["relativePath"],
        format!(
            "sessions/2026/01/02/{}",
            rollout_name(1, home.named, "jsonl")
        )
    );
    assert_eq!(named["name"], "Fix the build");
    let index = std::fs::read_to_string(out.join("session_index.jsonl")).unwrap();
    assert_eq!(index.lines().count(), 2, "{index}");
    assert!(index.contains("Fix the build") && index.contains("Archived work"));

    // Import the export into a fresh store: the same threads, turns and items.
    let o = ok(&second, &["import", out.to_str().unwrap()]);
    assert!(
        stdout(&o).contains(&format!("imported {} threads", home.all.len())),
        "{}",
        stdout(&o)
    );
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let (a, b) = (all_threads(&first), all_threads(&second));
    assert_eq!(a, b);
    for id in a.keys() {
        let turns = |data: &Path| {
            json(
                data,
                &[
                    "turns", id, "--json", "--view", "full", "--asc", "--limit", "200",
                ],
            )
        };
        assert_eq!(turns(&first), turns(&second), "turns of {id}");
        let items = |data: &Path| json(data, &["items", id, "--json", "--limit", "200"]);
        assert_eq!(items(&first), items(&second), "items of {id}");
    }
    ok(&second, &["verify"]);

    // Exporting the second store gives the same files.
    let again = tmp.path().join("export-again");
    ok(&second, &["export", "--out", again.to_str().unwrap()]);
    for l in &lines {
        let rel = l["relativePath"].as_str().unwrap();
        assert_eq!(
            std::fs::read(out.join(rel)).unwrap(),
            std::fs::read(again.join(rel)).unwrap(),
            "{rel}"
        );
    }

    // Human output, one thread, compressed.
    let small = tmp.path().join("one");
    let o = ok(
        &first,
        &[
            "export",
            "--out",
            small.to_str().unwrap(),
            "--thread",
            &home.compressed.to_string(),
            "--compress",
        ],
    );
    let text = stdout(&o);
    assert!(
        text.contains(&format!("exported {} (", home.compressed))
            && text.contains(") to sessions/"),
        "{text}"
    );
    assert!(text.contains("exported 1 thread ("), "{text}");
    let file =
        small
            .join("sessions/2026/01/02")
            .join(rollout_name(4, home.compressed, "jsonl.zst"));
    assert!(file.is_file(), "{text}");
    assert!(
        !small.join("session_index.jsonl").exists(),
        "no names to write"
    );

    // Helpful errors: an unknown thread, a bad id, no store.
    let unknown = ThreadId::new();
    let o = ts(
        &first,
        &[
            "export",
            "--out",
            small.to_str().unwrap(),
            "--thread",
            &unknown.to_string(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("no thread {unknown} in {}", first.display())),
        "{}",
        stderr(&o)
    );
    let o = ts(
        &first,
        &["export", "--out", small.to_str().unwrap(), "--thread", "x"],
    );
    assert!(
        stderr(&o).contains("invalid thread id \"x\""),
        "{}",
        stderr(&o)
    );
    let o = ts(
        &tmp.path().join("none"),
        &["export", "--out", small.to_str().unwrap()],
    );
    assert!(stderr(&o).contains("no store in"), "{}", stderr(&o));
}

/// Damages one thread's projections (its metadata and one turn's status) behind the actors'
/// back, the way a bug in a reducer would, leaving the log intact.
fn damage_projections(data: &Path, thread: ThreadId) {
    use threadstore::layers::storage::{ThreadCommit, TurnChanges, WriterChange};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = threadstore::SledThreadStore::open(data).await.unwrap();
        let journal = store.actor_store().journal();
        let record = journal.thread(thread).await.unwrap().unwrap();
        let mut damaged = record.clone();
        damaged.meta.preview = "damaged".into();
        damaged.meta.cwd = Some("/nowhere".into());
        let mut turn = journal
            .turn_range(thread, 0, u64::MAX, threadstore::SortDirection::Asc, 1)
            .await
            .unwrap()
            .remove(0);
        turn.status = threadstore::StoredTurnStatus::Failed;
        journal
            .commit(ThreadCommit {
                previous: Some(record.clone()),
                previous_live: None,
                first_position: record.next_position,
                record: damaged,
                appended: Vec::new(),
                turns: TurnChanges {
                    put: vec![turn],
                    ..Default::default()
                },
                request: None,
                writer: WriterChange::Keep,
                events: Vec::new(),
                ts_ms: 0,
                fork: None,
            })
            .await
            .unwrap();
        store.close().await.unwrap();
    });
}

#[test]
fn rebuild_fixes_damaged_projections_from_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    ok(&data, &["import", home.root.to_str().unwrap()]);
    let before = all_threads(&data);
    let id = home.named.to_string();
    let turns_before = json(&data, &["turns", &id, "--json", "--asc", "--view", "full"]);

    damage_projections(&data, home.named);
    let o = ts(&data, &["verify"]);
    assert!(!o.status.success(), "verify finds the damage");
    let shown = json(&data, &["show", &id, "--json"]);
    assert_eq!(shown["preview"], "damaged");
    assert_eq!(
        json(&data, &["threads", "--json", "--cwd", "/nowhere"])["data"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the damaged cwd is indexed"
    );

    let report = json(&data, &["rebuild", "--json"]);
    assert_eq!(report["threads"], home.all.len());
    assert_eq!(report["verifiedAfter"], true);
    assert_eq!(report["threadsChanged"], 1, "{report:#}");
    let differences = report["differencesBefore"].as_array().unwrap();
    assert!(!differences.is_empty());
    assert!(
        differences.iter().all(|d| d["threadId"] == id.as_str()),
        "{report:#}"
    );
    let backup = PathBuf::from(report["backup"].as_str().unwrap());
    assert_eq!(backup, data.join("db.pre-rebuild"));
    assert!(backup.is_dir());
    assert!(!data.join("rebuild.tmp").exists());

    // Everything is back as it was before the damage.
    ok(&data, &["verify"]);
    assert_eq!(all_threads(&data), before);
    assert_eq!(
        json(&data, &["turns", &id, "--json", "--asc", "--view", "full"]),
        turns_before
    );
    assert!(
        json(&data, &["threads", "--json", "--cwd", "/nowhere"])["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // rollout paths survive (read_thread_by_rollout_path's locator).
    assert!(json(&data, &["show", &id, "--json"])["path"]
        .as_str()
        .unwrap()
        .ends_with(&rollout_name(1, home.named, "jsonl")));

    // A second rebuild refuses while the backup is there; --discard-old leaves none.
    let o = ts(&data, &["rebuild"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("db.pre-rebuild"), "{}", stderr(&o));
    std::fs::remove_dir_all(&backup).unwrap();
    let o = ok(&data, &["rebuild", "--discard-old"]);
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "rebuilt the projections of {} threads",
            home.all.len()
        )),
        "{text}"
    );
    assert!(text.contains("nothing to fix"), "{text}");
    assert!(text.contains("every projection matches its log"), "{text}");
    assert!(!backup.exists());
    assert_eq!(all_threads(&data), before);

    let o = ts(&tmp.path().join("none"), &["rebuild"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no store in"), "{}", stderr(&o));
}

#[test]
fn rebuild_refuses_while_another_process_holds_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    ok(&data, &["import", home.root.to_str().unwrap()]);
    let mut tail = spawn_tail(&data, &[]);
    let o = ts(&data, &["rebuild"]);
    assert!(interrupt(&mut tail).success());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is in use by another threadstore process"),
        "{}",
        stderr(&o)
    );
    assert!(!data.join("db.pre-rebuild").exists());
    ok(&data, &["verify"]);
}

#[test]
fn tail_and_demo_errors_are_helpful() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    ok(&data, &["import", home.root.to_str().unwrap()]);
    let head = json(&data, &["stats", "--json"])["feedHead"]
        .as_u64()
        .unwrap();
    let past = (head + 1).to_string();
    let o = ts(&data, &["tail", "--from", &past]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("--from {past} is past the end of the feed"))
            && stderr(&o).contains(&format!("from 0 to {head}")),
        "{}",
        stderr(&o)
    );
    let o = ts(&data, &["tail", &ThreadId::new().to_string()]);
    assert!(stderr(&o).contains("no thread"), "{}", stderr(&o));

    // demo on a store another process holds: the lock message, not a sled error.
    let mut tail = spawn_tail(&data, &[]);
    let o = ts(&data, &["demo", "--sessions", "1", "--turns", "1"]);
    assert!(interrupt(&mut tail).success());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is in use by another threadstore process"),
        "{}",
        stderr(&o)
    );
}

/// Imports every real Codex fixture into a fresh store in `tmp`; `None` (after the fixtures'
/// `skipping` message) outside CI when `../shared/fixtures/codex` is missing, a failure in CI.
/// Returns the store and the `import --json` line of each file.
fn fixture_store(tmp: &Path) -> Option<(PathBuf, Vec<Value>)> {
    let files = fixture_files(CODEX, "jsonl")?;
    let data = tmp.join("store");
    let mut args = vec!["import".to_owned(), "--json".to_owned()];
    args.extend(files.iter().map(|p| p.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let lines = json_lines(&data, &args);
    assert_eq!(lines.len(), files.len());
    Some((data, lines))
}

/// Runs `threadstore --data <data> <args>` with stdout on a pipe whose reader takes the first
/// `read` bytes and then closes it (`| head -c <read>`; 0 closes it before the command writes
/// anything), and returns the exit status and stderr.
fn with_stdout_closed_after(
    data: &Path,
    args: &[&str],
    read: usize,
) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("THREADSTORE_DATA")
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the threadstore binary runs");
    let mut out = child.stdout.take().unwrap();
    let mut first = vec![0; read];
    std::io::Read::read_exact(&mut out, &mut first).expect("the first bytes of stdout");
    drop(out);
    let o = child.wait_with_output().unwrap();
    (o.status, stderr(&o))
}

/// Asserts that a command whose stdout was closed under it ended quietly: exit status 0 and no
/// panic message.
fn assert_quiet_end(args: &[&str], status: std::process::ExitStatus, err: &str) {
    assert!(
        status.success(),
        "threadstore {args:?} with stdout closed: {status:?}\nstderr: {err}"
    );
    for bad in ["panicked", "Broken pipe", "error"] {
        assert!(
            !err.contains(bad),
            "threadstore {args:?} with stdout closed printed {bad:?}:\n{err}"
        );
    }
}

#[test]
fn a_closed_stdout_pipe_ends_every_command_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((data, lines)) = fixture_store(tmp.path()) else {
        return;
    };
    let largest = lines
        .iter()
        .max_by_key(|l| l["items"].as_u64().unwrap())
        .unwrap()["threadId"]
        .as_str()
        .unwrap()
        .to_owned();

    // `items … --json | head -c 100`: the page is far larger than a pipe's buffer (64 KiB on
    // Linux), so the command is still writing when the reader goes away.
    let items = ["items", largest.as_str(), "--json", "--limit", "200"];
    let full = ok(&data, &items).stdout.len();
    assert!(
        full > 4 * 65_536,
        "the page must outgrow the pipe: {full} B"
    );
    let (status, err) = with_stdout_closed_after(&data, &items, 100);
    assert_quiet_end(&items, status, &err);

    // Every other command, with stdout closed before its first line (so the first write fails).
    let out = tmp.path().join("export");
    let out = out.to_str().unwrap();
    let commands: [&[&str]; 9] = [
        &["export", "--out", out, "--json"],
        &["export", "--out", out],
        &["threads"],
        &["threads", "--json"],
        &["turns", largest.as_str()],
        &["items", largest.as_str()],
        &["show", largest.as_str()],
        &["stats"],
        &["verify", "--json"],
    ];
    for args in commands {
        let (status, err) = with_stdout_closed_after(&data, args, 0);
        assert_quiet_end(args, status, &err);
    }

    // An import stops at its first line and closes the store properly: it verifies, and running
    // the import again completes it.
    let fresh = tmp.path().join("fresh");
    let mut import = vec!["import".to_owned()];
    import.extend(
        lines
            .iter()
            .map(|l| l["source"].as_str().unwrap().to_owned()),
    );
    let import: Vec<&str> = import.iter().map(String::as_str).collect();
    let (status, err) = with_stdout_closed_after(&fresh, &import, 0);
    assert_quiet_end(&import, status, &err);
    ok(&fresh, &["verify"]);
    ok(&fresh, &import);
    let list = json(&fresh, &["threads", "--json", "--limit", "200"]);
    assert_eq!(list["data"].as_array().unwrap().len(), lines.len());
}

/// The widest line of `text`, in display columns (a CJK character takes two).
fn widest_line(text: &str) -> (usize, &str) {
    use unicode_width::UnicodeWidthStr as _;
    text.lines()
        .map(|l| (l.width(), l))
        .max()
        .unwrap_or((0, ""))
}

/// Runs `threadstore --data <data> <args>` (which must succeed) with `COLUMNS` set as given, and
/// asserts that no line it printed on stdout is wider than `width` columns; returns stdout.
fn fits(data: &Path, args: &[&str], columns: Option<&str>, width: usize) -> String {
    let mut command = Command::new(BIN);
    command
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("THREADSTORE_DATA")
        .env_remove("COLUMNS");
    if let Some(c) = columns {
        command.env("COLUMNS", c);
    }
    let o = command.output().expect("the threadstore binary runs");
    assert!(
        o.status.success(),
        "threadstore {args:?} failed: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    let (widest, line) = widest_line(&out);
    assert!(
        widest <= width,
        "threadstore {args:?}: a line of {widest} columns (more than {width}):\n{line}"
    );
    out
}

#[test]
fn tables_and_reports_fit_the_width() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(files) = fixture_files(CODEX, "jsonl") else {
        return;
    };
    let files: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let data = tmp.path().join("store");
    let w = ["--width", "100"];
    let mut import: Vec<&str> = vec!["import"];
    import.extend(files.iter().map(String::as_str));
    let imported = fits(&data, &[&import[..], &w].concat(), None, 100);
    assert_eq!(
        imported
            .lines()
            .filter(|l| l.starts_with("imported "))
            .count(),
        files.len() + 1,
        "a line per file and the summary:\n{imported}"
    );
    // Counted nouns: the fixtures hold single-turn threads.
    assert!(imported.contains(" 1 turn)"), "{imported}");
    assert!(!imported.contains(" 1 turns"), "{imported}");
    let again = fits(&data, &[&import[..], &w].concat(), None, 100);
    assert_eq!(
        again.matches("(already imported) from").count(),
        files.len()
    );

    let threads = fits(&data, &["threads", "--width", "100"], None, 100);
    // The same through COLUMNS.
    assert_eq!(fits(&data, &["threads"], Some("100"), 100), threads);
    let ids: Vec<String> = json(&data, &["threads", "--json", "--limit", "200"])["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["threadId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), files.len());
    for id in &ids {
        // Ids are never cut.
        assert!(threads.contains(id.as_str()), "{id}:\n{threads}");
    }
    assert!(
        threads.ends_with(&format!("\n{} threads\n", files.len())),
        "{threads}"
    );
    // Chinese previews are cut by columns, on a character, with an ellipsis.
    assert!(
        threads
            .lines()
            .any(|l| l.ends_with('…') && l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "{threads}"
    );
    fits(
        &data,
        &["threads", "--archived", "--width", "100"],
        None,
        100,
    );

    for id in &ids {
        let turns = fits(&data, &["turns", id, "--width", "100"], None, 100);
        assert!(turns.starts_with("started (UTC)"), "a header row:\n{turns}");
        fits(
            &data,
            &[
                "turns", id, "--view", "full", "--limit", "3", "--width", "100",
            ],
            None,
            100,
        );
        let items = fits(
            &data,
            &["items", id, "--limit", "200", "--width", "100"],
            None,
            100,
        );
        assert!(items.starts_with("pos"), "a header row:\n{items}");
        fits(&data, &["show", id, "--width", "100"], None, 100);
    }
    fits(&data, &["stats", "--width", "100"], None, 100);

    let out = tmp.path().join("export");
    let exported = fits(
        &data,
        &["export", "--out", out.to_str().unwrap(), "--width", "100"],
        None,
        100,
    );
    assert_eq!(
        exported
            .lines()
            .filter(|l| l.starts_with("exported "))
            .count(),
        files.len() + 1,
        "{exported}"
    );

    // `--wide` cuts nothing: the same listing is wider than 100 columns.
    let o = ok(&data, &["threads", "--wide"]);
    assert!(widest_line(&stdout(&o)).0 > 100, "{}", stdout(&o));
}

#[test]
fn reading_an_unknown_thread_gives_readers_advice_not_writers() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    ok(&data, &["import", home.root.to_str().unwrap()]);
    let unknown = ThreadId::new().to_string();
    let out = tmp.path().join("export");
    let reads: [&[&str]; 6] = [
        &["show", &unknown],
        &["turns", &unknown],
        &["items", &unknown],
        &["items", &unknown, "--turn", "t1"],
        &["tail", &unknown],
        &[
            "export",
            "--out",
            out.to_str().unwrap(),
            "--thread",
            &unknown,
        ],
    ];
    for args in reads {
        let o = ts(&data, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no thread {unknown} in {}", data.display()))
                && err.contains("check the id")
                && err.contains("`threadstore threads`"),
            "{args:?}: {err}"
        );
        for writers in ["create or resume", "live writer"] {
            assert!(!err.contains(writers), "{args:?}: {err}");
        }
    }
}

/// Starts `threadstore --data <data> serve --listen 127.0.0.1:0` and returns it with its URL.
fn spawn_server(data: &Path) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .env_remove("THREADSTORE_TOKEN")
        .env_remove("THREADSTORE_CONNECT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap_or_else(|| panic!("serve printed its URL: {line:?}"))
        .to_owned();
    (child, url)
}

/// Runs `threadstore --connect <url> <args>` (no data directory in play).
fn through(url: &str, args: &[&str]) -> Output {
    let o = Command::new(BIN)
        .arg("--connect")
        .arg(url)
        .args(args)
        .env_remove("THREADSTORE_DATA")
        .env_remove("COLUMNS")
        .output()
        .expect("the threadstore binary runs");
    assert!(
        o.status.success(),
        "threadstore --connect {url} {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    o
}

#[test]
fn every_command_works_through_a_running_server_and_tail_follows_other_clients() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(&tmp.path().join("codex"));
    let data = tmp.path().join("store");
    ok(&data, &["import", home.root.to_str().unwrap()]);
    let (mut server, url) = spawn_server(&data);

    // Locked out of the directory, a command says where to connect.
    let o = ts(&data, &["threads"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("--connect {url}")),
        "{}",
        stderr(&o)
    );

    // The reading commands, through the server.
    let listed: Value =
        serde_json::from_slice(&through(&url, &["threads", "--json"]).stdout).unwrap();
    let active = home.all.len() - 1;
    assert_eq!(listed["data"].as_array().unwrap().len(), active, "{listed}");
    let id = home.named.to_string();
    let shown: Value =
        serde_json::from_slice(&through(&url, &["show", &id, "--json"]).stdout).unwrap();
    assert_eq!(shown["id"], id.as_str());
    let turns: Value =
        serde_json::from_slice(&through(&url, &["turns", &id, "--json"]).stdout).unwrap();
    assert_eq!(turns["data"].as_array().unwrap().len(), 4);
    let items: Value =
        serde_json::from_slice(&through(&url, &["items", &id, "--json"]).stdout).unwrap();
    assert!(!items["data"].as_array().unwrap().is_empty());
    let stats: Value = serde_json::from_slice(&through(&url, &["stats", "--json"]).stdout).unwrap();
    assert_eq!(
        stats["threads"].as_u64(),
        Some(home.all.len() as u64),
        "{stats}"
    );
    assert!(stats["feedHead"].as_u64() > Some(0), "{stats}");
    assert!(stdout(&through(&url, &["stats"])).contains(&url));

    // tail through the server follows what another client commits.
    let mut tail = Command::new(BIN)
        .args(["--connect", &url, "tail", "--json"])
        .env_remove("THREADSTORE_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = tail.stderr.take().unwrap();
    let mut following = String::new();
    BufReader::new(err).read_line(&mut following).unwrap();
    assert!(
        following.contains("following the feed of ws://"),
        "{following}"
    );
    let extra = tmp.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    let spec = GenSpec {
        thread_id: ThreadId::new(),
        turns: 2,
        seed: 42,
        ..Default::default()
    };
    std::fs::write(
        extra.join(rollout_name(9, spec.thread_id, "jsonl")),
        generate_rollout(RolloutEra::E3TurnIds, &spec),
    )
    .unwrap();
    through(&url, &["import", extra.to_str().unwrap()]);
    let new = spec.thread_id.to_string();
    let mut events = Vec::new();
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        let event: Value = serde_json::from_str(&line).unwrap();
        let done = event["threadId"] == new.as_str() && event["kind"] == "turnCompleted";
        events.push(event);
        if done
            && events
                .iter()
                .filter(|e| e["kind"] == "turnCompleted")
                .count()
                == 2
        {
            break;
        }
    }
    assert_eq!(events[0]["kind"], "threadCreated", "{events:?}");
    assert!(events.iter().all(|e| e["threadId"] == new.as_str()));
    assert!(interrupt(&mut tail).success());

    // What needs the directory says so.
    let o = Command::new(BIN)
        .args(["--connect", &url, "verify"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("works on the data directory"),
        "{}",
        stderr(&o)
    );

    assert!(interrupt(&mut server).success());
    assert!(
        !data.join("serve-url").exists(),
        "the served URL is gone with the server"
    );
    ok(&data, &["threads"]);
}

/// `search` over the real fixtures (issue: a word from deep inside `v0.105`): a word of its 40th
/// turn that occurs nowhere else in the thread finds the thread first, `search --thread` points
/// at that turn, and the readable output marks the word; `stats` shows the index caught up.
#[test]
fn search_finds_a_word_from_deep_inside_a_real_thread_and_points_at_its_turn() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((data, lines)) = fixture_store(tmp.path()) else {
        return;
    };
    let v0105 = lines
        .iter()
        .find(|l| l["source"].as_str().unwrap().contains("v0.105"))
        .expect("the v0.105 fixture was imported");
    let id = v0105["threadId"].as_str().unwrap().to_owned();
    let turns = json(&data, &["turns", &id, "--asc", "--limit", "50", "--json"]);
    let turn40 = &turns["data"][39];
    let turn_id = turn40["id"].as_str().unwrap();
    // Words of the turn's prompt and answer, longest first.
    let mut words: Vec<String> = turn40["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|item| {
            let mut texts: Vec<String> = item["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["text"].as_str().map(str::to_owned))
                .collect();
            texts.extend(item["text"].as_str().map(str::to_owned));
            texts
        })
        .flat_map(|t| {
            t.split(|c: char| !c.is_alphabetic())
                .filter(|w| w.len() >= 6)
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words.dedup();
    // The first word whose every occurrence in the thread is in that turn.
    let word = words
        .iter()
        .find(|w| {
            let found = json(&data, &["search", "--thread", &id, w, "--json"]);
            let occurrences = found["data"].as_array().unwrap();
            !occurrences.is_empty() && occurrences.iter().all(|o| o["turnId"] == turn_id)
        })
        .unwrap_or_else(|| panic!("no word of turn 40 occurs only there: {words:?}"));
    let found = json(&data, &["search", word, "--json"]);
    let first = &found["data"][0];
    assert_eq!(first["thread"]["id"], id.as_str(), "{found:#}");
    let (start, end) = (
        first["matchRanges"][0]["start"].as_u64().unwrap() as usize,
        first["matchRanges"][0]["end"].as_u64().unwrap() as usize,
    );
    let units: Vec<u16> = first["snippet"].as_str().unwrap().encode_utf16().collect();
    assert_eq!(
        String::from_utf16(&units[start..end])
            .unwrap()
            .to_lowercase(),
        *word
    );
    let readable = stdout(&ok(&data, &["search", word]));
    assert!(readable.starts_with(&id), "{readable}");
    assert!(
        readable.to_lowercase().contains(&format!("**{word}**")),
        "{readable}"
    );
    let stats = json(&data, &["stats", "--json"]);
    assert_eq!(stats["searchIndex"]["lag"], 0, "{stats:#}");
}

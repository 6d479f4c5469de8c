//! Proven against Codex itself: the real Codex CLI (`@openai/codex@0.171.0`, installed by
//! `.ci/run` with npm, its path in `THREADSTORE_CODEX`) writes a fresh Codex home offline against
//! a fake model, and Codex's app-server records its own answers over it
//! (`shared/fixtures/codex-0.171/scripts/generate.py` and `oracle.py`: `thread/list` active and
//! archived with and without `sourceKinds`, `thread/read` with and without turns,
//! `thread/turns/list` in every view and direction, `thread/items/list` per thread and per turn,
//! `thread/searchOccurrences`, paging walks and error cases). threadstore imports the home the way
//! `threadstore import` does and answers the same requests on its JSON-RPC module; the parsed
//! answers are compared field by field (every key Codex sends; threadstore's extra keys are
//! allowed, as Codex's schema allows them).
//!
//! **Normalizations** (applied before comparing, each counted in the summary):
//! - `paths`: the home and working folders become `{{CODEX_HOME}}` and `{{CWD}}` on both sides
//!   (the oracle does it for Codex's answers).
//! - `cursors`: `nextCursor`, `backwardsCursor` and `turnCursor` are opaque, so only whether one
//!   is present is compared; a paging walk follows each side's own cursors.
//! - `readState`: `readState` and `readStates` are Codex's read tracking, held in its database.
//! - `updatedAt`: Codex's is the rollout file's modification time; threadstore's the time of the
//!   thread's last event.
//! - `updated_at order`: listings sorted by `updated_at` are compared as sets (that time is a
//!   file modification time in Codex).
//!
//! **Deliberate differences** (documented in the README's "Differences from Codex"):
//! - `revision entries`: Codex's `thread/list` shows a reverted thread once per rollout file
//!   (the original and each revision); threadstore shows each thread once. Codex's entries are
//!   reduced to the newest per thread.
//! - `revision times`: for a reverted thread Codex reports the newest revision file's `path`,
//!   `createdAt` and `recencyAt` (and sorts by them); threadstore keeps the thread's own (its
//!   rollout file, its creation). Those keys are not compared for reverted threads, which
//!   `created_at` listings leave out of the order comparison.
//! - `listing nulls`: Codex's listings leave `forkedFromId` and `threadSource` `null` (its
//!   `thread/read` fills them); threadstore's listings carry what `thread/read` carries.
//! - `error messages`: where both answer with an error, the codes and messages are not compared
//!   (threadstore's name the failing part more precisely); an error on one side only is a
//!   difference.
//!
//! Without `THREADSTORE_CODEX` (or `python3`, or the fixtures) the test says why and passes,
//! except under `CI`, where it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::{json, Value};
use threadstore::codex::export::{
    all_thread_ids, export_thread, write_session_index, ExportOptions,
};
use threadstore::codex::home::{discover, import_source, read_session_index};
use threadstore::layers::rpc::rpc_module;
use threadstore::layers::rpc::server::Module;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, ForkBoundary, ForkThreadParams,
    InMemoryThreadStore, ResumeThreadParams, RevertThreadParams, RolloutItem, ThreadId,
    ThreadStore,
};

/// The environment variable naming the Codex binary.
const CODEX_ENV: &str = "THREADSTORE_CODEX";

fn codex_binary() -> Option<PathBuf> {
    match std::env::var_os(CODEX_ENV).filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None if threadstore_tests::fixtures::in_ci(std::env::var_os("CI").as_deref()) => panic!(
            "{CODEX_ENV} is not set: .ci/run installs @openai/codex@0.171.0 with npm and sets it"
        ),
        None => {
            eprintln!(
                "skipping: {CODEX_ENV} is not set (npm install @openai/codex@0.171.0, then \
                 {CODEX_ENV}=…/node_modules/.bin/codex)"
            );
            None
        }
    }
}

fn run(what: &str, command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start it: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the comparison counts, for the summary `.ci/run` prints.
#[derive(Default)]
struct Tally {
    requests: usize,
    fields: usize,
    normalizations: BTreeMap<&'static str, usize>,
    differences_documented: BTreeMap<&'static str, usize>,
    differences: Vec<String>,
    /// Threads with a revision rollout.
    reverted: BTreeSet<String>,
    /// How differences name the two sides.
    sides: [&'static str; 2],
}

impl Tally {
    fn new(sides: [&'static str; 2], reverted: &BTreeSet<String>) -> Self {
        Self {
            sides,
            reverted: reverted.clone(),
            ..Self::default()
        }
    }

    fn normalized(&mut self, what: &'static str) {
        *self.normalizations.entry(what).or_default() += 1;
    }

    fn documented(&mut self, what: &'static str) {
        *self.differences_documented.entry(what).or_default() += 1;
    }
}

const CURSOR_KEYS: [&str; 3] = ["nextCursor", "backwardsCursor", "turnCursor"];
/// A reverted thread's keys Codex takes from its newest revision file (`revision times`).
const REVISION_KEYS: [&str; 3] = ["path", "createdAt", "recencyAt"];

/// Compares Codex's `codex` with threadstore's `ours` at `path`, every key Codex sends.
fn compare(t: &mut Tally, path: &str, codex: &Value, ours: &Value, skip: &BTreeSet<&str>) {
    match (codex, ours) {
        (Value::Object(c), Value::Object(o)) => {
            // A reverted thread's Thread object (`revision times`).
            let revised = c.contains_key("path")
                && c.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| t.reverted.contains(id));
            for (key, value) in c {
                let at = format!("{path}.{key}");
                if skip.contains(key.as_str()) {
                    continue;
                }
                if revised && REVISION_KEYS.contains(&key.as_str()) {
                    t.documented("revision times");
                    continue;
                }
                if key == "readState" || key == "readStates" {
                    t.normalized("readState");
                    continue;
                }
                if key == "updatedAt" {
                    t.normalized("updatedAt");
                    continue;
                }
                let Some(mine) = o.get(key) else {
                    let [a, b] = t.sides;
                    t.differences
                        .push(format!("{at}: missing in {b}'s answer ({a}: {value})"));
                    continue;
                };
                if CURSOR_KEYS.contains(&key.as_str()) {
                    t.normalized("cursors");
                    t.fields += 1;
                    if value.is_null() != mine.is_null() {
                        let [a, b] = t.sides;
                        t.differences.push(format!(
                            "{at}: {a} {} a cursor, {b} {}",
                            if value.is_null() { "has no" } else { "has" },
                            if mine.is_null() {
                                "has none"
                            } else {
                                "has one"
                            }
                        ));
                    }
                    continue;
                }
                compare(t, &at, value, mine, skip);
            }
        }
        (Value::Array(c), Value::Array(o)) => {
            if c.len() != o.len() {
                let [a, b] = t.sides;
                t.differences.push(format!(
                    "{path}: {a} has {} entries, {b} {}",
                    c.len(),
                    o.len()
                ));
            }
            for (i, (a, b)) in c.iter().zip(o).enumerate() {
                compare(t, &format!("{path}[{i}]"), a, b, skip);
            }
        }
        (a, b) => {
            t.fields += 1;
            if a != b {
                let [x, y] = t.sides;
                t.differences.push(format!("{path}: {x} {a}, {y} {b}"));
            }
        }
    }
}

/// The home's reverted threads: those with a revision rollout (`…_<revision>.jsonl`).
fn reverted_threads(home: &Path) -> BTreeSet<String> {
    let found = discover(&[home.to_path_buf()]).unwrap();
    found
        .sources
        .iter()
        .filter_map(|s| {
            let name = s.path.file_name()?.to_str()?;
            threadstore::codex::home::is_revision_name(name).then(|| {
                // rollout-<ts>-<thread id (36 chars)>_<revision>.jsonl
                let stem = name.split('_').next().unwrap_or_default();
                stem[stem.len().saturating_sub(36)..].to_owned()
            })
        })
        .collect()
}

/// Codex's listing entries reduced to the newest per thread (`revision entries`).
fn newest_per_thread(t: &mut Tally, entries: &[Value]) -> Vec<Value> {
    let mut newest: BTreeMap<String, Value> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for e in entries {
        let id = e["id"].as_str().unwrap_or_default().to_owned();
        match newest.get(&id) {
            None => {
                order.push(id.clone());
                newest.insert(id, e.clone());
            }
            Some(kept) => {
                t.documented("revision entries");
                if e["createdAt"].as_i64() > kept["createdAt"].as_i64() {
                    newest.insert(id, e.clone());
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|id| newest.remove(&id))
        .collect()
}

/// Compares two listings: the same threads, each entry alike, in the same order (see the module
/// docs for what is left out).
fn compare_listing(
    t: &mut Tally,
    what: &str,
    params: &Value,
    codex: &[Value],
    ours: &[Value],
    reverted: &BTreeSet<String>,
) {
    let codex = newest_per_thread(t, codex);
    let ids = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let (codex_ids, our_ids) = (ids(&codex), ids(ours));
    let by_updated = params["sortKey"] == json!("updated_at");
    if by_updated {
        t.normalized("updated_at order");
        let (a, b): (BTreeSet<_>, BTreeSet<_>) =
            (codex_ids.iter().collect(), our_ids.iter().collect());
        if a != b {
            t.differences
                .push(format!("{what}: Codex lists {a:?}, threadstore {b:?}"));
        }
    } else {
        let keep = |v: &Vec<String>| -> Vec<String> {
            v.iter()
                .filter(|id| !reverted.contains(*id))
                .cloned()
                .collect()
        };
        if codex_ids.iter().any(|id| reverted.contains(id)) {
            t.documented("revision times");
        }
        let all: BTreeSet<_> = codex_ids.iter().collect();
        let mine: BTreeSet<_> = our_ids.iter().collect();
        if all != mine || keep(&codex_ids) != keep(&our_ids) {
            t.differences.push(format!(
                "{what}: Codex lists {codex_ids:?}, threadstore {our_ids:?}"
            ));
        }
    }
    t.fields += codex_ids.len();
    for entry in &codex {
        let id = entry["id"].as_str().unwrap_or_default();
        let Some(mine) = ours.iter().find(|e| e["id"] == json!(id)) else {
            continue;
        };
        let mut skip: BTreeSet<&str> = BTreeSet::new();
        for key in ["forkedFromId", "threadSource"] {
            if entry[key].is_null() && !mine[key].is_null() {
                t.documented("listing nulls");
                skip.insert(key);
            }
        }
        if reverted.contains(id) {
            // Codex's entry is one of the thread's rollout files, with that file's summary.
            t.documented("revision entries");
            skip.insert("preview");
        }
        compare(t, &format!("{what} {id}"), entry, mine, &skip);
    }
}

/// The walk a recorded file belongs to (`<group>/<NN>-<what>-page<N>.json` → `<group>/<what>`);
/// `None` for a file that is no walk's page.
fn walk_name(rel: &str) -> Option<String> {
    let (name, _) = rel.rsplit_once("-page")?;
    let (group, file) = name.rsplit_once('/')?;
    let what = file.split_once('-').map_or(file, |(_, what)| what);
    Some(format!("{group}/{what}"))
}

struct Threadstore {
    module: Module,
    home: String,
    work: String,
}

impl Threadstore {
    /// threadstore's answer (`{"result": …}` or `{"error": …}`), paths normalized.
    async fn answer(&self, t: &mut Tally, method: &str, params: &Value) -> Value {
        match self.module.call::<_, Value>(method, [params.clone()]).await {
            Ok(result) => {
                let mut text = result.to_string();
                // Longest first: the home may sit inside the working folder or beside it.
                let mut paths = [(&self.home, "{{CODEX_HOME}}"), (&self.work, "{{CWD}}")];
                paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
                for (path, placeholder) in paths {
                    if text.contains(path.as_str()) {
                        t.normalized("paths");
                        text = text.replace(path.as_str(), placeholder);
                    }
                }
                json!({"result": serde_json::from_str::<Value>(&text).unwrap()})
            }
            Err(e) => json!({"error": e.to_string()}),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threadstore_answers_as_the_real_codex_does() {
    let Some(codex) = codex_binary() else {
        return;
    };
    let Some(fixture) = threadstore_tests::fixtures::codex_0_171_dir() else {
        return;
    };
    let started = std::time::Instant::now();
    let scripts = fixture.join("scripts");
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("gen");
    run(
        "generate.py (the real Codex writes a home)",
        Command::new("python3")
            .arg(scripts.join("generate.py"))
            .arg("--codex")
            .arg(&codex)
            .arg("--out")
            .arg(&out)
            .arg("--port")
            .arg(free_port().to_string()),
    );
    let (home, work, oracle) = (out.join("home"), out.join("work"), out.join("oracle"));
    run(
        "oracle.py (Codex app-server answers)",
        Command::new("python3")
            .arg(scripts.join("oracle.py"))
            .arg("--codex")
            .arg(&codex)
            .arg("--home")
            .arg(&home)
            .arg("--cwd")
            .arg(&work)
            .arg("--manifest")
            .arg(out.join("manifest.json"))
            .arg("--out")
            .arg(&oracle),
    );
    let generated = started.elapsed();

    // Import the home as `threadstore import` does.
    let store = Arc::new(InMemoryThreadStore::default());
    let found = discover(std::slice::from_ref(&home)).unwrap();
    let names = read_session_index(&found.indexes).unwrap();
    let (sequential, plain): (Vec<_>, Vec<_>) =
        found.sources.into_iter().partition(|s| s.sequential);
    for source in plain.iter().chain(&sequential) {
        import_source(store.as_ref(), source, &names)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", source.path.display()));
    }
    let ours = Threadstore {
        module: rpc_module(store.clone() as Arc<dyn ThreadStore>, 64 << 20).unwrap(),
        home: std::fs::canonicalize(&home)
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        work: std::fs::canonicalize(&work)
            .unwrap()
            .to_string_lossy()
            .into_owned(),
    };
    let reverted = reverted_threads(&home);
    assert!(
        !reverted.is_empty(),
        "the generated home has reverted threads"
    );

    let index = read_json(&oracle.join("index.json"));
    let files: Vec<Value> = index["files"].as_array().cloned().unwrap_or_default();
    let mut t = Tally::new(["Codex", "threadstore"], &reverted);
    // Listings by name (a walk's pages together): the first page's params, Codex's entries,
    // threadstore's entries.
    let mut listings: BTreeMap<String, (Value, Vec<Value>, Vec<Value>)> = BTreeMap::new();
    let mut previous_answer: BTreeMap<String, Value> = BTreeMap::new();
    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let rel = file["file"].as_str().unwrap();
        let recorded = read_json(&oracle.join(rel));
        let method = recorded["request"]["method"].as_str().unwrap().to_owned();
        let mut params = recorded["request"]["params"].clone();
        let what = format!("{rel} ({method})");
        let walk = walk_name(rel);
        // A walk's later pages follow threadstore's own cursor from its previous page.
        if let (Some(walk), Some(_)) = (&walk, params.get("cursor")) {
            let cursor = previous_answer
                .get(walk)
                .map(|a| a["result"]["nextCursor"].clone())
                .unwrap_or(Value::Null);
            if cursor.is_null() {
                if method == "thread/list" {
                    // A listing walk is compared as a whole below.
                    let entry = listings.entry(walk.clone()).or_default();
                    entry.1.extend(
                        recorded["response"]["result"]["data"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    );
                } else {
                    t.differences.push(format!(
                        "{what}: Codex has this page, threadstore's walk ended before it"
                    ));
                }
                continue;
            }
            params["cursor"] = cursor;
        }
        let answer = ours.answer(&mut t, &method, &params).await;
        t.requests += 1;
        *compared.entry(method.clone()).or_insert(0) += 1;
        if let Some(walk) = &walk {
            previous_answer.insert(walk.clone(), answer.clone());
        }
        let codex_answer = &recorded["response"];
        match (codex_answer.get("result"), answer.get("result")) {
            (Some(c), Some(o)) if method == "thread/list" => {
                let entry_is_walk = walk.is_some();
                let entry = listings
                    .entry(walk.unwrap_or_else(|| rel.to_owned()))
                    .or_insert_with(|| (params.clone(), Vec::new(), Vec::new()));
                if entry.0.is_null() {
                    entry.0 = params.clone();
                }
                let data = |v: &Value| v["data"].as_array().cloned().unwrap_or_default();
                entry.1.extend(data(c));
                entry.2.extend(data(o));
                // The page's other keys (cursors, readStates) as any answer's; a walk's pages
                // split differently where Codex lists a thread once per rollout file, so a
                // walk's `nextCursor`s are compared as the walk's length.
                let mut skip = BTreeSet::from(["data"]);
                if entry_is_walk {
                    skip.insert("nextCursor");
                }
                compare(&mut t, &what, c, o, &skip);
            }
            (Some(c), Some(o)) => compare(&mut t, &what, c, o, &BTreeSet::new()),
            (None, None) => t.documented("error messages"),
            (Some(_), None) => t.differences.push(format!(
                "{what}: Codex answers, threadstore fails: {}",
                answer["error"]
            )),
            (None, Some(_)) => t.differences.push(format!(
                "{what}: Codex fails ({}), threadstore answers",
                codex_answer["error"]
            )),
        }
    }
    for (name, (params, codex, ours)) in &listings {
        compare_listing(&mut t, name, params, codex, ours, &reverted);
    }
    println!(
        "codex differential: {} requests compared, {} fields compared, normalizations applied: \
         {:?}, documented differences: {:?}, differences: {} (Codex generated the home and its \
         answers in {:.1} s, comparison in {:.1} s)",
        t.requests,
        t.fields,
        t.normalizations,
        t.differences_documented,
        t.differences.len(),
        generated.as_secs_f64(),
        (started.elapsed() - generated).as_secs_f64()
    );
    // Nothing passes for want of answers: every method the issue names was compared.
    for method in [
        "thread/list",
        "thread/read",
        "thread/turns/list",
        "thread/items/list",
        "thread/searchOccurrences",
    ] {
        assert!(
            compared.get(method).is_some_and(|n| *n > 0),
            "no {method} answer compared: {compared:?}"
        );
    }
    assert!(
        t.differences.is_empty(),
        "threadstore differs from Codex {} times:\n{}",
        t.differences.len(),
        t.differences.join("\n")
    );

    // The other direction: threadstore's export of every thread (the imported forks and reverts,
    // and threads written through threadstore's own API), read by the real Codex.
    let started = std::time::Instant::now();
    let api = write_through_the_api(store.as_ref()).await;
    let export = out.join("export");
    let mut exported = Vec::new();
    for id in all_thread_ids(store.as_ref()).await.unwrap() {
        exported.push(
            export_thread(store.as_ref(), id, &export, &ExportOptions::default())
                .await
                .unwrap(),
        );
    }
    write_session_index(&export, &exported).unwrap();
    std::fs::copy(home.join("config.toml"), export.join("config.toml")).unwrap();
    // Codex's own rollouts without its databases: what Codex shows of the files alone.
    let bare = out.join("bare");
    for part in ["sessions", "archived_sessions"] {
        copy_dir(&home.join(part), &bare.join(part));
    }
    for file in ["session_index.jsonl", "config.toml"] {
        std::fs::copy(home.join(file), bare.join(file)).unwrap();
    }
    let ask = |home: &Path, to: &Path| {
        run(
            "oracle.py (Codex app-server reads a home)",
            Command::new("python3")
                .arg(scripts.join("oracle.py"))
                .arg("--codex")
                .arg(&codex)
                .arg("--home")
                .arg(home)
                .arg("--cwd")
                .arg(&work)
                .arg("--manifest")
                .arg(out.join("manifest.json"))
                .arg("--out")
                .arg(to),
        )
    };
    let (over_bare, over_export) = (out.join("oracle-bare"), out.join("oracle-export"));
    ask(&bare, &over_bare);
    ask(&export, &over_export);
    let mut e = Tally::new(
        [
            "Codex over its own files",
            "Codex over threadstore's export",
        ],
        &reverted,
    );
    // Codex lists every exported thread.
    let listed: BTreeSet<String> = read_json(&over_export.join("index.json"))["threads"]
        .as_object()
        .map(|o| {
            o.values()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for thread in &exported {
        e.fields += 1;
        if !listed.contains(&thread.thread_id.to_string()) {
            e.differences.push(format!(
                "{}: exported to {}, not listed by Codex",
                thread.thread_id,
                thread.relative.display()
            ));
        }
    }
    // Codex answers over the export exactly as over its own files.
    let index = read_json(&over_bare.join("index.json"));
    for file in index["files"].as_array().cloned().unwrap_or_default() {
        let rel = file["file"].as_str().unwrap();
        let method = file["method"].as_str().unwrap_or_default();
        if method == "thread/list" && walk_name(rel).is_some() {
            // The export holds more threads, so a listing's pages split differently.
            continue;
        }
        let what = format!("{rel} ({method}, Codex over the export)");
        let (own, theirs) = (over_bare.join(rel), over_export.join(rel));
        if !theirs.is_file() {
            e.differences
                .push(format!("{what}: Codex did not answer it over the export"));
            continue;
        }
        e.requests += 1;
        let (mut a, mut b) = (
            read_json(&own)["response"].clone(),
            read_json(&theirs)["response"].clone(),
        );
        if method == "thread/list" {
            // Only the threads of Codex's home (the export adds threadstore's own).
            let ids: BTreeSet<String> = a["result"]["data"]
                .as_array()
                .map(|d| d.iter().map(|t| t["id"].to_string()).collect())
                .unwrap_or_default();
            if let Some(data) = b["result"]["data"].as_array_mut() {
                data.retain(|t| ids.contains(&t["id"].to_string()));
            }
            e.normalized("threadstore's threads left out of listings");
            if file["params"]["sortKey"] == json!("updated_at") {
                // Sorted by the files' modification times: the export's are its own.
                e.normalized("updated_at order");
                for side in [&mut a, &mut b] {
                    if let Some(data) = side["result"]["data"].as_array_mut() {
                        data.sort_by_key(|t| t["id"].to_string());
                    }
                }
            }
        }
        match (a.get("result"), b.get("result")) {
            (Some(x), Some(y)) => compare(&mut e, &what, x, y, &BTreeSet::from(["nextCursor"])),
            (None, None) => {}
            _ => e.differences.push(format!("{what}: {a} / {b}")),
        }
    }
    // Threads written through threadstore's API: Codex shows threadstore's turns.
    for (id, want) in &api {
        let read = read_json(
            &over_export
                .join(id.to_string())
                .join("02-thread_read-includeTurns.json"),
        );
        let got: Vec<String> = read["response"]["result"]["thread"]["turns"]
            .as_array()
            .map(|turns| {
                turns
                    .iter()
                    .filter_map(|t| t["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        e.fields += 1;
        if &got != want {
            e.differences.push(format!(
                "{id}: Codex shows the turns {got:?} of threadstore's export, threadstore {want:?}"
            ));
        }
    }
    // And resumes them (Codex's `thread/resume` replays the exported rollout) with those turns.
    let ids: Vec<ThreadId> = api.iter().map(|(id, _)| *id).collect();
    for ((id, want), got) in api.iter().zip(resume_turns(&codex, &export, &work, &ids)) {
        e.fields += 1;
        if &got != want {
            e.differences.push(format!(
                "{id}: Codex resumes threadstore's export with the turns {got:?}, threadstore \
                 shows {want:?}"
            ));
        }
    }
    println!(
        "codex reads threadstore's export: {} threads exported and listed, {} of Codex's answers \
         over its own files compared with its answers over the export, {} threads written \
         through threadstore's API read and resumed with their turns, {} fields compared, differences: {} \
         ({:.1} s)",
        exported.len(),
        e.requests,
        api.len(),
        e.fields,
        e.differences.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        e.requests > 0 && exported.len() > api.len(),
        "Codex's answers over its own files and over the export were compared"
    );
    assert!(
        e.differences.is_empty(),
        "Codex reads threadstore's export differently {} times:\n{}",
        e.differences.len(),
        e.differences.join("\n")
    );
}

/// Threads written through threadstore's own API, each with the turns it shows: a thread of
/// three turns, reverted before its third, then a fourth; a fork through its second turn with one
/// turn of its own; a fork before its second turn.
async fn write_through_the_api(store: &dyn ThreadStore) -> Vec<(ThreadId, Vec<String>)> {
    let turn = |id: &str| {
        vec![
            RolloutItem::task_started(id),
            RolloutItem::message("user", &format!("question {id}")),
            RolloutItem::user_message(&format!("question {id}")),
            RolloutItem::agent_message(&format!("answer {id}")),
            RolloutItem::message("assistant", &format!("answer {id}")),
            RolloutItem::task_complete(id, Some(&format!("answer {id}"))),
        ]
    };
    let append = async |id: ThreadId, t: &str| {
        store
            .append_items(AppendThreadItemsParams::new(id, turn(t)))
            .await
            .unwrap();
    };
    let parent = store
        .create_thread(CreateThreadParams {
            cwd: Some("/home/dev/api-thread".into()),
            source: Some("cli".into()),
            model_provider: Some("fake".into()),
            originator: Some("codex_cli_rs".into()),
            cli_version: Some("0.171.0".into()),
            ..CreateThreadParams::default()
        })
        .await
        .unwrap()
        .thread_id;
    for t in ["a1", "a2", "a3"] {
        append(parent, t).await;
    }
    let fork = async |boundary: ForkBoundary| {
        store
            .fork_thread(ForkThreadParams::new(parent, boundary))
            .await
            .unwrap()
            .thread_id
    };
    let through = fork(ForkBoundary::ThroughTurn("a2".into())).await;
    append(through, "f1").await;
    let before = fork(ForkBoundary::BeforeTurn("a2".into())).await;
    store
        .revert_thread(RevertThreadParams::new(parent, "a3"))
        .await
        .unwrap();
    let writer = store
        .resume_thread(ResumeThreadParams::new(parent))
        .await
        .unwrap();
    store
        .append_items(writer.append_params(turn("a4")))
        .await
        .unwrap();
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (parent, ids(&["a1", "a2", "a4"])),
        (through, ids(&["a1", "a2", "f1"])),
        (before, ids(&["a1"])),
    ]
}

/// The turn ids Codex's app-server shows when it resumes each thread (`thread/resume` over
/// stdio, with `home` as `CODEX_HOME`). Every wait is bounded: a silent server fails the test.
fn resume_turns(codex: &Path, home: &Path, cwd: &Path, ids: &[ThreadId]) -> Vec<Vec<String>> {
    use std::io::{BufRead as _, Write as _};
    let mut server = Command::new(codex)
        .arg("app-server")
        .env("CODEX_HOME", home)
        .env("FAKE_MODEL_API_KEY", "dummy-key")
        .env("NO_COLOR", "1")
        .current_dir(cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("codex app-server starts");
    let mut input = server.stdin.take().unwrap();
    let output = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(output)
            .lines()
            .map_while(Result::ok)
        {
            if let Ok(message) = serde_json::from_str(&line) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        }
    });
    let mut send = |message: Value| {
        writeln!(input, "{message}").unwrap();
        input.flush().unwrap();
    };
    let answer = |id: u64| -> Value {
        loop {
            let message = rx
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("codex app-server answers within a minute");
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
        }
    };
    send(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "clientInfo": {"name": "threadstore-differential", "title": null, "version": "0.1.0"},
        "capabilities": {"experimentalApi": true}}}),
    );
    answer(0);
    send(json!({"jsonrpc": "2.0", "method": "initialized"}));
    let mut turns = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let n = n as u64 + 1;
        send(json!({"jsonrpc": "2.0", "id": n, "method": "thread/resume",
            "params": {"threadId": id.to_string()}}));
        let resumed = answer(n);
        turns.push(
            resumed["result"]["thread"]["turns"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|t| t["id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        );
    }
    let _ = server.kill();
    let _ = server.wait();
    turns
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

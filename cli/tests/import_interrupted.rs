//! `threadstore import` of a Codex home of tens of MiB (issue 21), cut short with SIGKILL: the
//! next run finishes every thread, none twice, and the store verifies; a run after a complete
//! import writes nothing. The home is generated with `threadstore::codex::write_rollout`.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use threadstore::codex::{write_rollout, GenSpec, RolloutEra};
use threadstore::ThreadId;

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");
const MIB: u64 = 1 << 20;

/// Runs `threadstore --data <data> <args>` and returns its output.
fn ts(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("THREADSTORE_DATA")
        .env_remove("THREADSTORE_CONNECT")
        .env_remove("COLUMNS")
        .output()
        .expect("the threadstore binary runs")
}

/// Runs a command that must succeed.
fn ok(data: &Path, args: &[&str]) -> Output {
    let o = ts(data, args);
    assert!(
        o.status.success(),
        "threadstore {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

/// One rollout file of the generated home.
struct File {
    thread_id: ThreadId,
    path: PathBuf,
    /// Non-blank lines: one item each in its thread.
    lines: u64,
    archived: bool,
}

impl File {
    /// The items of its thread once imported: a line each, and the archive event threadstore
    /// appends to an archived session's thread.
    fn items(&self) -> u64 {
        self.lines + u64::from(self.archived)
    }
}

/// A generated Codex home.
struct Home {
    root: PathBuf,
    files: Vec<File>,
    bytes: u64,
}

/// Bytes of `spec`'s E3 rollout with `turns` turns.
fn rollout_len(spec: &GenSpec, turns: usize) -> u64 {
    let mut out = Vec::new();
    let spec = GenSpec {
        turns,
        ..spec.clone()
    };
    write_rollout(RolloutEra::E3TurnIds, &spec, &mut out).unwrap();
    out.len() as u64
}

/// Writes a Codex home with one E3 rollout of about each size in `sizes` (the second file in
/// `archived_sessions/`, the others in `sessions/2026/02/DD/`), on two threads.
fn codex_home(root: &Path, sizes: &[u64]) -> Home {
    let specs: Vec<(GenSpec, PathBuf)> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let start =
                chrono::DateTime::from_timestamp(1_770_000_000 + i as i64 * 3_600, 0).unwrap();
            let mut spec = GenSpec {
                thread_id: ThreadId::new(),
                turns: 1,
                seed: 100 + i as u64,
                compaction: true,
                item_bytes: 2048,
                start,
                ..GenSpec::default()
            };
            let (short, long) = (rollout_len(&spec, 2), rollout_len(&spec, 6));
            let per_turn = (long - short) / 4;
            spec.turns = (size.saturating_sub(short) / per_turn + 2) as usize;
            spec.aborted_turns = vec![1, spec.turns / 3];
            let name = format!(
                "rollout-{}-{}.jsonl",
                start.format("%Y-%m-%dT%H-%M-%S"),
                spec.thread_id
            );
            let dir = if i == 1 {
                root.join("archived_sessions")
            } else {
                root.join(start.format("sessions/%Y/%m/%d").to_string())
            };
            (spec, dir.join(name))
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut files: Vec<File> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some((spec, path)) =
                        specs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                        let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
                        write_rollout(RolloutEra::E3TurnIds, spec, &mut out).unwrap();
                        out.flush().unwrap();
                        done.push(File {
                            thread_id: spec.thread_id,
                            path: path.clone(),
                            lines: 0,
                            archived: path.to_string_lossy().contains("archived_sessions"),
                        });
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut bytes = 0;
    for file in &mut files {
        let text = std::fs::read(&file.path).unwrap();
        bytes += text.len() as u64;
        file.lines = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count() as u64;
    }
    Home {
        root: root.to_path_buf(),
        files,
        bytes,
    }
}

/// Allocated bytes of every file under `dir` (0 while it does not exist).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_usage(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// What an import run saw when it was killed or ended.
#[derive(Debug)]
struct Run {
    /// Killed with SIGKILL (false: it exited by itself first).
    killed: bool,
    /// The JSON lines it printed.
    lines: Vec<Value>,
    /// The store's allocated bytes when it was killed or ended.
    store_bytes: u64,
    took: Duration,
}

/// What a kill condition looks at.
struct Progress {
    /// JSON lines printed so far.
    lines: usize,
    /// The store's allocated bytes now.
    store_bytes: u64,
}

/// Runs `threadstore --data <data> import <home> --json` and kills it with SIGKILL as soon as
/// `kill_when` holds (checked every 5 ms), unless it exits first.
fn import_killed_when(data: &Path, home: &Path, kill_when: impl Fn(&Progress) -> bool) -> Run {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .arg("import")
        .arg(home)
        .arg("--json")
        .env_remove("THREADSTORE_DATA")
        .env_remove("THREADSTORE_CONNECT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the threadstore binary runs");
    let printed = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let printed = printed.clone();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                printed.lock().unwrap().push(line);
            }
        })
    };
    let deadline = started + Duration::from_secs(300);
    let killed = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        let progress = Progress {
            lines: printed.lock().unwrap().len(),
            store_bytes: disk_usage(data),
        };
        if kill_when(&progress) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break true;
        }
        assert!(Instant::now() < deadline, "the import ran for 5 minutes");
        std::thread::sleep(Duration::from_millis(5));
    };
    reader.join().unwrap();
    let text = printed.lock().unwrap().join("\n");
    // A line cut by the kill is not an object; the ones before it are.
    let lines = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Run {
        killed,
        lines,
        store_bytes: disk_usage(data),
        took: started.elapsed(),
    }
}

/// Every thread of the store (active and archived) as `threads --json` objects, by id; panics on
/// a thread listed twice.
fn threads(data: &Path) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for archived in [false, true] {
        let mut args = vec!["threads", "--json", "--limit", "200"];
        if archived {
            args.push("--archived");
        }
        let page: Value = serde_json::from_slice(&ok(data, &args).stdout).unwrap();
        assert!(page["nextCursor"].is_null(), "{page}");
        for t in page["data"].as_array().unwrap() {
            let id = t["threadId"].as_str().unwrap().to_owned();
            assert!(
                all.insert(id.clone(), t.clone()).is_none(),
                "{id} listed twice"
            );
        }
    }
    all
}

/// Every file's thread is in the store with all its items, no other thread is, and the
/// projections verify.
fn assert_complete(data: &Path, home: &Home) {
    let threads = threads(data);
    assert_eq!(threads.len(), home.files.len(), "{:?}", threads.keys());
    for file in &home.files {
        let t = threads
            .get(&file.thread_id.to_string())
            .unwrap_or_else(|| panic!("no thread for {}", file.path.display()));
        assert_eq!(
            t["itemCount"].as_u64(),
            Some(file.items()),
            "items of {}",
            file.path.display()
        );
        assert_eq!(t["archived"].as_bool(), Some(file.archived), "{t}");
    }
    ok(data, &["verify"]);
}

#[test]
fn an_import_killed_twice_is_finished_by_the_next_run() {
    let at = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let sizes = [
        40 * MIB,
        3 * MIB,
        5 * MIB,
        4 * MIB,
        6 * MIB,
        2 * MIB,
        4 * MIB,
    ];
    let home = codex_home(&tmp.path().join("codex"), &sizes);
    let generated = at.elapsed();
    let data = tmp.path().join("store");
    let home_arg = home.root.as_path();

    // An empty store first, so the store's growth measures the import's progress.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = threadstore::SledThreadStore::open(&data).await.unwrap();
        store.close().await.unwrap();
    });
    let empty = disk_usage(&data);

    // First run: killed once the store has grown by a tenth of the input (in the middle of the
    // first files).
    let first = import_killed_when(&data, home_arg, |p| {
        p.store_bytes >= empty + home.bytes / 10
    });
    assert!(first.killed, "the first import ended before it was killed");
    let after_first = interrupted_state(&data, &home);
    // Second run: killed once it has reported a file and the store has grown by another third
    // of the input (it may also end first on a fast machine).
    let base = disk_usage(&data);
    let second = import_killed_when(&data, home_arg, |p| {
        p.lines >= 1 && p.store_bytes >= base + home.bytes / 3
    });
    for line in &second.lines {
        assert!(
            home.files
                .iter()
                .any(|f| line["threadId"] == f.thread_id.to_string()),
            "{line}"
        );
    }
    let after_second = interrupted_state(&data, &home);

    // Third run: to the end, one line per file.
    let third = ok(&data, &["import", home_arg.to_str().unwrap(), "--json"]);
    let lines = json_lines(&String::from_utf8_lossy(&third.stdout));
    assert_eq!(lines.len(), home.files.len(), "{lines:#?}");
    // The threads the killed runs began are skipped (complete) or finished (partial), never
    // imported again; the others are imported. (A partial thread may be an archived session
    // with every line but not yet its archive event, so the split is not asserted exactly.)
    let count = |key: &str| lines.iter().filter(|l| l[key] == true).count();
    let (already, finished) = (count("alreadyImported"), count("finished"));
    assert!(already >= after_second.complete, "{lines:#?}");
    assert_eq!(
        already + finished,
        after_second.complete + after_second.partial,
        "{lines:#?}"
    );
    assert_complete(&data, &home);
    let lines: u64 = home.files.iter().map(|f| f.lines).sum();
    eprintln!(
        "{} files, {:.1} MiB, {lines} lines, generated in {generated:.1?}; first run killed after \
         {:.1?} (store {:.1} MiB): {after_first}; second run {} after {:.1?} ({} files \
         reported, store {:.1} MiB): {after_second}; all in {:.1?}",
        home.files.len(),
        home.bytes as f64 / MIB as f64,
        first.took,
        first.store_bytes as f64 / MIB as f64,
        if second.killed { "killed" } else { "ended" },
        second.took,
        second.lines.len(),
        second.store_bytes as f64 / MIB as f64,
        at.elapsed()
    );
}

/// What a killed import left in the store.
struct Interrupted {
    /// Threads with every item of their file.
    complete: usize,
    /// Threads with only the first items of their file.
    partial: usize,
    items: u64,
    total: u64,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} threads complete, {} partial, {} of {} items",
            self.complete, self.partial, self.items, self.total
        )
    }
}

/// After a kill: the store opens and verifies, and holds no thread but the files' (none with more
/// items than its file).
fn interrupted_state(data: &Path, home: &Home) -> Interrupted {
    ok(data, &["verify"]);
    let mut state = Interrupted {
        complete: 0,
        partial: 0,
        items: 0,
        total: home.files.iter().map(File::items).sum(),
    };
    for (id, t) in &threads(data) {
        let file = home
            .files
            .iter()
            .find(|f| f.thread_id.to_string() == *id)
            .unwrap_or_else(|| panic!("thread {id} is no file's"));
        let n = t["itemCount"].as_u64().unwrap();
        assert!(
            n <= file.items(),
            "{id}: {n} items, its file {}",
            file.items()
        );
        state.items += n;
        if n == file.items() {
            state.complete += 1;
        } else {
            state.partial += 1;
        }
    }
    state
}

/// A rerun after a complete import writes nothing (the journal skips every file unread); a file
/// that grew since is read again and its new line appended; without the journal every file is
/// compared with its thread and found whole.
#[test]
fn a_rerun_after_a_complete_import_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut home = codex_home(
        &tmp.path().join("codex"),
        &[12 * MIB, 2 * MIB, 3 * MIB, 2 * MIB],
    );
    let data = tmp.path().join("store");
    let root = home.root.clone();
    let home_arg = root.to_str().unwrap();
    let first = json_lines(&String::from_utf8_lossy(
        &ok(&data, &["import", home_arg, "--json"]).stdout,
    ));
    assert_eq!(first.len(), home.files.len());
    assert!(
        first.iter().all(|l| l["alreadyImported"] == false),
        "{first:#?}"
    );
    assert_complete(&data, &home);
    let stats = |data: &Path| -> Value {
        serde_json::from_slice(&ok(data, &["stats", "--json"]).stdout).unwrap()
    };
    let before = stats(&data);

    let again = json_lines(&String::from_utf8_lossy(
        &ok(&data, &["import", home_arg, "--json"]).stdout,
    ));
    assert_eq!(again.len(), home.files.len());
    for l in &again {
        assert_eq!(l["alreadyImported"], true, "{l}");
        assert_eq!(l["finished"], false, "{l}");
        assert_eq!(l["items"], 0, "{l}");
    }
    let after = stats(&data);
    assert_eq!(after["items"], before["items"]);
    assert_eq!(after["threads"], before["threads"]);
    assert_eq!(
        after["feedHead"], before["feedHead"],
        "the rerun wrote events"
    );
    assert_complete(&data, &home);
    assert!(
        again.iter().all(|l| l["alreadyImported"] == true),
        "{again:#?}"
    );

    // A file that grew since (a live session): the journal's stamp no longer matches, so the
    // file is read again and its new line appended; the others are still skipped unread.
    let grown = home
        .files
        .iter_mut()
        .find(|f| !f.archived)
        .expect("an active session");
    let text = std::fs::read_to_string(&grown.path).unwrap();
    let last = text.lines().last().unwrap().to_owned();
    std::fs::write(&grown.path, format!("{text}{last}\n")).unwrap();
    grown.lines += 1;
    let grown_id = grown.thread_id.to_string();
    let third = json_lines(&String::from_utf8_lossy(
        &ok(&data, &["import", home_arg, "--json"]).stdout,
    ));
    for l in &third {
        if l["threadId"] == grown_id.as_str() {
            assert_eq!(l["finished"], true, "{l}");
            assert_eq!(l["items"], 1, "{l}");
        } else {
            assert_eq!(l["alreadyImported"], true, "{l}");
        }
    }
    assert_complete(&data, &home);

    // Without the journal every file is compared with its thread, and found whole.
    std::fs::remove_file(data.join("import-journal.jsonl")).unwrap();
    let fourth = json_lines(&String::from_utf8_lossy(
        &ok(&data, &["import", home_arg, "--json"]).stdout,
    ));
    assert!(
        fourth
            .iter()
            .all(|l| l["alreadyImported"] == true && l["items"] == 0),
        "{fourth:#?}"
    );
    assert_complete(&data, &home);
}

/// Ctrl-C (SIGINT) stops an import between store calls: exit code 130, a message saying how to
/// finish, the store closed cleanly (`verify` passes at once); the same command then finishes
/// every thread.
#[test]
fn ctrl_c_stops_an_import_cleanly_and_the_next_run_finishes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let home = codex_home(
        &tmp.path().join("codex"),
        &[24 * MIB, 2 * MIB, 3 * MIB, 2 * MIB],
    );
    let data = tmp.path().join("store");
    let started = Instant::now();
    let child = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(&home.root)
        .env_remove("THREADSTORE_DATA")
        .env_remove("THREADSTORE_CONNECT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the threadstore binary runs");
    // Once the store holds part of the work (its log has grown past a few MiB).
    while disk_usage(&data) < 8 * MIB && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(0) {
        // The import finished before the signal arrived: nothing to check but the result.
        println!("the import finished before Ctrl-C; checking the result only");
    } else {
        assert_eq!(out.status.code(), Some(130), "stderr: {stderr}");
        assert!(
            stderr.contains("interrupted by Ctrl-C") && stderr.contains("run the same command"),
            "{stderr}"
        );
    }
    ok(&data, &["verify"]);
    ok(&data, &["import", home.root.to_str().unwrap()]);
    assert_complete(&data, &home);
}

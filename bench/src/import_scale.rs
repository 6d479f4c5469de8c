//! W11: `threadstore import` and `threadstore export` at scale (issue 21), through the real
//! binary in a child process: wall time, input (or output) MiB/s, items/s and the child's peak
//! RSS (`wait4`'s `ru_maxrss`), then `threadstore verify` of the store, which must pass.
//!
//! The input is a generated Codex home under the scratch directory:
//! `sessions/YYYY/MM/DD/rollout-<YYYY-MM-DDTHH-MM-SS>-<uuid>.jsonl` and three files in
//! `archived_sessions/`, written with [`write_rollout`] (in small memory, two files at a time):
//! E3 (turn-id era) files, every tenth one E2, big items of 1–4 KiB, a compaction and a few
//! aborted turns each. One file holds a quarter of the total, the rest are 1–20 MiB (smaller
//! when the total is small). The total is 2 GiB (one rollout of 512 MiB), 40 MiB with `--quick`
//! (one of 10 MiB), or `THREADSTORE_BENCH_IMPORT_MB` MiB.
//!
//! - `THREADSTORE_BENCH_BIN=<path>`: the `threadstore` binary the children run (default: the
//!   running one), e.g. an older build for a "before" figure on the same home.
//! - `THREADSTORE_BENCH_KEEP_HOME=<dir>`: generate the home in `<dir>` and keep it; a later run
//!   whose sizes are the same reuses it (a marker file is written once the home is complete), so
//!   a 2 GiB home is generated once. The directory should be the home's alone: a home of other
//!   sizes or an incomplete one there is replaced (its `sessions/` and `archived_sessions/`).

use std::ffi::OsString;
use std::io::{BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use threadstore::codex::{write_rollout, GenSpec, RolloutEra};
use threadstore::ThreadId;

use super::compare::{dur, thousands, Cell, Row};
use super::contenders::NAMES;
use super::scratch;

const MIB: u64 = 1 << 20;
/// Written in the home once every file is complete: the plan and the home's figures.
const MARKER: &str = ".threadstore-bench-home.json";
/// Bumped when the generated home changes for the same plan, so a kept home is regenerated.
const LAYOUT_VERSION: u64 = 1;
/// Files in `archived_sessions/`.
const ARCHIVED: usize = 3;

/// Sizes of the generated home.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Plan {
    /// Total bytes of the rollout files.
    total: u64,
    /// The one big rollout.
    largest: u64,
    /// Every other file is 1 MiB (or `max_file`, if smaller) to `max_file` bytes.
    max_file: u64,
}

impl Plan {
    /// 2 GiB (40 MiB with `--quick`) or `THREADSTORE_BENCH_IMPORT_MB`; a quarter of it in one
    /// file; the others up to 20 MiB, and at most an eighth of the rest, so a small home has
    /// several files too.
    fn new(quick: bool) -> anyhow::Result<Self> {
        let mib = match std::env::var("THREADSTORE_BENCH_IMPORT_MB") {
            Ok(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| n >= 4)
                .with_context(|| {
                    format!("THREADSTORE_BENCH_IMPORT_MB={v:?}: a number of MiB, at least 4")
                })?,
            Err(_) if quick => 40,
            Err(_) => 2_048,
        };
        let total = mib * MIB;
        let largest = total / 4;
        let max_file = ((total - largest) / 8).clamp(MIB, 20 * MIB);
        Ok(Self {
            total,
            largest,
            max_file,
        })
    }

    fn to_json(self) -> Value {
        json!({
            "layout": LAYOUT_VERSION,
            "total": self.total,
            "largest": self.largest,
            "maxFile": self.max_file,
        })
    }
}

/// One rollout file to write.
struct FileSpec {
    /// Relative to the home.
    path: PathBuf,
    era: RolloutEra,
    spec: GenSpec,
}

/// What the generated home holds.
#[derive(Clone, Copy, Debug, Default)]
struct Home {
    files: u64,
    bytes: u64,
    /// Lines of every file: each is one item of the imported thread.
    lines: u64,
    largest: u64,
}

/// xorshift64*, for the file sizes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Progress and warnings of the workload (the table goes to stdout at the end).
fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "W11: {text}");
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / MIB as f64)
}

/// Bytes of a rollout of `turns` turns.
fn rollout_len(era: RolloutEra, spec: &GenSpec, turns: usize) -> u64 {
    let mut counter = Counting::new(std::io::sink(), None);
    let spec = GenSpec {
        turns,
        ..spec.clone()
    };
    // Writing into a sink cannot fail.
    write_rollout(era, &spec, &mut counter).unwrap_or_default();
    counter.bytes
}

/// The number of turns that makes `spec`'s rollout about `target` bytes long (from the size of
/// two short rollouts: a turn's size is the same all along, give or take the compaction).
fn turns_for(era: RolloutEra, spec: &GenSpec, target: u64) -> usize {
    let (short, long) = (rollout_len(era, spec, 4), rollout_len(era, spec, 12));
    let per_turn = (long.saturating_sub(short) / 8).max(1);
    let base = short.saturating_sub(4 * per_turn);
    (target.saturating_sub(base) / per_turn).max(1) as usize
}

/// The files of the home: the big one first (it takes longest), then the others.
fn files(plan: Plan) -> Vec<FileSpec> {
    let mut sizes = vec![plan.largest];
    let min_file = MIB.min(plan.max_file);
    let mut rest = plan.total - plan.largest;
    let mut rng = Rng(0x5eed_1e55_u64 | 1);
    while rest >= min_file {
        let size = (min_file + rng.below(plan.max_file - min_file + 1)).min(rest);
        sizes.push(size);
        rest -= size;
    }
    let base: DateTime<Utc> =
        DateTime::from_timestamp(1_756_684_800, 0).unwrap_or(DateTime::UNIX_EPOCH); // 2025-09-01
    sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let era = if i % 10 == 5 {
                RolloutEra::E2OldEnvelope
            } else {
                RolloutEra::E3TurnIds
            };
            let start = base + chrono::Duration::minutes(i as i64 * 397);
            let ms = u64::try_from(start.timestamp_millis()).unwrap_or_default();
            let id = format!(
                "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
                ms >> 16,
                ms & 0xffff,
                (i >> 12) & 0xfff,
                0x8000 | (i & 0xfff),
                0x0b3e_c4a1_0000_u64 + i as u64
            );
            let thread_id: ThreadId = id.parse().unwrap_or_else(|_| ThreadId::new());
            let mut spec = GenSpec {
                thread_id,
                turns: 1,
                seed: 1_000 + i as u64,
                aborted_turns: Vec::new(),
                compaction: true,
                item_bytes: [1024, 1536, 2048, 3072, 4096][i % 5],
                start,
                cwd: format!("/home/user/project-{}", i % 7),
            };
            spec.turns = turns_for(era, &spec, size);
            spec.aborted_turns = vec![3, spec.turns * 2 / 3];
            let name = format!(
                "rollout-{}-{thread_id}.jsonl",
                start.format("%Y-%m-%dT%H-%M-%S")
            );
            // Three of the small files are archived sessions.
            let path = if (1..=ARCHIVED).contains(&i) && sizes.len() > ARCHIVED + 1 {
                Path::new("archived_sessions").join(name)
            } else {
                Path::new("sessions")
                    .join(start.format("%Y/%m/%d").to_string())
                    .join(name)
            };
            FileSpec { path, era, spec }
        })
        .collect()
}

/// Counts the bytes and lines written through it (and adds the bytes to `progress`).
struct Counting<'a, W> {
    inner: W,
    bytes: u64,
    lines: u64,
    progress: Option<&'a AtomicU64>,
}

impl<'a, W> Counting<'a, W> {
    fn new(inner: W, progress: Option<&'a AtomicU64>) -> Self {
        Self {
            inner,
            bytes: 0,
            lines: 0,
            progress,
        }
    }
}

impl<W: std::io::Write> std::io::Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or_default();
        self.bytes += n as u64;
        self.lines += written.iter().filter(|&&b| b == b'\n').count() as u64;
        if let Some(progress) = self.progress {
            progress.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the home's files under `root`, on as many threads as there are cores (at most 4),
/// printing progress every few seconds.
fn generate(root: &Path, plan: Plan) -> anyhow::Result<Home> {
    let files = files(plan);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let written = AtomicU64::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .clamp(1, 4);
    let started = Instant::now();
    note(&format!(
        "generating a Codex home of {} in {} files (largest {}) in {} ({workers} threads)",
        mib(plan.total as f64),
        files.len(),
        mib(plan.largest as f64),
        root.display()
    ));
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<Home> {
                    let mut home = Home::default();
                    while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let path = root.join(&file.path);
                        if let Some(dir) = path.parent() {
                            std::fs::create_dir_all(dir)?;
                        }
                        let out = std::fs::File::create(&path)
                            .with_context(|| format!("creating {}", path.display()))?;
                        let mut out =
                            Counting::new(BufWriter::with_capacity(1 << 20, out), Some(&written));
                        write_rollout(file.era, &file.spec, &mut out)
                            .and_then(|()| out.flush())
                            .with_context(|| format!("writing {}", path.display()))?;
                        home.files += 1;
                        home.bytes += out.bytes;
                        home.lines += out.lines;
                        home.largest = home.largest.max(out.bytes);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(home)
                })
            })
            .collect();
        let mut last = Instant::now();
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= Duration::from_secs(3) {
                last = Instant::now();
                note(&format!(
                    "generated {} of {}, {}/{} files complete ({:.0} s)",
                    mib(written.load(Ordering::Relaxed) as f64),
                    mib(plan.total as f64),
                    done.load(Ordering::Relaxed),
                    files.len(),
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a generator thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<Home>>>()
    })?;
    let home = results.iter().fold(Home::default(), |a, h| Home {
        files: a.files + h.files,
        bytes: a.bytes + h.bytes,
        lines: a.lines + h.lines,
        largest: a.largest.max(h.largest),
    });
    note(&format!(
        "generated {} in {} files, {} lines, in {:.1} s",
        mib(home.bytes as f64),
        home.files,
        thousands(home.lines as f64),
        started.elapsed().as_secs_f64()
    ));
    Ok(home)
}

/// The home of a previous complete generation with the same plan, if `root` holds one.
fn kept_home(root: &Path, plan: Plan) -> Option<Home> {
    let text = std::fs::read_to_string(root.join(MARKER)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    if v["plan"] != plan.to_json() {
        return None;
    }
    let n = |k: &str| v["home"][k].as_u64();
    Some(Home {
        files: n("files")?,
        bytes: n("bytes")?,
        lines: n("lines")?,
        largest: n("largest")?,
    })
}

/// The home to import: `THREADSTORE_BENCH_KEEP_HOME` (reused when complete, else generated and
/// kept) or a fresh one under the scratch directory. Returns it, its figures and whether the
/// workload should delete it.
fn prepare_home(scratch_dir: &Path, plan: Plan) -> anyhow::Result<(PathBuf, Home, bool)> {
    let kept = std::env::var_os("THREADSTORE_BENCH_KEEP_HOME").filter(|v| !v.is_empty());
    let Some(root) = kept.map(PathBuf::from) else {
        let root = scratch_dir.join("w11-home");
        scratch::ensure_empty(&root)?;
        let home = generate(&root, plan)?;
        return Ok((root, home, true));
    };
    if let Some(home) = kept_home(&root, plan) {
        note(&format!(
            "reusing the Codex home in {} ({} in {} files)",
            root.display(),
            mib(home.bytes as f64),
            home.files
        ));
        return Ok((root, home, false));
    }
    // Incomplete, or generated for other sizes: replace what a generation writes.
    let _ = std::fs::remove_file(root.join(MARKER));
    for dir in ["sessions", "archived_sessions"] {
        let dir = root.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(&root)?;
    let home = generate(&root, plan)?;
    let marker = json!({
        "plan": plan.to_json(),
        "home": {"files": home.files, "bytes": home.bytes, "lines": home.lines, "largest": home.largest},
    });
    std::fs::write(root.join(MARKER), format!("{marker}\n"))?;
    Ok((root, home, false))
}

/// Reads every rollout file of the home once: the input's read rate (warm page cache after a
/// generation), the floor of the import's MiB/s.
fn read_rate(root: &Path) -> anyhow::Result<f64> {
    fn walk(dir: &Path, buf: &mut [u8], bytes: &mut u64) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, buf, bytes)?;
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                let mut f = std::fs::File::open(&path)?;
                loop {
                    let n = f.read(buf)?;
                    if n == 0 {
                        break;
                    }
                    *bytes += n as u64;
                }
            }
        }
        Ok(())
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0;
    let at = Instant::now();
    for dir in ["sessions", "archived_sessions"] {
        let dir = root.join(dir);
        if dir.exists() {
            walk(&dir, &mut buf, &mut bytes)?;
        }
    }
    Ok(bytes as f64 / MIB as f64 / at.elapsed().as_secs_f64().max(1e-9))
}

/// A finished child process.
struct ChildRun {
    wall: Duration,
    /// `ru_maxrss`: the child's peak resident set, KiB.
    peak_rss_kib: u64,
    /// User + system CPU time.
    cpu: Duration,
    success: bool,
    stdout: String,
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64)
}

/// Runs `bin args…` to completion (stdout captured, stderr passed through) and reaps it with
/// `wait4`, which gives this child's own peak RSS and CPU time.
fn run_child(bin: &Path, args: &[OsString]) -> anyhow::Result<ChildRun> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .env_remove("THREADSTORE_DATA")
        .env_remove("THREADSTORE_CONNECT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut stdout = String::new();
    let read = child
        .stdout
        .take()
        .map(|mut out| out.read_to_string(&mut stdout));
    let pid = libc::pid_t::try_from(child.id()).context("child pid")?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our child, not yet reaped (std's `Child` only reaps in `wait`/`try_wait`,
        // which are not called); `status` and `usage` are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("waiting for the child");
        }
    }
    let wall = started.elapsed();
    if let Some(read) = read {
        read.context("reading the child's stdout")?;
    }
    Ok(ChildRun {
        wall,
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or_default(),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        stdout,
    })
}

/// One JSON object per line of a child's stdout.
fn json_lines(run: &ChildRun, what: &str) -> anyhow::Result<Vec<Value>> {
    run.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("{what}: not JSON: {l}")))
        .collect()
}

/// Apparent bytes of every file under `dir`.
fn file_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            file_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The rollout files below the home's `sessions/` and `archived_sessions/`.
fn rollout_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for dir in ["sessions", "archived_sessions"] {
        let dir = root.join(dir);
        if dir.is_dir() {
            walk(&dir, &mut files)?;
        }
    }
    files.sort();
    Ok(files)
}

/// The ceiling of threadstore's stack for this import (the `sled-raw` cell): the same files read
/// by the same streaming reader, each line encoded as the same log record and written in
/// batches of 256 lines (the import's chunks) into one sled tree with threadstore's segment size
/// and the import's cache (32 MiB), two files at a time (the import's default on 2 cores), no
/// actors and no projections, one flush at the end. Returns (items, wall time).
fn sled_raw_import(root: &Path, dir: &Path) -> anyhow::Result<(u64, Duration)> {
    use threadstore::codex::RolloutReader;
    use threadstore::layers::storage::{codec, LogRecord};
    scratch::ensure_empty(dir)?;
    let files = rollout_files(root)?;
    let started = Instant::now();
    let db = super::contenders::sled_config(dir)
        .cache_capacity(32 * MIB)
        .open()?;
    let tree = db.open_tree("log")?;
    let next = AtomicUsize::new(0);
    let items = AtomicU64::new(0);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(index) else {
                            return Ok(());
                        };
                        let mut reader = RolloutReader::open(file)?;
                        let mut position = 0u64;
                        loop {
                            let chunk = reader.next_chunk(256, 1 << 20)?;
                            if chunk.is_empty() {
                                break;
                            }
                            let mut batch = sled::Batch::default();
                            for line in &chunk {
                                let record = LogRecord::new(
                                    line.timestamp,
                                    line.ordinal,
                                    line.item.kind().to_owned(),
                                    line.item.payload_json().to_owned(),
                                );
                                let mut key = (index as u64).to_be_bytes().to_vec();
                                key.extend_from_slice(&position.to_be_bytes());
                                batch.insert(key, codec::encode(&record)?);
                                position += 1;
                            }
                            tree.apply_batch(batch)?;
                            items.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a sled-raw import worker panicked"))??;
        }
        Ok(())
    })?;
    db.flush()?;
    let wall = started.elapsed();
    drop(tree);
    drop(db);
    std::fs::remove_dir_all(dir)?;
    Ok((items.load(Ordering::Relaxed), wall))
}

/// A row with threadstore's cell only (the contenders have no Codex import).
fn row(label: String, floor: String, value: f64, text: String) -> Row {
    let mut cells = vec![Some(Cell { value, text })];
    cells.extend(NAMES.iter().skip(1).map(|_| {
        Some(Cell {
            value: f64::NAN,
            text: "n/a".into(),
        })
    }));
    Row {
        label,
        floor,
        cells,
    }
}

fn rate(amount: f64, wall: Duration) -> f64 {
    amount / wall.as_secs_f64().max(1e-9)
}

/// W11: generate (or reuse) the home, import it into a fresh store, export the store, verify it.
pub async fn w11(scratch_dir: &Path, quick: bool) -> anyhow::Result<Vec<Row>> {
    let plan = Plan::new(quick)?;
    let scratch_dir = scratch_dir.to_path_buf();
    tokio::task::spawn_blocking(move || run(&scratch_dir, plan)).await?
}

fn run(scratch_dir: &Path, plan: Plan) -> anyhow::Result<Vec<Row>> {
    let bin = match std::env::var_os("THREADSTORE_BENCH_BIN").filter(|v| !v.is_empty()) {
        Some(bin) => PathBuf::from(bin),
        None => std::env::current_exe().context("locating the threadstore binary")?,
    };
    let binary = if std::env::var_os("THREADSTORE_BENCH_BIN").is_some_and(|v| !v.is_empty()) {
        format!(", binary {}", bin.display())
    } else {
        String::new()
    };
    let (root, home, delete_home) = prepare_home(scratch_dir, plan)?;
    let floor = format!("read {} MiB/s", thousands(read_rate(&root)?));
    let store = scratch_dir.join("w11-store");
    let exported = scratch_dir.join("w11-exported");
    scratch::ensure_empty(&store)?;
    let _ = std::fs::remove_dir_all(&exported);
    let data = |cmd: &[&str]| -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["--data".into(), store.clone().into()];
        args.extend(cmd.iter().map(OsString::from));
        args
    };

    // Import.
    note(&format!(
        "importing {} ({} files) with {}",
        root.display(),
        home.files,
        bin.display()
    ));
    let mut args = data(&["import"]);
    args.extend([root.clone().into_os_string(), "--json".into()]);
    let import = run_child(&bin, &args)?;
    anyhow::ensure!(import.success, "W11: `threadstore import` failed");
    let lines = json_lines(&import, "import")?;
    let items: u64 = lines.iter().filter_map(|l| l["items"].as_u64()).sum();
    anyhow::ensure!(
        lines.len() as u64 == home.files && items == home.lines,
        "W11: the import reported {} files and {items} items, not {} and {}",
        lines.len(),
        home.files,
        home.lines
    );
    let on_disk = scratch::disk_usage(&store)?;
    let size = if home.bytes >= 1 << 30 {
        format!("{:.2} GiB", home.bytes as f64 / (1u64 << 30) as f64)
    } else {
        mib(home.bytes as f64)
    };
    let import_mib_s = rate(home.bytes as f64 / MIB as f64, import.wall);
    let mut rows = vec![row(
        format!(
            "W11 import of a generated Codex home ({size}, {} files, largest {}{binary})",
            home.files,
            mib(home.largest as f64)
        ),
        floor,
        import_mib_s,
        format!(
            "{import_mib_s:.1} MiB/s, {} items/s, peak RSS {}, store {} on disk ({} items in {}, CPU {})",
            thousands(rate(items as f64, import.wall)),
            mib(import.peak_rss_kib as f64 * 1024.0),
            mib(on_disk as f64),
            thousands(items as f64),
            dur(import.wall),
            dur(import.cpu)
        ),
    )];
    // The ceiling: sled alone writing the same records (see `sled_raw_import`).
    note("writing the same lines into sled alone (sled-raw, the ceiling)");
    let (raw_items, raw_wall) = sled_raw_import(&root, &scratch_dir.join("w11-sled-raw"))?;
    anyhow::ensure!(
        raw_items == home.lines,
        "W11: sled-raw wrote {raw_items} items, not {}",
        home.lines
    );
    let raw_mib_s = rate(home.bytes as f64 / MIB as f64, raw_wall);
    if let Some(cell) = rows[0].cells.get_mut(3) {
        *cell = Some(Cell {
            value: raw_mib_s,
            text: format!(
                "{raw_mib_s:.1} MiB/s, {} items/s ({} in {}: reader, log records, sled; no projections)",
                thousands(rate(raw_items as f64, raw_wall)),
                thousands(raw_items as f64),
                dur(raw_wall)
            ),
        });
    }
    note(&format!(
        "imported in {} (peak RSS {})",
        dur(import.wall),
        mib(import.peak_rss_kib as f64 * 1024.0)
    ));

    // Export.
    let mut args = data(&["export", "--out"]);
    args.extend([exported.clone().into_os_string(), "--json".into()]);
    let export = run_child(&bin, &args)?;
    anyhow::ensure!(export.success, "W11: `threadstore export` failed");
    let lines = json_lines(&export, "export")?;
    let exported_items: u64 = lines.iter().filter_map(|l| l["items"].as_u64()).sum();
    anyhow::ensure!(
        lines.len() as u64 == home.files,
        "W11: the export wrote {} threads, not {}",
        lines.len(),
        home.files
    );
    let written = file_bytes(&exported)?;
    let export_mib_s = rate(written as f64 / MIB as f64, export.wall);
    rows.push(row(
        format!(
            "W11 export of that store ({} threads, {} written{binary})",
            lines.len(),
            mib(written as f64)
        ),
        String::new(),
        export_mib_s,
        format!(
            "{export_mib_s:.1} MiB/s, {} items/s, peak RSS {} ({} items in {}, CPU {})",
            thousands(rate(exported_items as f64, export.wall)),
            mib(export.peak_rss_kib as f64 * 1024.0),
            thousands(exported_items as f64),
            dur(export.wall),
            dur(export.cpu)
        ),
    ));
    note(&format!(
        "exported in {} (peak RSS {})",
        dur(export.wall),
        mib(export.peak_rss_kib as f64 * 1024.0)
    ));
    let _ = std::fs::remove_dir_all(&exported);

    // Verify.
    let verify = run_child(&bin, &data(&["verify"]))?;
    anyhow::ensure!(
        verify.success,
        "W11: `threadstore verify` of the imported store failed:\n{}",
        verify.stdout
    );
    rows.push(row(
        format!("W11 verify of that store{binary}"),
        String::new(),
        verify.wall.as_secs_f64(),
        format!(
            "{}, {} items/s, peak RSS {}",
            dur(verify.wall),
            thousands(rate(items as f64, verify.wall)),
            mib(verify.peak_rss_kib as f64 * 1024.0)
        ),
    ));
    let _ = std::fs::remove_dir_all(&store);
    if delete_home {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(rows)
}

//! Measurements that need a fresh process: the bench re-executes itself as
//! `threadstore bench --child-op OP --child-kind KIND --child-dir DIR [--child-n N]` (hidden
//! flags), so that open times are cold for the process and RSS figures are its own. A child prints
//! one `CHILD {json}` line on stdout with its figures.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use serde_json::{json, Value};
use threadstore::{ListThreadsParams, ResumeThreadParams, SledThreadStore, ThreadStore};
use tokio::io::AsyncBufReadExt;

use super::listing;

/// What a child process does.
#[derive(Clone, Debug)]
pub struct ChildSpec {
    /// `open` (time from open to the first listing page, RSS), `sled-open` (sled alone opening a
    /// threadstore directory), `churn` (write until killed) or `actors` (RSS with `n` live thread
    /// actors, then after their passivation).
    pub op: String,
    /// The contender.
    pub kind: String,
    /// Its store.
    pub dir: PathBuf,
    /// Op-specific count.
    pub n: usize,
}

/// A value from `/proc/self/status` (e.g. `VmRSS`), in KiB; 0 where unavailable.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let rest = l.strip_prefix(field)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
        })
        .unwrap_or(0)
}

/// Bytes this process has read through `read`/`pread` so far (`/proc/self/io` `rchar`).
pub fn read_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("rchar:")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Returns freed heap memory to the OS (the binary's allocator and glibc keep it otherwise), so
/// RSS shows what is live.
fn trim_heap(release_free_heap: fn()) -> bool {
    release_free_heap();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim has no preconditions; it only releases free heap pages.
        unsafe { malloc_trim(0) };
        true
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// The child's figures, on stdout: the parent reads this line (the protocol between them).
fn report(v: Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "CHILD {v}");
    let _ = stdout.flush();
}

/// Runs a child op (in the child process); `release_free_heap` asks the process's allocator to
/// return free memory to the OS (see [`crate::BenchOptions::release_free_heap`]).
pub async fn run_child(spec: ChildSpec, release_free_heap: fn()) -> anyhow::Result<()> {
    match spec.op.as_str() {
        "open" => {
            let rss_before = status_kib("VmRSS");
            let read_before = read_bytes();
            let at = Instant::now();
            let lister = listing::open(&spec.kind, &spec.dir, false).await?;
            let opened = at.elapsed();
            let n = lister.page(None).await?;
            let first_page = at.elapsed();
            anyhow::ensure!(n == listing::PAGE, "first page has {n} threads");
            let rss = status_kib("VmRSS");
            let read = read_bytes() - read_before;
            lister.close().await?;
            report(json!({
                "open_us": opened.as_micros() as u64,
                "first_page_us": first_page.as_micros() as u64,
                "rss_kib": rss,
                "rss_before_kib": rss_before,
                "read_bytes": read,
            }));
        }
        "sled-open" => {
            // sled alone opening the same directory: how much of `open` is sled's recovery.
            let read_before = read_bytes();
            let at = Instant::now();
            let dir = spec.dir.join("db");
            let db =
                tokio::task::spawn_blocking(move || super::contenders::sled_config(&dir).open())
                    .await??;
            let opened = at.elapsed();
            let read = read_bytes() - read_before;
            drop(db);
            report(json!({
                "open_us": opened.as_micros() as u64,
                "read_bytes": read,
            }));
        }
        "churn" => {
            let lister = listing::open(&spec.kind, &spec.dir, false).await?;
            lister.churn(16, spec.n).await?;
        }
        "actors" => actors(&spec.dir, spec.n, release_free_heap).await?,
        other => anyhow::bail!("unknown child op {other}"),
    }
    Ok(())
}

/// W7 in the child: open the store, note RSS; resume `n` threads (one live actor each), note RSS;
/// wait for every actor to be passivated, note RSS (and after returning free heap to the OS).
async fn actors(dir: &Path, n: usize, release_free_heap: fn()) -> anyhow::Result<()> {
    let idle = Duration::from_secs(1);
    let store = SledThreadStore::builder(dir)
        .idle_timeout(idle)
        .max_live_actors(n + 1_000)
        .open()
        .await?;
    let mut ids = Vec::with_capacity(n);
    let mut cursor = None;
    loop {
        let page = store
            .list_threads(ListThreadsParams {
                page_size: 200,
                cursor,
                ..Default::default()
            })
            .await?;
        ids.extend(page.items.iter().map(|t| t.thread_id));
        cursor = page.next_cursor;
        if cursor.is_none() || ids.len() >= n {
            break;
        }
    }
    ids.truncate(n);
    anyhow::ensure!(ids.len() == n, "store has {} threads, not {n}", ids.len());
    trim_heap(release_free_heap);
    let rss_base = status_kib("VmRSS");
    let at = Instant::now();
    futures::stream::iter(ids.iter().copied())
        .map(|thread_id| {
            store.resume_thread(ResumeThreadParams {
                thread_id,
                include_archived: false,
            })
        })
        .buffer_unordered(64)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::warn!("resume failed: {e}");
            }
            async {}
        })
        .await;
    let activated = at.elapsed();
    let live = store.actor_store().live_actors().await?;
    let rss_live = status_kib("VmRSS");
    let wait_from = Instant::now();
    while store.actor_store().live_actors().await? > 0 {
        anyhow::ensure!(
            wait_from.elapsed() < idle * 10,
            "actors not passivated after {:?}",
            idle * 10
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let stopping actors finish and drop their state.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_passive = status_kib("VmRSS");
    let trimmed = trim_heap(release_free_heap);
    let rss_trimmed = status_kib("VmRSS");
    store.close().await?;
    report(json!({
        "threads": n,
        "live": live,
        "activate_us": activated.as_micros() as u64,
        "rss_base_kib": rss_base,
        "rss_live_kib": rss_live,
        "rss_passive_kib": rss_passive,
        "rss_trimmed_kib": if trimmed { rss_trimmed } else { rss_passive },
    }));
    Ok(())
}

fn command(spec: &ChildSpec) -> anyhow::Result<tokio::process::Command> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("bench")
        .arg("--child-op")
        .arg(&spec.op)
        .arg("--child-kind")
        .arg(&spec.kind)
        .arg("--child-dir")
        .arg(&spec.dir)
        .arg("--child-n")
        .arg(spec.n.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    Ok(cmd)
}

/// Runs a child to completion and returns its `CHILD` figures.
pub async fn spawn(spec: &ChildSpec) -> anyhow::Result<Value> {
    let out = command(spec)?.output().await?;
    anyhow::ensure!(
        out.status.success(),
        "bench child {spec:?} failed: {}",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("CHILD "))
        .ok_or_else(|| anyhow::anyhow!("bench child {spec:?} printed no figures"))?;
    Ok(serde_json::from_str(line)?)
}

/// Starts a `churn` child, waits until it has made `spec.n` appends, lets it write for `extra`
/// more, then kills it with SIGKILL. Returns how many seconds it wrote in all.
pub async fn churn_and_kill(spec: &ChildSpec, extra: Duration) -> anyhow::Result<f64> {
    let mut child = command(spec)?.spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("churn child has no stdout"))?;
    let at = Instant::now();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let wait = async {
        while let Some(l) = lines.next_line().await? {
            if l.trim() == "READY" {
                return anyhow::Ok(());
            }
        }
        anyhow::bail!("churn child exited before READY")
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .context("churn child never READY")??;
    tokio::time::sleep(extra).await;
    child.start_kill()?; // SIGKILL on Unix
    child.wait().await?;
    Ok(at.elapsed().as_secs_f64())
}

//! Crash test: a child process appends from many concurrent writers in `Sync` mode and is killed
//! with SIGKILL at random moments; after each kill the store is reopened and must hold every
//! acknowledged append, each thread's log must be a gapless prefix of what was sent, no batch may
//! be partially visible, and `verify` must find no difference.
//!
//! 50 cycles by default; `CRASH_CYCLES=1000 cargo test -p threadstore-tests --release --test crash`
//! runs a thousand. The same test runs against PostgreSQL (the child is a node on a fresh schema
//! of `THREADSTORE_PG`; the next child takes its writer leases over): 10 cycles by default,
//! `PG_CRASH_CYCLES=1000` for more.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use threadstore::{PostgresThreadStore, SledThreadStore, SortDirection, ThreadId};
use threadstore_tests::harness::{fresh_schema, postgres_url};

/// Where the child writes and the parent checks.
#[derive(Clone)]
enum Target {
    Sled(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

/// A store the parent opened to check.
enum Opened {
    Sled(SledThreadStore),
    Postgres(PostgresThreadStore),
}

impl Opened {
    fn actor_store(&self) -> &threadstore::layers::actors::store::ActorStore {
        match self {
            Opened::Sled(s) => s.actor_store(),
            Opened::Postgres(s) => s.actor_store(),
        }
    }

    async fn close(self) {
        match self {
            Opened::Sled(s) => s.close().await.unwrap(),
            Opened::Postgres(s) => s.close().await.unwrap(),
        }
    }
}

impl Target {
    fn arg(&self) -> String {
        match self {
            Target::Sled(dir) => dir.to_str().unwrap().to_owned(),
            Target::Postgres { schema, .. } => format!("postgres:{schema}"),
        }
    }

    async fn open(&self) -> threadstore::ThreadStoreResult<Opened> {
        Ok(match self {
            Target::Sled(dir) => Opened::Sled(SledThreadStore::open(dir).await?),
            Target::Postgres { url, schema } => Opened::Postgres(
                // No search index: an in-memory one would be rebuilt from the whole feed at
                // every reopen (a PostgreSQL node's index is its own), which is not under test.
                PostgresThreadStore::builder(url)
                    .schema(schema)
                    .search_index(false)
                    .open()
                    .await?,
            ),
        })
    }
}

struct Item {
    thread_index: usize,
    seq: u64,
    batch: u64,
    place: u64,
    size: u64,
}

fn parse(text: &str) -> Item {
    // t<thread>-s<seq>-b<batch>-<i>/<n>
    let parts: Vec<&str> = text.split('-').collect();
    let (i, n) = parts[3].split_once('/').unwrap();
    Item {
        thread_index: parts[0][1..].parse().unwrap(),
        seq: parts[1][1..].parse().unwrap(),
        batch: parts[2][1..].parse().unwrap(),
        place: i.parse().unwrap(),
        size: n.parse().unwrap(),
    }
}

fn cycles(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_never_loses_an_acknowledged_append() {
    let dir = tempfile::tempdir().unwrap();
    crash_cycles(
        Target::Sled(dir.path().to_owned()),
        cycles("CRASH_CYCLES", 50),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_postgres_node_never_loses_an_acknowledged_append() {
    let Some(url) = postgres_url() else { return };
    let target = Target::Postgres {
        url,
        schema: fresh_schema(),
    };
    crash_cycles(target, cycles("PG_CRASH_CYCLES", 10)).await;
}

async fn crash_cycles(target: Target, cycles: u64) {
    let (writers, per_writer) = (8usize, 4usize);
    let mut acked: HashMap<ThreadId, u64> = HashMap::new();
    let mut total_acked = 0u64;
    let mut checked: HashMap<ThreadId, u64> = HashMap::new();
    let mut feed_checked = 0u64;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for cycle in 0..cycles {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .args([
                target.arg().as_str(),
                &writers.to_string(),
                &per_writer.to_string(),
                &cycle.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let f: Vec<&str> = line.split(' ').collect();
                if f[0] == "READY" {
                    let _ = ready_tx.send(());
                } else if f[0] == "A" {
                    acks.push((
                        f[1].parse::<ThreadId>().unwrap(),
                        f[2].parse::<u64>().unwrap(),
                        f[3].parse::<u64>().unwrap(),
                    ));
                }
            }
            acks
        });
        // Let it run 20..220 ms after start-up (its store is open), then kill it without warning.
        // Timed from READY, not from the spawn: a loaded machine opens the store slower.
        let _ = tokio::task::spawn_blocking(move || ready_rx.recv_timeout(Duration::from_secs(60)))
            .await;
        // A PostgreSQL node first takes its 32 writer leases over, one commit each: give it
        // time to append too.
        let warm_up = match target {
            Target::Sled(_) => 0,
            Target::Postgres { .. } => 500,
        };
        tokio::time::sleep(Duration::from_millis(warm_up + 20 + rng % 200)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        for (id, first, count) in acks {
            let end = first + count;
            let e = acked.entry(id).or_default();
            *e = (*e).max(end);
            total_acked += count;
        }

        let store = target.open().await.unwrap_or_else(|e| {
            let keep = std::env::temp_dir().join(format!("threadstore-crash-{cycle}"));
            if let Target::Sled(dir) = &target {
                let _ = std::process::Command::new("cp")
                    .arg("-r")
                    .arg(dir)
                    .arg(&keep)
                    .status();
            }
            panic!(
                "cycle {cycle}: reopen after kill -9 failed: {e} (a sled store is copied to {})",
                keep.display()
            )
        });
        // Every committed event has its feed position here (on PostgreSQL, the killed node's
        // last commits may still be waiting for one).
        store.actor_store().journal().settle_feed().await.unwrap();
        for (id, acked_end) in &acked {
            // Only the part of the log written since the last check is read, so a long run stays
            // linear; what was checked before is durable (it survived an earlier reopen).
            let from = checked.get(id).copied().unwrap_or(1);
            let tail = store
                .actor_store()
                .journal()
                .log_range(*id, from, u64::MAX, SortDirection::Asc, usize::MAX)
                .await
                .unwrap();
            let len = from + tail.len() as u64;
            assert!(
                len >= *acked_end,
                "cycle {cycle}: thread {id} has {len} items, {acked_end} acknowledged"
            );
            let mut open_batch: Option<(u64, u64, u64)> = None;
            for (pos, rec) in &tail {
                let payload: serde_json::Value = serde_json::from_str(&rec.payload).unwrap();
                let text = payload["message"].as_str().unwrap().to_owned();
                let item = parse(&text);
                assert_eq!(
                    item.seq,
                    pos - 1,
                    "cycle {cycle}: gap or reorder in {id} at {pos}: {text}"
                );
                match open_batch {
                    Some((b, next, size)) => {
                        assert_eq!(
                            (item.batch, item.place, item.size),
                            (b, next, size),
                            "cycle {cycle}: batch torn in {id} at {pos}"
                        );
                    }
                    None => assert_eq!(
                        item.place, 1,
                        "cycle {cycle}: batch starts mid-way in {id} at {pos}"
                    ),
                }
                open_batch =
                    (item.place < item.size).then_some((item.batch, item.place + 1, item.size));
                let _ = item.thread_index;
            }
            assert!(
                open_batch.is_none(),
                "cycle {cycle}: thread {id} ends with a partial batch"
            );
            checked.insert(*id, len);
        }
        let head = store.actor_store().feed_head();
        let feed = store
            .actor_store()
            .feed(feed_checked, usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            feed_checked + feed.len() as u64,
            head,
            "cycle {cycle}: feed head"
        );
        assert!(
            feed.iter()
                .enumerate()
                .all(|(i, e)| e.position == feed_checked + i as u64),
            "cycle {cycle}: feed has a gap"
        );
        feed_checked = head;
        // A full rebuild comparison costs the whole store: every 25 cycles and at the end.
        if cycle % 25 == 0 || cycle + 1 == cycles {
            let report = store.actor_store().verify().await.unwrap();
            assert!(
                report.differences.is_empty(),
                "cycle {cycle}: {:?}",
                report.differences
            );
        }
        store.close().await;
    }
    assert!(total_acked > 0, "the child never acknowledged anything");
    let on = match target {
        Target::Sled(_) => "sled",
        Target::Postgres { .. } => "PostgreSQL",
    };
    eprintln!(
        "crash test ({on}): {cycles} kill -9 cycles, {total_acked} acknowledged items, all present"
    );
}

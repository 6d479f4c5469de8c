//! PostgreSQL stopped (`pg_ctl stop -m immediate`) and started again while two nodes write: every
//! call during the outage fails with a typed error within a bound, the nodes recover by
//! themselves (same store objects, no restart), and every acknowledged append is present exactly
//! once (retries carry their request id). Its own test binary: it stops the whole cluster.
//!
//! Needs `THREADSTORE_PG_DATA` (the cluster's data directory) and `THREADSTORE_PG_BIN` (its
//! `pg_ctl`'s directory), which `.ci/run` sets; skipped with a message without them, a failure
//! under CI.

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadstore::{
    AppendThreadItemsParams, LoadThreadHistoryParams, PostgresThreadStore, RolloutItem,
    ThreadStore, ThreadStoreError,
};
use threadstore_tests::harness::{create_params, fresh_schema, postgres_url};

const APPENDS: usize = 40;
const BOUND: Duration = Duration::from_secs(1);

fn pg_ctl(args: &[&str]) {
    let bin = std::env::var("THREADSTORE_PG_BIN").unwrap();
    let data = std::env::var("THREADSTORE_PG_DATA").unwrap();
    let pg_ctl = format!("{bin}/pg_ctl");
    let mut command = if unsafe_is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", &pg_ctl]);
        c
    } else {
        std::process::Command::new(&pg_ctl)
    };
    let status = command
        .args(["-D", &data])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl {args:?}: {status}");
}

fn unsafe_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_crash_restart_loses_nothing_and_the_nodes_recover() {
    let Some(url) = postgres_url() else { return };
    if std::env::var_os("THREADSTORE_PG_DATA").is_none()
        || std::env::var_os("THREADSTORE_PG_BIN").is_none()
    {
        if std::env::var_os("CI").is_some() {
            panic!(
                "THREADSTORE_PG_DATA / THREADSTORE_PG_BIN are not set under CI: .ci/run sets them"
            );
        }
        eprintln!("skipped: set THREADSTORE_PG_DATA and THREADSTORE_PG_BIN to stop and start the database");
        return;
    }
    let schema = fresh_schema();
    let mut nodes: Vec<Arc<PostgresThreadStore>> = Vec::new();
    for _ in 0..2 {
        nodes.push(Arc::new(
            PostgresThreadStore::builder(&url)
                .schema(&schema)
                .call_timeout(BOUND)
                .open()
                .await
                .unwrap(),
        ));
    }
    let mut writers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for k in 0..2 {
            let node = node.clone();
            writers.push(tokio::spawn(async move {
                let w = node.create_thread(create_params()).await.unwrap();
                let mut errors = Vec::new();
                for i in 0..APPENDS {
                    let text = format!("node {n} thread {k} item {i}");
                    let mut p = AppendThreadItemsParams::new(
                        w.thread_id,
                        vec![RolloutItem::user_message(&text)],
                    );
                    p.writer_epoch = Some(w.epoch);
                    p.request_id = Some(text.clone());
                    loop {
                        let started = Instant::now();
                        match node.append_items(p.clone()).await {
                            Ok(_) => break,
                            Err(e) => {
                                errors.push((e, started.elapsed()));
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (w.thread_id, n, k, errors)
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    pg_ctl(&["-m", "immediate", "stop"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg_ctl(&["-w", "-l", "/dev/null", "restart"]);

    let mut all_errors = Vec::new();
    let mut threads = Vec::new();
    for w in writers {
        let (id, n, k, errors) = tokio::time::timeout(Duration::from_secs(120), w)
            .await
            .expect("the writers finish once the database is back")
            .unwrap();
        threads.push((id, n, k));
        all_errors.extend(errors);
    }
    assert!(!all_errors.is_empty(), "the outage was seen");
    for (e, took) in &all_errors {
        assert!(
            matches!(
                e,
                ThreadStoreError::Unavailable { .. } | ThreadStoreError::Contended { .. }
            ),
            "a call during the outage fails with a typed error: {e:?}"
        );
        // A call makes at most a few bounded trips (re-reading the thread, then committing).
        assert!(*took <= BOUND * 4, "a call took {took:?} (bound {BOUND:?})");
    }
    // The same nodes, never restarted, read everything back: each acknowledged item once, in order.
    for (id, n, k) in threads {
        for node in &nodes {
            let history = node
                .load_history(LoadThreadHistoryParams::new(id))
                .await
                .unwrap();
            let texts: Vec<String> = history.items[1..]
                .iter()
                .map(|line| {
                    let v: serde_json::Value =
                        serde_json::from_str(line.item.payload_json()).unwrap();
                    v["message"].as_str().unwrap().to_owned()
                })
                .collect();
            let expected: Vec<String> = (0..APPENDS)
                .map(|i| format!("node {n} thread {k} item {i}"))
                .collect();
            assert_eq!(
                texts, expected,
                "thread {id}: every item exactly once, in order"
            );
        }
    }
    eprintln!(
        "outage: {} calls failed typed during the database restart, the slowest in {:?}",
        all_errors.len(),
        all_errors.iter().map(|(_, t)| *t).max().unwrap_or_default()
    );
    for node in nodes {
        node.close().await.unwrap();
    }
}

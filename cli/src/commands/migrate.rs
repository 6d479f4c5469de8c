//! `threadstore migrate --to-postgres URL`: copies the store in the data directory into
//! PostgreSQL (schema `--postgres-schema`, which must not hold a store yet), record for record
//! (`threadstore_storage::pg::copy`: every log, its metadata, archived state, names, forks,
//! request ids and the feed), then opens the copy and verifies it: every thread's projections
//! against its log (a fork's inherited items included), and the count of threads against the
//! source's. The data
//! directory is locked while it is read and left as it was.
//!
//! `--json` prints one object: `{"threads", "items", "records", "bytes", "feedHead",
//! "differences": [{"threadId", "what"}], "ok", "seconds"}`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use threadstore::layers::storage::engine::{KvEngine, SledEngine, SledOptions};
use threadstore::layers::storage::pg::{copy_into, CopyReport};
use threadstore::PgOptions;

use super::common;
use crate::output::outln;

/// `migrate` options.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The PostgreSQL database to copy the store into (a libpq connection string or URL); the
    /// schema is `--postgres-schema` (created; it must not hold a store yet).
    #[arg(long, value_name = "URL")]
    pub to_postgres: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Copies the data directory's store into PostgreSQL and verifies the copy.
pub async fn run(data: &Path, schema: &str, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    if !data.join("db").exists() {
        bail!(
            "no store in {}: pass --data <dir> (or set THREADSTORE_DATA)",
            data.display()
        );
    }
    let started = Instant::now();
    let dir = data.to_owned();
    let engine: Arc<dyn KvEngine> = tokio::task::spawn_blocking(move || {
        let engine = SledEngine::open(&dir, &SledOptions::default())?;
        // The copy carries the current layout: an older store is brought up to it first.
        threadstore::layers::storage::migrate::migrate(&engine)?;
        Ok::<_, threadstore::ThreadStoreError>(engine)
    })
    .await?
    .map(|e| Arc::new(e) as Arc<dyn KvEngine>)
    .with_context(|| format!("cannot open the store in {}", data.display()))?;
    let progress = if args.json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} copying: {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let options = PgOptions::new(&args.to_postgres).schema(schema);
    let shown = progress.clone();
    let copied = copy_into(engine.clone(), &options, &move |r: &CopyReport| {
        shown.set_message(format!(
            "{} records, {} threads, {} items, {:.1} MiB",
            r.records,
            r.threads,
            r.items,
            r.bytes as f64 / (1024.0 * 1024.0)
        ));
        shown.tick();
    })
    .await;
    progress.finish_and_clear();
    // The data directory is released before the copy is verified.
    tokio::task::spawn_blocking(move || drop(engine)).await?;
    let report = copied.with_context(|| {
        format!(
            "copying the store in {} to PostgreSQL {} (schema {schema})",
            data.display(),
            args.to_postgres
        )
    })?;
    let store = common::open_postgres(&args.to_postgres, schema, false).await?;
    let verified = store.actor_store().verify().await;
    store.close().await?;
    let verified = verified.context("verifying the copy")?;
    let mut differences: Vec<(Option<String>, String)> = verified
        .differences
        .iter()
        .map(|d| (d.thread_id.map(|t| t.to_string()), d.what.clone()))
        .collect();
    if verified.threads != report.threads {
        differences.push((
            None,
            format!(
                "{} threads copied, {} verified on PostgreSQL",
                report.threads, verified.threads
            ),
        ));
    }
    let ok = differences.is_empty();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        common::print_json(&json!({
            "threads": report.threads,
            "items": report.items,
            "records": report.records,
            "bytes": report.bytes,
            "feedHead": report.feed_head,
            "differences": differences.iter().map(|(t, what)| json!({"threadId": t, "what": what})).collect::<Vec<_>>(),
            "ok": ok,
            "seconds": seconds,
        }))?;
    } else {
        for (thread, what) in &differences {
            match thread {
                Some(t) => outln!("thread {t}: {what}")?,
                None => outln!("{what}")?,
            }
        }
        outln!(
            "copied {} threads and {} items ({} records, {:.1} MiB, feed head {}) from {} to PostgreSQL schema {schema} in {seconds:.2} s; verified: {}",
            report.threads,
            report.items,
            report.records,
            report.bytes as f64 / (1024.0 * 1024.0),
            report.feed_head,
            data.display(),
            if ok {
                "every projection matches its log, every thread and item is there".to_owned()
            } else {
                format!("{} differences", differences.len())
            }
        )?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

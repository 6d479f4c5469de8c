//! `threadstore verify`: rebuilds every thread's projections from its log and compares them with
//! the stored ones. Prints the threads and items checked and every difference; the exit code is 1
//! when there is any. `--json` prints `{"threads", "items", "differences": [{"threadId" (or null for an index entry of no
//! thread), "what"}],
//! "ok"}`.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::common::{self, Open};
use crate::output::outln;

/// `verify` options.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Verifies the store (a data directory, or PostgreSQL).
pub async fn run(target: &common::Target, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let store = target.open("verify", Open::Existing).await?;
    let report = store.actor_store().verify().await;
    store.close().await?;
    let report = report?;
    let ok = report.differences.is_empty();
    if args.json {
        common::print_json(&json!({
            "threads": report.threads,
            "items": report.items,
            "differences": report.differences.iter().map(|d| json!({
                "threadId": d.thread_id.map(|t| t.to_string()),
                "what": d.what,
            })).collect::<Vec<_>>(),
            "ok": ok,
        }))?;
    } else {
        for d in &report.differences {
            match d.thread_id {
                Some(t) => outln!("thread {t}: {}", d.what)?,
                None => outln!("index: {}", d.what)?,
            }
        }
        outln!(
            "checked {} threads and {} items in {:.2?}: {}",
            report.threads,
            report.items,
            started.elapsed(),
            if ok {
                "every projection matches its log".to_owned()
            } else {
                format!(
                    "{} differences (the log is the truth; the projections above are wrong)",
                    report.differences.len()
                )
            }
        )?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

//! `threadstore tail [<thread>] [--from <position>]`: follows the event feed until Ctrl-C.
//!
//! With `--from`, replays the durable feed from that position (gapless, in commit order) and then
//! keeps following; without it, starts with the next committed event. A position past the feed
//! head is an error naming the head. One line per event
//! (position, time, thread, kind, details), or with `--json` one camelCase event object per line
//! (see `commands::common`). A line on stderr says when the replay caught up.
//!
//! On the data directory (locked while `tail` runs) it sees the events its own process commits:
//! use it to read the feed's history. Through a server (`--connect`) it follows the live feed of
//! every client's commits. When the subscriber falls behind the live ring (`Lagged`), it resubscribes
//! from the position it was told, so no event is missed.

use std::collections::HashSet;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use futures::StreamExt;
use threadstore::{FeedMessage, FeedStart, StoreStatsParams, SubscribeParams};

use super::common::{self, Open};
use crate::output::{errln, outln};

/// `tail` options.
#[derive(Args, Debug)]
pub struct TailArgs {
    /// Only this thread's events.
    pub thread: Option<String>,
    /// Replay the feed from this position (inclusive) before following; default: from now.
    #[arg(long)]
    pub from: Option<u64>,
    /// One JSON event object per line.
    #[arg(long)]
    pub json: bool,
}

/// Follows the feed until Ctrl-C (or the store closes).
pub async fn run(target: &common::Target, args: TailArgs) -> anyhow::Result<ExitCode> {
    let thread = args
        .thread
        .as_deref()
        .map(common::parse_thread_id)
        .transpose()?;
    common::with_target(target, Open::Existing, async |store| {
        if let Some(id) = thread {
            common::read_thread(store, target, id).await?;
        }
        let head = store
            .store_stats(StoreStatsParams::default())
            .await?
            .feed_head;
        if let Some(from) = args.from.filter(|from| *from > head) {
            bail!(
                "--from {from} is past the end of the feed of {target}: positions go from 0 to {head} (the next event's position); `threadstore stats` shows the feed head"
            );
        }
        let mut start = match args.from {
            Some(p) => FeedStart::At(p),
            None => FeedStart::Now,
        };
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        'subscribe: loop {
            let mut events = store
                .subscribe(SubscribeParams {
                    threads: thread.map(|t| HashSet::from([t])),
                    kinds: None,
                    start,
                    buffer: 0,
                })
                .await?;
            loop {
                let message = tokio::select! {
                    _ = &mut ctrl_c => break 'subscribe,
                    m = events.next() => m,
                };
                match message {
                    None => break 'subscribe,
                    Some(Err(e)) => return Err(anyhow::Error::new(e).context("reading the feed")),
                    Some(Ok(FeedMessage::Event(e))) => {
                        if args.json {
                            common::print_json(&common::event_json(&e))?;
                        } else {
                            let line = format!(
                                "{:>8}  {}  {}  {:<15} {}",
                                e.position,
                                common::time(&e.at),
                                e.thread_id,
                                e.kind.name(),
                                common::event_details(&e)
                            );
                            outln!("{}", line.trim_end())?;
                        }
                    }
                    Some(Ok(FeedMessage::Live { next_position })) => {
                        errln!(
                            "following the feed of {target} live from position {next_position} (Ctrl-C to stop)"
                        );
                    }
                    Some(Ok(FeedMessage::Lagged { resume_from })) => {
                        start = FeedStart::At(resume_from);
                        continue 'subscribe;
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

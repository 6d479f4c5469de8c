//! `threadstore turns <thread>`: one page of a thread's turns, newest first by default.
//!
//! `--json` prints the object Codex's `thread/turns/list` returns:
//! `{"data": [turn, …], "nextCursor": "…" | null, "backwardsCursor": "…" | null}`, turns in the
//! camelCase shape documented in `commands::common` (`turnId`, `status`, `items` as Codex rollout line
//! objects with their `position`, `startedAt`, `completedAt`, `durationMs`, `error`). For people:
//! one line per turn with its start time, status, duration, item count and the summary texts
//! (first user message → last agent message); `--view full` also lists each item.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use threadstore::{ListTurnsParams, SortDirection, StoredTurnItemsView, ThreadStore};

use super::common::{self, Open};
use super::items;

/// Items carried per turn, as named on the command line (Codex's names).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ViewArg {
    /// No items: status, error and times only.
    #[value(name = "notLoaded")]
    NotLoaded,
    /// The first user message and the last agent message.
    #[value(name = "summary")]
    Summary,
    /// Every item of the turn.
    #[value(name = "full")]
    Full,
}

/// `turns` options.
#[derive(Args, Debug)]
pub struct TurnsArgs {
    /// The thread id.
    pub thread: String,
    /// Items carried per turn.
    #[arg(long, value_enum, default_value = "summary")]
    pub view: ViewArg,
    /// Page size (1–200).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Cursor printed by a previous page (nextCursor, or backwardsCursor with the other direction).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Oldest first (default: newest first).
    #[arg(long)]
    pub asc: bool,
    /// Print the `thread/turns/list` result object as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Lists one page of turns.
pub async fn run(data: &Path, args: TurnsArgs) -> anyhow::Result<ExitCode> {
    let id = common::parse_thread_id(&args.thread)?;
    let view = match args.view {
        ViewArg::NotLoaded => StoredTurnItemsView::NotLoaded,
        ViewArg::Summary => StoredTurnItemsView::Summary,
        ViewArg::Full => StoredTurnItemsView::Full,
    };
    let params = ListTurnsParams {
        thread_id: id,
        include_archived: true,
        cursor: args.cursor.clone(),
        page_size: args.limit,
        sort_direction: if args.asc {
            SortDirection::Asc
        } else {
            SortDirection::Desc
        },
        items_view: view,
    };
    let page = common::with_store(data, Open::Existing, async |store| {
        store
            .list_turns(params)
            .await
            .map_err(|e| common::explain(e, data, Some(id), args.cursor.as_deref()))
    })
    .await?;

    if args.json {
        common::print_json(&common::turn_list_json(&page));
        return Ok(ExitCode::SUCCESS);
    }
    if page.turns.is_empty() {
        println!("no turns");
        return Ok(ExitCode::SUCCESS);
    }
    for turn in &page.turns {
        let mut line = format!(
            "{}  {:<11} {:>7}  {:>4} items  {}",
            common::time_secs(turn.started_at),
            common::status_name(turn.status),
            common::duration_ms(turn.duration_ms),
            turn.item_count,
            turn.turn_id,
        );
        if view == StoredTurnItemsView::Summary {
            let summary = common::summary_text(&turn.items, 60);
            if !summary.is_empty() {
                line.push_str("  ");
                line.push_str(&summary);
            }
        }
        if let Some(e) = &turn.error {
            line.push_str(&format!("  error: {}", common::truncate(&e.message, 80)));
        }
        println!("{line}");
        if view == StoredTurnItemsView::Full {
            for item in &turn.items {
                println!("    {}", items::item_line(item, 90));
            }
        }
    }
    if let Some(c) = &page.next_cursor {
        println!("more: --cursor {c}");
    }
    Ok(ExitCode::SUCCESS)
}

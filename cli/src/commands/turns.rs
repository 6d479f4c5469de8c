//! `threadstore turns <thread>`: one page of a thread's turns, newest first by default.
//!
//! `--json` prints the object Codex's `thread/turns/list` returns:
//! `{"data": [turn, …], "nextCursor": "…" | null, "backwardsCursor": "…" | null}`, turns in the
//! camelCase shape documented in `commands::common` (`turnId`, `status`, `items` as Codex rollout line
//! objects with their `position`, `startedAt`, `completedAt`, `durationMs`, `error`). For people:
//! a table, one row per turn with its start time, status, duration, item count, id and the
//! summary texts (first user message → last agent message), within the display width (see
//! `commands::layout`); `--view full` also lists each turn's items under it.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use threadstore::{ListTurnsParams, SortDirection, StoredTurnItemsView};

use super::common::{self, Open};
use super::items;
use super::layout::{Column, Cut, Layout, Table};
use crate::output::outln;

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

/// Display columns of each of the first user message and the last agent message in a summary,
/// before the layout cuts the summary to the width.
const SUMMARY_MESSAGE_COLUMNS: usize = 60;

/// The indent of the items under their turn with `--view full`.
const ITEM_INDENT: &str = "    ";

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
pub async fn run(
    target: &common::Target,
    args: TurnsArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
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
    let page = common::with_target(target, Open::Existing, async |store| {
        store
            .list_turns(params)
            .await
            .map_err(|e| common::explain_read(e, target, args.cursor.as_deref()))
    })
    .await?;

    if args.json {
        common::print_json(&common::turn_list_json(&page))?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.turns.is_empty() {
        outln!("no turns")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&[
        Column::whole("started (UTC)"),
        Column::whole("status"),
        Column::number("duration"),
        Column::number("items"),
        Column::whole("turn"),
        Column::text("summary", Cut::End, 1).optional(),
    ]);
    for turn in &page.turns {
        let mut summary = Vec::new();
        if let Some(e) = &turn.error {
            summary.push(format!("error: {}", e.message));
        }
        if view == StoredTurnItemsView::Summary {
            // Both messages get a share; `--wide` shows them whole.
            let each = match layout.width() {
                Some(_) => SUMMARY_MESSAGE_COLUMNS,
                None => usize::MAX,
            };
            summary.push(common::summary_text(&turn.items, each));
        }
        table.row(vec![
            common::time_secs_minutes(turn.started_at),
            common::status_name(turn.status).to_owned(),
            common::duration_ms(turn.duration_ms),
            turn.item_count.to_string(),
            turn.turn_id.clone(),
            summary.join("  "),
        ]);
    }
    if view == StoredTurnItemsView::Full {
        // Each turn's row, then its items as an indented table.
        let lines = table.lines(&layout, true);
        let mut lines = lines.iter();
        if let Some(header) = lines.next() {
            outln!("{header}")?;
        }
        let item_layout = layout.indented(ITEM_INDENT.len());
        for (turn, row) in page.turns.iter().zip(lines) {
            outln!("{row}")?;
            let mut items = Table::new(&items::COLUMNS);
            for item in &turn.items {
                items.row(items::item_cells(item));
            }
            for line in items.lines(&item_layout, false) {
                outln!("{ITEM_INDENT}{line}")?;
            }
        }
    } else {
        for line in table.lines(&layout, true) {
            outln!("{line}")?;
        }
    }
    if let Some(c) = &page.next_cursor {
        outln!("more: --cursor {c}")?;
    }
    Ok(ExitCode::SUCCESS)
}

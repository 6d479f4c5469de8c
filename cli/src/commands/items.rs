//! `threadstore items <thread> [--turn T]`: one page of a thread's items (or one turn's), oldest
//! first by default.
//!
//! For people: a table, one row per item (position, time, kind, readable text), within the
//! display width (see `commands::layout`). `--json` prints the object of the
//! `thread/turns/items/list` result: `{"data": [item, …], "nextCursor", "backwardsCursor"}`, each
//! item the Codex rollout line object plus its `position`.

use std::process::ExitCode;

use clap::Args;
use threadstore::{ListItemsParams, SortDirection, StoredItem};

use super::common::{self, Open};
use super::layout::{Column, Cut, Layout, Table};
use crate::output::outln;

/// `items` options.
#[derive(Args, Debug)]
pub struct ItemsArgs {
    /// The thread id.
    pub thread: String,
    /// Only this turn's items (a turn id printed by `turns`).
    #[arg(long)]
    pub turn: Option<String>,
    /// Page size (1–200).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Cursor printed by a previous page of the same scope.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Newest first (default: oldest first).
    #[arg(long)]
    pub desc: bool,
    /// Print the result object as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The columns of an item listing: position, time, kind, and the readable text.
pub const COLUMNS: [Column; 4] = [
    Column::number("pos"),
    Column::whole("time (UTC)"),
    // The end of a kind names the payload (`…_item/function_call`).
    Column::text("kind", Cut::Start, 1),
    Column::text("text", Cut::End, 2),
];

/// The cells of an item's row (see [`COLUMNS`]).
pub fn item_cells(item: &StoredItem) -> Vec<String> {
    let text = common::line_text(&item.line)
        .map(|(role, text)| format!("{role}: {text}"))
        .unwrap_or_default();
    vec![
        item.position.to_string(),
        common::time(&item.line.timestamp),
        common::line_kind(&item.line),
        text,
    ]
}

/// Lists one page of items.
pub async fn run(
    target: &common::Target,
    args: ItemsArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let id = common::parse_thread_id(&args.thread)?;
    let params = ListItemsParams {
        thread_id: id,
        include_archived: true,
        turn_id: args.turn.clone(),
        cursor: args.cursor.clone(),
        page_size: args.limit,
        sort_direction: if args.desc {
            SortDirection::Desc
        } else {
            SortDirection::Asc
        },
    };
    let page = common::with_target(target, Open::Existing, async |store| {
        // Read the thread first so an unknown id says so, not that the turn is unknown.
        common::read_thread(store, target, id).await?;
        store
            .list_items(params)
            .await
            .map_err(|e| match (&e, &args.turn) {
                (threadstore::ThreadStoreError::InvalidRequest { message }, Some(_))
                    if message.contains("has no turn") =>
                {
                    anyhow::anyhow!("{message} (see `threadstore turns {id}`)")
                }
                _ => common::explain_read(e, target, args.cursor.as_deref()),
            })
    })
    .await?;

    if args.json {
        common::print_json(&common::item_list_json(&page))?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.items.is_empty() {
        outln!("no items")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&COLUMNS);
    for item in &page.items {
        table.row(item_cells(item));
    }
    for line in table.lines(&layout, true) {
        outln!("{line}")?;
    }
    if let Some(c) = &page.next_cursor {
        outln!("more: --cursor {c}")?;
    }
    Ok(ExitCode::SUCCESS)
}

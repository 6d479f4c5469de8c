//! `threadstore threads`: one page of threads, filtered and sorted.
//!
//! A table for people (id, updated, items, turns, cwd, name or preview; within the display width,
//! see `commands::layout`), or with `--json` the object Codex's `thread/list` returns:
//! `{"data": [thread, …], "nextCursor": "…" | null}`, each thread in the camelCase shape
//! documented in `commands::common`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use threadstore::{ListThreadsParams, SortDirection, ThreadSortKey};

use super::common::{self, Open};
use super::layout::{count, Column, Cut, Layout, Table};
use crate::output::outln;

/// Sort keys, as named on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SortArg {
    /// Creation time.
    Created,
    /// Time of the latest append.
    Updated,
    /// Time of the latest user turn.
    Recency,
}

impl SortArg {
    /// The store's sort key.
    pub fn key(self) -> ThreadSortKey {
        match self {
            Self::Created => ThreadSortKey::CreatedAt,
            Self::Updated => ThreadSortKey::UpdatedAt,
            Self::Recency => ThreadSortKey::RecencyAt,
        }
    }
}

/// The filters `threads` and `search` share.
#[derive(Args, Debug)]
pub struct ThreadFilters {
    /// Only threads with this working directory (exact; repeat for several).
    #[arg(long)]
    pub cwd: Vec<PathBuf>,
    /// Only threads of this model provider (repeat for several).
    #[arg(long)]
    pub provider: Vec<String>,
    /// Only threads of this source kind: cli, vscode, exec, mcp, subagent… (repeat for several).
    #[arg(long)]
    pub source: Vec<String>,
    /// The archived threads instead of the active ones.
    #[arg(long)]
    pub archived: bool,
}

impl ThreadFilters {
    /// The allowed model providers (`None`: all).
    pub fn providers(&self) -> Option<Vec<String>> {
        (!self.provider.is_empty()).then(|| self.provider.clone())
    }

    /// The allowed working directories (`None`: all).
    pub fn cwds(&self) -> Option<Vec<PathBuf>> {
        (!self.cwd.is_empty()).then(|| self.cwd.clone())
    }

    /// Which collection, in words.
    pub fn collection(&self) -> &'static str {
        if self.archived {
            "archived"
        } else {
            "active"
        }
    }
}

/// `threads` options.
#[derive(Args, Debug)]
pub struct ThreadsArgs {
    /// Filters.
    #[command(flatten)]
    pub filters: ThreadFilters,
    /// Only threads whose name or preview contains this text (case-insensitive).
    #[arg(long)]
    pub search: Option<String>,
    /// Sort key.
    #[arg(long, value_enum, default_value = "updated")]
    pub sort: SortArg,
    /// Oldest first (default: newest first).
    #[arg(long)]
    pub asc: bool,
    /// Page size (1–200).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Cursor printed by a previous page of the same listing.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the `thread/list` result object as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Lists one page of threads.
pub async fn run(
    target: &common::Target,
    args: ThreadsArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let params = ListThreadsParams {
        page_size: args.limit,
        cursor: args.cursor.clone(),
        sort_key: args.sort.key(),
        sort_direction: if args.asc {
            SortDirection::Asc
        } else {
            SortDirection::Desc
        },
        allowed_sources: args.filters.source.clone(),
        model_providers: args.filters.providers(),
        cwd_filters: args.filters.cwds(),
        archived: args.filters.archived,
        search_term: args.search.clone(),
        relation_filter: None,
    };
    let page = common::with_target(target, Open::Existing, async |store| {
        store
            .list_threads(params)
            .await
            .map_err(|e| common::explain_read(e, target, args.cursor.as_deref()))
    })
    .await?;

    if args.json {
        common::print_json(&common::thread_list_json(&page))?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.items.is_empty() {
        outln!(
            "no {} threads{}",
            args.filters.collection(),
            if args.cursor.is_some() {
                " after this cursor"
            } else {
                ""
            }
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&[
        Column::whole("id"),
        Column::whole("updated (UTC)"),
        Column::number("items"),
        Column::number("turns"),
        Column::text("cwd", Cut::Start, 1).optional(),
        Column::text("name / preview", Cut::End, 2),
    ]);
    for t in &page.items {
        let title = match &t.name {
            Some(name) => format!("[{}] {}", name, t.preview),
            None => t.preview.clone(),
        };
        table.row(vec![
            t.thread_id.to_string(),
            common::time_minutes(&t.updated_at),
            t.item_count.to_string(),
            t.turn_count.to_string(),
            t.cwd
                .as_deref()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| "-".into()),
            title,
        ]);
    }
    for line in table.lines(&layout, true) {
        outln!("{line}")?;
    }
    let shown = count(page.items.len() as u64, "thread");
    match page.next_cursor {
        Some(c) => outln!("{shown} shown; next page: --cursor {c}")?,
        None => outln!("{shown}")?,
    }
    Ok(ExitCode::SUCCESS)
}

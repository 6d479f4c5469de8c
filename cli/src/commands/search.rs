//! `threadstore search <terms>…`: full-text search over every thread (CONTRACT.md §8), or with
//! `--thread ID` every occurrence inside one thread.
//!
//! Terms: words that must all occur in the thread, `"an exact phrase"` (quote it for the
//! shell too: `'"borrow checker"'`), `prefix*`. Without `--sort` the best matches come first.
//! For people, each hit is a line with the thread id, its score and its name or preview, then
//! its snippet on the next line, the matched words marked: reversed on a terminal, `**like
//! this**` otherwise. With `--thread`, one line per occurrence: turn id, item position, snippet.
//! `--json` prints the JSON-RPC result: `thread/search`'s `{"data": [{"thread", "snippet",
//! "matchRanges": [{"start", "end"}], "score"}], "nextCursor"}`, or with `--thread`
//! `thread/searchOccurrences`' `{"data": [{"turnId", "itemId", "snippet",
//! "snippetMatchRange"}], "nextCursor"}` (ranges in UTF-16 code units).

use std::borrow::Cow;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Args;
use threadstore::layers::rpc::protocol::results::{SearchOccurrencesResult, SearchResult};
use threadstore::{SearchOccurrencesParams, SearchThreadsParams, SortDirection, ThreadId};

use super::common::{self, Open};

/// How the search commands open a store: with its search index (on PostgreSQL, an index of
/// this process, built from the feed).
const SEARCHES: common::Tuning = common::Tuning {
    cache_bytes: None,
    buffered: false,
    without_search: false,
    searches: true,
};
use super::layout::{count, Cut, Layout};
use super::threads::{SortArg, ThreadFilters};
use crate::output::{errln, outln};

/// `search` options.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// What to look for: words (all must occur), "a phrase", prefix*.
    #[arg(required = true)]
    pub terms: Vec<String>,
    /// Every occurrence inside this thread instead, in log order.
    #[arg(long, value_name = "ID")]
    pub thread: Option<String>,
    /// Filters.
    #[command(flatten)]
    pub filters: ThreadFilters,
    /// Sort the matching threads by this key instead of by relevance (newest first).
    #[arg(long, value_enum)]
    pub sort: Option<SortArg>,
    /// Page size (1–200; with --thread 1–250).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Cursor printed by the previous page of the same search.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the JSON-RPC result object.
    #[arg(long)]
    pub json: bool,
}

/// `snippet` with the UTF-16 `ranges` marked: reversed video on a terminal, `**…**` otherwise.
fn marked(snippet: &str, ranges: &[(usize, usize)], terminal: bool) -> String {
    let (open, close) = if terminal {
        ("\u{1b}[7m", "\u{1b}[0m")
    } else {
        ("**", "**")
    };
    let mut out = String::with_capacity(snippet.len() + 8 * ranges.len());
    let mut unit = 0;
    let mut ranges = ranges.iter().peekable();
    let mut inside = false;
    for c in snippet.chars() {
        if let Some(&&(start, end)) = ranges.peek() {
            if !inside && unit == start {
                out.push_str(open);
                inside = true;
            }
            if inside && unit == end {
                out.push_str(close);
                inside = false;
                ranges.next();
                if let Some(&&(next, _)) = ranges.peek() {
                    if next == unit {
                        out.push_str(open);
                        inside = true;
                    }
                }
            }
        }
        out.push(if c.is_control() { ' ' } else { c });
        unit += c.len_utf16();
    }
    if inside {
        out.push_str(close);
    }
    out
}

/// Searches.
pub async fn run(
    target: &common::Target,
    args: SearchArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let term = args.terms.join(" ");
    let terminal = std::io::stdout().is_terminal();
    if let common::Target::Local(data) = target {
        catch_up(data).await?;
    }
    if let Some(thread) = &args.thread {
        let thread_id = common::parse_thread_id(thread)?;
        return occurrences(target, &args, thread_id, term, terminal).await;
    }
    let params = SearchThreadsParams {
        search_term: term,
        page_size: args.limit,
        cursor: args.cursor.clone(),
        sort_key: args.sort.map(SortArg::key),
        sort_direction: SortDirection::Desc,
        allowed_sources: args.filters.source.clone(),
        model_providers: args.filters.providers(),
        cwd_filters: args.filters.cwds(),
        archived: args.filters.archived,
        relation_filter: None,
    };
    let page = common::with_target_tuned(target, Open::Existing, SEARCHES, async |store| {
        store
            .search_threads(params)
            .await
            .map_err(|e| common::explain_read(e, target, args.cursor.as_deref()))
    })
    .await?;
    if args.json {
        common::print_json(&serde_json::to_value(SearchResult::from(&page))?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.items.is_empty() {
        outln!("no {} thread matches", args.filters.collection())?;
        return Ok(ExitCode::SUCCESS);
    }
    for hit in &page.items {
        let t = &hit.thread;
        let title = match &t.name {
            Some(name) => format!("[{}] {}", name, t.preview),
            None => t.preview.clone(),
        };
        let score = hit.score.map(|s| format!("{s:>7.2}  ")).unwrap_or_default();
        outln!(
            "{}",
            layout.line(&[
                (Cow::Owned(format!("{}  {score}", t.thread_id)), Cut::Never),
                (Cow::Owned(title), Cut::End),
            ])
        )?;
        outln!("    {}", marked(&hit.snippet, &hit.match_ranges, terminal))?;
    }
    let shown = count(page.items.len() as u64, "thread");
    match page.next_cursor {
        Some(c) => outln!("{shown} shown; next page: --cursor {c}")?,
        None => outln!("{shown}")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Brings a local store's search index up to date first (after an `import`, which leaves it
/// behind, it indexes what was imported), saying so on stderr when there is anything to do.
async fn catch_up(data: &std::path::Path) -> anyhow::Result<()> {
    common::with_store(data, Open::Existing, async |store| {
        let indexer = store.actor_store().search_indexer().await?;
        let status = indexer.status();
        if status.lag > 0 {
            errln!(
                "bringing the search index up to date ({} events behind)…",
                status.lag
            );
            let head = store.actor_store().feed_head();
            while !indexer.sync(head, std::time::Duration::from_secs(5)).await {
                if let Some(failure) = indexer.status().failure {
                    anyhow::bail!("the search index cannot catch up: {failure}");
                }
            }
        }
        Ok(())
    })
    .await
}

async fn occurrences(
    target: &common::Target,
    args: &SearchArgs,
    thread_id: ThreadId,
    term: String,
    terminal: bool,
) -> anyhow::Result<ExitCode> {
    let params = SearchOccurrencesParams {
        thread_id,
        search_term: term,
        cursor: args.cursor.clone(),
        page_size: args.limit,
    };
    let page = common::with_target_tuned(target, Open::Existing, SEARCHES, async |store| {
        store
            .search_thread_occurrences(params)
            .await
            .map_err(|e| common::explain_read(e, target, args.cursor.as_deref()))
    })
    .await?;
    if args.json {
        common::print_json(&serde_json::to_value(SearchOccurrencesResult::from(page))?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.occurrences.is_empty() {
        outln!("no occurrence in {thread_id}")?;
        return Ok(ExitCode::SUCCESS);
    }
    for o in &page.occurrences {
        outln!(
            "turn {} item {}: {}",
            o.turn_id,
            o.position,
            marked(&o.snippet, &[o.snippet_match_range], terminal)
        )?;
    }
    let shown = count(page.occurrences.len() as u64, "occurrence");
    match page.next_cursor {
        Some(c) => outln!("{shown} shown; next page: --cursor {c}")?,
        None => outln!("{shown}")?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::marked;

    #[test]
    fn matches_are_marked_by_utf16_ranges() {
        assert_eq!(
            marked("a 😀 needle b", &[(5, 11)], false),
            "a 😀 **needle** b"
        );
        assert_eq!(
            marked("x y", &[(0, 1), (2, 3)], true),
            "\u{1b}[7mx\u{1b}[0m \u{1b}[7my\u{1b}[0m"
        );
        assert_eq!(marked("end", &[(0, 3)], false), "**end**");
    }
}

//! `search_thread_occurrences`: every match of a term in one thread, in log order
//! ([`threadstore_api::occurrence`] has the rules). The walk reads Codex's item view from the
//! cursor's item on, in pages, and the summary of each turn it meets once: O(items read + turns
//! met), no actor.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use threadstore_api::occurrence::{self, Candidate};
use threadstore_api::*;
use threadstore_storage::cursor::{CursorScope, PageCursor};
use threadstore_storage::Journal;

use super::read;
use crate::thread::ThreadSnapshot;

/// Default page of occurrences (Codex's).
pub const DEFAULT_PAGE: usize = 50;
/// Largest page of occurrences (Codex's clamp; larger is `InvalidRequest` here, as for every page).
pub const MAX_PAGE: usize = 250;
/// Items read per step of the walk.
const ITEMS_PER_READ: usize = 100;

/// Where the next page starts: the item at `position`, from its `occurrence`-th match. Bound to
/// its thread and term. JSON text, like Codex's.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OccurrenceCursor {
    thread_id: ThreadId,
    search_term: String,
    position: u64,
    occurrence: usize,
}

impl OccurrenceCursor {
    fn decode(text: &str, p: &SearchOccurrencesParams) -> ThreadStoreResult<Self> {
        let invalid = |why: &str| ThreadStoreError::invalid(format!("invalid cursor: {why}"));
        let cursor: Self =
            serde_json::from_str(text).map_err(|_| invalid("not an occurrence cursor"))?;
        if cursor.thread_id != p.thread_id {
            return Err(invalid("it belongs to another thread"));
        }
        if cursor.search_term != p.search_term {
            return Err(invalid("it belongs to another search term"));
        }
        Ok(cursor)
    }
}

/// What the walk knows of a turn: its seq and the position of its summary agent message.
#[derive(Clone)]
struct TurnFacts {
    seq: u64,
    summary_agent: Option<u64>,
}

/// One page of `p.search_term`'s occurrences in the snapshot's thread.
pub async fn search_occurrences(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
    p: &SearchOccurrencesParams,
) -> ThreadStoreResult<OccurrencePage> {
    let id = snap.record.thread_id;
    let term = occurrence::normalize_term(&p.search_term).ok_or_else(|| {
        ThreadStoreError::invalid("search_thread_occurrences requires a non-empty search term")
    })?;
    let size = match p.page_size {
        0 => DEFAULT_PAGE,
        n if n > MAX_PAGE => {
            return Err(ThreadStoreError::invalid(format!(
                "page size {n} is over the largest page of occurrences ({MAX_PAGE})"
            )))
        }
        n => n,
    };
    let start = p
        .cursor
        .as_deref()
        .map(|c| OccurrenceCursor::decode(c, p))
        .transpose()?;
    let mut skip = start.as_ref().map_or(0, |c| c.occurrence);
    let mut items_cursor = start.map(|c| {
        let at = (c.position, None);
        PageCursor::in_thread(id, CursorScope::ItemView, SortDirection::Asc, at, true).encode()
    });
    let mut turns: HashMap<String, Option<TurnFacts>> = HashMap::new();
    let mut found: Vec<ThreadOccurrence> = Vec::with_capacity(size);
    loop {
        let page = read::list_thread_items(
            journal,
            snap,
            &ListItemsParams {
                thread_id: id,
                include_archived: true,
                turn_id: None,
                cursor: items_cursor.take(),
                page_size: ITEMS_PER_READ,
                sort_direction: SortDirection::Asc,
            },
        )
        .await?;
        for entry in &page.items {
            let facts = match turns.get(&entry.turn_id) {
                Some(f) => f.clone(),
                None => {
                    let f = turn_facts(journal, id, &entry.turn_id).await?;
                    turns.insert(entry.turn_id.clone(), f.clone());
                    f
                }
            };
            let candidate = match entry.item.get("type").and_then(|t| t.as_str()) {
                Some("userMessage") => Candidate::UserMessage,
                Some("agentMessage")
                    if facts.as_ref().and_then(|f| f.summary_agent) == Some(entry.position) =>
                {
                    Candidate::FinalAnswer
                }
                _ => continue,
            };
            let Some(text) = occurrence::searchable_text(&entry.item, candidate) else {
                continue;
            };
            let matches = occurrence::find_matches(&text, &term);
            for (index, m) in matches.iter().enumerate().skip(std::mem::take(&mut skip)) {
                if found.len() == size {
                    let next = OccurrenceCursor {
                        thread_id: id,
                        search_term: p.search_term.clone(),
                        position: entry.position,
                        occurrence: index,
                    };
                    return Ok(OccurrencePage {
                        occurrences: found,
                        next_cursor: serde_json::to_string(&next).ok(),
                    });
                }
                let (snippet, range) = occurrence::snippet(&text, *m);
                found.push(ThreadOccurrence {
                    turn_id: entry.turn_id.clone(),
                    item_id: entry
                        .item
                        .get("id")
                        .and_then(|i| i.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    position: entry.position,
                    snippet,
                    snippet_match_range: range,
                    turn_cursor: facts
                        .as_ref()
                        .map(|f| turn_cursor(id, f.seq, &entry.turn_id)),
                });
            }
        }
        match page.next_cursor {
            Some(next) => items_cursor = Some(next),
            None => {
                return Ok(OccurrencePage {
                    occurrences: found,
                    next_cursor: None,
                })
            }
        }
    }
}

/// The visible turn named `turn_id`: its seq and summary agent message.
async fn turn_facts(
    journal: &dyn Journal,
    id: ThreadId,
    turn_id: &str,
) -> ThreadStoreResult<Option<TurnFacts>> {
    let Some(seq) = journal.find_turn(id, turn_id).await? else {
        return Ok(None);
    };
    Ok(journal.turn(id, seq).await?.map(|t| TurnFacts {
        seq,
        summary_agent: t.summary_agent(),
    }))
}

/// An inclusive, ascending `list_turns` cursor at the turn `seq`.
fn turn_cursor(id: ThreadId, seq: u64, turn_id: &str) -> String {
    let at = (seq, Some(turn_id.to_owned()));
    PageCursor::in_thread(id, CursorScope::Turns, SortDirection::Asc, at, true).encode()
}

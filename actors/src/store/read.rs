//! Turn and item pages: keyset reads of O(page) records, bounded by the actor's snapshot.

use threadstore_api::*;
use threadstore_storage::cursor::{CursorScope, PageCursor};
use threadstore_storage::{Journal, LogRecord, TurnRecord};

use super::convert;
use crate::thread::ThreadSnapshot;

/// Resolves a keyset window `[from, to)` from an optional cursor over ids `0..end`. Every cursor
/// this store hands out anchors at an existing id, so an anchor at or past `end` was not made
/// here: `InvalidRequest`.
fn window(
    cursor: Option<&PageCursor>,
    direction: SortDirection,
    end: u64,
) -> ThreadStoreResult<(u64, u64)> {
    if let Some(c) = cursor {
        if c.anchor >= end {
            return Err(ThreadStoreError::invalid(format!(
                "invalid cursor: its anchor {} is past the end ({end}) of what it pages",
                c.anchor
            )));
        }
    }
    Ok(match (cursor, direction) {
        (None, _) => (0, end),
        (Some(c), SortDirection::Asc) => {
            (c.anchor.saturating_add(u64::from(!c.include_anchor)), end)
        }
        (Some(c), SortDirection::Desc) => (
            0,
            c.anchor
                .saturating_add(u64::from(c.include_anchor))
                .min(end),
        ),
    })
}

fn cursors(
    thread: ThreadId,
    scope: CursorScope,
    direction: SortDirection,
    first: Option<(u64, Option<String>)>,
    last_if_more: Option<(u64, Option<String>)>,
) -> (Option<String>, Option<String>) {
    let make = |anchor: (u64, Option<String>), include_anchor, direction| {
        PageCursor::in_thread(thread, scope.clone(), direction, anchor, include_anchor).encode()
    };
    (
        last_if_more.map(|a| make(a, false, direction)),
        first.map(|a| make(a, true, direction.reversed())),
    )
}

/// One page of turns.
pub async fn list_turns(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
    p: &ListTurnsParams,
) -> ThreadStoreResult<TurnPage> {
    let id = snap.record.thread_id;
    let size = resolve_page_size(p.page_size)?;
    let dir = p.sort_direction;
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| PageCursor::decode(c, Some(id), &CursorScope::Turns, dir))
        .transpose()?;
    if let Some(c) = &cursor {
        let anchor = journal.turn(id, c.anchor).await?;
        if anchor.map(|t| t.turn_id) != c.anchor_turn {
            return Err(ThreadStoreError::invalid(
                "invalid cursor: its anchor turn was rolled back and is no longer present",
            ));
        }
    }
    let (from, to) = window(cursor.as_ref(), dir, snap.record.turns.next_seq)?;
    let page = journal
        .turn_page(id, from, to, dir, size, p.items_view)
        .await?;
    let (turns, more) = (page.turns, page.more);
    let mut out = Vec::with_capacity(turns.len());
    for (t, records) in &turns {
        let items = records
            .iter()
            .map(|(pos, r)| convert::item(id, *pos, r.clone()))
            .collect::<ThreadStoreResult<Vec<_>>>()?;
        out.push(convert::stored_turn(t, p.items_view, items));
    }
    let anchor = |(t, _): &(TurnRecord, _)| (t.seq, Some(t.turn_id.clone()));
    let (next_cursor, backwards_cursor) = cursors(
        id,
        CursorScope::Turns,
        dir,
        turns.first().map(anchor),
        turns.last().filter(|_| more).map(anchor),
    );
    Ok(TurnPage {
        turns: out,
        next_cursor,
        backwards_cursor,
    })
}

/// The history from the last `compacted` line on: read backwards from the end, skipping reverted
/// ranges, until that line (O(suffix)).
pub async fn latest_model_context(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
) -> ThreadStoreResult<StoredModelContext> {
    // Small first reads, doubling: a compaction near the end costs little more than the suffix.
    let mut chunk_size = 16;
    let id = snap.record.thread_id;
    let mut lines = Vec::new();
    let mut from_position = 0;
    'ranges: for (lo, mut hi) in snap
        .record
        .turns
        .visible_ranges(0, snap.record.next_position)
        .into_iter()
        .rev()
    {
        while lo < hi {
            let chunk = journal
                .log_range(id, lo, hi, SortDirection::Desc, chunk_size)
                .await?;
            chunk_size = (chunk_size * 2).min(1024);
            let Some((oldest, _)) = chunk.last() else {
                break;
            };
            hi = *oldest;
            for (position, record) in chunk {
                let compaction = record.kind == threadstore_api::item::kinds::COMPACTED;
                lines.push(convert::line(id, position, record)?);
                if compaction {
                    from_position = position;
                    break 'ranges;
                }
            }
        }
    }
    lines.reverse();
    Ok(StoredModelContext {
        thread_id: id,
        from_position,
        items: lines,
    })
}

/// Inclusive `Desc` cursors at the newest visible turn and the newest item of Codex's item view
/// (a revert's answer).
pub async fn newest_cursors(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
) -> ThreadStoreResult<(Option<String>, Option<String>)> {
    let id = snap.record.thread_id;
    let cursor = |scope, anchor, anchor_turn| {
        PageCursor::in_thread(id, scope, SortDirection::Desc, (anchor, anchor_turn), true).encode()
    };
    let turns = match snap.record.turns.tail {
        Some(seq) => journal
            .turn(id, seq)
            .await?
            .map(|t| cursor(CursorScope::Turns, seq, Some(t.turn_id))),
        None => None,
    };
    let items = if snap.record.turns.mode.is_paginated() {
        journal
            .thread_item_page(id, 0, snap.record.next_position, SortDirection::Desc, 1)
            .await?
            .first()
            .map(|(position, _, _)| cursor(CursorScope::ItemView, *position, None))
    } else {
        None
    };
    Ok((turns, items))
}

/// One page of Codex's item view (paginated threads), of one turn or of the whole thread.
pub async fn list_thread_items(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
    p: &ListItemsParams,
) -> ThreadStoreResult<ThreadItemPage> {
    let id = snap.record.thread_id;
    let paginated = snap.record.turns.mode.is_paginated();
    let size = resolve_page_size(p.page_size)?;
    let dir = p.sort_direction;
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| PageCursor::decode(c, Some(id), &CursorScope::ItemView, dir))
        .transpose()?;
    let (from, to) = window(cursor.as_ref(), dir, snap.record.next_position)?;
    if !paginated {
        return legacy_items(journal, snap, p.turn_id.as_deref(), (from, to), dir, size).await;
    }
    // (position, turn seq, record), one more than the page to know whether more follow.
    let rows: Vec<(u64, u64, LogRecord)> = match &p.turn_id {
        None => {
            journal
                .thread_item_page(id, from, to, dir, size + 1)
                .await?
        }
        Some(turn) => match journal.find_turn(id, turn).await? {
            // An unknown turn gives an empty page, as Codex's.
            None => Vec::new(),
            Some(seq) => journal
                .item_page(id, Some(seq), from, to, dir, size + 1)
                .await?
                .into_iter()
                .map(|(pos, r)| (pos, seq, r))
                .collect(),
        },
    };
    let more = rows.len() > size;
    let mut turn_ids: std::collections::HashMap<u64, String> = Default::default();
    let mut items = Vec::with_capacity(size);
    for (position, seq, record) in rows.into_iter().take(size) {
        let turn_id = match turn_ids.get(&seq) {
            Some(t) => t.clone(),
            None => {
                let t = journal
                    .turn(id, seq)
                    .await?
                    .map(|t| t.turn_id)
                    .unwrap_or_default();
                turn_ids.insert(seq, t.clone());
                t
            }
        };
        let line = convert::item(id, position, record)?.line;
        // A TurnItem of a kind this version does not know has no view: its line is in list_items.
        if let Some((_, item)) = threadstore_api::thread_item::thread_item_of(&line.item) {
            items.push(StoredThreadItem {
                turn_id,
                position,
                item,
            });
        }
    }
    Ok(item_view_page(id, dir, items, more))
}

/// A page of Codex's item view, with its cursors (`more`: entries follow the last one).
fn item_view_page(
    id: ThreadId,
    dir: SortDirection,
    items: Vec<StoredThreadItem>,
    more: bool,
) -> ThreadItemPage {
    let anchor = |i: &StoredThreadItem| (i.position, None);
    let (next_cursor, backwards_cursor) = cursors(
        id,
        CursorScope::ItemView,
        dir,
        items.first().map(anchor),
        items.last().filter(|_| more).map(anchor),
    );
    ThreadItemPage {
        items,
        next_cursor,
        backwards_cursor,
    }
}

/// One page of Codex's item view of one turn of an older-era thread: the turn's lines mapped one
/// by one ([`threadstore_api::thread_item::thread_item_of_line`]), lines that are no item
/// skipped; members are read in chunks until the page (and one more) is found, so a page costs
/// Codex's item view of an older era's thread, of one turn or of the whole thread: each turn's
/// member lines in `[from, to)` mapped one by one as Codex's replay of a legacy rollout builds
/// items (lines that make no item, and lines in no turn, are skipped). The whole thread is read
/// turn by turn from the turn holding the window's start, found by a binary search over the turns
/// (their opening positions grow with their seq): O(log turns + page + the turns it spans).
async fn legacy_items(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
    turn_id: Option<&str>,
    (from, to): (u64, u64),
    dir: SortDirection,
    size: usize,
) -> ThreadStoreResult<ThreadItemPage> {
    let id = snap.record.thread_id;
    let mut items: Vec<StoredThreadItem> = Vec::with_capacity(size + 1);
    let mut next = match turn_id {
        Some(turn) => match journal.find_turn(id, turn).await? {
            Some(seq) => journal.turn(id, seq).await?,
            None => None,
        },
        None => {
            let edge = match dir {
                SortDirection::Asc => from,
                SortDirection::Desc => to.saturating_sub(1),
            };
            match turn_holding(journal, id, snap.record.turns.next_seq, edge).await? {
                Some(t) => Some(t),
                // Before the first turn: the first turn (ascending) or nothing (descending).
                None if dir == SortDirection::Asc => journal
                    .turn_range(id, 0, u64::MAX, SortDirection::Asc, 1)
                    .await?
                    .pop(),
                None => None,
            }
        }
    };
    let mut ranges = snap.record.turns.visible_ranges(from, to);
    if dir == SortDirection::Desc {
        ranges.reverse();
    }
    'turns: while let Some(turn) = next.take() {
        for &(mut lo, mut hi) in &ranges {
            while lo < hi {
                let chunk = journal
                    .item_page(id, Some(turn.seq), lo, hi, dir, size + 1)
                    .await?;
                let Some((last, _)) = chunk.last() else {
                    break;
                };
                match dir {
                    SortDirection::Asc => lo = last + 1,
                    SortDirection::Desc => hi = *last,
                }
                for (position, record) in chunk {
                    let line = convert::item(id, position, record)?.line;
                    if let Some(item) =
                        threadstore_api::thread_item::thread_item_of_line(&line.item, position)
                    {
                        items.push(StoredThreadItem {
                            turn_id: turn.turn_id.clone(),
                            position,
                            item,
                        });
                        if items.len() > size {
                            break 'turns;
                        }
                    }
                }
            }
        }
        if turn_id.is_none() {
            next = match dir {
                SortDirection::Asc => journal
                    .turn_range(id, turn.seq + 1, u64::MAX, dir, 1)
                    .await?
                    .pop(),
                SortDirection::Desc => journal.turn_range(id, 0, turn.seq, dir, 1).await?.pop(),
            };
        }
    }
    let more = items.len() > size;
    items.truncate(size);
    Ok(item_view_page(id, dir, items, more))
}

/// The visible turn holding `position`: the last one opened at or before it (`None` before
/// the first), by binary search over seqs below `next_seq`, one single-turn read per step.
async fn turn_holding(
    journal: &dyn Journal,
    id: ThreadId,
    next_seq: u64,
    position: u64,
) -> ThreadStoreResult<Option<TurnRecord>> {
    let (mut lo, mut hi) = (0, next_seq);
    let mut best = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match journal
            .turn_range(id, mid, hi, SortDirection::Asc, 1)
            .await?
            .pop()
        {
            Some(t) if t.opened_at <= position => {
                lo = t.seq + 1;
                best = Some(t);
            }
            _ => hi = mid,
        }
    }
    Ok(best)
}

/// One page of items, of one turn or of the whole thread.
pub async fn list_items(
    journal: &dyn Journal,
    snap: &ThreadSnapshot,
    p: &ListItemsParams,
) -> ThreadStoreResult<ItemPage> {
    let id = snap.record.thread_id;
    let size = resolve_page_size(p.page_size)?;
    let dir = p.sort_direction;
    let seq = match &p.turn_id {
        None => None,
        Some(turn) => Some(journal.find_turn(id, turn).await?.ok_or_else(|| {
            ThreadStoreError::invalid(format!("thread {id} has no turn {turn:?}"))
        })?),
    };
    let scope = seq.map_or(CursorScope::Items, CursorScope::TurnItems);
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| PageCursor::decode(c, Some(id), &scope, dir))
        .transpose()?;
    let (from, to) = window(cursor.as_ref(), dir, snap.record.next_position)?;
    let mut items = Vec::with_capacity(size + 1);
    // Reverted ranges are skipped, one read per visible range.
    let mut ranges = snap.record.turns.visible_ranges(from, to);
    if dir == SortDirection::Desc {
        ranges.reverse();
    }
    for (lo, hi) in ranges {
        let need = size + 1 - items.len();
        for (pos, r) in journal.item_page(id, seq, lo, hi, dir, need).await? {
            items.push(convert::item(id, pos, r)?);
        }
        if items.len() > size {
            break;
        }
    }
    let more = items.len() > size;
    items.truncate(size);
    let anchor = |i: &StoredItem| (i.position, None);
    let (next_cursor, backwards_cursor) = cursors(
        id,
        scope,
        dir,
        items.first().map(anchor),
        items.last().filter(|_| more).map(anchor),
    );
    Ok(ItemPage {
        items,
        next_cursor,
        backwards_cursor,
    })
}

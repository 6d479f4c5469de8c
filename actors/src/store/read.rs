//! Turn and item pages: keyset reads of O(page) records, bounded by the actor's snapshot.

use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::*;
use threadstore_storage::cursor::{CursorScope, PageCursor};
use threadstore_storage::{Journal, TurnRecord};

use super::convert;
use crate::thread::ThreadSnapshot;

/// Resolves a keyset window `[from, to)` from an optional cursor over ids `0..end`.
fn window(cursor: Option<&PageCursor>, direction: SortDirection, end: u64) -> (u64, u64) {
    match (cursor, direction) {
        (None, _) => (0, end),
        (Some(c), SortDirection::Asc) => (c.anchor + u64::from(!c.include_anchor), end),
        (Some(c), SortDirection::Desc) => (0, (c.anchor + u64::from(c.include_anchor)).min(end)),
    }
}

fn cursors(
    thread: ThreadId,
    scope: CursorScope,
    direction: SortDirection,
    first: Option<(u64, Option<String>)>,
    last_if_more: Option<(u64, Option<String>)>,
) -> (Option<String>, Option<String>) {
    let make = |(anchor, anchor_turn): (u64, Option<String>), include_anchor, direction| {
        PageCursor {
            thread: Some(thread),
            scope: scope.clone(),
            direction,
            anchor,
            anchor_turn,
            anchor_thread: None,
            include_anchor,
        }
        .encode()
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
    let (from, to) = window(cursor.as_ref(), dir, snap.record.turns.next_seq);
    let mut turns = journal.turn_range(id, from, to, dir, size + 1).await?;
    let more = turns.len() > size;
    turns.truncate(size);
    let mut out = Vec::with_capacity(turns.len());
    for t in &turns {
        let items = turn_items(journal, id, t, p.items_view).await?;
        out.push(convert::stored_turn(t, p.items_view, items));
    }
    let anchor = |t: &TurnRecord| (t.seq, Some(t.turn_id.clone()));
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

/// The items a view carries: none, the summary pair, or all (in log order).
async fn turn_items(
    journal: &dyn Journal,
    id: ThreadId,
    t: &TurnRecord,
    view: StoredTurnItemsView,
) -> ThreadStoreResult<Vec<StoredItem>> {
    let positions: Vec<u64> = match view {
        StoredTurnItemsView::NotLoaded => Vec::new(),
        StoredTurnItemsView::Summary => {
            let mut v: Vec<u64> = t.first_user.into_iter().chain(t.last_agent).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        StoredTurnItemsView::Full => {
            journal
                .turn_members(id, t.seq, 0, u64::MAX, SortDirection::Asc, usize::MAX)
                .await?
        }
    };
    let mut items = Vec::with_capacity(positions.len());
    for pos in positions {
        if let Some(r) = journal.log_at(id, pos).await? {
            items.push(convert::item(id, pos, r)?);
        }
    }
    Ok(items)
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
    let (from, to) = window(cursor.as_ref(), dir, snap.record.next_position);
    let mut items = Vec::with_capacity(size + 1);
    match seq {
        None => {
            for (pos, r) in journal.log_range(id, from, to, dir, size + 1).await? {
                items.push(convert::item(id, pos, r)?);
            }
        }
        Some(seq) => {
            for pos in journal
                .turn_members(id, seq, from, to, dir, size + 1)
                .await?
            {
                if let Some(r) = journal.log_at(id, pos).await? {
                    items.push(convert::item(id, pos, r)?);
                }
            }
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

//! Opaque page cursors: `base64url([version][bincode body])`, bound to the thread, the scope and
//! the direction they must be used with. Anything that does not decode, or does not match the
//! request, is `InvalidRequest` naming the reason.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use threadstore_api::{SortDirection, ThreadId, ThreadSortKey, ThreadStoreError};

use crate::codec;

/// What a cursor pages over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CursorScope {
    /// A thread's turns; the anchor is a turn seq.
    Turns,
    /// A thread's items; the anchor is a position.
    Items,
    /// One turn's items (by seq); the anchor is a position.
    TurnItems(u64),
    /// Codex's item view of a thread, with or without a turn filter (as Codex's cursors, not
    /// bound to the turn); the anchor is a position.
    ItemView,
    /// A thread listing (sort key and collection); the anchor is (time, thread).
    Threads {
        /// Sort key.
        sort: ThreadSortKey,
        /// Archived collection.
        archived: bool,
        /// Search listing (search_threads) rather than list_threads.
        search: bool,
    },
    /// Search results by relevance (collection, and a hash of the query: a cursor of another
    /// query is refused); the anchor is (score bits, thread).
    Relevance {
        /// Archived collection.
        archived: bool,
        /// Hash of the normalized query.
        query: u64,
    },
}

/// A decoded cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// Thread it belongs to (`None` for listings).
    pub thread: Option<ThreadId>,
    /// Scope.
    pub scope: CursorScope,
    /// The direction the cursor must be used with.
    pub direction: SortDirection,
    /// Anchor: turn seq or item position.
    pub anchor: u64,
    /// Turn id of a turn anchor (detects rollbacks).
    pub anchor_turn: Option<String>,
    /// Anchor of a listing: (time ms, thread).
    pub anchor_thread: Option<(i64, ThreadId)>,
    /// Whether the anchor itself is part of the next page.
    pub include_anchor: bool,
}

impl PageCursor {
    /// A cursor into one thread's pages (turns, items, Codex's item view) at `anchor` (a turn
    /// seq or a position), naming the anchor's turn when it has one.
    pub fn in_thread(
        thread: ThreadId,
        scope: CursorScope,
        direction: SortDirection,
        (anchor, anchor_turn): (u64, Option<String>),
        include_anchor: bool,
    ) -> Self {
        Self {
            thread: Some(thread),
            scope,
            direction,
            anchor,
            anchor_turn,
            anchor_thread: None,
            include_anchor,
        }
    }

    /// Encodes the cursor as an opaque string.
    pub fn encode(&self) -> String {
        match codec::encode_small(self) {
            Ok(bytes) => URL_SAFE_NO_PAD.encode(bytes),
            Err(_) => String::new(),
        }
    }

    /// Decodes a cursor string and checks it belongs to `thread`, `scope` and `direction`.
    pub fn decode(
        text: &str,
        thread: Option<ThreadId>,
        scope: &CursorScope,
        direction: SortDirection,
    ) -> Result<Self, ThreadStoreError> {
        let invalid = |why: &str| ThreadStoreError::invalid(format!("invalid cursor: {why}"));
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| invalid("not a threadstore cursor"))?;
        let cursor: PageCursor =
            codec::decode_small(&bytes).map_err(|_| invalid("not a threadstore cursor"))?;
        if cursor.thread != thread {
            return Err(invalid("it belongs to another thread"));
        }
        if &cursor.scope != scope {
            return Err(invalid("it belongs to another listing (scope or sort key)"));
        }
        if cursor.direction != direction {
            return Err(invalid(
                "it was issued for the other sort direction (a backwards cursor is used with the opposite direction)",
            ));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(thread: ThreadId) -> PageCursor {
        PageCursor {
            thread: Some(thread),
            scope: CursorScope::Turns,
            direction: SortDirection::Desc,
            anchor: 7,
            anchor_turn: Some("t7".into()),
            anchor_thread: None,
            include_anchor: false,
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let t = ThreadId::new();
        let c = sample(t);
        let s = c.encode();
        assert_eq!(
            PageCursor::decode(&s, Some(t), &CursorScope::Turns, SortDirection::Desc).unwrap(),
            c
        );
        assert!(PageCursor::decode(
            &s,
            Some(ThreadId::new()),
            &CursorScope::Turns,
            SortDirection::Desc
        )
        .is_err());
        assert!(PageCursor::decode(&s, Some(t), &CursorScope::Items, SortDirection::Desc).is_err());
        assert!(PageCursor::decode(&s, Some(t), &CursorScope::Turns, SortDirection::Asc).is_err());
    }

    #[test]
    fn a_forged_length_prefix_is_rejected_without_a_big_allocation() {
        // Found by the `cursor` fuzz target: 26 characters that asked bincode for ~151 MB.
        let r = PageCursor::decode(
            "AQAAAfzY2CCAAfzYAQAJCQkJCQ",
            None,
            &CursorScope::Items,
            SortDirection::Asc,
        );
        assert!(matches!(r, Err(ThreadStoreError::InvalidRequest { .. })));
    }

    proptest! {
        #[test]
        fn garbage_is_invalid_request(text in ".{0,80}") {
            let r = PageCursor::decode(&text, None, &CursorScope::Items, SortDirection::Asc);
            let invalid = matches!(r, Err(ThreadStoreError::InvalidRequest { .. }));
            prop_assert!(invalid);
        }

        #[test]
        fn flipped_bytes_never_panic(flip in 0usize..64, bit in 0u8..8) {
            let s = sample(ThreadId::new()).encode();
            let mut bytes = URL_SAFE_NO_PAD.decode(&s).unwrap();
            let i = flip % bytes.len();
            bytes[i] ^= 1 << bit;
            let _ = PageCursor::decode(&URL_SAFE_NO_PAD.encode(bytes), None, &CursorScope::Turns, SortDirection::Desc);
        }
    }
}

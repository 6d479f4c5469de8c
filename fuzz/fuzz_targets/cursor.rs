//! Arbitrary text as a page cursor, as a client hands it back.
//!
//! Property: `PageCursor::decode` never panics, for every scope and both directions, with and
//! without a thread; a cursor that is accepted re-encodes to one that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use threadstore::layers::storage::cursor::{CursorScope, PageCursor};
use threadstore::{SortDirection, ThreadId, ThreadSortKey};

fn scopes() -> Vec<CursorScope> {
    let mut scopes = vec![
        CursorScope::Turns,
        CursorScope::Items,
        CursorScope::TurnItems(0),
        CursorScope::TurnItems(7),
        CursorScope::TurnItems(u64::MAX),
    ];
    for sort in [
        ThreadSortKey::CreatedAt,
        ThreadSortKey::UpdatedAt,
        ThreadSortKey::RecencyAt,
    ] {
        for archived in [false, true] {
            for search in [false, true] {
                scopes.push(CursorScope::Threads {
                    sort,
                    archived,
                    search,
                });
            }
        }
    }
    scopes
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let threads = [None, Some(ThreadId::from_bytes([0x42; 16]))];
    for scope in scopes() {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            for thread in threads {
                if let Ok(cursor) = PageCursor::decode(text, thread, &scope, direction) {
                    assert_eq!(cursor.thread, thread);
                    assert_eq!(cursor.scope, scope);
                    assert_eq!(cursor.direction, direction);
                    let again = PageCursor::decode(&cursor.encode(), thread, &scope, direction)
                        .expect("a re-encoded cursor must decode");
                    assert_eq!(again, cursor, "cursor changed across encode/decode");
                }
            }
        }
    }
});

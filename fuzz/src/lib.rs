//! The bodies of the fuzz targets: one function per target, taking the target's input and
//! panicking when a property fails.
//!
//! The cargo-fuzz targets in `fuzz_targets/` are thin wrappers around these functions. The same
//! file is compiled into the stable smoke harness `tests/tests/fuzz_smoke.rs` (as a module, with
//! `#[path]`), which `cargo test --workspace` runs without nightly or libFuzzer: it feeds the
//! seeds in `fuzz/seeds/` and a deterministic stream of mutants to each function for a fixed
//! time. So this file must depend on nothing but `threadstore` and `std`.

use threadstore::codex::reader::parse_rollout;
use threadstore::layers::storage::codec::{decode, encode, RECORD_VERSION};
use threadstore::layers::storage::cursor::{CursorScope, PageCursor};
use threadstore::layers::storage::projection::classify as classify_item;
use threadstore::layers::storage::projection::rebuild::rebuild;
use threadstore::layers::storage::records::{LogRecord, ThreadRecord, TurnRecord};
use threadstore::{RolloutLine, SortDirection, ThreadId, ThreadSortKey};

/// `decode::<$record>` must not panic; whatever decodes re-encodes to bytes that decode to the
/// same record. (A macro rather than a generic function, so this file needs no `serde` bounds.)
macro_rules! codec_round_trip {
    ($record:ty, $data:expr) => {{
        if let Ok(value) = decode::<$record>($data, None, Some(0)) {
            let bytes = encode(&value).expect("a decoded record must re-encode");
            let again =
                decode::<$record>(&bytes, None, None).expect("a re-encoded record must decode");
            assert_eq!(again, value, "record changed across encode/decode");
        }
    }};
}

/// Target `record_codec`: arbitrary bytes through the record codec (`[version][bincode body]`),
/// as read back from disk, as they are and behind the current version byte.
pub fn record_codec(data: &[u8]) {
    codec_round_trip!(LogRecord, data);
    codec_round_trip!(ThreadRecord, data);
    codec_round_trip!(TurnRecord, data);
    // The same body behind the current version byte, so the fuzzer need not find it first.
    let mut versioned = Vec::with_capacity(data.len() + 1);
    versioned.push(RECORD_VERSION);
    versioned.extend_from_slice(data);
    codec_round_trip!(LogRecord, &versioned);
    codec_round_trip!(ThreadRecord, &versioned);
    codec_round_trip!(TurnRecord, &versioned);
}

/// Every cursor scope: turns, items, turn items, and each thread listing.
fn cursor_scopes() -> Vec<CursorScope> {
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

/// Target `cursor`: arbitrary text as a page cursor, as a client hands it back. `decode` must not
/// panic for any scope, direction or thread; an accepted cursor re-encodes to one that decodes to
/// the same value.
pub fn cursor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let threads = [None, Some(ThreadId::from_bytes([0x42; 16]))];
    for scope in cursor_scopes() {
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
}

/// A parsed line must survive `to_json_line` and a second parse unchanged.
fn line_round_trip(line: &RolloutLine) {
    let text = line.to_json_line();
    let again = RolloutLine::from_json_line(&text).unwrap_or_else(|e| {
        panic!("re-parsing to_json_line output failed: {e}\nline: {line:?}\ntext: {text}")
    });
    assert_eq!(
        line, &again,
        "line changed across to_json_line/from_json_line (left: parsed, right: re-parsed)\ntext: {text}"
    );
}

/// Target `rollout_line`: arbitrary bytes as one Codex rollout line and as a whole rollout file
/// (any format era). Neither parser may panic; every line that parses round-trips.
pub fn rollout_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(line) = RolloutLine::from_json_line(&text) {
        line_round_trip(&line);
    }
    let parsed = parse_rollout(data, "fuzz.jsonl");
    for line in &parsed.lines {
        line_round_trip(line);
    }
}

/// One item of the `classify` target: what a log record holds.
#[derive(Clone, Debug)]
pub struct ClassifyItem<'a> {
    /// Rollout item kind (`session_meta`, `event_msg`, …, or anything).
    pub kind: &'a str,
    /// Recording time, unix milliseconds.
    pub ts_ms: i64,
    /// Codex's per-line ordinal.
    pub ordinal: Option<u64>,
    /// Payload text (need not be JSON).
    pub payload: &'a str,
}

/// The kinds the classifier understands, which the fuzz inputs mostly use.
pub const CLASSIFY_KINDS: [&str; 5] = [
    "session_meta",
    "event_msg",
    "response_item",
    "turn_context",
    "compacted",
];

/// Target `classify`: every item through the projection classifier, and the sequence as a
/// thread's log through `rebuild` (the meta and turn reducers). Neither may panic, whatever the
/// kinds, payloads, timestamps and order.
pub fn classify(items: &[ClassifyItem<'_>]) {
    let records: Vec<LogRecord> = items
        .iter()
        .map(|item| {
            let _ = classify_item(item.kind, item.payload);
            LogRecord {
                ts_ms: item.ts_ms,
                ordinal: item.ordinal,
                kind: item.kind.to_owned(),
                payload: item.payload.to_owned(),
                sub_ms_nanos: 0,
            }
        })
        .collect();
    let rebuilt = rebuild(&records);
    assert_eq!(rebuilt.next_position, records.len() as u64);
}

/// [`classify`] on plain bytes, for harnesses without `arbitrary`: each line is one item. A line
/// that parses as a rollout line gives its kind, payload, timestamp and ordinal (so seeds and their
/// mutants exercise the classifier's real payloads); any other line is a payload under a kind
/// picked by its first byte (one of [`CLASSIFY_KINDS`], or the line's first word), timestamped by
/// its length.
pub fn classify_bytes(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed: Vec<Option<RolloutLine>> = text
        .lines()
        .map(|line| RolloutLine::from_json_line(line).ok())
        .collect();
    let items: Vec<ClassifyItem<'_>> = text
        .lines()
        .zip(&parsed)
        .map(|(line, parsed)| match parsed {
            Some(rollout) => ClassifyItem {
                kind: rollout.item.kind(),
                ts_ms: rollout.timestamp.timestamp_millis(),
                ordinal: rollout.ordinal,
                payload: rollout.item.payload_json(),
            },
            None => {
                let pick = line.bytes().next().map_or(0, usize::from);
                let kind = CLASSIFY_KINDS
                    .get(pick % (CLASSIFY_KINDS.len() + 1))
                    .copied()
                    .unwrap_or_else(|| line.split_whitespace().next().unwrap_or(""));
                ClassifyItem {
                    kind,
                    ts_ms: line.len() as i64 - 128,
                    ordinal: (pick % 3 == 0).then_some(line.len() as u64),
                    payload: line,
                }
            }
        })
        .collect();
    classify(&items);
}

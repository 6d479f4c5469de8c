//! Arbitrary (kind, payload) items through the projection classifier, and sequences of them as a
//! thread's log through `rebuild` (the meta and turn reducers).
//!
//! Property: neither `classify` nor `rebuild` panics, whatever the kinds, payloads, timestamps and
//! order (payloads need not even be JSON). The body is `threadstore_fuzz::classify`
//! (`fuzz/src/lib.rs`), shared with the stable smoke harness `tests/tests/fuzz_smoke.rs` (which
//! builds the items from bytes with `threadstore_fuzz::classify_bytes` instead of `arbitrary`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use threadstore_fuzz::ClassifyItem;

/// Mostly the kinds the classifier understands, so the fuzzer spends its time in their payloads.
#[derive(Arbitrary, Debug)]
enum Kind {
    SessionMeta,
    EventMsg,
    ResponseItem,
    TurnContext,
    Compacted,
    Other(String),
}

impl Kind {
    fn as_str(&self) -> &str {
        match self {
            Kind::SessionMeta => "session_meta",
            Kind::EventMsg => "event_msg",
            Kind::ResponseItem => "response_item",
            Kind::TurnContext => "turn_context",
            Kind::Compacted => "compacted",
            Kind::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Item {
    kind: Kind,
    ts_ms: i64,
    ordinal: Option<u64>,
    payload: String,
}

fuzz_target!(|items: Vec<Item>| {
    let items: Vec<ClassifyItem<'_>> = items
        .iter()
        .map(|item| ClassifyItem {
            kind: item.kind.as_str(),
            ts_ms: item.ts_ms,
            ordinal: item.ordinal,
            payload: &item.payload,
        })
        .collect();
    threadstore_fuzz::classify(&items);
});

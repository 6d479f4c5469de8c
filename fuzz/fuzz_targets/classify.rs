//! Arbitrary (kind, payload) items through the projection classifier, and sequences of them as a
//! thread's log through `rebuild` (the meta and turn reducers).
//!
//! Property: neither `classify` nor `rebuild` panics, whatever the kinds, payloads, timestamps and
//! order (payloads need not even be JSON).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use threadstore::layers::storage::projection::classify;
use threadstore::layers::storage::projection::rebuild::rebuild;
use threadstore::layers::storage::records::LogRecord;

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
    let records: Vec<LogRecord> = items
        .iter()
        .map(|item| {
            let _ = classify(item.kind.as_str(), &item.payload);
            LogRecord {
                ts_ms: item.ts_ms,
                ordinal: item.ordinal,
                kind: item.kind.as_str().to_owned(),
                payload: item.payload.clone(),
                sub_ms_nanos: 0,
            }
        })
        .collect();
    let rebuilt = rebuild(&records);
    assert_eq!(rebuilt.next_position, records.len() as u64);
});

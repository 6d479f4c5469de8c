//! Arbitrary bytes through the record codec (`[version][bincode body]`), as read back from disk.
//!
//! Property: `decode` never panics (a `Corrupt` error is fine), and whatever decodes re-encodes to
//! bytes that decode to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use threadstore::layers::storage::codec::{decode, encode};
use threadstore::layers::storage::records::{LogRecord, ThreadRecord, TurnRecord};

fn check<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = decode::<T>(data, None, Some(0)) {
        let bytes = encode(&value).expect("a decoded record must re-encode");
        let again = decode::<T>(&bytes, None, None).expect("a re-encoded record must decode");
        assert_eq!(again, value, "record changed across encode/decode");
    }
}

fuzz_target!(|data: &[u8]| {
    check::<LogRecord>(data);
    check::<ThreadRecord>(data);
    check::<TurnRecord>(data);
    // The same body behind the current version byte, so the fuzzer need not find it first.
    let mut versioned = Vec::with_capacity(data.len() + 1);
    versioned.push(threadstore::layers::storage::codec::RECORD_VERSION);
    versioned.extend_from_slice(data);
    check::<LogRecord>(&versioned);
    check::<ThreadRecord>(&versioned);
    check::<TurnRecord>(&versioned);
});

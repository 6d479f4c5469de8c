//! Arbitrary bytes through the record codec (`[version][bincode body]`), as read back from disk.
//!
//! Property: `decode` never panics (a `Corrupt` error is fine), and whatever decodes re-encodes to
//! bytes that decode to the same record. The body is `threadstore_fuzz::record_codec`
//! (`fuzz/src/lib.rs`), shared with the stable smoke harness `tests/tests/fuzz_smoke.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    threadstore_fuzz::record_codec(data);
});

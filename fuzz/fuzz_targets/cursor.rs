//! Arbitrary text as a page cursor, as a client hands it back.
//!
//! Property: `PageCursor::decode` never panics, for every scope and both directions, with and
//! without a thread; a cursor that is accepted re-encodes to one that decodes to the same value.
//! The body is `threadstore_fuzz::cursor` (`fuzz/src/lib.rs`), shared with the stable smoke
//! harness `tests/tests/fuzz_smoke.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    threadstore_fuzz::cursor(data);
});

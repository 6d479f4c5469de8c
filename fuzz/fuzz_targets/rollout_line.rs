//! Arbitrary bytes as a Codex rollout line and as a whole rollout file (any format era).
//!
//! Properties: neither `RolloutLine::from_json_line` nor `codex::reader::parse_rollout` panics;
//! every line that parses survives `to_json_line` and a second parse unchanged. The body is
//! `threadstore_fuzz::rollout_line` (`fuzz/src/lib.rs`), shared with the stable smoke harness
//! `tests/tests/fuzz_smoke.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    threadstore_fuzz::rollout_line(data);
});

//! Arbitrary bytes as a Codex rollout line and as a whole rollout file (any format era).
//!
//! Properties: neither `RolloutLine::from_json_line` nor `codex::reader::parse_rollout` panics;
//! every line that parses survives `to_json_line` and a second parse unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use threadstore::codex::reader::parse_rollout;
use threadstore::RolloutLine;

fn round_trip(line: &RolloutLine) {
    let text = line.to_json_line();
    let again = RolloutLine::from_json_line(&text).unwrap_or_else(|e| {
        panic!("re-parsing to_json_line output failed: {e}\nline: {line:?}\ntext: {text}")
    });
    assert_eq!(
        line, &again,
        "line changed across to_json_line/from_json_line (left: parsed, right: re-parsed)\ntext: {text}"
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(line) = RolloutLine::from_json_line(&text) {
        round_trip(&line);
    }

    let parsed = parse_rollout(data, "fuzz.jsonl");
    for line in &parsed.lines {
        round_trip(line);
    }
});

//! A stable, deterministic smoke run of the cargo-fuzz targets, part of `cargo test --workspace`.
//!
//! cargo-fuzz needs a nightly toolchain (or `RUSTC_BOOTSTRAP=1`) and libFuzzer; this harness needs
//! neither. It compiles the targets' bodies themselves (`fuzz/src/lib.rs`, which every target in
//! `fuzz/fuzz_targets/` calls) and, for each target, runs:
//!
//! 1. every seed file under `fuzz/seeds/` (all folders, for every target), plus records encoded
//!    with threadstore's codec for `record_codec`;
//! 2. then, until the target's time budget is spent, mutants of those seeds from a fixed-seed
//!    xorshift PRNG: bit flips, interesting bytes, inserted and deleted ranges, tokens of
//!    `fuzz/dicts/rollout.dict`, big length prefixes, truncations and splices of two seeds.
//!
//! It asserts that no input makes a body panic (a failed property panics too). There is no
//! coverage feedback: this is a regression net for CI, not a replacement for `cargo fuzz run`.
//!
//! - `FUZZ_SECONDS`: time budget per target (default 10; the four targets run in parallel);
//!   `0` runs the seeds only.
//! - `FUZZ_SEED`: the PRNG seed (default fixed), to explore other inputs locally.
//!
//! A failing input is written to `$CARGO_TARGET_TMPDIR/fuzz-smoke/<target>-<n>.bin` and the
//! message names it, with the seed and the input's number, so the same run reproduces it. For
//! `record_codec`, `cursor` and `rollout_line` the file is also a libFuzzer input
//! (`cargo fuzz run <target> <file>`); for `classify` it is the input of `classify_bytes`.

#[path = "../../fuzz/src/lib.rs"]
mod bodies;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use threadstore::layers::storage::codec::encode;
use threadstore::layers::storage::projection::rebuild::rebuild;
use threadstore::layers::storage::records::{LogRecord, ThreadRecord};
use threadstore::{RolloutLine, ThreadId};

/// Default time budget per target.
const DEFAULT_SECONDS: f64 = 10.0;
/// Default PRNG seed.
const DEFAULT_SEED: u64 = 0x7468_7265_6164_7374; // "threadst"
/// Mutants never grow past this.
const MAX_INPUT: usize = 256 * 1024;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file under `fuzz/seeds/` (they are part of the repository, so none is a failure).
fn seed_files() -> Vec<(String, Vec<u8>)> {
    let root = fuzz_dir().join("seeds");
    let mut seeds = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let name = file.strip_prefix(&root).unwrap().display().to_string();
            seeds.push((name, std::fs::read(&file).unwrap()));
        }
    }
    assert!(
        seeds.len() >= 10,
        "expected the seed files of fuzz/seeds, found {}",
        seeds.len()
    );
    seeds
}

/// The tokens of `fuzz/dicts/rollout.dict` (libFuzzer format: `"..."` or `name="..."`, with `\\`,
/// `\"` and `\xNN` escapes).
fn dictionary() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(fuzz_dir().join("dicts/rollout.dict")).unwrap();
    let mut tokens = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (Some(start), Some(end)) = (line.find('"'), line.rfind('"')) else {
            continue;
        };
        if end <= start {
            continue;
        }
        let body = &line.as_bytes()[start + 1..end];
        let mut token = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let hex = body
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
            match (body[i], body.get(i + 1), hex) {
                (b'\\', Some(b'x'), Some(byte)) => {
                    token.push(byte);
                    i += 4;
                }
                (b'\\', Some(&c), _) => {
                    token.push(c);
                    i += 2;
                }
                (c, _, _) => {
                    token.push(c);
                    i += 1;
                }
            }
        }
        tokens.push(token);
    }
    assert!(tokens.len() > 20, "dictionary tokens: {}", tokens.len());
    tokens
}

/// Records encoded with threadstore's codec (plain and LZ4-compressed), built from the rollout
/// seeds: the log records, and the thread and turn records a rebuild derives from them.
fn encoded_records(seeds: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, bytes) in seeds.iter().filter(|(n, _)| n.ends_with("-head.jsonl")) {
        let records: Vec<LogRecord> = String::from_utf8_lossy(bytes)
            .lines()
            .filter_map(|l| RolloutLine::from_json_line(l).ok())
            .map(|l| LogRecord {
                ts_ms: l.timestamp.timestamp_millis(),
                ordinal: l.ordinal,
                kind: l.item.kind().to_owned(),
                payload: l.item.payload_json().to_owned(),
                sub_ms_nanos: 0,
            })
            .collect();
        for (i, record) in records.iter().enumerate().take(8) {
            out.push((format!("{name} log record {i}"), encode(record).unwrap()));
        }
        let rebuilt = rebuild(&records);
        let thread = ThreadRecord {
            thread_id: ThreadId::from_bytes([7; 16]),
            meta: rebuilt.meta.clone(),
            turns: rebuilt.cursor.clone(),
            next_position: rebuilt.next_position,
            epoch: 3,
        };
        out.push((format!("{name} thread record"), encode(&thread).unwrap()));
        for (seq, turn) in rebuilt.turns.iter().take(4) {
            out.push((format!("{name} turn record {seq}"), encode(turn).unwrap()));
        }
    }
    assert!(out.len() > 20, "encoded records: {}", out.len());
    out
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    /// Any seed, mixed with splitmix64 (xorshift's state must not be 0).
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)).max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const INTERESTING_BYTES: [u8; 16] = [
    0, 1, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b'\n', b',', b':', b'0', 0xfb,
];

const INTERESTING_NUMBERS: [&str; 9] = [
    "0",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "9999999999999999999999",
    "1e308",
    "0.5",
    "\"\"",
];

/// Applies one random mutation to `data`.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>], dict: &[Vec<u8>]) {
    let len = data.len();
    match rng.below(12) {
        // Flip a bit.
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        // An interesting or random byte.
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = if rng.chance(2) {
                INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]
            } else {
                rng.next() as u8
            };
        }
        // Delete a range.
        2 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(16.min(len - start))).min(len);
            data.drain(start..end);
        }
        // Insert random bytes.
        3 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        // Insert or overwrite with a dictionary token.
        4 | 5 => {
            let token = &dict[rng.below(dict.len())];
            let at = rng.below(len + 1);
            if rng.chance(2) || at + token.len() > len {
                data.splice(at..at, token.iter().copied());
            } else {
                data[at..at + token.len()].copy_from_slice(token);
            }
        }
        // An interesting number, inserted.
        6 => {
            let number = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].as_bytes();
            let at = rng.below(len + 1);
            data.splice(at..at, number.iter().copied());
        }
        // A bincode varint length marker and a big value (u16/u32/u64 follow 251/252/253).
        7 => {
            let at = rng.below(len + 1);
            let marker = 251 + rng.below(3) as u8;
            let width = [2, 4, 8][usize::from(marker - 251)];
            let mut bytes = vec![marker];
            bytes.extend_from_slice(&rng.next().to_le_bytes()[..width]);
            data.splice(at..at, bytes);
        }
        // Duplicate a range somewhere else.
        8 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64.min(len - start))).min(len);
            let chunk = data[start..end].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, chunk);
        }
        // Truncate.
        9 if len > 0 => data.truncate(rng.below(len)),
        // Splice: this input's head with another seed's tail.
        10 | 11 => {
            let other = &seeds[rng.below(seeds.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // A mutation that needs bytes, on an empty input: start from a random byte.
        _ => data.push(rng.next() as u8),
    }
    data.truncate(MAX_INPUT);
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        _ => default,
    }
}

/// Runs `body` on `input`; on a panic, saves the input and fails with how to reproduce it.
fn run_one(target: &str, body: fn(&[u8]), input: &[u8], what: &str, seed: u64) {
    if catch_unwind(AssertUnwindSafe(|| body(input))).is_ok() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "{target}-{}.bin",
        what.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    std::fs::write(&file, input).unwrap();
    let preview: String = String::from_utf8_lossy(&input[..input.len().min(300)]).into_owned();
    panic!(
        "fuzz target {target} panicked on {what} (FUZZ_SEED={seed:#x}); the input ({} bytes) is in \
         {}; first bytes: {preview:?}",
        input.len(),
        file.display()
    );
}

/// Seeds, then mutants until the `FUZZ_SECONDS` budget is spent.
fn smoke(target: &str, body: fn(&[u8]), extra: Vec<(String, Vec<u8>)>) {
    let budget = Duration::from_secs_f64(env_or("FUZZ_SECONDS", DEFAULT_SECONDS).max(0.0));
    smoke_for(target, body, extra, budget);
}

/// Seeds, then mutants until `budget` is spent.
fn smoke_for(target: &str, body: fn(&[u8]), extra: Vec<(String, Vec<u8>)>, budget: Duration) {
    let seed = env_or("FUZZ_SEED", DEFAULT_SEED);
    let mut seeds = seed_files();
    seeds.extend(extra);
    let dict = dictionary();
    let started = Instant::now();
    for (name, bytes) in &seeds {
        run_one(target, body, bytes, &format!("seed {name}"), seed);
    }
    let corpus: Vec<Vec<u8>> = seeds.into_iter().map(|(_, b)| b).collect();
    // One stream per target, the same on every run with the same FUZZ_SEED.
    let target_salt = target.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng::new(seed ^ target_salt);
    let mut input = Vec::new();
    let mut mutants = 0u64;
    while started.elapsed() < budget {
        // Mostly a fresh seed; sometimes the previous mutant again, to go further from the seeds.
        if input.is_empty() || !rng.chance(4) {
            input.clone_from(&corpus[rng.below(corpus.len())]);
        }
        for _ in 0..1 + rng.below(4) {
            mutate_once(&mut rng, &mut input, &corpus, &dict);
        }
        mutants += 1;
        run_one(target, body, &input, &format!("mutant {mutants}"), seed);
    }
    eprintln!(
        "fuzz smoke {target}: {} seeds and {mutants} mutants in {:.1?} (FUZZ_SEED={seed:#x})",
        corpus.len(),
        started.elapsed()
    );
}

#[test]
fn record_codec() {
    let extra = encoded_records(&seed_files());
    smoke("record_codec", bodies::record_codec, extra);
}

#[test]
fn cursor() {
    smoke("cursor", bodies::cursor, Vec::new());
}

#[test]
fn rollout_line() {
    smoke("rollout_line", bodies::rollout_line, Vec::new());
}

#[test]
fn classify() {
    smoke("classify", bodies::classify_bytes, Vec::new());
}

/// The harness itself: the same seed gives the same mutants, and mutants differ from their seeds.
#[test]
fn mutants_are_deterministic() {
    let corpus: Vec<Vec<u8>> = seed_files().into_iter().map(|(_, b)| b).collect();
    let dict = dictionary();
    let stream = |seed: u64| {
        let mut rng = Rng::new(seed);
        (0..200)
            .map(|_| {
                let mut input = corpus[rng.below(corpus.len())].clone();
                mutate_once(&mut rng, &mut input, &corpus, &dict);
                input
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (stream(DEFAULT_SEED), stream(DEFAULT_SEED));
    assert!(a == b, "the same seed gave other mutants");
    assert!(
        a != stream(DEFAULT_SEED + 1),
        "another seed gave the same mutants"
    );
    assert!(a.iter().filter(|m| !corpus.contains(m)).count() > 150);
}

/// The harness itself: a body that panics on some input makes the run fail, naming the input.
#[test]
#[should_panic(expected = "fuzz target self_check panicked on mutant")]
fn a_panicking_body_fails_the_run() {
    fn body(data: &[u8]) {
        assert!(!data.contains(&0xfb), "found the marker byte");
    }
    let seeds: Vec<(String, Vec<u8>)> = Vec::new();
    // No seed holds 0xfb; a mutant soon does (it is an interesting byte and a varint marker).
    assert!(seed_files().iter().all(|(_, b)| !b.contains(&0xfb)));
    smoke_for("self_check", body, seeds, Duration::from_secs(30));
}

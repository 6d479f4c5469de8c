//! Reads a Codex rollout file of any format era into enveloped [`RolloutLine`]s.
//!
//! Reading never fails because of the file's contents: a line that does not parse is skipped and
//! reported with its 1-based line number (a torn last line, written by a crash mid-append, is
//! flagged as such), invalid UTF-8 is decoded lossily per line, and blank lines are ignored. Only
//! I/O and decompression errors fail a read ([`ReadError`]).

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use threadstore_api::item::{check_ordinals, kinds};
use threadstore_api::{RolloutItem, RolloutLine, ThreadId};

use super::LEGACY_FORMAT_MARKER;

/// The format era of a rollout file; decides how the turn reducer finds turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RolloutEra {
    /// Pre-envelope legacy file (bare header, `record_type` markers, bare response items).
    E0Legacy,
    /// Early envelope (`{timestamp,type,payload}`), no `turn_context` at all (about 0.34).
    E1EarlyEnvelope,
    /// Old envelope: `turn_context` without `turn_id`, no task events (about 0.36–0.98).
    E2OldEnvelope,
    /// Turn-id era: `task_started`/`task_complete`/`turn_aborted` and `turn_context` carry `turn_id`.
    E3TurnIds,
}

/// A line of the file that was not turned into a [`RolloutLine`], and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number in the (decompressed) file.
    pub line_number: usize,
    /// Why the line was skipped (parser message).
    pub reason: String,
    /// True for a last line without a trailing newline that does not parse: a write cut short by
    /// a crash, expected after `kill -9`, not a sign of corruption elsewhere.
    pub torn: bool,
}

/// A rollout file read into enveloped lines, with everything the reader noticed.
#[derive(Clone, Debug)]
pub struct ParsedRollout {
    /// Detected format era.
    pub era: RolloutEra,
    /// Thread id from the first `session_meta` payload's `id` (or the E0 header's `id`).
    pub thread_id: Option<ThreadId>,
    /// Every good line, in file order, with its original timestamp and ordinal.
    pub lines: Vec<RolloutLine>,
    /// Lines that could not be read, in file order.
    pub skipped: Vec<SkippedLine>,
    /// Numbers of kept lines whose invalid UTF-8 was replaced by U+FFFD, in file order (lines
    /// that then failed to parse are in `skipped` instead, with the UTF-8 problem in the reason).
    pub lossy_lines: Vec<usize>,
    /// Number of E0 `{"record_type": ...}` marker lines dropped (not errors).
    pub legacy_state_markers: usize,
    /// Where the rollout came from (recorded as the thread's rollout path on import).
    pub path: PathBuf,
    /// Kept lines whose ordinal does not increase (a duplicate or backwards ordinal), in file
    /// order. Importing refuses such a file: storing it would reorder or repeat history.
    pub ordinal_errors: Vec<OrdinalError>,
    /// The latest ordinal of a kept line so far.
    last_ordinal: Option<u64>,
}

/// A line whose ordinal is not greater than the latest one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrdinalError {
    /// 1-based line number in the file.
    pub line_number: usize,
    /// The line's ordinal.
    pub ordinal: u64,
    /// The latest ordinal before it.
    pub previous: u64,
}

/// Why a rollout file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read rollout file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A `.zst` file is not a valid (or is a truncated) zstd stream.
    #[error("cannot decompress zstd rollout file {}: {source}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
}

/// Reads a rollout file (`.jsonl`, or `.jsonl.zst`/`.zst` compressed) from disk and parses it.
///
/// Fails only on I/O or decompression errors; bad lines are reported in the result.
pub fn read_rollout(path: &Path) -> Result<ParsedRollout, ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut bytes = Vec::new();
    if path.extension().is_some_and(|e| e == "zst") {
        let mut decoder = zstd::Decoder::new(file).map_err(io_err)?;
        decoder
            .read_to_end(&mut bytes)
            .map_err(|source| ReadError::Decompress {
                path: path.to_path_buf(),
                source,
            })?;
    } else {
        let mut file = file;
        file.read_to_end(&mut bytes).map_err(io_err)?;
    }
    Ok(parse_rollout(bytes, path))
}

/// Parses the contents of a rollout file of any era. Pure: never fails, never touches the disk.
///
/// `path` is only recorded in [`ParsedRollout::path`] (a file name or any label for in-memory text).
pub fn parse_rollout(contents: impl AsRef<[u8]>, path: impl Into<PathBuf>) -> ParsedRollout {
    let raw = split_lines(contents.as_ref());
    let mut parsed = ParsedRollout {
        era: RolloutEra::E1EarlyEnvelope,
        thread_id: None,
        lines: Vec::with_capacity(raw.len()),
        skipped: Vec::new(),
        lossy_lines: Vec::new(),
        legacy_state_markers: 0,
        path: path.into(),
        ordinal_errors: Vec::new(),
        last_ordinal: None,
    };
    match raw.first().and_then(|l| legacy_header(&l.text)) {
        Some(header) => parse_legacy(&raw, header, &mut parsed),
        None => parse_enveloped(&raw, &mut parsed),
    }
    parsed
}

/// One non-blank line of the file, decoded.
struct RawLine<'a> {
    number: usize,
    text: Cow<'a, str>,
    lossy: bool,
    /// Last line of the file and not terminated by a newline.
    unterminated: bool,
}

impl RawLine<'_> {
    fn keep(&self, line: RolloutLine, out: &mut ParsedRollout) {
        if self.lossy {
            out.lossy_lines.push(self.number);
        }
        if let Err(e) = check_ordinals(out.last_ordinal, [line.ordinal]) {
            out.ordinal_errors.push(OrdinalError {
                line_number: self.number,
                ordinal: e.ordinal,
                previous: e.previous,
            });
        }
        if let Some(ordinal) = line.ordinal {
            out.last_ordinal = Some(out.last_ordinal.map_or(ordinal, |last| last.max(ordinal)));
        }
        out.lines.push(line);
    }

    fn skip(&self, reason: impl std::fmt::Display) -> SkippedLine {
        let lossy = if self.lossy {
            " (line holds invalid UTF-8)"
        } else {
            ""
        };
        SkippedLine {
            line_number: self.number,
            reason: format!("{reason}{lossy}"),
            torn: self.unterminated,
        }
    }
}

/// Splits on `\n` (dropping a `\r` before it), decodes each line lossily and drops blank lines.
fn split_lines(bytes: &[u8]) -> Vec<RawLine<'_>> {
    let ends_with_newline = bytes.last() == Some(&b'\n');
    let segments: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let last = segments.len().saturating_sub(1);
    segments
        .into_iter()
        .enumerate()
        .filter_map(|(i, seg)| {
            let seg = seg.strip_suffix(b"\r").unwrap_or(seg);
            if seg.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let text = String::from_utf8_lossy(seg);
            Some(RawLine {
                number: i + 1,
                lossy: matches!(text, Cow::Owned(_)),
                text,
                unterminated: i == last && !ends_with_newline,
            })
        })
        .collect()
}

/// True when `first_line` opens a rollout: an enveloped `session_meta` line, or an E0 legacy
/// header (`{id, timestamp, …}` without an envelope). Used to recognise rollout files that do
/// not carry Codex's `rollout-*` name.
pub fn is_rollout_header(first_line: &str) -> bool {
    if legacy_header(first_line).is_some() {
        return true;
    }
    RolloutLine::from_json_line(first_line).is_ok_and(|l| l.item.kind() == kinds::SESSION_META)
}

/// Reads the first non-blank line of a rollout file (`.zst` decompressed) and checks it with
/// [`is_rollout_header`]. Unreadable files are not rollouts.
pub fn sniff_rollout_file(path: &Path) -> bool {
    first_line(path).is_some_and(|l| is_rollout_header(&l))
}

/// The first non-blank line of a (possibly zstd-compressed) file, if it can be read.
pub fn first_line(path: &Path) -> Option<String> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).ok()?;
    let reader: Box<dyn std::io::BufRead> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(std::io::BufReader::new(zstd::Decoder::new(file).ok()?))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    reader
        .lines()
        .map_while(Result::ok)
        .find(|l| !l.trim().is_empty())
}

/// The E0 header: a first line with `id` and `timestamp` but no `type`/`payload` envelope.
struct LegacyHeader {
    id: Option<ThreadId>,
    timestamp: DateTime<Utc>,
}

fn legacy_header(first_line: &str) -> Option<LegacyHeader> {
    let value: serde_json::Value = serde_json::from_str(first_line).ok()?;
    let object = value.as_object()?;
    if object.contains_key("type") || object.contains_key("payload") {
        return None;
    }
    let id = object.get("id")?.as_str()?;
    let timestamp = object.get("timestamp")?.as_str()?;
    Some(LegacyHeader {
        id: id.parse().ok(),
        // E0 has no per-line timestamps; a header time that does not parse falls back to the epoch.
        timestamp: DateTime::parse_from_rfc3339(timestamp)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::UNIX_EPOCH),
    })
}

/// What an E0 body line is, as far as the reader cares.
#[derive(Deserialize)]
struct LegacyProbe {
    #[serde(rename = "type")]
    ty: Option<serde_json::Value>,
    record_type: Option<serde_json::Value>,
}

/// Converts an E0 file: header to `session_meta` (+ [`LEGACY_FORMAT_MARKER`]), bare items to
/// `response_item` lines at the header's time, `record_type` markers counted and dropped.
fn parse_legacy(raw: &[RawLine<'_>], header: LegacyHeader, out: &mut ParsedRollout) {
    out.era = RolloutEra::E0Legacy;
    out.thread_id = header.id;
    let at = |item| RolloutLine {
        timestamp: header.timestamp,
        ordinal: None,
        item,
    };
    let (first, body) = match raw.split_first() {
        Some(split) => split,
        None => return,
    };
    match RolloutItem::from_json_text(kinds::SESSION_META, with_legacy_marker(&first.text)) {
        Ok(item) => first.keep(at(item), out),
        Err(e) => out.skipped.push(first.skip(e)),
    }
    for line in body {
        if !line.text.trim_start().starts_with('{') {
            out.skipped
                .push(line.skip("legacy line is not a JSON object"));
            continue;
        }
        let probe = match serde_json::from_str::<LegacyProbe>(&line.text) {
            Ok(probe) => probe,
            Err(e) => {
                out.skipped
                    .push(line.skip(format!("legacy line is not JSON: {e}")));
                continue;
            }
        };
        match probe {
            LegacyProbe {
                ty: None,
                record_type: Some(_),
            } => out.legacy_state_markers += 1,
            LegacyProbe {
                ty: Some(serde_json::Value::String(_)),
                ..
            } => match RolloutItem::from_json_text(kinds::RESPONSE_ITEM, line.text.trim()) {
                Ok(item) => line.keep(at(item), out),
                Err(e) => out.skipped.push(line.skip(e)),
            },
            _ => out.skipped.push(line.skip(
                "legacy line is neither a response item (string \"type\") nor a record_type marker",
            )),
        }
    }
}

/// The header object's exact text with `"record_format":"legacy"` appended (unless present).
fn with_legacy_marker(header: &str) -> String {
    let (key, value) = LEGACY_FORMAT_MARKER;
    let trimmed = header.trim();
    let has_marker = serde_json::from_str::<serde_json::Value>(trimmed)
        .ok()
        .is_some_and(|v| v.get(key).is_some());
    match trimmed.strip_suffix('}') {
        Some(open) if !has_marker => format!("{open},\"{key}\":\"{value}\"}}"),
        _ => trimmed.to_owned(),
    }
}

/// What the era detection needs from a `turn_context` payload.
#[derive(Deserialize)]
struct TurnContextProbe {
    turn_id: Option<serde_json::Value>,
}

/// Parses E1–E3 files line by line and detects the era from what the lines hold.
fn parse_enveloped(raw: &[RawLine<'_>], out: &mut ParsedRollout) {
    let (mut turn_context, mut turn_ids) = (false, false);
    for line in raw {
        let parsed = match RolloutLine::from_json_line(&line.text) {
            Ok(parsed) => parsed,
            Err(e) => {
                out.skipped.push(line.skip(e));
                continue;
            }
        };
        let item = &parsed.item;
        match item.kind() {
            kinds::SESSION_META if out.thread_id.is_none() => {
                out.thread_id = item
                    .payload_value()
                    .get("id")
                    .and_then(|id| id.as_str())
                    .and_then(|id| id.parse().ok());
            }
            kinds::TURN_CONTEXT => {
                turn_context = true;
                turn_ids |= serde_json::from_str::<TurnContextProbe>(item.payload_json())
                    .is_ok_and(|p| p.turn_id.is_some_and(|t| !t.is_null()));
            }
            kinds::EVENT_MSG if !turn_ids => {
                turn_ids = matches!(
                    item.payload_type().as_deref(),
                    Some("task_started" | "turn_started")
                );
            }
            _ => {}
        }
        line.keep(parsed, out);
    }
    out.era = if turn_ids {
        RolloutEra::E3TurnIds
    } else if turn_context {
        RolloutEra::E2OldEnvelope
    } else {
        RolloutEra::E1EarlyEnvelope
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{"timestamp":"2025-11-01T17:34:37.799Z","type":"session_meta","payload":{"id":"97b66f6c-a160-40e0-bd0f-1fdcbbb9498b","timestamp":"2025-11-01T17:34:37.770Z","cwd":"/tmp"}}"#;
    const MSG: &str = r#"{"timestamp":"2025-11-01T17:34:41.875Z","type":"event_msg","payload":{"type":"user_message","message":"continue","kind":"plain"}}"#;

    fn fixtures_dir() -> Option<PathBuf> {
        let dir = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/codex"
        ));
        if dir.is_dir() {
            Some(dir.to_path_buf())
        } else if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            // In CI a missing fixture folder must fail, not pass silently (tests/src/fixtures.rs).
            panic!("../shared/fixtures/codex not found at {}", dir.display());
        } else {
            println!("skipping: ../shared/fixtures/codex not found");
            None
        }
    }

    /// (file, era, thread id from the source path in SOURCES.md, lines, E0 markers)
    const FIXTURES: &[(&str, RolloutEra, &str, usize, usize)] = &[
        (
            "legacy-2025-08-record-type-pre-envelope.jsonl",
            RolloutEra::E0Legacy,
            "16853d29-f44c-4c97-8230-73c5f07bcfdf",
            365 - 170,
            170,
        ),
        (
            "v0.34-envelope-no-turn-context.jsonl",
            RolloutEra::E1EarlyEnvelope,
            "97b66f6c-a160-40e0-bd0f-1fdcbbb9498b",
            1376,
            0,
        ),
        (
            "v0.58-old-era-multi-turn-aborted.jsonl",
            RolloutEra::E2OldEnvelope,
            "019a806e-0b39-7043-90ac-24bab2a6e202",
            471,
            0,
        ),
        (
            "v0.64-old-era-compacted.jsonl",
            RolloutEra::E2OldEnvelope,
            "019ae424-f229-7e90-95db-5b45025b4216",
            528,
            0,
        ),
        (
            "v0.66-old-format-ghost-snapshot.jsonl",
            RolloutEra::E2OldEnvelope,
            "019b04ae-b1c6-7c72-a134-a4c2de66058c",
            55,
            0,
        ),
        (
            "v0.69-codex-exec-small.jsonl",
            RolloutEra::E2OldEnvelope,
            "019b1099-6ee9-7cc1-9e27-a4373df70a0f",
            19,
            0,
        ),
        (
            "v0.70-vscode-extension.jsonl",
            RolloutEra::E2OldEnvelope,
            "019b2241-a0a9-7740-a0c0-33c010d4f7e6",
            259,
            0,
        ),
        (
            "v0.0.0-dev-build-turn-aborted.jsonl",
            RolloutEra::E2OldEnvelope,
            "019c531a-a700-7da1-b14e-dbec88c595ee",
            51,
            0,
        ),
        (
            "v0.105-task-events-compacted-aborted-largest.jsonl",
            RolloutEra::E3TurnIds,
            "019d021f-1244-77d2-b5aa-ba1d70f11e87",
            2310,
            0,
        ),
        (
            "v0.118-codex-tui-task-events-aborted.jsonl",
            RolloutEra::E3TurnIds,
            "019d6d67-1952-7e83-93ef-94497e3c15b6",
            196,
            0,
        ),
        (
            "v0.142-codex-desktop-archived.jsonl",
            RolloutEra::E3TurnIds,
            "019f26d2-378f-7123-aaab-925df3e2bf7b",
            168,
            0,
        ),
    ];

    #[test]
    fn every_fixture_parses_with_the_documented_era_id_and_line_count() {
        let Some(dir) = fixtures_dir() else { return };
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".jsonl"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FIXTURES.iter().map(|f| f.0.to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "every fixture file has expectations");

        for &(file, era, id, lines, markers) in FIXTURES {
            let parsed = read_rollout(&dir.join(file)).unwrap();
            assert_eq!(parsed.era, era, "{file}");
            assert_eq!(parsed.thread_id, Some(id.parse().unwrap()), "{file}");
            assert_eq!(parsed.lines.len(), lines, "{file}");
            assert_eq!(parsed.legacy_state_markers, markers, "{file}");
            assert!(parsed.skipped.is_empty(), "{file}: {:?}", parsed.skipped);
            assert!(parsed.lossy_lines.is_empty(), "{file}");
            assert_eq!(parsed.lines[0].item.kind(), kinds::SESSION_META, "{file}");
        }
    }

    #[test]
    fn enveloped_fixture_lines_round_trip_in_meaning() {
        let Some(dir) = fixtures_dir() else { return };
        let file = dir.join("v0.118-codex-tui-task-events-aborted.jsonl");
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed = parse_rollout(&text, &file);
        for (line, original) in parsed.lines.iter().zip(text.lines()) {
            let a: serde_json::Value = serde_json::from_str(&line.to_json_line()).unwrap();
            let b: serde_json::Value = serde_json::from_str(original).unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn legacy_fixture_is_converted() {
        let Some(dir) = fixtures_dir() else { return };
        let parsed =
            read_rollout(&dir.join("legacy-2025-08-record-type-pre-envelope.jsonl")).unwrap();
        let header = parsed.lines[0].item.payload_value();
        assert_eq!(header["record_format"], "legacy");
        assert_eq!(header["id"], "16853d29-f44c-4c97-8230-73c5f07bcfdf");
        assert_eq!(header["git"]["branch"], "main");
        let ts: DateTime<Utc> = "2025-08-24T10:37:46.871Z".parse().unwrap();
        assert!(parsed.lines.iter().all(|l| l.timestamp == ts));
        assert!(parsed.lines[1..]
            .iter()
            .all(|l| l.item.kind() == kinds::RESPONSE_ITEM));
        let messages = parsed.lines[1..]
            .iter()
            .filter(|l| l.item.payload_type().as_deref() == Some("message"))
            .count();
        assert_eq!(messages, 33);
    }

    #[test]
    fn e0_conversion_keeps_items_verbatim() {
        let text = concat!(
            r#"{"id":"16853d29-f44c-4c97-8230-73c5f07bcfdf","timestamp":"2025-08-24T10:37:46.871Z","instructions":null,"git":null}"#,
            "\n",
            r#"{"record_type":"state"}"#,
            "\n",
            r#"{"type":"message","id":null,"role":"user","content":[{"type":"input_text","text":"hi"}]}"#,
            "\n",
            r#"{"record_type":"state"}"#,
            "\n",
            r#"{"type":"function_call_output","call_id":"c1","output":"ok"}"#,
            "\n",
        );
        let parsed = parse_rollout(text, "legacy.jsonl");
        assert_eq!(parsed.era, RolloutEra::E0Legacy);
        assert_eq!(parsed.legacy_state_markers, 2);
        assert!(parsed.skipped.is_empty());
        assert_eq!(parsed.lines.len(), 3);
        assert_eq!(
            parsed.lines[0].item.payload_json(),
            r#"{"id":"16853d29-f44c-4c97-8230-73c5f07bcfdf","timestamp":"2025-08-24T10:37:46.871Z","instructions":null,"git":null,"record_format":"legacy"}"#
        );
        assert_eq!(
            parsed.lines[2].item.payload_json(),
            r#"{"type":"function_call_output","call_id":"c1","output":"ok"}"#
        );
        assert_eq!(parsed.lines[2].item.kind(), kinds::RESPONSE_ITEM);
        assert_eq!(
            parsed.thread_id,
            Some("16853d29-f44c-4c97-8230-73c5f07bcfdf".parse().unwrap())
        );
    }

    #[test]
    fn e0_bad_lines_are_reported() {
        let text =
            "{\"id\":\"x\",\"timestamp\":\"2025-08-24T10:37:46Z\"}\n[1]\n{\"type\":\"message\"\n";
        let parsed = parse_rollout(text, "legacy.jsonl");
        assert_eq!(parsed.era, RolloutEra::E0Legacy);
        assert_eq!(parsed.thread_id, None, "a non-uuid id is no thread id");
        assert_eq!(parsed.lines.len(), 1);
        let numbers: Vec<usize> = parsed.skipped.iter().map(|s| s.line_number).collect();
        assert_eq!(numbers, [2, 3]);
        assert!(parsed.skipped.iter().all(|s| !s.torn));
    }

    #[test]
    fn torn_last_line_is_reported_as_torn() {
        let text = format!("{META}\n{MSG}\n{}", &MSG[..40]);
        let parsed = parse_rollout(text, "torn.jsonl");
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line_number, 3);
        assert!(parsed.skipped[0].torn);
    }

    #[test]
    fn unparsable_last_line_with_newline_is_not_torn() {
        let text = format!("{META}\n{}\n", &MSG[..40]);
        let parsed = parse_rollout(text, "x.jsonl");
        assert_eq!(parsed.skipped.len(), 1);
        assert!(!parsed.skipped[0].torn);
    }

    #[test]
    fn garbage_middle_line_is_skipped_and_the_rest_kept() {
        let text = format!("{META}\n{MSG}\nnot json at all\n{MSG}\n{MSG}\n");
        let parsed = parse_rollout(text, "x.jsonl");
        assert_eq!(parsed.lines.len(), 4);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line_number, 3);
        assert!(!parsed.skipped[0].torn);
        assert!(parsed.skipped[0].reason.contains("not a rollout line"));
        assert_eq!(
            parsed.thread_id,
            Some("97b66f6c-a160-40e0-bd0f-1fdcbbb9498b".parse().unwrap())
        );
    }

    #[test]
    fn blank_lines_and_crlf_are_ignored_but_numbered() {
        let text = format!("\n{META}\r\n\n   \n{MSG}\r\nbad\n");
        let parsed = parse_rollout(text, "x.jsonl");
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line_number, 6);
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_per_line() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(META.as_bytes());
        bytes.push(b'\n');
        // Invalid UTF-8 inside a string: kept, with U+FFFD.
        bytes.extend_from_slice(
            br#"{"timestamp":"2025-11-01T17:34:41.875Z","type":"event_msg","payload":{"type":"user_message","message":"caf"#,
        );
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"\"}}\n");
        // Invalid UTF-8 outside a string: skipped and reported.
        bytes.extend_from_slice(&[0xc3, 0x28, b'\n']);
        bytes.extend_from_slice(MSG.as_bytes());
        bytes.push(b'\n');
        let parsed = parse_rollout(bytes, "x.jsonl");
        assert_eq!(parsed.lines.len(), 3);
        assert_eq!(parsed.lossy_lines, [2]);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line_number, 3);
        assert!(parsed.skipped[0].reason.contains("invalid UTF-8"));
        assert!(parsed.lines[1].item.payload_json().contains('\u{fffd}'));
    }

    #[test]
    fn era_detection() {
        let tc = r#"{"timestamp":"2025-11-14T03:36:22.580Z","type":"turn_context","payload":{"cwd":"/","model":"m"}}"#;
        let tc_id = r#"{"timestamp":"2025-11-14T03:36:22.580Z","type":"turn_context","payload":{"turn_id":"t1","cwd":"/"}}"#;
        let started = r#"{"timestamp":"2025-11-14T03:36:22.580Z","type":"event_msg","payload":{"type":"turn_started","turn_id":"t1"}}"#;
        let era = |body: &str| parse_rollout(format!("{META}\n{body}\n"), "x").era;
        assert_eq!(era(MSG), RolloutEra::E1EarlyEnvelope);
        assert_eq!(era(tc), RolloutEra::E2OldEnvelope);
        assert_eq!(era(tc_id), RolloutEra::E3TurnIds);
        assert_eq!(era(started), RolloutEra::E3TurnIds);
        assert_eq!(parse_rollout("", "x").era, RolloutEra::E1EarlyEnvelope);
    }

    #[test]
    fn rollout_headers_are_recognised() {
        assert!(is_rollout_header(META));
        assert!(is_rollout_header(
            r#"{"id":"16853d29-f44c-4c97-8230-73c5f07bcfdf","timestamp":"2025-08-24T10:37:46.871Z"}"#
        ));
        assert!(!is_rollout_header(MSG));
        assert!(!is_rollout_header(
            r#"{"session_id":"16853d29-f44c-4c97-8230-73c5f07bcfdf","ts":1,"text":"ls"}"#
        ));
        assert!(!is_rollout_header("not json"));
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("x.jsonl");
        std::fs::write(&plain, format!("\n{META}\n{MSG}\n")).unwrap();
        assert!(sniff_rollout_file(&plain));
        let packed = dir.path().join("x.jsonl.zst");
        std::fs::write(&packed, zstd::encode_all(META.as_bytes(), 3).unwrap()).unwrap();
        assert!(sniff_rollout_file(&packed));
        std::fs::write(&plain, format!("{MSG}\n")).unwrap();
        assert!(!sniff_rollout_file(&plain));
        assert!(!sniff_rollout_file(&dir.path().join("missing.jsonl")));
    }

    #[test]
    fn ordinals_and_timestamps_are_kept() {
        let line = r#"{"timestamp":"2026-01-01T00:00:00.123Z","ordinal":7,"type":"event_msg","payload":{"type":"agent_message","message":"hi"}}"#;
        let parsed = parse_rollout(format!("{line}\n"), "x");
        assert_eq!(parsed.lines[0].ordinal, Some(7));
        assert_eq!(parsed.lines[0].to_json_line(), line);
        assert_eq!(parsed.thread_id, None);
    }

    #[test]
    fn zstd_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{META}\n{MSG}\n");
        let path = dir.path().join("rollout.jsonl.zst");
        std::fs::write(&path, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        let parsed = read_rollout(&path).unwrap();
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.path, path);

        std::fs::write(&path, b"not zstd").unwrap();
        assert!(matches!(
            read_rollout(&path),
            Err(ReadError::Decompress { .. })
        ));
        assert!(matches!(
            read_rollout(&dir.path().join("missing.jsonl")),
            Err(ReadError::Io { .. })
        ));
    }
}

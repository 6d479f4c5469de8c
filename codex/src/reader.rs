//! Reads a Codex rollout file of any format era into enveloped [`RolloutLine`]s, a line at a time.
//!
//! [`RolloutReader`] streams a file (plain or zstd-compressed) line by line: memory holds one line
//! and what the reader noticed, whatever the file's size, so an import of a 1 GB rollout stays
//! small. [`read_rollout`] and [`parse_rollout`] collect every line into a [`ParsedRollout`] for
//! callers that want the whole file.
//!
//! Reading never fails because of the file's contents: a line that does not parse is skipped and
//! reported with its 1-based line number (a torn last line, written by a crash mid-append, is
//! flagged as such), invalid UTF-8 is decoded lossily per line, and blank lines are ignored. Only
//! I/O and decompression errors fail a read ([`ReadError`]).

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use threadstore_api::item::{check_ordinals, kinds};
use threadstore_api::{RolloutItem, RolloutLine, ThreadId};

use super::LEGACY_FORMAT_MARKER;

/// How many unreadable (and lossily decoded) lines a read lists; beyond it they are counted.
pub const MAX_NOTED_LINES: usize = 1000;

/// The format era of a rollout file; decides how the turn reducer finds turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    /// Lines that could not be read, in file order: the first [`MAX_NOTED_LINES`].
    pub skipped: Vec<SkippedLine>,
    /// Unreadable lines beyond the first [`MAX_NOTED_LINES`] (counted, not listed, so a file of
    /// garbage cannot grow the report without bound).
    pub unreported_skips: usize,
    /// Numbers of kept lines whose invalid UTF-8 was replaced by U+FFFD, in file order (lines
    /// that then failed to parse are in `skipped` instead, with the UTF-8 problem in the reason);
    /// the first [`MAX_NOTED_LINES`].
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

/// Reads a rollout file (`.jsonl`, or `.jsonl.zst`/`.zst` compressed) from disk and parses it,
/// every line in memory (see [`RolloutReader`] to stream it instead).
///
/// Fails only on I/O or decompression errors; bad lines are reported in the result.
pub fn read_rollout(path: &Path) -> Result<ParsedRollout, ReadError> {
    RolloutReader::open(path)?.read_to_end()
}

/// Parses rollout file contents (already decompressed); `path` is recorded in the result.
pub fn parse_rollout(contents: impl AsRef<[u8]>, path: impl Into<PathBuf>) -> ParsedRollout {
    let contents = contents.as_ref().to_vec();
    let reader = RolloutReader::new(std::io::Cursor::new(contents), path);
    // Reading from memory cannot fail.
    reader.read_to_end().unwrap_or_else(unreachable_read)
}

/// A read of an in-memory buffer has no I/O to fail; keep the types honest without a panic path
/// that could be reached from a file.
fn unreachable_read(e: ReadError) -> ParsedRollout {
    let path = match &e {
        ReadError::Io { path, .. } | ReadError::Decompress { path, .. } => path.clone(),
    };
    let mut parsed = ParsedRollout::empty(path);
    parsed.skipped.push(SkippedLine {
        line_number: 0,
        reason: e.to_string(),
        torn: false,
    });
    parsed
}

impl ParsedRollout {
    /// Everything but the lines.
    pub(crate) fn clone_notes(&self) -> ParsedRollout {
        ParsedRollout {
            era: self.era,
            thread_id: self.thread_id,
            lines: Vec::new(),
            skipped: self.skipped.clone(),
            unreported_skips: self.unreported_skips,
            lossy_lines: self.lossy_lines.clone(),
            legacy_state_markers: self.legacy_state_markers,
            path: self.path.clone(),
            ordinal_errors: self.ordinal_errors.clone(),
            last_ordinal: None,
        }
    }

    fn empty(path: PathBuf) -> Self {
        Self {
            era: RolloutEra::E1EarlyEnvelope,
            thread_id: None,
            lines: Vec::new(),
            skipped: Vec::new(),
            unreported_skips: 0,
            lossy_lines: Vec::new(),
            legacy_state_markers: 0,
            path,
            ordinal_errors: Vec::new(),
            last_ordinal: None,
        }
    }
}

/// A [`Read`] that adds the bytes it reads to a shared counter: an import's progress in bytes of
/// the files as they lie on disk (compressed ones too).
struct Counted<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How the reader treats the lines after the first.
enum Mode {
    /// No line read yet: the first decides (an E0 header, or an envelope).
    Start,
    /// E0: bare items at the header's time.
    Legacy(LegacyHeader),
    /// E1–E3 envelopes; the flags detect the era.
    Enveloped { turn_context: bool, turn_ids: bool },
}

/// Streams a rollout file's lines (see the module documentation).
///
/// [`next_line`](Self::next_line) returns the readable lines in file order; what the reader
/// noticed so far (era, thread id, skipped lines, ordinal errors) is in [`notes`](Self::notes),
/// whose `lines` stay empty. The era is final once the file is read to its end.
pub struct RolloutReader {
    input: Box<dyn BufRead + Send>,
    compressed: bool,
    buf: Vec<u8>,
    line_number: usize,
    mode: Mode,
    notes: ParsedRollout,
    done: bool,
}

impl RolloutReader {
    /// Opens a rollout file (`.zst` decompressed while reading).
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        Self::open_counted(path, None)
    }

    /// Opens a rollout file and adds the bytes read from the disk to `progress` as it goes.
    pub fn open_counted(path: &Path, progress: Option<Arc<AtomicU64>>) -> Result<Self, ReadError> {
        let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let raw: Box<dyn Read + Send> = match progress {
            Some(counter) => Box::new(Counted {
                inner: file,
                counter,
            }),
            None => Box::new(file),
        };
        let compressed = path.extension().is_some_and(|e| e == "zst");
        let input: Box<dyn BufRead + Send> = if compressed {
            let decoder = zstd::Decoder::new(raw).map_err(|source| ReadError::Decompress {
                path: path.to_path_buf(),
                source,
            })?;
            Box::new(std::io::BufReader::with_capacity(256 * 1024, decoder))
        } else {
            Box::new(std::io::BufReader::with_capacity(256 * 1024, raw))
        };
        let mut reader = Self::new_boxed(input, path.to_path_buf());
        reader.compressed = compressed;
        Ok(reader)
    }

    /// Reads rollout text (already decompressed) from `input`; `path` names it in reports.
    pub fn new(input: impl BufRead + Send + 'static, path: impl Into<PathBuf>) -> Self {
        Self::new_boxed(Box::new(input), path.into())
    }

    fn new_boxed(input: Box<dyn BufRead + Send>, path: PathBuf) -> Self {
        Self {
            input,
            compressed: false,
            buf: Vec::new(),
            line_number: 0,
            mode: Mode::Start,
            notes: ParsedRollout::empty(path),
            done: false,
        }
    }

    /// What the reader noticed so far (its `lines` are empty).
    pub fn notes(&self) -> &ParsedRollout {
        &self.notes
    }

    /// The file's thread id, once its header has been read.
    pub fn thread_id(&self) -> Option<ThreadId> {
        self.notes.thread_id
    }

    /// The next readable line, `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<RolloutLine>, ReadError> {
        while !self.done {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| self.error(source))?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line_number += 1;
            let unterminated = self.buf.last() != Some(&b'\n');
            let mut bytes = std::mem::take(&mut self.buf);
            let line = self.read_raw(&bytes, unterminated);
            bytes.clear();
            self.buf = bytes;
            if line.is_some() {
                return Ok(line);
            }
        }
        Ok(None)
    }

    /// The next lines: at least one (unless the file has ended), at most `max_lines`, stopping
    /// after the line that reaches `max_bytes` of JSON.
    pub fn next_chunk(
        &mut self,
        max_lines: usize,
        max_bytes: usize,
    ) -> Result<Vec<RolloutLine>, ReadError> {
        let mut chunk = Vec::new();
        let mut bytes = 0;
        while chunk.len() < max_lines.max(1) && bytes < max_bytes {
            match self.next_line()? {
                Some(line) => {
                    bytes += line.item.payload_json().len();
                    chunk.push(line);
                }
                None => break,
            }
        }
        Ok(chunk)
    }

    /// Reads every remaining line into a [`ParsedRollout`].
    pub fn read_to_end(mut self) -> Result<ParsedRollout, ReadError> {
        let mut lines = Vec::new();
        while let Some(line) = self.next_line()? {
            lines.push(line);
        }
        let mut parsed = self.notes;
        parsed.lines = lines;
        Ok(parsed)
    }

    /// The notes of a reader read to its end (see [`notes`](Self::notes)).
    pub fn into_notes(self) -> ParsedRollout {
        self.notes
    }

    fn error(&self, source: std::io::Error) -> ReadError {
        let path = self.notes.path.clone();
        if self.compressed {
            ReadError::Decompress { path, source }
        } else {
            ReadError::Io { path, source }
        }
    }

    /// One line of the file (with its newline, if any): the line it gives, or `None` when it is
    /// blank, a dropped E0 marker or unreadable (then noted).
    fn read_raw(&mut self, bytes: &[u8], unterminated: bool) -> Option<RolloutLine> {
        let seg = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let seg = seg.strip_suffix(b"\r").unwrap_or(seg);
        if seg.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let text = String::from_utf8_lossy(seg);
        let raw = RawLine {
            number: self.line_number,
            lossy: matches!(text, Cow::Owned(_)),
            text,
            unterminated,
        };
        let read = match std::mem::replace(&mut self.mode, Mode::Start) {
            Mode::Start => match legacy_header(&raw.text) {
                Some(header) => {
                    self.notes.era = RolloutEra::E0Legacy;
                    self.notes.thread_id = header.id;
                    let read = legacy_header_line(&raw, &header);
                    self.mode = Mode::Legacy(header);
                    read
                }
                None => {
                    let (mut turn_context, mut turn_ids) = (false, false);
                    let read = self.enveloped(&raw, &mut turn_context, &mut turn_ids);
                    self.mode = Mode::Enveloped {
                        turn_context,
                        turn_ids,
                    };
                    read
                }
            },
            Mode::Legacy(header) => {
                let read = self.legacy_body(&raw, &header);
                self.mode = Mode::Legacy(header);
                read
            }
            Mode::Enveloped {
                mut turn_context,
                mut turn_ids,
            } => {
                let read = self.enveloped(&raw, &mut turn_context, &mut turn_ids);
                self.mode = Mode::Enveloped {
                    turn_context,
                    turn_ids,
                };
                read
            }
        };
        match read {
            LineRead::Keep(line) => Some(raw.keep(line, &mut self.notes)),
            LineRead::Skip(reason) => {
                raw.skip(reason, &mut self.notes);
                None
            }
            LineRead::Marker => {
                self.notes.legacy_state_markers += 1;
                None
            }
        }
    }

    /// An E1–E3 line; updates the era flags and the thread id.
    fn enveloped(
        &mut self,
        line: &RawLine<'_>,
        turn_context: &mut bool,
        turn_ids: &mut bool,
    ) -> LineRead {
        let parsed = match RolloutLine::from_json_line(&line.text) {
            Ok(parsed) => parsed,
            Err(e) => return LineRead::Skip(e.to_string()),
        };
        let item = &parsed.item;
        match item.kind() {
            kinds::SESSION_META if self.notes.thread_id.is_none() => {
                self.notes.thread_id = item
                    .payload_value()
                    .get("id")
                    .and_then(|id| id.as_str())
                    .and_then(|id| id.parse().ok());
            }
            kinds::TURN_CONTEXT => {
                *turn_context = true;
                *turn_ids |= serde_json::from_str::<TurnContextProbe>(item.payload_json())
                    .is_ok_and(|p| p.turn_id.is_some_and(|t| !t.is_null()));
            }
            kinds::EVENT_MSG if !*turn_ids => {
                *turn_ids = matches!(
                    item.payload_type().as_deref(),
                    Some("task_started" | "turn_started")
                );
            }
            _ => {}
        }
        self.notes.era = if *turn_ids {
            RolloutEra::E3TurnIds
        } else if *turn_context {
            RolloutEra::E2OldEnvelope
        } else {
            RolloutEra::E1EarlyEnvelope
        };
        LineRead::Keep(parsed)
    }

    /// An E0 body line: a bare response item at the header's time, or a dropped marker.
    fn legacy_body(&mut self, line: &RawLine<'_>, header: &LegacyHeader) -> LineRead {
        if !line.text.trim_start().starts_with('{') {
            return LineRead::Skip("legacy line is not a JSON object".into());
        }
        let probe = match serde_json::from_str::<LegacyProbe>(&line.text) {
            Ok(probe) => probe,
            Err(e) => return LineRead::Skip(format!("legacy line is not JSON: {e}")),
        };
        match probe {
            LegacyProbe {
                ty: None,
                record_type: Some(_),
            } => LineRead::Marker,
            LegacyProbe {
                ty: Some(serde_json::Value::String(_)),
                ..
            } => match RolloutItem::from_json_text(kinds::RESPONSE_ITEM, line.text.trim()) {
                Ok(item) => LineRead::Keep(legacy_line(header, item)),
                Err(e) => LineRead::Skip(e.to_string()),
            },
            _ => LineRead::Skip(
                "legacy line is neither a response item (string \"type\") nor a record_type marker"
                    .into(),
            ),
        }
    }
}

/// What one line of the file gave.
enum LineRead {
    Keep(RolloutLine),
    Skip(String),
    Marker,
}

/// The E0 header line as a `session_meta` line (with [`LEGACY_FORMAT_MARKER`]).
fn legacy_header_line(line: &RawLine<'_>, header: &LegacyHeader) -> LineRead {
    match RolloutItem::from_json_text(kinds::SESSION_META, with_legacy_marker(&line.text)) {
        Ok(item) => LineRead::Keep(legacy_line(header, item)),
        Err(e) => LineRead::Skip(e.to_string()),
    }
}

/// An E0 item at the header's time (E0 has no per-line timestamps or ordinals).
fn legacy_line(header: &LegacyHeader, item: RolloutItem) -> RolloutLine {
    RolloutLine {
        timestamp: header.timestamp,
        ordinal: None,
        item,
    }
}

/// One non-blank line of the file.
struct RawLine<'a> {
    /// 1-based line number (blank lines counted).
    number: usize,
    text: Cow<'a, str>,
    /// Invalid UTF-8 was replaced.
    lossy: bool,
    /// The file's last line, without a trailing newline.
    unterminated: bool,
}

impl RawLine<'_> {
    /// Notes what keeping the line means (lossy decoding, a non-increasing ordinal); returns it.
    fn keep(&self, line: RolloutLine, out: &mut ParsedRollout) -> RolloutLine {
        if self.lossy && out.lossy_lines.len() < MAX_NOTED_LINES {
            out.lossy_lines.push(self.number);
        }
        if let Err(e) = check_ordinals(out.last_ordinal, [line.ordinal]) {
            if out.ordinal_errors.len() < MAX_NOTED_LINES {
                out.ordinal_errors.push(OrdinalError {
                    line_number: self.number,
                    ordinal: e.ordinal,
                    previous: e.previous,
                });
            }
        }
        if let Some(ordinal) = line.ordinal {
            out.last_ordinal = Some(out.last_ordinal.map_or(ordinal, |last| last.max(ordinal)));
        }
        line
    }

    /// Notes the line as skipped, and why.
    fn skip(&self, reason: impl std::fmt::Display, out: &mut ParsedRollout) {
        if out.skipped.len() >= MAX_NOTED_LINES {
            out.unreported_skips += 1;
            return;
        }
        let lossy = if self.lossy {
            " (line holds invalid UTF-8)"
        } else {
            ""
        };
        out.skipped.push(SkippedLine {
            line_number: self.number,
            reason: format!("{reason}{lossy}"),
            torn: self.unterminated,
        });
    }
}

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

    /// The streaming reader gives the lines in chunks bounded by lines and by bytes, knows the
    /// thread id once the header is read, counts the bytes it read from the disk (compressed
    /// ones for a `.zst`), and notes a torn last line only at the end.
    #[test]
    fn the_reader_streams_chunks_and_counts_the_bytes_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{META}\n{MSG}\n\n{MSG}\n{MSG}\n{}", &MSG[..40]);
        let plain = dir.path().join("r.jsonl");
        std::fs::write(&plain, &text).unwrap();
        let packed = dir.path().join("r.jsonl.zst");
        std::fs::write(&packed, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        for path in [plain, packed] {
            let counter = Arc::new(AtomicU64::new(0));
            let mut reader = RolloutReader::open_counted(&path, Some(counter.clone())).unwrap();
            assert_eq!(reader.thread_id(), None, "nothing read yet");
            let first = reader.next_chunk(2, usize::MAX).unwrap();
            assert_eq!(first.len(), 2);
            assert_eq!(
                reader.thread_id(),
                Some("97b66f6c-a160-40e0-bd0f-1fdcbbb9498b".parse().unwrap())
            );
            // A byte bound of 1 ends the chunk after its first line.
            assert_eq!(reader.next_chunk(100, 1).unwrap().len(), 1);
            assert!(
                reader.notes().skipped.is_empty(),
                "the torn line is not read yet"
            );
            assert_eq!(reader.next_chunk(100, usize::MAX).unwrap().len(), 1);
            assert!(reader.next_chunk(100, usize::MAX).unwrap().is_empty());
            let notes = reader.into_notes();
            assert_eq!(notes.skipped.len(), 1);
            assert!(notes.skipped[0].torn);
            assert_eq!(notes.skipped[0].line_number, 6, "blank lines are numbered");
            let on_disk = std::fs::metadata(&path).unwrap().len();
            assert_eq!(
                counter.load(Ordering::Relaxed),
                on_disk,
                "{}",
                path.display()
            );
        }
    }

    /// A file of garbage cannot grow the report without bound: the first lines are listed, the
    /// rest counted.
    #[test]
    fn unreadable_lines_beyond_the_cap_are_counted() {
        let mut text = format!("{META}\n");
        for _ in 0..MAX_NOTED_LINES + 5 {
            text.push_str("not json\n");
        }
        text.push_str(MSG);
        text.push('\n');
        let parsed = parse_rollout(text, "garbage.jsonl");
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.skipped.len(), MAX_NOTED_LINES);
        assert_eq!(parsed.unreported_skips, 5);
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

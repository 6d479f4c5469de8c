//! Codex rollout files: read them in every format era, import them into any [`ThreadStore`], and
//! generate realistic ones for tests, benchmarks and the demo.
//!
//! Codex has written four shapes of rollout file (see `shared/fixtures/codex/SOURCES.md`):
//!
//! - **E0, legacy** (up to about Aug/Sep 2025): a bare header `{id, timestamp, instructions, git}`,
//!   `{"record_type":"state"}` markers and bare Responses API items, no envelopes.
//! - **E1, early envelope** (about 0.34): `{timestamp, type, payload}` lines, no `turn_context`.
//! - **E2, old envelope** (about 0.36–0.98): `turn_context` without `turn_id`, no task events.
//! - **E3, turn-id era** (0.104+): `task_started`/`task_complete`/`turn_aborted` carry `turn_id`.
//!
//! [`reader`] turns any of them into enveloped [`threadstore_api::RolloutLine`]s (E0 is converted,
//! see [`LEGACY_FORMAT_MARKER`]), [`import`] writes them into a store, [`home`] finds the files
//! and names of a Codex home and imports them with their archived state and names ([`journal`]
//! remembers the files a run finished), [`export`]
//! writes threads back in Codex's layout, and [`generate`] writes synthetic files of each era.
//!
//! [`ThreadStore`]: threadstore_api::ThreadStore

pub mod export;
pub mod generate;
pub mod home;
pub mod import;
pub mod journal;
mod pages;
pub mod reader;

pub use export::{
    all_thread_ids, codex_relative_path, export_thread, write_session_index, ExportError,
    ExportOptions, ExportedThread,
};
pub use generate::{generate_rollout, realistic_turn_items, write_rollout, GenSpec};
pub use home::{
    discover, import_source, import_source_with, read_session_index, Discovery, HomeError,
    ImportRun, ImportedSource, SessionNames, Source,
};
pub use import::{import_file, import_rollout, ImportError, ImportOptions, ImportReport};
pub use journal::{FileStamp, ImportJournal};
pub use reader::{
    parse_rollout, read_rollout, OrdinalError, ParsedRollout, ReadError, RolloutEra, RolloutReader,
    SkippedLine, MAX_NOTED_LINES,
};

/// The `(key, value)` added to the `session_meta` payload synthesized from an E0 legacy header.
///
/// E0 files have no `session_meta` line and no `user_message` events, so the turn reducer must open
/// implicit turns on `response_item` user messages instead (CONTRACT.md §3). The reader converts
/// the legacy header into a `session_meta` line whose payload is the header object plus
/// `"record_format": "legacy"`; the reducer checks for this field to know the stream is legacy.
pub const LEGACY_FORMAT_MARKER: (&str, &str) = ("record_format", "legacy");

//! Imports a parsed Codex rollout into any [`ThreadStore`], keeping the thread id, every line and
//! its original timestamp.
//!
//! The store derives all metadata (cwd, provider, model, preview, …) from the history itself, so
//! the importer passes only the thread id and the rollout path. Re-running an import is safe; when
//! the thread already exists (and has no live writer), its stored history is compared with the
//! file's lines:
//!
//! - it starts with every line of the file (perhaps followed by events written since, such as an
//!   archive or a rename): already imported, nothing is written;
//! - it is a shorter prefix of the file (an import cut short by a crash or a failed append, or a
//!   file that grew since): the thread is resumed and the missing lines are appended; the report
//!   says `finished`;
//! - anything else (a different thread with the same id): `Conflict`, nothing is written.
//!
//! **Reverts** (Codex's revert rollouts, `rollout-<ts>-<thread>_<revision>.jsonl`, whose header's
//! `history_base` ends at the reverted turn's first ordinal) are applied to the thread already in
//! the store: `revert_thread` before the first visible turn that starts at or after that ordinal
//! (recording the revision id), then the file's lines are appended. A revision already applied
//! (its revert recorded, or its header line in the history) is `already_imported`; a thread not
//! in the store yet is `InvalidRequest` naming the missing base (import the original first:
//! [`crate::home::discover`] lists revisions last). The original file of a reverted thread counts
//! as imported when its lines up to the first revert are there.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use threadstore_api::{
    AppendThreadItemsParams, ArchiveThreadParams, CreateThreadParams, DeleteThreadParams,
    ForkBoundary, ForkThreadParams, ListItemsParams, ReadThreadParams, ResumeThreadParams,
    RevertThreadParams, RolloutLine, SortDirection, StoredThread, ThreadId, ThreadStore,
    ThreadStoreError, ThreadStoreResult, ThreadWriter,
};
use tokio::sync::mpsc;

use threadstore_storage::projection::classify::{classify, ItemClass, FORK_BASE_FIELD, REVERTED};

use super::pages::StoredPages;
use super::reader::{
    OrdinalError, ParsedRollout, ReadError, RolloutEra, RolloutReader, SkippedLine,
};

/// How an import writes into the store.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Lines per store call (the create call carries the first chunk); 0 means the default, 256.
    /// Each call is atomic, so a crash mid-import leaves a prefix made of whole chunks.
    pub chunk_size: usize,
    /// A chunk also ends after the line that reaches this many bytes of JSON; 0 means the
    /// default, 4 MiB. With `chunk_size` it bounds what one file holds in memory.
    pub chunk_bytes: usize,
    /// Archive the thread after importing it (for files from Codex's `archived_sessions/`).
    pub archive: bool,
    /// Bytes read from the file on disk are added here as the import goes (progress).
    pub progress: Option<Arc<AtomicU64>>,
}

impl ImportOptions {
    /// Lines per store call, the default for 0.
    fn lines_per_chunk(&self) -> usize {
        match self.chunk_size {
            0 => DEFAULT_CHUNK_SIZE,
            n => n,
        }
    }

    /// Bytes of JSON per chunk, the default for 0.
    fn bytes_per_chunk(&self) -> usize {
        match self.chunk_bytes {
            0 => DEFAULT_CHUNK_BYTES,
            n => n,
        }
    }
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            archive: false,
            progress: None,
        }
    }
}

/// Lines per store call when [`ImportOptions::chunk_size`] is 0.
pub const DEFAULT_CHUNK_SIZE: usize = 256;

/// Bytes of JSON per store call when [`ImportOptions::chunk_bytes`] is 0.
pub const DEFAULT_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Chunks a file's reader thread may have read ahead of the store: the reading of the next
/// chunks overlaps the writing of this one (two cores busy), in bounded memory.
const READ_AHEAD_CHUNKS: usize = 2;

/// Stored items per page when the import compares a thread with its file.
const COMPARE_PAGE: usize = 50;

/// What an import did.
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The thread the rollout was imported as.
    pub thread_id: ThreadId,
    /// Number of items written by this call (0 when already imported; the missing lines when
    /// `finished`).
    pub items: u64,
    /// Lines of the file that could not be read (not imported): the first
    /// [`MAX_NOTED_LINES`](super::reader::MAX_NOTED_LINES).
    pub skipped: Vec<SkippedLine>,
    /// Unreadable lines beyond those listed in `skipped`.
    pub unreported_skips: usize,
    /// True when the thread already held every line of the file: nothing was written.
    pub already_imported: bool,
    /// True when the thread already held only the first lines of the file (an interrupted
    /// import, or a file that grew since): this call appended the rest (and archived the thread
    /// if asked to). `items` counts the lines appended.
    pub finished: bool,
    /// Format era of the file (of the lines read: a file recognized as already imported without
    /// being read to its end reports what its first lines showed).
    pub era: RolloutEra,
    /// Readable lines of the file seen by this import (all of them unless the import stopped
    /// early, e.g. at a conflict or a file recognized as already imported).
    pub lines_read: u64,
    /// Time of the last line read (see [`derived_change_time`]).
    pub last_line_at: Option<DateTime<Utc>>,
}

impl ImportReport {
    /// A report of nothing written yet for `thread_id`, a file of `era`.
    pub fn new(thread_id: ThreadId, era: RolloutEra) -> Self {
        Self {
            thread_id,
            items: 0,
            skipped: Vec::new(),
            unreported_skips: 0,
            already_imported: false,
            finished: false,
            era,
            lines_read: 0,
            last_line_at: None,
        }
    }
}

/// Why [`import_file`] failed: reading the file, or writing to the store.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read or decompressed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The store refused or failed a write.
    #[error(transparent)]
    Store(#[from] ThreadStoreError),
}

/// Streams a rollout file into the store (see [`import_rollout`] for what is written): a reader
/// thread parses the file a chunk at a time while the store writes the previous chunk, so memory
/// holds a few chunks ([`ImportOptions::chunk_size`] lines or [`ImportOptions::chunk_bytes`]
/// bytes each), whatever the file's size.
///
/// Differences with [`import_rollout`] that streaming brings: a line with a non-increasing
/// ordinal is found when its chunk is read; the thread this call created is then deleted
/// (nothing imported, as with a whole file), while a thread being finished keeps the lines it
/// had. The report's `era` is what the lines read showed.
pub async fn import_file(
    store: &dyn ThreadStore,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let mut lines = FileLines::stream(path, opts)?;
    let result = import_lines(store, &mut lines, opts).await;
    lines.finish(result).await
}

/// Imports a parsed rollout as one thread: creates it with the first chunk of lines as its
/// history, appends the rest in chunks with their original timestamps, then shuts the writer down.
///
/// The thread id is the file's own (`session_meta` or E0 header); failing that, the UUID at the end
/// of a Codex file name (`rollout-<time>-<uuid>.jsonl`), so re-imports still find the same
/// thread; failing that, a fresh id. If the thread already exists (with no live writer) its
/// history is compared with the file (see the module documentation), a page at a time: all there
/// is `already_imported`, a prefix is resumed and `finished`, anything else is `Conflict`. A live
/// writer is `Conflict` too. A rollout without any readable line is `InvalidRequest`, and so is
/// one with an ordinal that does not increase (see [`ParsedRollout::ordinal_errors`]; nothing is
/// written). If an append fails, the writer is discarded (what was written stays, and a re-run
/// finishes it) and the error is returned.
pub async fn import_rollout(
    store: &dyn ThreadStore,
    parsed: &ParsedRollout,
    opts: &ImportOptions,
) -> ThreadStoreResult<ImportReport> {
    if let Some(e) = parsed.ordinal_errors.first() {
        return Err(ordinal_refusal(
            &parsed.path,
            e,
            parsed.ordinal_errors.len(),
            "nothing was imported",
        ));
    }
    let mut lines = FileLines::parsed(parsed, opts);
    let result = import_lines(store, &mut lines, opts).await;
    match lines.finish(result).await {
        Ok(report) => Ok(report),
        Err(ImportError::Store(e)) => Err(e),
        Err(ImportError::Read(e)) => Err(ThreadStoreError::internal(e.to_string())),
    }
}

/// The refusal of a file whose ordinals do not increase.
fn ordinal_refusal(path: &Path, e: &OrdinalError, count: usize, outcome: &str) -> ThreadStoreError {
    ThreadStoreError::invalid(format!(
        "{}: line {} has ordinal {}, not greater than {} (the latest before it){}: a duplicate \
         or backwards ordinal means the file lost, repeated or reordered lines; {outcome}",
        path.display(),
        e.line_number,
        e.ordinal,
        e.previous,
        match count {
            0 | 1 => String::new(),
            n => format!(" ({} such lines in all)", n),
        }
    ))
}

/// What a file's reader thread sends.
enum FromReader {
    /// The next lines, with the thread id known so far and the first ordinal error so far.
    Chunk {
        lines: Vec<RolloutLine>,
        thread_id: Option<ThreadId>,
        era: RolloutEra,
        ordinal_error: Option<OrdinalError>,
    },
    /// The end of the file, with everything the reader noticed.
    End(Box<ParsedRollout>),
    /// The file could not be read further.
    Failed(ReadError),
}

/// Where the lines come from.
enum Origin<'a> {
    /// A file read whole.
    Parsed(std::slice::Iter<'a, RolloutLine>),
    /// A reader thread streaming the file.
    Streamed {
        rx: mpsc::Receiver<FromReader>,
        reader: Option<tokio::task::JoinHandle<()>>,
    },
}

/// The lines of the file being imported, in order, a chunk at a time, with what the import
/// needs to know about them as they come (the thread id, ordinal errors, how many were read).
struct FileLines<'a> {
    origin: Origin<'a>,
    path: PathBuf,
    /// Lines read from the origin and not yet taken.
    buffered: VecDeque<RolloutLine>,
    ended: bool,
    chunk_size: usize,
    thread_id: Option<ThreadId>,
    /// The era the lines read so far show.
    era: RolloutEra,
    /// Lines taken so far.
    taken: u64,
    last_at: Option<DateTime<Utc>>,
    /// The reader's notes, once the file has ended (or the parsed file's).
    notes: Option<Box<ParsedRollout>>,
    /// A non-increasing ordinal was read: the import stops before writing its chunk.
    refused: bool,
    /// This import created the thread (and deletes it if the file turns out to be refused).
    created: Option<ThreadId>,
}

impl<'a> FileLines<'a> {
    fn parsed(parsed: &'a ParsedRollout, opts: &ImportOptions) -> Self {
        let notes = parsed.clone_notes();
        Self {
            origin: Origin::Parsed(parsed.lines.iter()),
            path: parsed.path.clone(),
            buffered: VecDeque::new(),
            ended: false,
            chunk_size: opts.lines_per_chunk(),
            thread_id: parsed.thread_id,
            era: parsed.era,
            taken: 0,
            last_at: None,
            notes: Some(Box::new(notes)),
            refused: false,
            created: None,
        }
    }

    /// Starts a reader thread on the file.
    fn stream(path: &Path, opts: &ImportOptions) -> Result<Self, ReadError> {
        let mut reader = RolloutReader::open_counted(path, opts.progress.clone())?;
        let (chunk_size, chunk_bytes) = (opts.lines_per_chunk(), opts.bytes_per_chunk());
        let (tx, rx) = mpsc::channel(READ_AHEAD_CHUNKS);
        let handle = tokio::task::spawn_blocking(move || loop {
            let message = match reader.next_chunk(chunk_size, chunk_bytes) {
                Ok(lines) if lines.is_empty() => {
                    FromReader::End(Box::new(reader.notes().clone_notes()))
                }
                Ok(lines) => FromReader::Chunk {
                    lines,
                    thread_id: reader.thread_id(),
                    era: reader.notes().era,
                    ordinal_error: reader.notes().ordinal_errors.first().copied(),
                },
                Err(e) => FromReader::Failed(e),
            };
            let last = !matches!(message, FromReader::Chunk { .. });
            // A closed channel: the import stopped early (conflict, already imported).
            if tx.blocking_send(message).is_err() || last {
                return;
            }
        });
        Ok(Self {
            origin: Origin::Streamed {
                rx,
                reader: Some(handle),
            },
            path: path.to_path_buf(),
            buffered: VecDeque::new(),
            ended: false,
            chunk_size,
            thread_id: None,
            era: RolloutEra::E1EarlyEnvelope,
            taken: 0,
            last_at: None,
            notes: None,
            refused: false,
            created: None,
        })
    }

    /// Reads the next chunk from the origin into `buffered`; false at the end.
    async fn fill(&mut self) -> Result<bool, ImportError> {
        if self.ended {
            return Ok(false);
        }
        match &mut self.origin {
            Origin::Parsed(iter) => {
                let before = self.buffered.len();
                self.buffered
                    .extend(iter.by_ref().take(self.chunk_size).cloned());
                if self.buffered.len() == before {
                    self.ended = true;
                    return Ok(false);
                }
                Ok(true)
            }
            Origin::Streamed { rx, .. } => match rx.recv().await {
                Some(FromReader::Chunk {
                    lines,
                    thread_id,
                    era,
                    ordinal_error,
                }) => {
                    if self.thread_id.is_none() {
                        self.thread_id = thread_id;
                    }
                    self.era = era;
                    if let Some(e) = ordinal_error {
                        self.refused = true;
                        self.ended = true;
                        let outcome = if self.taken == 0 || self.created.is_some() {
                            "nothing was imported"
                        } else {
                            "the lines before it that the store held are kept; nothing else was imported"
                        };
                        return Err(ordinal_refusal(&self.path, &e, 1, outcome).into());
                    }
                    self.buffered.extend(lines);
                    Ok(true)
                }
                Some(FromReader::End(notes)) => {
                    if self.thread_id.is_none() {
                        self.thread_id = notes.thread_id;
                    }
                    self.era = notes.era;
                    self.notes = Some(notes);
                    self.ended = true;
                    Ok(false)
                }
                Some(FromReader::Failed(e)) => {
                    self.ended = true;
                    Err(e.into())
                }
                None => {
                    self.ended = true;
                    Err(ThreadStoreError::internal(format!(
                        "reading {} stopped unexpectedly",
                        self.path.display()
                    ))
                    .into())
                }
            },
        }
    }

    /// The next line, if any.
    async fn next(&mut self) -> Result<Option<RolloutLine>, ImportError> {
        if self.buffered.is_empty() && !self.fill().await? {
            return Ok(None);
        }
        Ok(self.buffered.pop_front().inspect(|line| self.took(line)))
    }

    /// The next line, left in place.
    async fn peek(&mut self) -> Result<Option<&RolloutLine>, ImportError> {
        if self.buffered.is_empty() && !self.fill().await? {
            return Ok(None);
        }
        Ok(self.buffered.front())
    }

    /// The next chunk of lines (empty at the end).
    async fn next_chunk(&mut self) -> Result<Vec<RolloutLine>, ImportError> {
        if self.buffered.is_empty() && !self.fill().await? {
            return Ok(Vec::new());
        }
        let n = self.buffered.len().min(self.chunk_size.max(1));
        let chunk: Vec<RolloutLine> = self.buffered.drain(..n).collect();
        self.taken += chunk.len() as u64;
        if let Some(last) = chunk.last() {
            self.last_at = Some(last.timestamp);
        }
        Ok(chunk)
    }

    fn took(&mut self, line: &RolloutLine) {
        self.taken += 1;
        self.last_at = Some(line.timestamp);
    }

    /// Puts taken lines back in front (a create refused because the thread exists: its first
    /// chunk is compared with the stored thread instead).
    fn unread(&mut self, chunk: Vec<RolloutLine>) {
        self.taken -= chunk.len() as u64;
        for line in chunk.into_iter().rev() {
            self.buffered.push_front(line);
        }
    }

    /// Reads the rest of the file, counting its lines (to know its length).
    async fn skip_to_end(&mut self) -> Result<(), ImportError> {
        while !self.next_chunk().await?.is_empty() {}
        Ok(())
    }

    /// Ends the import: the reader thread is stopped and waited for; the report gets what the
    /// reader noticed.
    async fn finish(
        mut self,
        result: Result<ImportReport, ImportError>,
    ) -> Result<ImportReport, ImportError> {
        if let Origin::Streamed { rx, reader } = &mut self.origin {
            rx.close();
            while rx.recv().await.is_some() {}
            if let Some(handle) = reader.take() {
                let _ = handle.await;
            }
        }
        let mut report = result?;
        if let Some(notes) = &self.notes {
            report.skipped = notes.skipped.clone();
            report.unreported_skips = notes.unreported_skips;
            report.era = notes.era;
        }
        report.lines_read = self.taken;
        report.last_line_at = self.last_at;
        Ok(report)
    }
}

/// Imports the file's lines (see [`import_rollout`]); a file refused for a non-increasing
/// ordinal leaves no thread this call created.
async fn import_lines(
    store: &dyn ThreadStore,
    lines: &mut FileLines<'_>,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let result = import_thread(store, lines, opts).await;
    if result.is_err() && lines.refused {
        if let Some(thread_id) = lines.created {
            let _ = store.discard_thread(thread_id).await;
            store
                .delete_thread(DeleteThreadParams::new(thread_id))
                .await?;
        }
    }
    result
}

async fn import_thread(
    store: &dyn ThreadStore,
    lines: &mut FileLines<'_>,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let Some(header) = lines.peek().await?.cloned() else {
        return Err(ThreadStoreError::invalid(format!(
            "rollout {} has no readable line to import",
            lines.path.display()
        ))
        .into());
    };
    let thread_id = lines
        .thread_id
        .or_else(|| id_from_file_name(&lines.path))
        .unwrap_or_else(ThreadId::new);
    let mut report = ImportReport::new(thread_id, lines.era);
    let revision = revision_of(&header, &lines.path, lines.thread_id);
    if revision.is_none() {
        if let Some(fork) = fork_of_header(&header) {
            import_fork(store, lines, &fork, &mut report).await?;
            if opts.archive && !report.already_imported {
                store.archive_thread(archiving(lines, thread_id)).await?;
            }
            return Ok(report);
        }
    }
    if revision.is_some() && existing(store, thread_id).await.is_none() {
        // A revert of a thread the store does not hold: its base is missing.
        return Err(ThreadStoreError::invalid(format!(
            "{} reverts thread {thread_id}, which is not in the store: import its original rollout first; nothing was imported",
            lines.path.display()
        ))
        .into());
    }
    let first = lines.next_chunk().await?;
    let created = store
        .create_thread(CreateThreadParams {
            thread_id: Some(thread_id),
            rollout_path: Some(lines.path.clone()),
            history: first.clone(),
            ..Default::default()
        })
        .await;
    match created {
        Ok(writer) => {
            lines.created = Some(thread_id);
            report.items = first.len() as u64;
            report.items += append_rest(store, &writer, lines).await?;
        }
        Err(conflict @ ThreadStoreError::Conflict { .. }) => {
            lines.unread(first);
            let Some(thread) = existing(store, thread_id).await.filter(|t| !t.live) else {
                return Err(conflict.into());
            };
            if let Some(revision) = revision {
                import_revision(store, lines, &revision, &mut report).await?;
                if opts.archive && thread.archived_at.is_none() && !report.already_imported {
                    store.archive_thread(archiving(lines, thread_id)).await?;
                }
                return Ok(report);
            }
            match compare_from(store, thread_id, 0, true, lines).await? {
                Relation::Differs(i) => {
                    return Err(ThreadStoreError::Conflict {
                        message: format!(
                            "thread {thread_id} is already in the store with other contents: its item at position {i} differs from readable line {} of {} (a different thread with the same id?); nothing was written",
                            i + 1,
                            lines.path.display(),
                        ),
                        actual_position: None,
                    }
                    .into())
                }
                Relation::Whole => {
                    if !opts.archive || thread.archived_at.is_some() {
                        report.already_imported = true;
                        return Ok(report);
                    }
                    lines.skip_to_end().await?;
                    if thread.item_count != lines.taken {
                        report.already_imported = true;
                        return Ok(report);
                    }
                    // Every line is there but the archive that ends an import of an archived
                    // file is not (the import stopped right before it).
                    report.finished = true;
                }
                Relation::Prefix(stored) => {
                    let writer = resume(store, thread_id).await?;
                    if writer.next_position != stored {
                        // Written to between the comparison and the resume: compare again later.
                        let _ = store.discard_thread(thread_id).await;
                        return Err(ThreadStoreError::Conflict {
                            message: format!(
                                "thread {thread_id} changed while its interrupted import of {} was being finished; run the import again",
                                lines.path.display()
                            ),
                            actual_position: Some(writer.next_position),
                        }
                        .into());
                    }
                    report.items = append_rest(store, &writer, lines).await?;
                    report.finished = true;
                }
            }
        }
        Err(e) => return Err(e.into()),
    }
    if opts.archive {
        store.archive_thread(archiving(lines, thread_id)).await?;
    }
    Ok(report)
}

/// When a change the import derives happened (the archiving of a file in `archived_sessions/`,
/// a name from `session_index.jsonl`): at the latest by the file's last line. Codex records no
/// time for either; the import's own time would make every such thread look just updated.
pub(crate) fn derived_change_time(report: &ImportReport) -> Option<DateTime<Utc>> {
    report.last_line_at
}

/// The archiving of a thread whose file lies in `archived_sessions/`, at the time of the file's
/// last line (see [`derived_change_time`]; the file has been read to its end).
fn archiving(lines: &FileLines<'_>, thread_id: ThreadId) -> ArchiveThreadParams {
    ArchiveThreadParams {
        thread_id,
        at: lines.last_at,
    }
}

/// Appends the file's remaining lines a chunk at a time with the writer `writer`, then shuts
/// the writer down; returns the number of items appended. On a failed read or append the writer
/// is discarded.
async fn append_rest(
    store: &dyn ThreadStore,
    writer: &ThreadWriter,
    lines: &mut FileLines<'_>,
) -> Result<u64, ImportError> {
    let thread_id = writer.thread_id;
    let mut next_position = writer.next_position;
    let mut items = 0;
    loop {
        let chunk = match lines.next_chunk().await {
            Ok(chunk) if chunk.is_empty() => break,
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = store.discard_thread(thread_id).await;
                return Err(e);
            }
        };
        let mut params = AppendThreadItemsParams {
            thread_id,
            items: Vec::with_capacity(chunk.len()),
            timestamps: Vec::with_capacity(chunk.len()),
            ordinals: Vec::with_capacity(chunk.len()),
            expected_position: Some(next_position),
            request_id: None,
            writer_epoch: Some(writer.epoch),
        };
        for line in chunk {
            params.items.push(line.item);
            params.timestamps.push(line.timestamp);
            params.ordinals.push(line.ordinal);
        }
        match store.append_items(params).await {
            Ok(result) => {
                next_position = result.next_position();
                items += result.item_count;
            }
            Err(e) => {
                // Release the writer so a later resume or re-import is not blocked; keep the
                // original error, which says more than a failed release would.
                let _ = store.discard_thread(thread_id).await;
                return Err(e.into());
            }
        }
    }
    store.shutdown_thread(thread_id).await?;
    Ok(items)
}

/// How the stored history, from its item `from` on, relates to the file's lines.
enum Relation {
    /// It holds every line of the file (perhaps followed by later events).
    Whole,
    /// It holds this many first lines of the file and nothing else; the file's lines are
    /// positioned right after them.
    Prefix(u64),
    /// Its item `from + i` differs from the file's line `i` (0-based).
    Differs(u64),
}

/// Compares the thread's stored history from its item `from` (0-based, in history order) with
/// the file's lines, a page at a time, consuming the lines it matches. With `stop_at_revert`, a
/// revert met after matching lines means the file is there whole: the thread's lines up to the
/// first revert are this file's, the rest were hidden by the revert (they stay in the log) or
/// came from revert rollouts.
async fn compare_from(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
    from: u64,
    stop_at_revert: bool,
    lines: &mut FileLines<'_>,
) -> Result<Relation, ImportError> {
    let mut stored = StoredPages::new(thread_id, COMPARE_PAGE);
    let mut matched = 0;
    loop {
        let Some(item) = stored.next(store).await? else {
            return Ok(if lines.peek().await?.is_none() {
                Relation::Whole
            } else {
                Relation::Prefix(matched)
            });
        };
        if stored.index <= from {
            continue;
        }
        if stop_at_revert && revert_marker(&item.line).is_some() {
            return Ok(Relation::Whole);
        }
        match lines.peek().await? {
            None => return Ok(Relation::Whole),
            Some(line) if *line == item.line => {
                lines.next().await?;
                matched += 1;
            }
            Some(_) => return Ok(Relation::Differs(matched)),
        }
    }
}

/// A Codex revert rollout: `rollout-<ts>-<thread>_<revision>.jsonl` with a `history_base`.
struct Revision {
    /// The revision's rollout id (the file name's last UUID).
    id: String,
    /// The first ordinal the revert hides (`history_base.end_ordinal_exclusive`).
    end_ordinal: u64,
}

/// The revision a rollout is, if it is one (see [`Revision`]): judged from its first line, its
/// path and its thread id.
fn revision_of(header: &RolloutLine, path: &Path, thread: Option<ThreadId>) -> Option<Revision> {
    if header.item.kind() != threadstore_api::item::kinds::SESSION_META {
        return None;
    }
    let end_ordinal = header
        .item
        .payload_value()
        .get("history_base")?
        .get("end_ordinal_exclusive")?
        .as_u64()?;
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    let (head, revision) = stem.rsplit_once('_')?;
    let thread = thread?;
    if !head.ends_with(&thread.to_string()) || revision.parse::<ThreadId>().is_err() {
        return None;
    }
    Some(Revision {
        id: revision.to_owned(),
        end_ordinal,
    })
}

/// A Codex paginated fork (`thread/fork`, `codex exec fork`): a rollout whose header has
/// `forked_from_id`, `forked_from_ordinal_exclusive` equal to its own ordinal, and `history_base`
/// naming the rollout whose prefix it continues (the parent's original rollout, or one of its
/// revert rollouts) and the end of that prefix. Its lines are the fork's own; the prefix is read
/// from the parent by reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForkFile {
    /// The thread forked.
    pub parent: ThreadId,
    /// The rollout whose prefix the fork continues: the parent's id (its original rollout) or a
    /// revision id (one of its revert rollouts).
    pub base_rollout: String,
    /// The prefix is the base rollout's lines with a smaller ordinal.
    pub end_ordinal: u64,
    /// A fork threadstore made (its header's `threadstore_fork_base`, exported): the prefix is
    /// the parent's lines below this position instead.
    pub end_position: Option<u64>,
}

/// The fork a rollout's first line says the rollout is (see [`ForkFile`]).
pub fn fork_of_header(header: &RolloutLine) -> Option<ForkFile> {
    if header.item.kind() != threadstore_api::item::kinds::SESSION_META {
        return None;
    }
    let payload = header.item.payload_value();
    if let Some(base) = payload.get(FORK_BASE_FIELD) {
        let parent: ThreadId = base.get("thread_id")?.as_str()?.parse().ok()?;
        return Some(ForkFile {
            parent,
            base_rollout: parent.to_string(),
            end_ordinal: 0,
            end_position: Some(base.get("end_position")?.as_u64()?),
        });
    }
    let at = payload.get("forked_from_ordinal_exclusive")?.as_u64()?;
    if header.ordinal != Some(at) {
        return None;
    }
    let parent = payload.get("forked_from_id")?.as_str()?.parse().ok()?;
    let base = payload.get("history_base")?;
    Some(ForkFile {
        parent,
        base_rollout: base.get("thread_id")?.as_str()?.to_owned(),
        end_ordinal: base.get("end_ordinal_exclusive")?.as_u64()?,
        end_position: None,
    })
}

/// Imports a Codex fork as a fork by reference (see [`ForkFile`]): `fork_thread` of the parent
/// where the base's prefix ends (before the first turn that starts at or after the end ordinal,
/// or at the parent's end), with the file's header as the fork's first line, then the file's
/// other lines. Already imported (its header in its history, followed by its lines): nothing or
/// the missing lines are written. The parent must be in the store in the state the base names:
/// its original (not reverted since) or the revision named; else `InvalidRequest` naming what is
/// missing, and nothing is written.
async fn import_fork(
    store: &dyn ThreadStore,
    lines: &mut FileLines<'_>,
    fork: &ForkFile,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let thread_id = report.thread_id;
    if existing(store, thread_id).await.is_some_and(|t| !t.live) {
        let header = lines.peek().await?.cloned();
        // Where the fork's own lines start: its header, the last one in its history.
        let mut stored = StoredPages::new(thread_id, COMPARE_PAGE);
        let mut at = None;
        while let Some(item) = stored.next(store).await? {
            if Some(&item.line) == header.as_ref() {
                at = Some(stored.index - 1);
            }
        }
        let Some(at) = at else {
            return Err(ThreadStoreError::Conflict {
                message: format!(
                    "thread {thread_id} is already in the store without the fork header of {}; nothing was written",
                    lines.path.display()
                ),
                actual_position: None,
            }
            .into());
        };
        match compare_from(store, thread_id, at, false, lines).await? {
            Relation::Differs(i) => {
                return Err(ThreadStoreError::Conflict {
                    message: format!(
                        "fork {thread_id} is in the store with other contents: line {} of {} differs; nothing was written",
                        i + 1,
                        lines.path.display()
                    ),
                    actual_position: None,
                }
                .into())
            }
            Relation::Whole => report.already_imported = true,
            Relation::Prefix(_) => {
                let writer = resume(store, thread_id).await?;
                report.items = append_rest(store, &writer, lines).await?;
                report.finished = true;
            }
        }
        return Ok(());
    }
    let at = match fork.end_position {
        Some(p) => format!("position {p}"),
        None => format!("ordinal {}", fork.end_ordinal),
    };
    let path = lines.path.clone();
    let missing = |what: String| {
        ImportError::from(ThreadStoreError::invalid(format!(
            "{} forks thread {} at {at}, {what}; nothing was imported",
            path.display(),
            fork.parent,
        )))
    };
    if existing(store, fork.parent).await.is_none_or(|t| t.live) {
        return Err(missing(
            "which is not in the store (or has a live writer): import it first".into(),
        ));
    }
    let boundary = match fork.end_position {
        Some(end) => cut_at_position(store, fork.parent, end).await?,
        None => cut_at_ordinal(store, fork).await?,
    }
    .map_err(missing)?;
    let header = lines.next().await?;
    let writer = store
        .fork_thread(ForkThreadParams {
            new_thread_id: Some(thread_id),
            rollout_path: Some(lines.path.clone()),
            header,
            ..ForkThreadParams::new(fork.parent, boundary)
        })
        .await?;
    lines.created = Some(thread_id);
    report.items = 1 + append_rest(store, &writer, lines).await?;
    Ok(())
}

/// Where a Codex fork's prefix ends in its parent as the store holds it (see [`import_fork`]);
/// `Err` says why the store cannot express it. The parent is read a page at a time.
async fn cut_at_ordinal(
    store: &dyn ThreadStore,
    fork: &ForkFile,
) -> ThreadStoreResult<Result<ForkBoundary, String>> {
    let mut parent = StoredPages::new(fork.parent, COMPARE_PAGE);
    let mut reverts: Vec<String> = Vec::new();
    // The cut: before the first turn that starts at or after the end ordinal; no other line of
    // the parent may come after it.
    let mut cut: Option<RolloutLine> = None;
    while let Some(item) = parent.next(store).await? {
        reverts.extend(revert_marker(&item.line));
        if cut.is_none() && item.line.ordinal.is_some_and(|o| o >= fork.end_ordinal) {
            cut = Some(item.line);
        }
    }
    if fork.base_rollout == fork.parent.to_string() {
        if !reverts.is_empty() {
            return Ok(Err(
                "from its original rollout, which a revert rollout imported before the fork has changed since: import forks before the reverts of their parent".into(),
            ));
        }
    } else if reverts.last() != Some(&fork.base_rollout) {
        return Ok(Err(format!(
            "in its revert rollout {}, which is not the parent's latest revision in the store: import that revision first",
            fork.base_rollout
        )));
    }
    Ok(boundary_before(cut.as_ref()))
}

/// Where a threadstore fork's prefix ends: at position `end` of the parent, which must be the
/// parent's end or the start of a turn, with no revert after it (the parent's lines from `end`
/// on are read newest first, a page at a time).
async fn cut_at_position(
    store: &dyn ThreadStore,
    parent: ThreadId,
    end: u64,
) -> ThreadStoreResult<Result<ForkBoundary, String>> {
    let mut first_after: Option<RolloutLine> = None;
    let mut reverted = false;
    let mut cursor = None;
    loop {
        let page = store
            .list_items(ListItemsParams {
                include_archived: true,
                cursor,
                page_size: threadstore_api::MAX_PAGE_SIZE,
                sort_direction: SortDirection::Desc,
                ..ListItemsParams::new(parent)
            })
            .await?;
        let done = page.items.iter().any(|i| i.position < end);
        for item in page.items.into_iter().filter(|i| i.position >= end) {
            reverted |= revert_marker(&item.line).is_some();
            first_after = Some(item.line);
        }
        match page.next_cursor {
            Some(c) if !done => cursor = Some(c),
            _ => break,
        }
    }
    if reverted {
        return Ok(Err(format!(
            "at position {end}, which a revert of the parent has changed since"
        )));
    }
    Ok(boundary_before(first_after.as_ref()))
}

/// The boundary before `first`, the parent's first line after the prefix: `Latest` when there is
/// none, `BeforeTurn` when it starts a turn.
fn boundary_before(first: Option<&RolloutLine>) -> Result<ForkBoundary, String> {
    let Some(line) = first else {
        return Ok(ForkBoundary::Latest);
    };
    match classify(line.item.kind(), line.item.payload_json()) {
        ItemClass::TurnStarted {
            turn_id: Some(turn),
            ..
        } => Ok(ForkBoundary::BeforeTurn(turn)),
        _ => Err(format!(
            "inside the parent's history (its line {} after the prefix starts no turn), which a fork by reference cannot express",
            line.ordinal.map(|o| format!("at ordinal {o}")).unwrap_or_default()
        )),
    }
}

/// The revision recorded by a revert event line (`Some("")` for a revert without one).
pub(crate) fn revert_marker(line: &RolloutLine) -> Option<String> {
    if line.item.kind() != threadstore_api::item::kinds::EVENT_MSG {
        return None;
    }
    let payload = line.item.payload_value();
    (payload.get("type").and_then(|t| t.as_str()) == Some(REVERTED)).then(|| {
        payload
            .get("revision")
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_owned()
    })
}

/// Applies a revert rollout to its thread (see the module docs).
async fn import_revision(
    store: &dyn ThreadStore,
    lines: &mut FileLines<'_>,
    revision: &Revision,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let thread_id = report.thread_id;
    let header = lines.peek().await?.cloned();
    let (mut header_at, mut recorded, mut first_reverted) = (None, false, None);
    let mut stored = StoredPages::new(thread_id, COMPARE_PAGE);
    while let Some(item) = stored.next(store).await? {
        let line = &item.line;
        if header_at.is_none() && Some(line) == header.as_ref() {
            header_at = Some(stored.index - 1);
        }
        recorded |= revert_marker(line).as_deref() == Some(revision.id.as_str());
        if first_reverted.is_none() && line.ordinal.is_some_and(|o| o >= revision.end_ordinal) {
            if let ItemClass::TurnStarted { turn_id, .. } =
                classify(line.item.kind(), line.item.payload_json())
            {
                first_reverted = turn_id;
            }
        }
    }
    match header_at {
        // Applied: its lines follow its header; finish them if an import stopped half-way.
        Some(at) => match compare_from(store, thread_id, at, false, lines).await? {
            Relation::Differs(i) => {
                return Err(ThreadStoreError::Conflict {
                    message: format!(
                        "thread {thread_id} holds revision {} with other contents: line {} of {} differs; nothing was written",
                        revision.id,
                        i + 1,
                        lines.path.display()
                    ),
                    actual_position: None,
                }
                .into());
            }
            Relation::Whole => {
                report.already_imported = true;
                return Ok(());
            }
            Relation::Prefix(_) => report.finished = true,
        },
        // Applied, and hidden since by a later revert.
        None if recorded => {
            report.already_imported = true;
            return Ok(());
        }
        None => {
            if let Some(turn) = first_reverted {
                store
                    .revert_thread(RevertThreadParams {
                        revision: Some(revision.id.clone()),
                        ..RevertThreadParams::new(thread_id, turn)
                    })
                    .await?;
            }
        }
    }
    let writer = resume(store, thread_id).await?;
    report.items = append_rest(store, &writer, lines).await?;
    Ok(())
}

/// A writer for the thread (archived or not), to append the lines its file has beyond it.
async fn resume(store: &dyn ThreadStore, thread_id: ThreadId) -> ThreadStoreResult<ThreadWriter> {
    store
        .resume_thread(ResumeThreadParams {
            thread_id,
            include_archived: true,
        })
        .await
}

/// The thread, when it exists (active or archived).
async fn existing(store: &dyn ThreadStore, thread_id: ThreadId) -> Option<StoredThread> {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .ok()
}

/// The UUID Codex puts at the end of a rollout file name: `rollout-<time>-<uuid>.jsonl[.zst]`.
fn id_from_file_name(path: &Path) -> Option<ThreadId> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    let start = stem.len().checked_sub(36)?;
    stem.get(start..)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_from_codex_file_names() {
        let id = id_from_file_name(Path::new(
            "/x/rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl.zst",
        ));
        assert_eq!(
            id,
            Some("97b66f6c-a160-40e0-bd0f-1fdcbbb9498b".parse().unwrap())
        );
        assert_eq!(id_from_file_name(Path::new("session.jsonl")), None);
        assert_eq!(id_from_file_name(Path::new("")), None);
    }
}

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

use std::path::Path;

use chrono::{DateTime, Utc};
use threadstore_api::{
    AppendThreadItemsParams, ArchiveThreadParams, CreateThreadParams, ForkBoundary,
    ForkThreadParams, LoadThreadHistoryParams, ReadThreadParams, ResumeThreadParams,
    RevertThreadParams, RolloutLine, StoredThread, ThreadId, ThreadStore, ThreadStoreError,
    ThreadStoreResult, ThreadWriter,
};

use threadstore_storage::projection::classify::{classify, ItemClass, FORK_BASE_FIELD, REVERTED};

use super::reader::{read_rollout, ParsedRollout, ReadError, RolloutEra, SkippedLine};

/// How an import writes into the store.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Lines per store call (the create call carries the first chunk); 0 means the default, 256.
    /// Each call is atomic, so a crash mid-import leaves a prefix made of whole chunks.
    pub chunk_size: usize,
    /// Archive the thread after importing it (for files from Codex's `archived_sessions/`).
    pub archive: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            archive: false,
        }
    }
}

/// Lines per store call when [`ImportOptions::chunk_size`] is 0.
pub const DEFAULT_CHUNK_SIZE: usize = 256;

/// What an import did.
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The thread the rollout was imported as.
    pub thread_id: ThreadId,
    /// Number of items written by this call (0 when already imported; the missing lines when
    /// `finished`).
    pub items: u64,
    /// Lines of the file that could not be read (not imported).
    pub skipped: Vec<SkippedLine>,
    /// True when the thread already held every line of the file: nothing was written.
    pub already_imported: bool,
    /// True when the thread already held only the first lines of the file (an interrupted
    /// import, or a file that grew since): this call appended the rest (and archived the thread
    /// if asked to). `items` counts the lines appended.
    pub finished: bool,
    /// Format era of the file.
    pub era: RolloutEra,
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

/// Reads a rollout file and imports it; see [`import_rollout`].
pub async fn import_file(
    store: &dyn ThreadStore,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let parsed = read_rollout(path)?;
    Ok(import_rollout(store, &parsed, opts).await?)
}

/// Imports a parsed rollout as one thread: creates it with the first chunk of lines as its
/// history, appends the rest in chunks with their original timestamps, then shuts the writer down.
///
/// The thread id is the file's own (`session_meta` or E0 header); failing that, the UUID at the end
/// of a Codex file name (`rollout-<time>-<uuid>.jsonl`), so re-imports still find the same
/// thread; failing that, a fresh id. If the thread already exists (with no live writer) its
/// history is compared with the file (see the module documentation): all there is
/// `already_imported`, a prefix is resumed and `finished`, anything else is `Conflict`. A live
/// writer is `Conflict` too. A rollout without any readable line is `InvalidRequest`, and so is
/// one with an ordinal that does not increase (see [`ParsedRollout::ordinal_errors`]; nothing is
/// written). If an append
/// fails, the writer is discarded (what was written stays, and a re-run finishes it) and the
/// error is returned.
pub async fn import_rollout(
    store: &dyn ThreadStore,
    parsed: &ParsedRollout,
    opts: &ImportOptions,
) -> ThreadStoreResult<ImportReport> {
    if let Some(e) = parsed.ordinal_errors.first() {
        return Err(ThreadStoreError::invalid(format!(
            "{}: line {} has ordinal {}, not greater than {} (the latest before it){}: a duplicate \
             or backwards ordinal means the file lost, repeated or reordered lines; nothing was imported",
            parsed.path.display(),
            e.line_number,
            e.ordinal,
            e.previous,
            match parsed.ordinal_errors.len() {
                1 => String::new(),
                n => format!(" ({} such lines in all)", n),
            }
        )));
    }
    let thread_id = parsed
        .thread_id
        .or_else(|| id_from_file_name(&parsed.path))
        .unwrap_or_else(ThreadId::new);
    let mut report = ImportReport {
        thread_id,
        items: 0,
        skipped: parsed.skipped.clone(),
        already_imported: false,
        finished: false,
        era: parsed.era,
    };
    if parsed.lines.is_empty() {
        return Err(ThreadStoreError::invalid(format!(
            "rollout {} has no readable line to import",
            parsed.path.display()
        )));
    }
    let chunk_size = if opts.chunk_size == 0 {
        DEFAULT_CHUNK_SIZE
    } else {
        opts.chunk_size
    };
    let (first, rest) = parsed.lines.split_at(chunk_size.min(parsed.lines.len()));

    if let Some(fork) = fork_of(parsed) {
        import_fork(store, parsed, &fork, chunk_size, &mut report).await?;
        if opts.archive && !report.already_imported {
            store.archive_thread(archiving(parsed, thread_id)).await?;
        }
        return Ok(report);
    }
    if revision_of(parsed).is_some() {
        // A revert of a thread the store does not hold: its base is missing.
        let exists = store
            .read_thread(ReadThreadParams {
                thread_id,
                include_archived: true,
                include_history: false,
            })
            .await
            .is_ok();
        if !exists {
            return Err(ThreadStoreError::invalid(format!(
                "{} reverts thread {thread_id}, which is not in the store: import its original rollout first; nothing was imported",
                parsed.path.display()
            )));
        }
    }
    let created = store
        .create_thread(CreateThreadParams {
            thread_id: Some(thread_id),
            rollout_path: Some(parsed.path.clone()),
            history: first.to_vec(),
            ..Default::default()
        })
        .await;
    match created {
        Ok(writer) => {
            report.items = first.len() as u64;
            report.items += append_rest(store, &writer, rest, chunk_size).await?;
        }
        Err(conflict @ ThreadStoreError::Conflict { .. }) => {
            let Some(thread) = existing_without_writer(store, thread_id).await else {
                return Err(conflict);
            };
            if let Some(revision) = revision_of(parsed) {
                import_revision(store, parsed, &revision, chunk_size, &mut report).await?;
                if opts.archive && thread.archived_at.is_none() && !report.already_imported {
                    store.archive_thread(archiving(parsed, thread_id)).await?;
                }
                return Ok(report);
            }
            match compare_with_file(store, thread_id, parsed).await? {
                Stored::Whole => {
                    if opts.archive
                        && thread.archived_at.is_none()
                        && thread.item_count == parsed.lines.len() as u64
                    {
                        // Every line is there but the archive that ends an import of an
                        // archived file is not (the import stopped right before it).
                        report.finished = true;
                    } else {
                        report.already_imported = true;
                        return Ok(report);
                    }
                }
                Stored::Prefix(stored) => {
                    let writer = store
                        .resume_thread(ResumeThreadParams {
                            thread_id,
                            include_archived: true,
                        })
                        .await?;
                    if writer.next_position != stored as u64 {
                        // Written to between the comparison and the resume: compare again later.
                        let _ = store.discard_thread(thread_id).await;
                        return Err(ThreadStoreError::Conflict {
                            message: format!(
                                "thread {thread_id} changed while its interrupted import of {} was being finished; run the import again",
                                parsed.path.display()
                            ),
                            actual_position: Some(writer.next_position),
                        });
                    }
                    let rest = parsed.lines.get(stored..).unwrap_or_default();
                    report.items = append_rest(store, &writer, rest, chunk_size).await?;
                    report.finished = true;
                }
            }
        }
        Err(e) => return Err(e),
    }
    if opts.archive {
        store.archive_thread(archiving(parsed, thread_id)).await?;
    }
    Ok(report)
}

/// When a change the import derives happened (the archiving of a file in `archived_sessions/`,
/// a name from `session_index.jsonl`): at the latest by the file's last line. Codex records no
/// time for either; the import's own time would make every such thread look just updated.
pub(crate) fn derived_change_time(parsed: &ParsedRollout) -> Option<DateTime<Utc>> {
    parsed.lines.last().map(|line| line.timestamp)
}

/// The archiving of a thread whose file lies in `archived_sessions/`, at
/// [`derived_change_time`].
fn archiving(parsed: &ParsedRollout, thread_id: ThreadId) -> ArchiveThreadParams {
    ArchiveThreadParams {
        thread_id,
        at: derived_change_time(parsed),
    }
}

/// Appends `rest` in chunks of `chunk_size` with the writer `writer`, then shuts the writer down;
/// returns the number of items appended. On a failed append the writer is discarded.
async fn append_rest(
    store: &dyn ThreadStore,
    writer: &ThreadWriter,
    rest: &[RolloutLine],
    chunk_size: usize,
) -> ThreadStoreResult<u64> {
    let thread_id = writer.thread_id;
    let mut next_position = writer.next_position;
    let mut items = 0;
    for chunk in rest.chunks(chunk_size.max(1)) {
        let append = store
            .append_items(AppendThreadItemsParams {
                thread_id,
                items: chunk.iter().map(|l| l.item.clone()).collect(),
                timestamps: chunk.iter().map(|l| l.timestamp).collect(),
                ordinals: chunk.iter().map(|l| l.ordinal).collect(),
                expected_position: Some(next_position),
                request_id: None,
                writer_epoch: Some(writer.epoch),
            })
            .await;
        match append {
            Ok(result) => {
                next_position = result.next_position();
                items += result.item_count;
            }
            Err(e) => {
                // Release the writer so a later resume or re-import is not blocked; keep the
                // original error, which says more than a failed release would.
                let _ = store.discard_thread(thread_id).await;
                return Err(e);
            }
        }
    }
    store.shutdown_thread(thread_id).await?;
    Ok(items)
}

/// How a stored thread's history relates to the file being imported.
enum Stored {
    /// It starts with every line of the file (and may have more after them).
    Whole,
    /// It holds this many first lines of the file and nothing else.
    Prefix(usize),
}

/// Compares the stored history of the thread with the file's lines; `Conflict` when it is neither
/// the whole file (perhaps followed by later events) nor a prefix of it.
async fn compare_with_file(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
    parsed: &ParsedRollout,
) -> ThreadStoreResult<Stored> {
    let stored = history(store, thread_id).await?;
    let file = &parsed.lines;
    // A reverted thread: its lines up to the first revert are this file's, the rest were hidden
    // by the revert (they stay in the log) or came from revert rollouts.
    if let Some(cut) = stored.iter().position(|l| revert_marker(l).is_some()) {
        if cut <= file.len() && stored[..cut] == file[..cut] {
            return Ok(Stored::Whole);
        }
    }
    let differs = stored.iter().zip(file).position(|(s, f)| s != f);
    match differs {
        None if stored.len() >= file.len() => Ok(Stored::Whole),
        None => Ok(Stored::Prefix(stored.len())),
        Some(i) => Err(ThreadStoreError::Conflict {
            message: format!(
                "thread {thread_id} is already in the store with other contents: its item at position {i} differs from readable line {} of {} (a different thread with the same id?); nothing was written",
                i + 1,
                parsed.path.display(),
            ),
            actual_position: None,
        }),
    }
}

/// The thread's history (archived or not).
async fn history(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
) -> ThreadStoreResult<Vec<RolloutLine>> {
    Ok(store
        .load_history(LoadThreadHistoryParams {
            thread_id,
            include_archived: true,
        })
        .await?
        .items)
}

/// A Codex revert rollout: `rollout-<ts>-<thread>_<revision>.jsonl` with a `history_base`.
struct Revision {
    /// The revision's rollout id (the file name's last UUID).
    id: String,
    /// The first ordinal the revert hides (`history_base.end_ordinal_exclusive`).
    end_ordinal: u64,
}

/// The revision a rollout is, if it is one (see [`Revision`]).
fn revision_of(parsed: &ParsedRollout) -> Option<Revision> {
    let header = parsed.lines.first()?;
    if header.item.kind() != threadstore_api::item::kinds::SESSION_META {
        return None;
    }
    let end_ordinal = header
        .item
        .payload_value()
        .get("history_base")?
        .get("end_ordinal_exclusive")?
        .as_u64()?;
    let name = parsed.path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    let (head, revision) = stem.rsplit_once('_')?;
    let thread = parsed.thread_id?;
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

fn fork_of(parsed: &ParsedRollout) -> Option<ForkFile> {
    if revision_of(parsed).is_some() {
        return None;
    }
    fork_of_header(parsed.lines.first()?)
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
    parsed: &ParsedRollout,
    fork: &ForkFile,
    chunk_size: usize,
    report: &mut ImportReport,
) -> ThreadStoreResult<()> {
    let thread_id = report.thread_id;
    let file = &parsed.lines;
    if existing_without_writer(store, thread_id).await.is_some() {
        let stored = history(store, thread_id).await?;
        let Some(at) = stored.iter().position(|l| Some(l) == file.first()) else {
            return Err(ThreadStoreError::Conflict {
                message: format!(
                    "thread {thread_id} is already in the store without the fork header of {}; nothing was written",
                    parsed.path.display()
                ),
                actual_position: None,
            });
        };
        let own = &stored[at..];
        if let Some(i) = own.iter().zip(file).position(|(s, f)| s != f) {
            return Err(ThreadStoreError::Conflict {
                message: format!(
                    "fork {thread_id} is in the store with other contents: line {} of {} differs; nothing was written",
                    i + 1,
                    parsed.path.display()
                ),
                actual_position: None,
            });
        }
        if own.len() >= file.len() {
            report.already_imported = true;
            return Ok(());
        }
        let writer = store
            .resume_thread(ResumeThreadParams {
                thread_id,
                include_archived: true,
            })
            .await?;
        report.items = append_rest(store, &writer, &file[own.len()..], chunk_size).await?;
        report.finished = true;
        return Ok(());
    }
    let at = match fork.end_position {
        Some(p) => format!("position {p}"),
        None => format!("ordinal {}", fork.end_ordinal),
    };
    let missing = |what: String| {
        ThreadStoreError::invalid(format!(
            "{} forks thread {} at {at}, {what}; nothing was imported",
            parsed.path.display(),
            fork.parent,
        ))
    };
    if existing_without_writer(store, fork.parent).await.is_none() {
        return Err(missing(
            "which is not in the store (or has a live writer): import it first".into(),
        ));
    }
    let boundary = match fork.end_position {
        Some(end) => cut_at_position(store, fork.parent, end).await?,
        None => cut_at_ordinal(store, fork).await?,
    }
    .map_err(missing)?;
    let writer = store
        .fork_thread(ForkThreadParams {
            new_thread_id: Some(thread_id),
            rollout_path: Some(parsed.path.clone()),
            header: file.first().cloned(),
            ..ForkThreadParams::new(fork.parent, boundary)
        })
        .await?;
    report.items = 1 + append_rest(store, &writer, &file[1..], chunk_size).await?;
    Ok(())
}

/// Where a Codex fork's prefix ends in its parent as the store holds it (see [`import_fork`]);
/// `Err` says why the store cannot express it.
async fn cut_at_ordinal(
    store: &dyn ThreadStore,
    fork: &ForkFile,
) -> ThreadStoreResult<Result<ForkBoundary, String>> {
    let parent = history(store, fork.parent).await?;
    let reverts: Vec<String> = parent.iter().filter_map(revert_marker).collect();
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
    // The cut: before the first turn that starts at or after the end ordinal; no other line of
    // the parent may come after it.
    let cut = parent
        .iter()
        .find(|l| l.ordinal.is_some_and(|o| o >= fork.end_ordinal));
    Ok(boundary_before(cut))
}

/// Where a threadstore fork's prefix ends: at position `end` of the parent, which must be the
/// parent's end or the start of a turn, with no revert after it (the parent's lines from `end`
/// on are read newest first, a page at a time).
async fn cut_at_position(
    store: &dyn ThreadStore,
    parent: ThreadId,
    end: u64,
) -> ThreadStoreResult<Result<ForkBoundary, String>> {
    let mut after: Vec<RolloutLine> = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_items(threadstore_api::ListItemsParams {
                include_archived: true,
                cursor,
                page_size: threadstore_api::MAX_PAGE_SIZE,
                sort_direction: threadstore_api::SortDirection::Desc,
                ..threadstore_api::ListItemsParams::new(parent)
            })
            .await?;
        let done = page.items.iter().any(|i| i.position < end);
        after.extend(
            page.items
                .into_iter()
                .filter(|i| i.position >= end)
                .map(|i| i.line),
        );
        match page.next_cursor {
            Some(c) if !done => cursor = Some(c),
            _ => break,
        }
    }
    if after.iter().any(|l| revert_marker(l).is_some()) {
        return Ok(Err(format!(
            "at position {end}, which a revert of the parent has changed since"
        )));
    }
    Ok(boundary_before(after.last()))
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
    parsed: &ParsedRollout,
    revision: &Revision,
    chunk_size: usize,
    report: &mut ImportReport,
) -> ThreadStoreResult<()> {
    let thread_id = report.thread_id;
    let history = history(store, thread_id).await?;
    let header = parsed.lines.first();
    let header_at = history.iter().position(|l| Some(l) == header);
    let recorded = history
        .iter()
        .any(|l| revert_marker(l).as_deref() == Some(revision.id.as_str()));
    let lines = match header_at {
        // Applied: its lines follow its header; finish them if an import stopped half-way.
        Some(at) => {
            let stored = &history[at..];
            let file = &parsed.lines;
            if let Some(i) = stored.iter().zip(file).position(|(s, f)| s != f) {
                return Err(ThreadStoreError::Conflict {
                    message: format!(
                        "thread {thread_id} holds revision {} with other contents: line {} of {} differs; nothing was written",
                        revision.id,
                        i + 1,
                        parsed.path.display()
                    ),
                    actual_position: None,
                });
            }
            if stored.len() >= file.len() {
                report.already_imported = true;
                return Ok(());
            }
            report.finished = true;
            &file[stored.len()..]
        }
        // Applied, and hidden since by a later revert.
        None if recorded => {
            report.already_imported = true;
            return Ok(());
        }
        None => {
            let first_reverted = history
                .iter()
                .filter(|l| l.ordinal.is_some_and(|o| o >= revision.end_ordinal))
                .find_map(|l| match classify(l.item.kind(), l.item.payload_json()) {
                    ItemClass::TurnStarted { turn_id, .. } => turn_id,
                    _ => None,
                });
            if let Some(turn) = first_reverted {
                store
                    .revert_thread(RevertThreadParams {
                        revision: Some(revision.id.clone()),
                        ..RevertThreadParams::new(thread_id, turn)
                    })
                    .await?;
            }
            &parsed.lines[..]
        }
    };
    let writer = store
        .resume_thread(ResumeThreadParams {
            thread_id,
            include_archived: true,
        })
        .await?;
    report.items = append_rest(store, &writer, lines, chunk_size).await?;
    Ok(())
}

/// The thread, when it exists (active or archived) and no live writer holds it.
async fn existing_without_writer(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
) -> Option<StoredThread> {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .ok()
        .filter(|thread| !thread.live)
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

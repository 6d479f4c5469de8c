//! Exports threads back into Codex's on-disk layout, so Codex (or a later `threadstore import`)
//! can read them.
//!
//! Layout written under the output folder (Codex's own, `shared/reference/codex-thread-store.md`
//! §4.1):
//!
//! - an active thread: `sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<thread id>.jsonl`;
//! - an archived thread: `archived_sessions/rollout-YYYY-MM-DDThh-mm-ss-<thread id>.jsonl`;
//! - with [`ExportOptions::compress`], `.jsonl.zst` (zstd) instead of `.jsonl`;
//! - `session_index.jsonl`: a `{"id", "thread_name", "updated_at"}` line for each exported named
//!   thread whose newest entry in the file (if the file exists) is not already that name.
//!
//! **File names.** A thread imported from a Codex rollout keeps that file's name (and the date
//! folders it implies), so a Codex home exported after an import has the same paths. Other threads
//! are named like Codex names new sessions: the creation time in **local time**, colons as `-`.
//!
//! **Lines.** Every log item is written as its original rollout line: `timestamp` (as recorded),
//! `ordinal` when the line had one, `type` and the payload JSON text verbatim. Nothing is dropped:
//! threadstore's own log events (`event_msg` of type `thread_name_updated`,
//! `thread_metadata_updated`, `thread_archived`, `thread_unarchived`) are exported too. This is
//! what makes an export lossless: importing it rebuilds the same names, metadata patches and
//! archive times, because threadstore derives them from these events. Codex itself writes
//! `thread_name_updated` lines; the other three are unknown to Codex, which skips lines it cannot
//! parse, so they cost a Codex reader nothing. Threads converted from the pre-envelope (E0) format
//! are written in the envelope format, their header as the `session_meta` threadstore made of it.
//!
//! **Forks** by reference of paginated threads are written as Codex writes its paginated forks:
//! the fork's own lines only, from its header (which names the parent and where its prefix ends)
//! on; the prefix is in the parent's file, and an import reads it from there. Codex reads a prefix
//! by reference only in paginated threads, so a fork of an older era is written materialized, as
//! Codex's forks of those eras were: its header (naming the parent, without the by-reference
//! fields), the inherited lines (without the parents' headers), then its own lines.
//!
//! **Any size.** A thread is read a page at a time and written as it is read (through zstd for
//! `.jsonl.zst`), so memory holds a page whatever the thread's length; a fork's own lines are
//! found by a first pass over its history. A thread reverted by Codex's revert rollouts (written
//! as several files, see [`export_thread`]) is read whole.
//!
//! Each file is written to a temporary name and renamed into place, so a crash never leaves a
//! half-written rollout under a Codex name; the variant of the same thread in the other folder or
//! with the other extension (from an earlier export) is removed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime, Utc};
use serde_json::json;
use threadstore_api::item::{format_timestamp, kinds};
use threadstore_api::{
    ListThreadsParams, LoadThreadHistoryParams, ReadThreadParams, RolloutItem, RolloutLine,
    StoredHistoryMode, StoredThread, ThreadId, ThreadStore, ThreadStoreError, MAX_PAGE_SIZE,
};
use threadstore_storage::projection::classify::{FORK_BASE_FIELD, METADATA_UPDATED, NAME_UPDATED};

use super::home::{read_session_index, HomeError, ARCHIVED_DIR, SESSIONS_DIR, SESSION_INDEX};
use super::pages::StoredPages;

/// How [`export_thread`] writes files.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Write zstd-compressed `.jsonl.zst` files.
    pub compress: bool,
    /// zstd level when compressing (Codex's compression worker uses the default, 3).
    pub zstd_level: i32,
    /// Bytes of JSONL written are added here as the export goes (progress).
    pub progress: Option<Arc<AtomicU64>>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            compress: false,
            zstd_level: 3,
            progress: None,
        }
    }
}

/// What [`export_thread`] wrote.
#[derive(Clone, Debug)]
pub struct ExportedThread {
    /// The thread.
    pub thread_id: ThreadId,
    /// The file written.
    pub file: PathBuf,
    /// The file relative to the output folder (`sessions/2026/01/02/rollout-….jsonl`).
    pub relative: PathBuf,
    /// Lines written (= the thread's items).
    pub items: u64,
    /// Turns of the thread.
    pub turns: u64,
    /// Written to `archived_sessions/`.
    pub archived: bool,
    /// The thread's name, if any.
    pub name: Option<String>,
    /// When the name was last set (the naming event's time; the thread's update time if the
    /// name has no event), for `session_index.jsonl`.
    pub named_at: DateTime<Utc>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store failed to read the thread.
    #[error(transparent)]
    Store(#[from] ThreadStoreError),
    /// A file or folder could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The existing `session_index.jsonl` could not be read.
    #[error(transparent)]
    Index(#[from] HomeError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every thread id in the store, active then archived, each collection by creation time.
pub async fn all_thread_ids(store: &dyn ThreadStore) -> Result<Vec<ThreadId>, ThreadStoreError> {
    let mut ids = Vec::new();
    for archived in [false, true] {
        let mut cursor = None;
        loop {
            let page = store
                .list_threads(ListThreadsParams {
                    page_size: MAX_PAGE_SIZE,
                    cursor: cursor.take(),
                    archived,
                    sort_direction: threadstore_api::SortDirection::Asc,
                    ..Default::default()
                })
                .await?;
            ids.extend(page.items.iter().map(|t| t.thread_id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(ids)
}

/// The `rollout-YYYY-MM-DDThh-mm-ss` stamp and `YYYY/MM/DD` folders of a Codex rollout file name
/// for `thread_id`, if `name` is one (`rollout-<stamp>-<uuid>.jsonl[.zst]`).
fn codex_stamp(name: &str, thread_id: ThreadId) -> Option<NaiveDateTime> {
    let stem = name
        .strip_suffix(".jsonl.zst")
        .or_else(|| name.strip_suffix(".jsonl"))?;
    let rest = stem.strip_prefix("rollout-")?;
    let id = thread_id.to_string();
    let stamp = rest.strip_suffix(id.as_str())?.strip_suffix('-')?;
    NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%S").ok()
}

/// The path of a thread's rollout relative to a Codex home, as Codex names it (see the module
/// documentation): `sessions/YYYY/MM/DD/rollout-<stamp>-<id>.jsonl` or
/// `archived_sessions/rollout-<stamp>-<id>.jsonl`, `.jsonl.zst` when `compress`.
pub fn codex_relative_path(thread: &StoredThread, archived: bool, compress: bool) -> PathBuf {
    let from_import = thread
        .rollout_path
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .and_then(|n| codex_stamp(n, thread.thread_id));
    let stamp =
        from_import.unwrap_or_else(|| thread.created_at.with_timezone(&Local).naive_local());
    let ext = if compress { "jsonl.zst" } else { "jsonl" };
    let name = format!(
        "rollout-{}-{}.{ext}",
        stamp.format("%Y-%m-%dT%H-%M-%S"),
        thread.thread_id
    );
    if archived {
        Path::new(ARCHIVED_DIR).join(name)
    } else {
        Path::new(SESSIONS_DIR)
            .join(stamp.format("%Y/%m/%d").to_string())
            .join(name)
    }
}

/// The four places an export of `thread` can live (two folders × two extensions).
fn variants(thread: &StoredThread) -> [PathBuf; 4] {
    [
        codex_relative_path(thread, false, false),
        codex_relative_path(thread, false, true),
        codex_relative_path(thread, true, false),
        codex_relative_path(thread, true, true),
    ]
}

/// A naming event: the name's time for `session_index.jsonl`.
fn is_naming(line: &RolloutLine) -> bool {
    line.item.kind() == kinds::EVENT_MSG
        && match line.item.payload_type().as_deref() {
            Some(NAME_UPDATED) => true,
            Some(METADATA_UPDATED) => line
                .item
                .payload_value()
                .get("patch")
                .is_some_and(|p| p.get("name").is_some()),
            _ => false,
        }
}

/// Rollout lines as JSONL text.
fn jsonl(lines: &[RolloutLine]) -> Vec<u8> {
    let mut text = Vec::with_capacity(lines.len() * 512);
    for line in lines {
        text.extend_from_slice(line.to_json_line().as_bytes());
        text.push(b'\n');
    }
    text
}

/// Writes one thread (archived ones too) as a Codex rollout file under `out`; see the module
/// documentation for the layout and the lines.
pub async fn export_thread(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
    out: &Path,
    opts: &ExportOptions,
) -> Result<ExportedThread, ExportError> {
    let thread = store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await?;
    let archived = thread.archived_at.is_some();
    let relative = codex_relative_path(&thread, archived, opts.compress);
    let file = out.join(&relative);
    let streamed = match stream_thread(store, &thread, &file, opts).await? {
        Some(streamed) => streamed,
        // A thread reverted by Codex's revert rollouts goes back out as them.
        None => write_whole(store, &thread, out, &relative, opts).await?,
    };
    let others: Vec<PathBuf> = variants(&thread)
        .into_iter()
        .filter(|v| *v != relative)
        .map(|v| out.join(v))
        .collect();
    blocking(&file, move || {
        for other in others {
            match std::fs::remove_file(&other) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ExportError::Io {
                        path: other,
                        source: e,
                    })
                }
                _ => {}
            }
        }
        Ok(())
    })
    .await?;
    Ok(ExportedThread {
        thread_id,
        file,
        relative,
        items: streamed.items,
        turns: thread.turn_count,
        archived,
        named_at: streamed.named_at.unwrap_or(thread.updated_at),
        name: thread.name,
    })
}

/// What writing a thread's files gave.
struct Written {
    /// Lines written, all files together.
    items: u64,
    /// The last naming event's time in the history.
    named_at: Option<DateTime<Utc>>,
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> Result<T, ExportError> + Send + 'static,
) -> Result<T, ExportError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => Err(ExportError::Store(ThreadStoreError::internal(format!(
            "writing {} failed: {e}",
            path.display()
        )))),
    }
}

/// Where a fork's own lines start in its history (see [`own_lines`]).
struct ForkStart {
    /// The index of its header in the history.
    at: u64,
    /// The header, as the file writes it.
    header: RolloutLine,
    /// Paginated: only the own lines are written; else the prefix is materialized.
    paginated: bool,
}

/// Writes the thread's file a page at a time (see the module documentation); `None`, with
/// nothing written, when the history holds a revert (the thread goes out whole instead).
async fn stream_thread(
    store: &dyn ThreadStore,
    thread: &StoredThread,
    file: &Path,
    opts: &ExportOptions,
) -> Result<Option<Written>, ExportError> {
    let fork = match thread.forked_from_id {
        Some(_) => fork_start(store, thread).await?,
        None => None,
    };
    let mut sink = {
        let (target, level) = (file.to_path_buf(), opts.zstd_level);
        blocking(file, move || RolloutSink::create(&target, level)).await?
    };
    let mut pages = StoredPages::new(thread.thread_id, MAX_PAGE_SIZE);
    let mut written = Written {
        items: 0,
        named_at: None,
    };
    let mut text = Vec::new();
    let put = |line: &RolloutLine, text: &mut Vec<u8>, written: &mut Written| {
        text.extend_from_slice(line.to_json_line().as_bytes());
        text.push(b'\n');
        written.items += 1;
    };
    if let Some(ForkStart {
        header,
        paginated: false,
        ..
    }) = &fork
    {
        put(header, &mut text, &mut written);
    }
    while let Some(item) = pages.next(store).await? {
        let index = pages.index - 1;
        let line = &item.line;
        if crate::import::revert_marker(line).is_some() {
            // Dropping the sink removes its temporary file.
            blocking(file, move || {
                drop(sink);
                Ok(())
            })
            .await?;
            return Ok(None);
        }
        if is_naming(line) {
            written.named_at = Some(line.timestamp);
        }
        let keep = match &fork {
            None => true,
            Some(start) if start.paginated => index >= start.at,
            Some(start) => {
                index > start.at || (index < start.at && line.item.kind() != kinds::SESSION_META)
            }
        };
        if keep {
            put(line, &mut text, &mut written);
        }
        if text.len() >= WRITE_BATCH {
            let batch = std::mem::take(&mut text);
            sink = write_batch(file, sink, batch, opts).await?;
        }
    }
    let sink = write_batch(file, sink, text, opts).await?;
    blocking(file, move || sink.commit()).await?;
    Ok(Some(written))
}

/// Bytes of JSONL gathered before a write.
const WRITE_BATCH: usize = 1024 * 1024;

/// Writes a batch of JSONL off the async workers and counts it in the progress.
async fn write_batch(
    file: &Path,
    mut sink: RolloutSink,
    batch: Vec<u8>,
    opts: &ExportOptions,
) -> Result<RolloutSink, ExportError> {
    if let Some(progress) = &opts.progress {
        progress.fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
    blocking(file, move || {
        sink.write(&batch)?;
        Ok(sink)
    })
    .await
}

/// Finds a fork's header in its history (a first pass, a page at a time): the last
/// `session_meta` line with the thread's id and a fork's fields. `None` when there is none (the
/// thread is written whole).
async fn fork_start(
    store: &dyn ThreadStore,
    thread: &StoredThread,
) -> Result<Option<ForkStart>, ExportError> {
    let id = thread.thread_id.to_string();
    let mut pages = StoredPages::new(thread.thread_id, MAX_PAGE_SIZE);
    let mut found = None;
    while let Some(item) = pages.next(store).await? {
        if is_fork_header(&item.line, &id) {
            found = Some((pages.index - 1, item.line));
        }
    }
    let Some((at, header)) = found else {
        return Ok(None);
    };
    let paginated = thread.history_mode == StoredHistoryMode::Paginated;
    let header = if paginated {
        header
    } else {
        materialized_header(header)
    };
    Ok(Some(ForkStart {
        at,
        header,
        paginated,
    }))
}

/// A fork's own `session_meta` line (its id, and a fork's by-reference fields).
fn is_fork_header(line: &RolloutLine, id: &str) -> bool {
    line.item.kind() == kinds::SESSION_META && {
        let payload = line.item.payload_value();
        payload.get("id").and_then(|v| v.as_str()) == Some(id)
            && (payload.get(FORK_BASE_FIELD).is_some()
                || payload.get("forked_from_ordinal_exclusive").is_some())
    }
}

/// A fork header written with its prefix materialized: without the by-reference fields.
fn materialized_header(mut header: RolloutLine) -> RolloutLine {
    let mut payload = header.item.payload_value();
    if let Some(fields) = payload.as_object_mut() {
        for by_reference in [
            FORK_BASE_FIELD,
            "history_base",
            "forked_from_ordinal_exclusive",
        ] {
            fields.remove(by_reference);
        }
    }
    header.item = RolloutItem::new(kinds::SESSION_META, &payload);
    header
}

/// A rollout file being written: a temporary file beside its target (zstd-compressed for a
/// `.zst` target), renamed into place by [`commit`](Self::commit).
struct RolloutSink {
    target: PathBuf,
    out: SinkWriter,
}

enum SinkWriter {
    Plain(std::io::BufWriter<tempfile::NamedTempFile>),
    Zstd(zstd::Encoder<'static, std::io::BufWriter<tempfile::NamedTempFile>>),
}

impl RolloutSink {
    fn create(target: &Path, level: i32) -> Result<Self, ExportError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
        let buffered = std::io::BufWriter::with_capacity(256 * 1024, tmp);
        let out = if target.extension().is_some_and(|e| e == "zst") {
            SinkWriter::Zstd(zstd::Encoder::new(buffered, level).map_err(io(target))?)
        } else {
            SinkWriter::Plain(buffered)
        };
        Ok(Self {
            target: target.to_path_buf(),
            out,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        match &mut self.out {
            SinkWriter::Plain(w) => w.write_all(bytes),
            SinkWriter::Zstd(w) => w.write_all(bytes),
        }
        .map_err(io(&self.target))
    }

    /// Finishes the stream, fsyncs the file and renames it into place.
    fn commit(self) -> Result<(), ExportError> {
        let target = self.target;
        let buffered = match self.out {
            SinkWriter::Plain(w) => w,
            SinkWriter::Zstd(w) => w.finish().map_err(io(&target))?,
        };
        let tmp = buffered.into_inner().map_err(|e| ExportError::Io {
            path: target.clone(),
            source: e.into_error(),
        })?;
        tmp.as_file().sync_all().map_err(io(&target))?;
        tmp.persist(&target).map_err(|e| ExportError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// Writes a thread whose history holds a revert: read whole; a thread reverted by Codex's revert
/// rollouts goes back out as them (its original rollout, every line before the first revert,
/// those reverted since included, and each revision).
async fn write_whole(
    store: &dyn ThreadStore,
    thread: &StoredThread,
    out: &Path,
    relative: &Path,
    opts: &ExportOptions,
) -> Result<Written, ExportError> {
    let thread_id = thread.thread_id;
    let history = store
        .load_history(LoadThreadHistoryParams {
            thread_id,
            include_archived: true,
        })
        .await?
        .items;
    let named_at = history
        .iter()
        .rev()
        .find(|line| is_naming(line))
        .map(|line| line.timestamp);
    let history = own_lines(thread, history);
    let log = match store
        .load_log(LoadThreadHistoryParams {
            thread_id,
            include_archived: true,
        })
        .await
    {
        Ok(log) => Some(own_lines(thread, log.items)),
        Err(ThreadStoreError::Unsupported { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let files = log
        .as_deref()
        .and_then(|log| revision_files(thread, relative, log, opts.compress))
        .unwrap_or_else(|| vec![(relative.to_path_buf(), history)]);
    let items = files.iter().map(|(_, lines)| lines.len() as u64).sum();
    let level = opts.zstd_level;
    for (path, lines) in files {
        let (target, text) = (out.join(&path), jsonl(&lines));
        if let Some(progress) = &opts.progress {
            progress.fetch_add(text.len() as u64, Ordering::Relaxed);
        }
        blocking(&path, move || {
            let mut sink = RolloutSink::create(&target, level)?;
            sink.write(&text)?;
            sink.commit()
        })
        .await?;
    }
    Ok(Written { items, named_at })
}

/// Codex's layout of a thread reverted by Codex's revert rollouts (each revert recorded with its
/// revision id and followed by that revision's header): the original rollout at `relative`, then
/// `rollout-<stamp>-<thread>_<revision>.jsonl` beside it for each revision, oldest first, each
/// with its own lines. `None` when the thread has no revert, or one threadstore's `revert_thread`
/// made without a revision rollout (it is then exported as one file of its history).
fn revision_files(
    thread: &StoredThread,
    relative: &Path,
    log: &[RolloutLine],
    compress: bool,
) -> Option<Vec<(PathBuf, Vec<RolloutLine>)>> {
    let markers: Vec<(usize, String)> = log
        .iter()
        .enumerate()
        .filter_map(|(i, l)| crate::import::revert_marker(l).map(|r| (i, r)))
        .collect();
    let (first, _) = markers.first()?;
    let mut files = vec![(relative.to_path_buf(), log[..*first].to_vec())];
    let dir = relative.parent().unwrap_or(Path::new(""));
    let ext = if compress { "jsonl.zst" } else { "jsonl" };
    for (k, (at, revision)) in markers.iter().enumerate() {
        let end = markers.get(k + 1).map_or(log.len(), |(next, _)| *next);
        let lines = log.get(at + 1..end)?;
        let header = lines.first()?;
        let is_revision_header = header.item.kind() == kinds::SESSION_META
            && header.item.payload_value().get("history_base").is_some();
        if revision.is_empty() || !is_revision_header {
            return None;
        }
        let stamp = header.timestamp.with_timezone(&Local).naive_local();
        let name = format!(
            "rollout-{}-{}_{revision}.{ext}",
            stamp.format("%Y-%m-%dT%H-%M-%S"),
            thread.thread_id
        );
        files.push((dir.join(name), lines.to_vec()));
    }
    Some(files)
}

/// The lines a thread's file holds. A paginated fork: its own lines, from its fork header on
/// (Codex's layout: the parent's prefix is in the parent's file, by reference). An older era's
/// fork: materialized, as Codex's forks of those eras were (Codex reads a prefix by reference
/// only in paginated threads): its header without the by-reference fields, the prefix it
/// inherits (without the parents' headers), then its own lines. Any other thread: every line.
fn own_lines(thread: &StoredThread, mut history: Vec<RolloutLine>) -> Vec<RolloutLine> {
    if thread.forked_from_id.is_none() {
        return history;
    }
    let id = thread.thread_id.to_string();
    let Some(at) = history.iter().rposition(|line| is_fork_header(line, &id)) else {
        return history;
    };
    if thread.history_mode == StoredHistoryMode::Paginated {
        history.drain(..at);
        return history;
    }
    let mut own = history.split_off(at);
    let fork_header = materialized_header(own.remove(0));
    std::iter::once(fork_header)
        .chain(
            history
                .into_iter()
                .filter(|line| line.item.kind() != kinds::SESSION_META),
        )
        .chain(own)
        .collect()
}

/// Appends to `<out>/session_index.jsonl` a `{"id", "thread_name", "updated_at"}` line for each
/// exported named thread whose newest entry there is not already its name; returns the number of
/// lines appended. Codex reads the newest line per id, so earlier entries stay as they are.
pub fn write_session_index(out: &Path, exported: &[ExportedThread]) -> Result<usize, ExportError> {
    let path = out.join(SESSION_INDEX);
    let existing = if path.is_file() {
        read_session_index(std::slice::from_ref(&path))?
    } else {
        Default::default()
    };
    let mut lines = String::new();
    let mut count = 0;
    for t in exported {
        let Some(name) = &t.name else { continue };
        if existing.name(t.thread_id) == Some(name.as_str()) {
            continue;
        }
        let line = json!({
            "id": t.thread_id.to_string(),
            "thread_name": name,
            "updated_at": format_timestamp(&t.named_at),
        });
        lines.push_str(&line.to_string());
        lines.push('\n');
        count += 1;
    }
    if count > 0 {
        std::fs::create_dir_all(out).map_err(io(out))?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(lines.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(id: ThreadId, rollout: Option<&str>) -> StoredThread {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        StoredThread {
            thread_id: id,
            session_id: None,
            name: None,
            preview: String::new(),
            first_user_message: None,
            created_at: at,
            updated_at: at,
            recency_at: at,
            archived_at: None,
            cwd: None,
            model_provider: None,
            model: None,
            reasoning_effort: None,
            source: None,
            thread_source: None,
            parent_thread_id: None,
            forked_from_id: None,
            agent_nickname: None,
            agent_role: None,
            agent_path: None,
            git_info: None,
            token_usage: None,
            cli_version: None,
            originator: None,
            rollout_path: rollout.map(PathBuf::from),
            item_count: 0,
            turn_count: 0,
            live: false,
            history_mode: Default::default(),
            history: None,
        }
    }

    #[test]
    fn an_imported_codex_name_is_kept() {
        let id: ThreadId = "97b66f6c-a160-40e0-bd0f-1fdcbbb9498b".parse().unwrap();
        let t = thread(
            id,
            Some("/x/sessions/2025/11/01/rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl.zst"),
        );
        assert_eq!(
            codex_relative_path(&t, false, false),
            Path::new("sessions/2025/11/01/rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl")
        );
        assert_eq!(
            codex_relative_path(&t, true, true),
            Path::new("archived_sessions/rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl.zst")
        );
    }

    #[test]
    fn other_threads_are_named_by_local_creation_time() {
        let id = ThreadId::new();
        for rollout in [
            None,
            Some("/x/session.jsonl"),
            Some("/x/rollout-garbage.jsonl"),
        ] {
            let t = thread(id, rollout);
            let local = t.created_at.with_timezone(&Local);
            let expected = Path::new("sessions")
                .join(local.format("%Y/%m/%d").to_string())
                .join(format!(
                    "rollout-{}-{id}.jsonl",
                    local.format("%Y-%m-%dT%H-%M-%S")
                ));
            assert_eq!(codex_relative_path(&t, false, false), expected);
        }
    }

    #[test]
    fn a_stamp_for_another_thread_is_not_reused() {
        let id = ThreadId::new();
        let name = "rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl";
        assert!(codex_stamp(name, id).is_none());
    }
}

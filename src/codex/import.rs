//! Imports a parsed Codex rollout into any [`ThreadStore`], keeping the thread id, every line and
//! its original timestamp.
//!
//! The store derives all metadata (cwd, provider, model, preview, …) from the history itself, so
//! the importer passes only the thread id and the rollout path. Re-running an import is safe: a
//! thread that already exists (and has no live writer) is reported as already imported and
//! nothing is written.

use std::path::Path;

use threadstore_api::{
    AppendThreadItemsParams, ArchiveThreadParams, CreateThreadParams, ReadThreadParams, ThreadId,
    ThreadStore, ThreadStoreError, ThreadStoreResult,
};

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
    /// Number of items written by this call (0 when already imported).
    pub items: u64,
    /// Lines of the file that could not be read (not imported).
    pub skipped: Vec<SkippedLine>,
    /// True when the thread already existed: nothing was written.
    pub already_imported: bool,
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
/// thread; failing that, a fresh id. If the thread already exists the report says
/// `already_imported` and nothing is written; if it exists with a live writer, that is `Conflict`.
/// A rollout without any readable line is `InvalidRequest`. If an append fails, the writer is
/// discarded (what was written stays) and the error is returned.
pub async fn import_rollout(
    store: &dyn ThreadStore,
    parsed: &ParsedRollout,
    opts: &ImportOptions,
) -> ThreadStoreResult<ImportReport> {
    let thread_id = parsed
        .thread_id
        .or_else(|| id_from_file_name(&parsed.path))
        .unwrap_or_default();
    let mut report = ImportReport {
        thread_id,
        items: 0,
        skipped: parsed.skipped.clone(),
        already_imported: false,
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
    let mut chunks = parsed.lines.chunks(chunk_size);
    let first = chunks.next().unwrap_or_default();

    let created = store
        .create_thread(CreateThreadParams {
            thread_id: Some(thread_id),
            rollout_path: Some(parsed.path.clone()),
            history: first.to_vec(),
            ..Default::default()
        })
        .await;
    let writer = match created {
        Ok(writer) => writer,
        Err(conflict @ ThreadStoreError::Conflict { .. }) => {
            if existing_without_writer(store, thread_id).await {
                report.already_imported = true;
                return Ok(report);
            }
            return Err(conflict);
        }
        Err(e) => return Err(e),
    };
    report.items = first.len() as u64;

    let mut next_position = writer.next_position;
    for chunk in chunks {
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
                report.items += result.item_count;
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
    if opts.archive {
        store
            .archive_thread(ArchiveThreadParams { thread_id })
            .await?;
    }
    Ok(report)
}

/// True when the thread exists (active or archived) and no live writer holds it.
async fn existing_without_writer(store: &dyn ThreadStore, thread_id: ThreadId) -> bool {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .is_ok_and(|thread| !thread.live)
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

//! A Codex home (`~/.codex`) or any folder of rollout files: finding the files, reading the
//! thread names in `session_index.jsonl`, and importing one file with its archived state and name.
//!
//! Codex's layout (see `shared/reference/codex-thread-store.md` §4.1):
//!
//! - active rollouts in `sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<thread-uuid>.jsonl`;
//! - archived rollouts in the flat `archived_sessions/` directory, same file names;
//! - a zstd-compressed sibling `<name>.jsonl.zst` may replace (or sit beside) a plain file;
//!   readers prefer the plain file when both exist;
//! - `session_index.jsonl`: one `{"id", "thread_name", "updated_at"}` line per rename, the newest
//!   line for an id wins.
//!
//! [`discover`] walks the given paths, [`read_session_index`] reads the names, and
//! [`import_source`] imports one file into a store, archived if it lies below
//! `archived_sessions/`, named from the index unless the thread already carries that name (so an
//! import of a threadstore export, whose logs already hold their names, writes nothing extra).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use threadstore_api::{
    ReadThreadParams, ThreadId, ThreadMetadataPatch, ThreadStore, UpdateThreadMetadataParams,
};

use super::import::{import_file, ImportError, ImportOptions, ImportReport};
use super::journal::{FileStamp, Finished, ImportJournal};
use super::reader::{first_line, sniff_rollout_file};

/// Name of Codex's thread-name index at the top of a Codex home.
pub const SESSION_INDEX: &str = "session_index.jsonl";
/// Directory of Codex's active rollouts, below the home.
pub const SESSIONS_DIR: &str = "sessions";
/// Directory of Codex's archived rollouts, below the home.
pub const ARCHIVED_DIR: &str = "archived_sessions";

/// One rollout file to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file (canonical path).
    pub path: PathBuf,
    /// The path for people: relative to the folder given, or the file as given.
    pub shown: String,
    /// Below an `archived_sessions` directory: import as an archived thread.
    pub archived: bool,
    /// A revert rollout or a fork: it applies to a thread imported before it, so it is imported
    /// after the others, one at a time, in the order [`discover`] lists them.
    pub sequential: bool,
}

/// What [`discover`] found.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Rollout files, sorted by path, a `.jsonl.zst` left out when its plain `.jsonl` is there.
    pub sources: Vec<Source>,
    /// `session_index.jsonl` files at the top of the folders given.
    pub indexes: Vec<PathBuf>,
    /// Folders given that hold no rollout file.
    pub empty_folders: Vec<PathBuf>,
    /// Compressed files left out because their plain sibling is imported instead.
    pub shadowed: Vec<PathBuf>,
}

/// Why a path could not be walked or an index read.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// A path does not exist or cannot be read.
    #[error("cannot import {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HomeError + '_ {
    move |source| HomeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// True for Codex rollout file names: `rollout-*.jsonl` or `rollout-*.jsonl.zst`.
pub fn is_rollout_name(name: &str) -> bool {
    name.starts_with("rollout-") && (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"))
}

/// True for `*.jsonl` and `*.jsonl.zst` names.
fn is_jsonl_name(name: &str) -> bool {
    name.ends_with(".jsonl") || name.ends_with(".jsonl.zst")
}

/// True when a directory above `path` is named `archived_sessions`.
pub fn under_archived(path: &Path) -> bool {
    path.parent()
        .is_some_and(|p| p.components().any(|c| c.as_os_str() == ARCHIVED_DIR))
}

/// Every rollout file below `dir`, recursively.
fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) -> Result<(), HomeError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if entry.file_type().map_err(io(&path))?.is_dir() {
            walk(&path, out)?;
        } else if let Some(name) = entry.file_name().to_str() {
            if is_rollout_name(name)
                || (is_jsonl_name(name) && name != SESSION_INDEX && sniff_rollout_file(&path))
            {
                out.insert(path);
            }
        }
    }
    Ok(())
}

/// Finds the rollout files and session indexes under `paths` (files, folders or Codex homes).
///
/// A file given explicitly is imported whatever its name. Folders are walked recursively for
/// `rollout-*.jsonl[.zst]` files, and for other `*.jsonl[.zst]` files whose first line is a
/// rollout header (a `session_meta` line or an E0 legacy header), so a folder of renamed rollouts
/// imports too while Codex's `history.jsonl` and `session_index.jsonl` are left alone. A file
/// found twice is listed once.
pub fn discover(paths: &[PathBuf]) -> Result<Discovery, HomeError> {
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut found_in_folders = BTreeSet::new();
    let mut discovery = Discovery::default();
    for given in paths {
        let path = std::fs::canonicalize(given).map_err(io(given))?;
        if path.is_dir() {
            let mut found = BTreeSet::new();
            walk(&path, &mut found)?;
            if found.is_empty() {
                discovery.empty_folders.push(given.clone());
            }
            for file in found {
                let shown = file
                    .strip_prefix(&path)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                found_in_folders.insert(file.clone());
                files.entry(file).or_insert(shown);
            }
            let index = path.join(SESSION_INDEX);
            if index.is_file() && !discovery.indexes.contains(&index) {
                discovery.indexes.push(index);
            }
        } else {
            files
                .entry(path)
                .or_insert_with(|| given.display().to_string());
        }
    }
    for (path, shown) in files {
        // Codex prefers the plain file when both exist; a compressed copy found by walking a
        // folder next to its plain file is the same thread, so it is left out.
        let plain = path
            .to_str()
            .and_then(|p| p.strip_suffix(".zst"))
            .map(PathBuf::from);
        if let Some(plain) = plain {
            if found_in_folders.contains(&path) && found_in_folders.contains(&plain) {
                discovery.shadowed.push(path);
                continue;
            }
        }
        discovery.sources.push(Source {
            archived: under_archived(&path),
            path,
            shown,
            sequential: false,
        });
    }
    order_lineages(&mut discovery.sources);
    Ok(discovery)
}

/// Whether a file name is a Codex revert rollout: `rollout-<time>-<thread>_<revision>.jsonl[.zst]`.
pub fn is_revision_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    is_rollout_name(name)
        && stem.rsplit_once('_').is_some_and(|(head, revision)| {
            revision.parse::<threadstore_api::ThreadId>().is_ok()
                && head
                    .get(head.len().saturating_sub(36)..)
                    .is_some_and(|t| t.parse::<threadstore_api::ThreadId>().is_ok())
        })
}

/// Orders the files so that each applies to what it needs (see [`Source::sequential`]): plain
/// rollouts first; then forks of an original rollout, a fork after the fork it forks; then
/// Codex's revert rollouts (`…-<thread>_<revision>.jsonl`), oldest first (their names start with
/// their time), after the forks of what they revert; then forks of a revert rollout.
fn order_lineages(sources: &mut [Source]) {
    let name = |s: &Source| {
        s.path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut forks: HashMap<String, (ThreadId, crate::import::ForkFile)> = HashMap::new();
    for source in sources.iter() {
        if is_revision_name(&name(source)) {
            continue;
        }
        let header = first_line(&source.path)
            .and_then(|l| threadstore_api::RolloutLine::from_json_line(&l).ok());
        let Some(header) = header else { continue };
        let id = header
            .item
            .payload_value()
            .get("id")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<ThreadId>().ok());
        if let (Some(fork), Some(id)) = (crate::import::fork_of_header(&header), id) {
            forks.insert(source.path.display().to_string(), (id, fork));
        }
    }
    let by_id: HashMap<ThreadId, &crate::import::ForkFile> =
        forks.values().map(|(id, f)| (*id, f)).collect();
    let mut keys: HashMap<PathBuf, (u8, usize, String)> = HashMap::new();
    for source in sources.iter() {
        let n = name(source);
        let key = if is_revision_name(&n) {
            (2, 0, n)
        } else {
            match forks.get(&source.path.display().to_string()) {
                Some((_, f)) if f.base_rollout == f.parent.to_string() => {
                    (1, fork_depth(&by_id, f), n)
                }
                Some((_, f)) => (3, fork_depth(&by_id, f), n),
                None => (0, 0, String::new()),
            }
        };
        keys.insert(source.path.clone(), key);
    }
    for source in sources.iter_mut() {
        source.sequential = keys.get(&source.path).is_some_and(|k| k.0 > 0);
    }
    sources.sort_by(|a, b| keys.get(&a.path).cmp(&keys.get(&b.path)));
}

/// How many forks among `by_id` lie between `fork` and a thread that is no fork.
fn fork_depth<'a>(
    by_id: &HashMap<ThreadId, &'a crate::import::ForkFile>,
    mut fork: &'a crate::import::ForkFile,
) -> usize {
    let mut depth = 0usize;
    while let Some(parent) = by_id.get(&fork.parent) {
        depth += 1;
        if depth > by_id.len() {
            break;
        }
        fork = parent;
    }
    depth
}

/// One line of `session_index.jsonl`.
#[derive(Deserialize)]
struct IndexLine {
    id: String,
    thread_name: String,
    #[serde(default)]
    updated_at: Option<String>,
}

/// Thread names from `session_index.jsonl` files, and the lines that were not index entries.
#[derive(Clone, Debug, Default)]
pub struct SessionNames {
    /// The newest name per thread (by `updated_at`; a later line wins a tie).
    pub names: HashMap<ThreadId, (DateTime<Utc>, String)>,
    /// `(file, 1-based line number)` of lines that are not `{"id", "thread_name", "updated_at"}`.
    pub bad_lines: Vec<(PathBuf, usize)>,
}

impl SessionNames {
    /// The newest name of a thread.
    pub fn name(&self, id: ThreadId) -> Option<&str> {
        self.names.get(&id).map(|(_, name)| name.as_str())
    }
}

/// Reads Codex `session_index.jsonl` files; the newest name per thread wins.
pub fn read_session_index(indexes: &[PathBuf]) -> Result<SessionNames, HomeError> {
    let mut out = SessionNames::default();
    for index in indexes {
        let text = std::fs::read_to_string(index).map_err(io(index))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str::<IndexLine>(line)
                .ok()
                .and_then(|e| Some((e.id.parse::<ThreadId>().ok()?, e)));
            let Some((id, entry)) = entry else {
                out.bad_lines.push((index.clone(), n + 1));
                continue;
            };
            let at = entry
                .updated_at
                .as_deref()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            match out.names.get(&id) {
                Some((old, _)) if *old > at => {}
                _ => {
                    out.names.insert(id, (at, entry.thread_name));
                }
            }
        }
    }
    Ok(out)
}

/// What [`import_source`] did with one file.
#[derive(Clone, Debug)]
pub struct ImportedSource {
    /// What the import wrote (or that the thread was already there).
    pub report: ImportReport,
    /// The thread's turns after the import.
    pub turns: u64,
    /// The thread's items after the import.
    pub total_items: u64,
    /// The thread is archived after the import.
    pub archived: bool,
    /// The thread's name after the import.
    pub name: Option<String>,
    /// This import set the name from the session index (a metadata patch was appended).
    pub named_by_index: bool,
}

/// How a run of imports reads its files and remembers what it finished.
#[derive(Debug, Default)]
pub struct ImportRun {
    /// Files finished by earlier runs are skipped unread; finished files are recorded.
    pub journal: Option<ImportJournal>,
    /// Bytes read from the files on disk (and the sizes of files skipped), for progress.
    pub progress: Option<Arc<AtomicU64>>,
    /// Bytes of JSON per store call (see [`ImportOptions::chunk_bytes`]); 0 for the default.
    pub chunk_bytes: usize,
}

/// Imports one rollout file: the thread (see [`import_file`]), archived when the file lies below
/// `archived_sessions/`, and named from `names` (see [`import_source_with`]).
pub async fn import_source(
    store: &dyn ThreadStore,
    source: &Source,
    names: &SessionNames,
) -> Result<ImportedSource, ImportError> {
    import_source_with(store, source, names, &ImportRun::default()).await
}

/// [`import_source`] as part of a run: the file is streamed (memory holds a few chunks whatever
/// its size), its bytes are counted in the run's progress, and with a journal a file finished
/// by an earlier run (unchanged since, its thread still in the store with at least the items it
/// had) is reported as already imported without being read.
///
/// Before it returns, the thread is flushed (`flush_thread`): what the import wrote is durable
/// even on a store that acknowledges appends before their fsync (the CLI's import opens its
/// store so, for speed).
///
/// The name from `names` is set when this import wrote the thread, or when the thread has no
/// name yet (an earlier run stopped between the lines and the name); a thread already imported
/// and named keeps its name.
pub async fn import_source_with(
    store: &dyn ThreadStore,
    source: &Source,
    names: &SessionNames,
    run: &ImportRun,
) -> Result<ImportedSource, ImportError> {
    let stamp = FileStamp::of(&source.path);
    let read_thread = |thread_id| {
        store.read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
    };
    if let (Some(journal), Some(stamp)) = (&run.journal, &stamp) {
        if let Some(done) = journal.finished(&source.path, stamp) {
            if let Ok(thread) = read_thread(done.thread).await {
                if thread.item_count >= done.items && !thread.live {
                    if let Some(progress) = &run.progress {
                        progress.fetch_add(stamp.size, Ordering::Relaxed);
                    }
                    return Ok(ImportedSource {
                        turns: thread.turn_count,
                        total_items: thread.item_count,
                        archived: thread.archived_at.is_some(),
                        name: thread.name,
                        named_by_index: false,
                        report: ImportReport {
                            already_imported: true,
                            ..ImportReport::new(done.thread, done.era)
                        },
                    });
                }
            }
        }
    }
    let opts = ImportOptions {
        archive: source.archived,
        progress: run.progress.clone(),
        chunk_bytes: run.chunk_bytes,
        ..Default::default()
    };
    let report = import_file(store, &source.path, &opts).await?;
    let thread_id = report.thread_id;
    let mut thread = read_thread(thread_id).await?;
    let mut named_by_index = false;
    if let Some(name) = names.name(thread_id) {
        let unnamed = thread.name.is_none();
        if (!report.already_imported || unnamed) && thread.name.as_deref() != Some(name) {
            thread = store
                .update_thread_metadata(UpdateThreadMetadataParams {
                    thread_id,
                    patch: ThreadMetadataPatch {
                        name: Some(Some(name.to_owned())),
                        ..Default::default()
                    },
                    include_archived: true,
                    at: crate::import::derived_change_time(&report),
                })
                .await?;
            named_by_index = true;
        }
    }
    // Everything this import wrote (the lines, the archive, the name) is durable before the file
    // is reported or journaled, also on a store that acknowledges appends before their fsync.
    store.flush_thread(thread_id).await?;
    if let (Some(journal), Some(stamp)) = (&run.journal, &stamp) {
        let done = Finished {
            thread: thread_id,
            items: thread.item_count,
            era: report.era,
        };
        // A journal that cannot be written costs a later run a comparison, nothing more.
        let _ = journal.record(&source.path, stamp, done);
    }
    Ok(ImportedSource {
        turns: thread.turn_count,
        total_items: thread.item_count,
        archived: thread.archived_at.is_some(),
        name: thread.name,
        named_by_index,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollout_names_and_archived_dirs() {
        assert!(is_rollout_name("rollout-2026-01-01T00-00-00-x.jsonl"));
        assert!(is_rollout_name("rollout-x.jsonl.zst"));
        assert!(!is_rollout_name("session.jsonl"));
        assert!(!is_rollout_name("rollout-x.json"));
        assert!(under_archived(Path::new(
            "/h/archived_sessions/rollout-x.jsonl"
        )));
        assert!(!under_archived(Path::new(
            "/h/sessions/2026/01/01/rollout-x.jsonl"
        )));
    }

    #[test]
    fn discover_prefers_plain_files_and_finds_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("sessions/2026/01/01");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::create_dir_all(dir.path().join(ARCHIVED_DIR)).unwrap();
        std::fs::write(day.join("rollout-a.jsonl"), "").unwrap();
        std::fs::write(day.join("rollout-a.jsonl.zst"), "").unwrap();
        std::fs::write(day.join("rollout-b.jsonl.zst"), "").unwrap();
        std::fs::write(day.join("notes.txt"), "").unwrap();
        std::fs::write(
            dir.path().join("history.jsonl"),
            "{\"session_id\":\"x\",\"ts\":1}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("renamed.jsonl"),
            "{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"type\":\"session_meta\",\"payload\":{\"id\":\"x\"}}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(ARCHIVED_DIR).join("rollout-c.jsonl"), "").unwrap();
        std::fs::write(dir.path().join(SESSION_INDEX), "").unwrap();
        let found = discover(&[dir.path().to_path_buf()]).unwrap();
        let shown: Vec<(&str, bool)> = found
            .sources
            .iter()
            .map(|s| (s.shown.as_str(), s.archived))
            .collect();
        assert_eq!(
            shown,
            [
                ("archived_sessions/rollout-c.jsonl", true),
                ("renamed.jsonl", false),
                ("sessions/2026/01/01/rollout-a.jsonl", false),
                ("sessions/2026/01/01/rollout-b.jsonl.zst", false),
            ]
        );
        assert_eq!(found.shadowed.len(), 1);
        assert_eq!(found.indexes.len(), 1);
        // A compressed file named explicitly is imported.
        let explicit = discover(&[day.join("rollout-a.jsonl.zst")]).unwrap();
        assert_eq!(explicit.sources.len(), 1);
        assert!(matches!(
            discover(&[dir.path().join("missing")]),
            Err(HomeError::Io { .. })
        ));
    }

    #[test]
    fn revision_names() {
        assert!(is_revision_name(
            "rollout-2026-12-01T20-31-26-01a2334d-ee7d-7db1-924c-0ef979b50b83_01a2334e-1c22-70b0-a9e5-2450c13c17e4.jsonl"
        ));
        assert!(!is_revision_name(
            "rollout-2026-12-01T20-31-15-01a2334d-ee7d-7db1-924c-0ef979b50b83.jsonl"
        ));
        assert!(!is_revision_name("rollout-x_y.jsonl"));
    }

    #[test]
    fn newest_name_wins() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join(SESSION_INDEX);
        let id = ThreadId::new();
        std::fs::write(
            &index,
            format!(
                "{{\"id\":\"{id}\",\"thread_name\":\"new\",\"updated_at\":\"2026-01-03T00:00:00Z\"}}\n\
                 {{\"id\":\"{id}\",\"thread_name\":\"old\",\"updated_at\":\"2026-01-02T00:00:00Z\"}}\n\
                 not json\n\n\
                 {{\"id\":\"nope\",\"thread_name\":\"x\"}}\n"
            ),
        )
        .unwrap();
        let names = read_session_index(std::slice::from_ref(&index)).unwrap();
        assert_eq!(names.name(id), Some("new"));
        assert_eq!(names.bad_lines, [(index.clone(), 3), (index, 5)]);
    }
}

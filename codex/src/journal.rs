//! The import journal: which rollout files an import has finished, so that running the same
//! import again (after a Ctrl-C, a kill -9, or to pick up new sessions) skips them without
//! reading them.
//!
//! One JSON object per line, appended after a file's thread is complete in the store (every
//! line, its archive and its name): `{"file", "size", "modifiedNs", "thread", "items", "era"}`.
//! `size` and `modifiedNs` are the file's as it was when its import started, so a file that grew
//! since (a live Codex session) no longer matches and is read again (its new lines appended).
//!
//! The journal is a hint, never the truth: a file it names is skipped only when the store still
//! holds its thread with at least the items recorded; anything else (no journal, a lost or torn
//! last line, a store wiped since) falls back to comparing the file with the store, which is
//! always correct. So the journal is not fsynced, and unreadable lines are ignored.

use std::collections::HashMap;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use threadstore_api::ThreadId;

use super::reader::RolloutEra;

/// A file's size and modification time when its import started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    /// Bytes on disk.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: u128,
}

impl FileStamp {
    /// The file's stamp now, `None` if its metadata cannot be read.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(Self {
            size: meta.len(),
            modified_ns,
        })
    }
}

/// One finished file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    file: PathBuf,
    size: u64,
    modified_ns: u128,
    thread: ThreadId,
    items: u64,
    era: RolloutEra,
}

/// What the journal says of a finished file whose stamp still matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The thread the file was imported as.
    pub thread: ThreadId,
    /// The thread's items when the file was finished.
    pub items: u64,
    /// The file's era.
    pub era: RolloutEra,
}

/// An open journal file (see the module documentation).
#[derive(Debug)]
pub struct ImportJournal {
    path: PathBuf,
    finished: HashMap<PathBuf, Entry>,
    out: Mutex<std::fs::File>,
}

impl ImportJournal {
    /// Opens (or creates) the journal at `path` and reads what it holds.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut finished = HashMap::new();
        match std::fs::File::open(path) {
            Ok(file) => {
                for line in std::io::BufReader::new(file).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                        finished.insert(entry.file.clone(), entry);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            finished,
            out: Mutex::new(out),
        })
    }

    /// Where the journal lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Files the journal records as finished.
    pub fn len(&self) -> usize {
        self.finished.len()
    }

    /// True when no file is recorded.
    pub fn is_empty(&self) -> bool {
        self.finished.is_empty()
    }

    /// The file's entry, when the file has not changed since it was finished.
    pub fn finished(&self, file: &Path, now: &FileStamp) -> Option<Finished> {
        let entry = self.finished.get(file)?;
        (entry.size == now.size && entry.modified_ns == now.modified_ns).then_some(Finished {
            thread: entry.thread,
            items: entry.items,
            era: entry.era,
        })
    }

    /// Records `file` (as stamped when its import started) as finished.
    pub fn record(&self, file: &Path, stamp: &FileStamp, done: Finished) -> std::io::Result<()> {
        let entry = Entry {
            file: file.to_path_buf(),
            size: stamp.size,
            modified_ns: stamp.modified_ns,
            thread: done.thread,
            items: done.items,
            era: done.era,
        };
        let mut line = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut out = self
            .out
            .lock()
            .map_err(|_| std::io::Error::other("import journal lock poisoned"))?;
        out.write_all(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_file_is_found_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rollout.jsonl");
        std::fs::write(&file, "{}\n").unwrap();
        let journal_path = dir.path().join("journal.jsonl");
        let stamp = FileStamp::of(&file).unwrap();
        let done = Finished {
            thread: ThreadId::new(),
            items: 7,
            era: RolloutEra::E3TurnIds,
        };
        {
            let journal = ImportJournal::open(&journal_path).unwrap();
            assert_eq!(journal.finished(&file, &stamp), None);
            journal.record(&file, &stamp, done).unwrap();
        }
        // A torn last line (a kill mid-write) is ignored.
        let mut raw = std::fs::OpenOptions::new()
            .append(true)
            .open(&journal_path)
            .unwrap();
        raw.write_all(b"{\"file\":\"/x\",\"si").unwrap();
        let journal = ImportJournal::open(&journal_path).unwrap();
        assert_eq!(journal.len(), 1);
        assert_eq!(journal.finished(&file, &stamp), Some(done));
        std::fs::write(&file, "{}\n{}\n").unwrap();
        let grown = FileStamp::of(&file).unwrap();
        assert_eq!(journal.finished(&file, &grown), None);
    }
}

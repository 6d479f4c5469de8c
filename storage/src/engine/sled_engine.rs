//! The sled engine: the store on disk, under one data directory (its lock file and sled's `db/`).

use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use threadstore_api::ThreadStoreError;

use super::{KvEngine, Scan, WriteBatch};
use crate::StorageResult;

fn io_error(what: &str, e: impl std::fmt::Display) -> ThreadStoreError {
    ThreadStoreError::internal(format!("{what}: {e}"))
}

/// Tuning of the sled engine.
#[derive(Clone, Debug)]
pub struct SledOptions {
    /// Page cache size in bytes.
    pub cache_bytes: u64,
    /// Background flush interval (the bound on loss in `Buffered` mode), ms.
    pub flush_every_ms: Option<u64>,
    /// Write sled's snapshot when the engine is dropped (see [`SledEngine`]), so the next open is
    /// fast; costs one replay of the session's log at shutdown.
    pub checkpoint_on_close: bool,
    /// Size of sled's log segments (and IO buffers) for a **new** store, a power of two up to
    /// 16 MiB. sled fixes it when a store is created; an existing store keeps its own.
    pub segment_bytes: usize,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 256 * 1024 * 1024,
            flush_every_ms: Some(500),
            checkpoint_on_close: true,
            // Chosen by measurement (BENCHMARKS.md): against sled's 512 KiB default, 8 MiB
            // segments halve the bytes on disk per item under concurrent appends (segments are
            // reclaimed whole, and small ones are mostly stale pages) at equal throughput.
            segment_bytes: 8 * 1024 * 1024,
        }
    }
}

impl SledOptions {
    /// Smallest and largest segment sizes sled accepts.
    pub const SEGMENT_BYTES: std::ops::RangeInclusive<usize> = 256..=16 * 1024 * 1024;

    /// Refuses settings sled cannot open with (it would panic), with `InvalidRequest` naming the
    /// field.
    pub fn validate(&self) -> StorageResult<()> {
        if !self.segment_bytes.is_power_of_two()
            || !Self::SEGMENT_BYTES.contains(&self.segment_bytes)
        {
            return Err(ThreadStoreError::invalid(format!(
                "SledOptions::segment_bytes must be a power of two from {} to {}, got {}",
                Self::SEGMENT_BYTES.start(),
                Self::SEGMENT_BYTES.end(),
                self.segment_bytes
            )));
        }
        if self.flush_every_ms == Some(0) {
            return Err(ThreadStoreError::invalid(
                "SledOptions::flush_every_ms must be longer than zero (None: no background flush)",
            ));
        }
        Ok(())
    }
}

/// The segment size sled recorded for the store in `db_dir` (its `conf` file, written at
/// creation), or `default` for a new store: sled refuses to open a store with another one.
fn segment_size(db_dir: &Path, default: usize) -> usize {
    // The file is text lines followed by a 4-byte checksum.
    std::fs::read(db_dir.join("conf"))
        .ok()
        .and_then(|conf| {
            String::from_utf8_lossy(&conf)
                .lines()
                .find_map(|l| l.strip_prefix("segment_size:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(default)
}

/// sled 0.34 engine: one tree, one directory, an exclusive lock file.
///
/// **Checkpoint on close**: sled 0.34 writes its snapshot (the page table it recovers from) only
/// while opening, after replaying the log written since the previous snapshot; its
/// `snapshot_after_ops` setting is a no-op. So the first open after a long writing session
/// re-reads everything written in it (measured: 1.17 GiB read for a 1.16 GiB store of 1,000,000
/// items, 1.02 s). When the engine is dropped after a clean shutdown it therefore opens the
/// database once more, which writes a fresh snapshot: the shutdown pays the replay, and the next
/// open reads the snapshot and the log tail only. After a crash there is no such step and the
/// next open replays as before.
pub struct SledEngine {
    /// `None` only while dropping.
    db: Option<sled::Db>,
    path: PathBuf,
    checkpoint_on_close: bool,
    _lock: File,
}

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "threadstore.lock";

/// Takes the data directory's exclusive lock (held until the returned file is dropped); another
/// process holding it is `Locked`, naming the directory.
pub fn lock_data_dir(dir: &Path) -> StorageResult<File> {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| io_error("cannot open lock file", e))?;
    match fs4::fs_std::FileExt::try_lock_exclusive(&lock) {
        Ok(true) => Ok(lock),
        Ok(false) => Err(ThreadStoreError::Locked {
            path: PathBuf::from(dir),
            message: "another threadstore process holds the lock".into(),
        }),
        Err(e) => Err(ThreadStoreError::Locked {
            path: PathBuf::from(dir),
            message: e.to_string(),
        }),
    }
}

impl SledEngine {
    /// Opens (or creates) the store in `dir`. A second process gets `Locked`, naming the directory.
    pub fn open(dir: &Path, options: &SledOptions) -> StorageResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error(&format!("cannot create {}", dir.display()), e))?;
        let lock = lock_data_dir(dir)?;
        remove_torn_snapshots(&dir.join("db"))?;
        let config = sled::Config::new()
            .path(dir.join("db"))
            .segment_size(segment_size(&dir.join("db"), options.segment_bytes))
            .cache_capacity(options.cache_bytes)
            .flush_every_ms(options.flush_every_ms);
        let db = open_waiting(&config).map_err(|e| match e {
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock || is_sled_lock_busy(&io) =>
            {
                ThreadStoreError::Locked {
                    path: PathBuf::from(dir),
                    message: io.to_string(),
                }
            }
            sled::Error::Corruption { .. } => ThreadStoreError::Corrupt {
                thread_id: None,
                position: None,
                message: e.to_string(),
            },
            other => io_error("cannot open sled", other),
        })?;
        Ok(Self {
            db: Some(db),
            path: dir.join("db"),
            checkpoint_on_close: options.checkpoint_on_close,
            _lock: lock,
        })
    }
}

/// How long an open waits for sled's file lock to be released by a previous holder.
const SLED_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// sled 0.34 reports a busy file lock as an `Other` IO error with this text.
fn is_sled_lock_busy(io: &std::io::Error) -> bool {
    io.to_string().contains("could not acquire lock")
}

/// Opens sled, waiting up to [`SLED_LOCK_WAIT`] for its file lock.
///
/// Callers hold the directory's lock, so sled's own lock can only be held by a previous handle
/// in the middle of letting go: sled releases it from its background threads shortly after the
/// handle is dropped (the kill -9 test saw a fresh process hit it once in 1,000 cycles, and the
/// checkpoint on close hits it when it reopens right after closing).
fn open_waiting(config: &sled::Config) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + SLED_LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(io))
                if is_sled_lock_busy(&io) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Removes snapshot files that a crash left half-written (`snap.<lsn>.generating`).
///
/// sled 0.34.7 writes a snapshot to `snap.<lsn>.generating` and renames it when complete, but on
/// open it only skips `*.in___motion` files: after a kill during snapshot generation it picks the
/// empty `.generating` file as the newest snapshot and refuses to open ("Read corrupted data").
/// Our kill -9 test found this; such a file is incomplete by construction, so deleting it is safe
/// and sled then recovers from the previous snapshot and the log.
pub fn remove_torn_snapshots(db_dir: &Path) -> StorageResult<usize> {
    let Ok(entries) = std::fs::read_dir(db_dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path())
                .map_err(|e| io_error(&format!("cannot remove torn snapshot {name}"), e))?;
            tracing::warn!(file = %name, "removed a snapshot that a crash left half-written");
            removed += 1;
        }
    }
    Ok(removed)
}

/// Maps sled errors once: a full disk is `ResourceExhausted`, corruption is `Corrupt`.
pub fn sled_err(e: sled::Error) -> ThreadStoreError {
    match e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            ThreadStoreError::ResourceExhausted {
                message: format!("disk full: {io}"),
            }
        }
        sled::Error::Corruption { .. } => ThreadStoreError::Corrupt {
            thread_id: None,
            position: None,
            message: e.to_string(),
        },
        other => io_error("sled", other),
    }
}

impl SledEngine {
    fn db(&self) -> StorageResult<&sled::Db> {
        self.db
            .as_ref()
            .ok_or_else(|| ThreadStoreError::internal("the sled engine is closed"))
    }
}

impl Drop for SledEngine {
    /// Flushes, closes sled, and (unless disabled) opens it once more to write its snapshot.
    /// Failures only cost the next open its speed, so they are logged, not raised.
    ///
    /// This blocks (a flush, a replay, perhaps a wait for sled's lock). `SledThreadStore::close`
    /// drops the engine on the blocking pool; a plain drop on a multi-threaded runtime's worker
    /// tells the runtime first (`block_in_place`), so the worker's other tasks move elsewhere.
    fn drop(&mut self) {
        let on_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_worker {
            tokio::task::block_in_place(|| self.close());
        } else {
            self.close();
        }
    }
}

impl SledEngine {
    fn close(&mut self) {
        let Some(db) = self.db.take() else { return };
        if let Err(e) = db.flush() {
            tracing::warn!(error = %e, "flush on close failed");
            return;
        }
        drop(db);
        if !self.checkpoint_on_close {
            return;
        }
        let started = std::time::Instant::now();
        let config = sled::Config::new()
            .path(&self.path)
            .segment_size(segment_size(
                &self.path,
                SledOptions::default().segment_bytes,
            ))
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(None);
        match open_waiting(&config) {
            Ok(db) => {
                drop(db);
                tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "sled snapshot written on close"
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not write sled's snapshot on close; the next open replays the log")
            }
        }
    }
}

impl KvEngine for SledEngine {
    fn get(&self, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        self.db()?
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(sled_err)
    }

    fn scan(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, rev: bool) -> Scan<'_> {
        let db = match self.db() {
            Ok(db) => db,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let iter = db.range::<Vec<u8>, _>((start, end));
        let map = |r: sled::Result<(sled::IVec, sled::IVec)>| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(sled_err)
        };
        if rev {
            Box::new(iter.rev().map(map))
        } else {
            Box::new(iter.map(map))
        }
    }

    fn apply(&self, batch: WriteBatch) -> StorageResult<()> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        self.db()?.apply_batch(b).map_err(sled_err)
    }

    fn flush(&self) -> StorageResult<()> {
        self.db()?.flush().map(|_| ()).map_err(sled_err)
    }

    fn size_on_disk(&self) -> u64 {
        self.db
            .as_ref()
            .and_then(|db| db.size_on_disk().ok())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sled handle still letting go of its file lock delays an open instead of failing it.
    #[test]
    fn open_waits_for_sleds_lock_to_be_released() {
        let dir = tempfile::tempdir().unwrap();
        let raw = sled::Config::new()
            .path(dir.path().join("db"))
            .open()
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            drop(raw);
        });
        let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
        release.join().unwrap();
        let mut b = WriteBatch::default();
        b.put(b"k".to_vec(), b"v".to_vec());
        engine.apply(b).unwrap();
        assert_eq!(engine.get(b"k").unwrap(), Some(b"v".to_vec()));
    }

    /// Closing writes sled's snapshot, and what was written reads back after the reopen.
    #[test]
    fn close_checkpoints_and_the_data_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
            let mut b = WriteBatch::default();
            for i in 0u32..1000 {
                b.put(i.to_be_bytes().to_vec(), vec![7; 100]);
            }
            engine.apply(b).unwrap();
        }
        let snapshots = std::fs::read_dir(dir.path().join("db"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("snap.")
            })
            .count();
        assert!(snapshots >= 1, "no snapshot written on close");
        let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
        assert_eq!(
            engine.get(&999u32.to_be_bytes()).unwrap(),
            Some(vec![7; 100])
        );
    }

    /// A store created with sled's old 512 KiB segments still opens (and checkpoints) under the
    /// new default: the segment size is read back from sled's `conf`.
    #[test]
    fn a_store_keeps_the_segment_size_it_was_created_with() {
        let dir = tempfile::tempdir().unwrap();
        let old = SledOptions {
            segment_bytes: 512 * 1024,
            ..SledOptions::default()
        };
        {
            let engine = SledEngine::open(dir.path(), &old).unwrap();
            let mut b = WriteBatch::default();
            b.put(b"k".to_vec(), b"v".to_vec());
            engine.apply(b).unwrap();
        }
        assert_eq!(segment_size(&dir.path().join("db"), 1), 512 * 1024);
        let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
        assert_eq!(engine.get(b"k").unwrap(), Some(b"v".to_vec()));
        drop(engine);
        let fresh = tempfile::tempdir().unwrap();
        drop(SledEngine::open(fresh.path(), &SledOptions::default()).unwrap());
        assert_eq!(
            segment_size(&fresh.path().join("db"), 1),
            SledOptions::default().segment_bytes
        );
    }

    #[test]
    fn a_torn_snapshot_no_longer_blocks_opening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
            let mut b = WriteBatch::default();
            b.put(b"k".to_vec(), b"v".to_vec());
            engine.apply(b).unwrap();
            engine.flush().unwrap();
        }
        // What a kill during snapshot generation leaves behind (sled sorts it last).
        std::fs::write(
            dir.path()
                .join("db")
                .join("snap.FFFFFFFFFFFFFFFF.generating"),
            b"",
        )
        .unwrap();
        let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
        assert_eq!(engine.get(b"k").unwrap(), Some(b"v".to_vec()));
    }

    /// The engine may be dropped anywhere: on a multi-threaded runtime's worker (it moves the
    /// worker's tasks away first), on its blocking pool, on a current-thread runtime, or outside.
    #[test]
    fn the_engine_can_be_dropped_on_any_thread() {
        let dir = tempfile::tempdir().unwrap();
        let open = || SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let engine = open();
        multi.block_on(async move { tokio::spawn(async move { drop(engine) }).await.unwrap() });
        let engine = open();
        multi.block_on(async move {
            tokio::task::spawn_blocking(move || drop(engine))
                .await
                .unwrap()
        });
        let single = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let engine = open();
        single.block_on(async move { drop(engine) });
        drop(open());
    }

    #[test]
    fn a_full_disk_is_resource_exhausted() {
        let e = sled_err(sled::Error::Io(std::io::Error::from(
            std::io::ErrorKind::StorageFull,
        )));
        assert!(
            matches!(e, ThreadStoreError::ResourceExhausted { .. }),
            "{e:?}"
        );
    }
}

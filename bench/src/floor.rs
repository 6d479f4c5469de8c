//! The physical floor: how many fsyncs per second the disk gives, and its sequential bandwidth.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// What the disk can do.
#[derive(Clone, Debug)]
pub struct FloorRun {
    /// 4 KiB write + `fdatasync`, per second.
    pub fsyncs_per_sec: f64,
    /// Sequential 1 MiB writes, then one fsync.
    pub seq_mib_per_sec: f64,
}

/// Measures the fsync rate (`n` rounds) and the sequential write bandwidth in `dir`.
pub fn fsync_probe(dir: &Path, n: usize) -> std::io::Result<FloorRun> {
    let path = dir.join("fsync-probe");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let block = vec![7u8; 4096];
    let at = Instant::now();
    for _ in 0..n {
        f.write_all(&block)?;
        f.sync_data()?;
    }
    let fsyncs_per_sec = n as f64 / at.elapsed().as_secs_f64();
    let mib = vec![3u8; 1 << 20];
    let total = 256;
    let at = Instant::now();
    for _ in 0..total {
        f.write_all(&mib)?;
    }
    f.sync_all()?;
    let seq_mib_per_sec = total as f64 / at.elapsed().as_secs_f64();
    drop(f);
    std::fs::remove_file(&path)?;
    Ok(FloorRun {
        fsyncs_per_sec,
        seq_mib_per_sec,
    })
}

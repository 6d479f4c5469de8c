//! The thread-list indexes: the entries a thread's metadata implies (by collection, sort key and
//! cwd, plus the parent and rollout-path lookups), the keyset scan that lists threads along them,
//! and the check that finds missing and stale entries. Entries are written with the thread record
//! they derive from ([`crate::batch`]) and rewritten by [`crate::migrate`].

use std::cmp::Ordering;
use std::ops::Bound;

use threadstore_api::{SortDirection, ThreadId, ThreadSortKey};

use crate::codec::decode;
use crate::engine::KvEngine;
use crate::journal::{IndexHit, IndexScan, ThreadFilter};
use crate::keys;
use crate::reads::{live_writer, load_thread, prefix_scan, thread_key_id};
use crate::records::{ThreadMeta, ThreadRecord};
use crate::StorageResult;

/// Index entries a thread's metadata implies: (sort index keys, cwd index keys, parent key, path key).
pub(crate) fn index_keys(id: &ThreadId, meta: &ThreadMeta) -> Vec<Vec<u8>> {
    let collection = if meta.archived_ms.is_some() {
        keys::ARCHIVED
    } else {
        keys::ACTIVE
    };
    let mut out = Vec::with_capacity(8);
    for sort in [
        ThreadSortKey::CreatedAt,
        ThreadSortKey::UpdatedAt,
        ThreadSortKey::RecencyAt,
    ] {
        let time = keys::index_time(sort, sort_time(meta, sort));
        out.push(keys::index_entry(
            keys::index_prefix(collection, sort),
            time,
            id,
        ));
        if let Some(cwd) = &meta.cwd {
            out.push(keys::index_entry(
                keys::cwd_index_prefix(collection, sort, cwd),
                time,
                id,
            ));
        }
    }
    if let Some(parent) = &meta.parent_thread_id {
        out.push(keys::parent(parent, id));
    }
    if let Some(path) = &meta.rollout_path {
        out.push(keys::path(path));
    }
    out
}

/// The value stored under an index key: the thread id for path lookups, else nothing.
pub(crate) fn index_value(id: &ThreadId, key: &[u8]) -> Vec<u8> {
    if key.first() == Some(&keys::PATH) {
        id.as_bytes().to_vec()
    } else {
        Vec::new()
    }
}

/// The time a sort key orders by.
pub fn sort_time(meta: &ThreadMeta, sort: ThreadSortKey) -> i64 {
    match sort {
        ThreadSortKey::CreatedAt => meta.created_ms,
        ThreadSortKey::UpdatedAt => meta.updated_ms,
        ThreadSortKey::RecencyAt => meta.recency_ms,
    }
}

/// Thread records along an index (see [`crate::journal::Journal::scan_index`]).
///
/// Entries are keyed by time bucket ([`keys::index_time`]), so the matches of one bucket are
/// gathered and sorted by exact time before they are listed ([`close_bucket`]).
pub(crate) fn scan(
    engine: &dyn KvEngine,
    scan: &IndexScan,
    limit: usize,
    keep: &ThreadFilter,
) -> StorageResult<Vec<IndexHit>> {
    let rev = scan.direction == SortDirection::Desc;
    let (start, end) = scan_range(scan);
    let mut out = Vec::new();
    // The matches of the bucket being read, sorted by exact time when the bucket ends.
    let mut bucket: Vec<IndexHit> = Vec::new();
    let mut bucket_time = None;
    for entry in engine.scan(Bound::Included(start), Bound::Excluded(end), rev) {
        let (k, _) = entry?;
        let Some((time, id)) = keys::parse_index_tail(&k) else {
            continue;
        };
        if bucket_time != Some(time) {
            close_bucket(&mut bucket, &mut out, rev);
            if out.len() >= limit {
                break;
            }
            bucket_time = Some(time);
        }
        if let Some(hit) = hit(engine, scan, time, id, keep)? {
            bucket.push(hit);
        }
    }
    close_bucket(&mut bucket, &mut out, rev);
    out.truncate(limit);
    Ok(out)
}

/// The key range a scan reads: the whole index, or from the anchor's bucket on. Entries are
/// keyed by bucket, so the range starts at the anchor's whole bucket: threads after the anchor
/// may share it.
fn scan_range(scan: &IndexScan) -> (Vec<u8>, Vec<u8>) {
    let collection = if scan.archived {
        keys::ARCHIVED
    } else {
        keys::ACTIVE
    };
    let prefix = match &scan.cwd {
        Some(cwd) => keys::cwd_index_prefix(collection, scan.sort, cwd),
        None => keys::index_prefix(collection, scan.sort),
    };
    let rev = scan.direction == SortDirection::Desc;
    match (scan.after, rev) {
        (None, _) => (prefix.clone(), keys::prefix_end(&prefix)),
        (Some((t, _)), false) => (
            keys::index_time_range(&prefix, keys::index_time(scan.sort, t)).0,
            keys::prefix_end(&prefix),
        ),
        (Some((t, _)), true) => (
            prefix.clone(),
            keys::index_time_range(&prefix, keys::index_time(scan.sort, t)).1,
        ),
    }
}

/// The thread of the entry (`time`, `id`) when the scan lists it: its record is readable, still
/// listed under this entry, strictly after the anchor, and kept by the filter.
fn hit(
    engine: &dyn KvEngine,
    scan: &IndexScan,
    time: i64,
    id: ThreadId,
    keep: &ThreadFilter,
) -> StorageResult<Option<IndexHit>> {
    let Some(record) = readable_record(engine, id) else {
        return Ok(None);
    };
    let exact = sort_time(&record.meta, scan.sort);
    if !listed_under(scan, &record, time, exact) {
        return Ok(None);
    }
    if !(after_anchor(scan, exact, &id) && keep(&record)) {
        return Ok(None);
    }
    let live = live_writer(engine, id)?.is_some();
    Ok(Some(IndexHit {
        time: exact,
        record,
        live,
    }))
}

/// The thread's record; `None` when it is gone, or cannot be read (skipped and logged, so one
/// damaged thread does not take the listing down: `verify` reports it).
fn readable_record(engine: &dyn KvEngine, id: ThreadId) -> Option<ThreadRecord> {
    match load_thread(engine, id) {
        Ok(record) => record,
        Err(e) => {
            tracing::warn!(thread = %id, error = %e, "listing skips a thread whose record cannot be read; `verify` reports it");
            None
        }
    }
}

/// Whether `record` belongs under the scanned entry at bucket `time`: a record that moved since
/// its entry was read (another bucket, collection or cwd) is listed under its new entry.
fn listed_under(scan: &IndexScan, record: &ThreadRecord, time: i64, exact: i64) -> bool {
    if keys::index_time(scan.sort, exact) != time
        || record.meta.archived_ms.is_some() != scan.archived
    {
        return false;
    }
    scan.cwd
        .as_ref()
        .is_none_or(|c| record.meta.cwd.as_ref() == Some(c))
}

/// Whether (`time`, `id`) comes after the scan's anchor in its direction (or is the anchor, when
/// the scan includes it).
fn after_anchor(scan: &IndexScan, time: i64, id: &ThreadId) -> bool {
    match scan.after {
        None => true,
        Some((t, a)) => {
            let order = (time, id.as_bytes()).cmp(&(t, a.as_bytes()));
            let after = if scan.direction == SortDirection::Desc {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            order == after || (scan.include_anchor && order == Ordering::Equal)
        }
    }
}

/// Moves one index bucket's matches to `out`, in listing order: (exact time, thread id), as the
/// keys of an exact-time index would order them.
fn close_bucket(bucket: &mut Vec<IndexHit>, out: &mut Vec<IndexHit>, rev: bool) {
    bucket.sort_by(|a, b| {
        let order =
            (a.time, a.record.thread_id.as_bytes()).cmp(&(b.time, b.record.thread_id.as_bytes()));
        if rev {
            order.reverse()
        } else {
            order
        }
    });
    out.append(bucket);
}

/// Index problems (see [`crate::journal::JournalMaintenance::index_problems`]): entries a thread's metadata
/// implies that are missing, and entries no thread's metadata implies (stale).
pub(crate) fn problems(engine: &dyn KvEngine) -> StorageResult<Vec<(Option<ThreadId>, String)>> {
    let mut problems = Vec::new();
    let mut expected = std::collections::HashSet::new();
    for entry in prefix_scan(engine, vec![keys::THREAD], false) {
        let (k, v) = entry?;
        let id = thread_key_id(&k)?;
        // An unreadable record is reported by `verify` itself, once.
        let Ok(record) = decode::<ThreadRecord>(&v, Some(id), None) else {
            continue;
        };
        for key in index_keys(&id, &record.meta) {
            if engine.get(&key)?.is_none() {
                problems.push((Some(id), format!("missing index entry {key:?}")));
            }
            expected.insert(key);
        }
    }
    for prefix in [keys::INDEX, keys::CWD_INDEX, keys::PARENT, keys::PATH] {
        for entry in prefix_scan(engine, vec![prefix], false) {
            let (k, _) = entry?;
            if !expected.contains(&k) {
                problems.push((None, format!("stale index entry {k:?}")));
            }
        }
    }
    Ok(problems)
}

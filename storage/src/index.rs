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
use crate::reads::{prefix_scan, thread_key_id};
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
    // The bucket's entries, resolved into hits together (a few trips on a remote engine).
    let mut entries: Vec<(i64, ThreadId)> = Vec::new();
    let mut bucket_time = None;
    for entry in engine.scan(Bound::Included(start), Bound::Excluded(end), rev) {
        let (k, _) = entry?;
        let Some((time, id)) = keys::parse_index_tail(&k) else {
            continue;
        };
        if bucket_time != Some(time) {
            hits(engine, scan, &mut entries, keep, &mut bucket)?;
            close_bucket(&mut bucket, &mut out, rev);
            if out.len() >= limit {
                break;
            }
            bucket_time = Some(time);
        }
        entries.push((time, id));
    }
    hits(engine, scan, &mut entries, keep, &mut bucket)?;
    close_bucket(&mut bucket, &mut out, rev);
    out.truncate(limit);
    Ok(out)
}

/// Most thread records read in one call while resolving a bucket.
const RESOLVE_CHUNK: usize = 256;

/// The threads of the index entries `(time, id)` the scan lists (see [`listed_under`],
/// [`after_anchor`] and `keep`), each with its record and whether a writer is live, appended to
/// `bucket`; `entries` is emptied. A record that cannot be decoded is skipped and logged, so one
/// damaged thread does not take the listing down (`verify` reports it).
fn hits(
    engine: &dyn KvEngine,
    scan: &IndexScan,
    entries: &mut Vec<(i64, ThreadId)>,
    keep: &ThreadFilter,
    bucket: &mut Vec<IndexHit>,
) -> StorageResult<()> {
    for chunk in entries.chunks(RESOLVE_CHUNK) {
        let record_keys: Vec<Vec<u8>> = chunk.iter().map(|(_, id)| keys::thread(id)).collect();
        let mut listed = Vec::new();
        for (&(time, id), value) in chunk.iter().zip(engine.get_many(&record_keys)?) {
            let record = match value
                .map(|b| decode::<ThreadRecord>(&b, Some(id), None))
                .transpose()
            {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(thread = %id, error = %e, "listing skips a thread whose record cannot be read; `verify` reports it");
                    continue;
                }
            };
            let exact = sort_time(&record.meta, scan.sort);
            if listed_under(scan, &record, time, exact)
                && after_anchor(scan, exact, &id)
                && keep(&record)
            {
                listed.push((exact, record));
            }
        }
        let lease_keys: Vec<Vec<u8>> = listed
            .iter()
            .map(|(_, r)| keys::writer(&r.thread_id))
            .collect();
        for ((exact, record), lease) in listed.into_iter().zip(engine.get_many(&lease_keys)?) {
            bucket.push(IndexHit {
                time: exact,
                record,
                live: lease.and_then(|b| keys::be_u64(&b, 0)).is_some(),
            });
        }
    }
    entries.clear();
    Ok(())
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

//! The on-disk key layout: every record threadstore writes lives in one ordered keyspace (one sled
//! tree), partitioned by a one-byte prefix. All integers are big-endian so byte order is numeric
//! order; thread ids are their 16 UUID bytes.
//!
//! | prefix | key                                              | value                     | kind       |
//! |--------|--------------------------------------------------|---------------------------|------------|
//! | `L`    | `L` thread(16) position(8)                       | [`LogRecord`]             | log (truth)|
//! | `T`    | `T` thread(16)                                   | [`ThreadRecord`]          | projection |
//! | `U`    | `U` thread(16) turn_seq(8)                       | [`TurnRecord`]            | projection |
//! | `N`    | `N` thread(16) turn_id(utf-8)                    | turn_seq(8)               | projection |
//! | `M`    | `M` thread(16) turn_seq(8) position(8)           | empty (turn membership)   | projection |
//! | `V`    | `V` thread(16) position(8)                       | turn_seq(8) (item view)   | projection |
//! | `R`    | `R` thread(16) request_id(utf-8)                 | first(8) count(8)         | dedupe     |
//! | `B`    | `B` thread(16)                                   | [`Base`] (a fork's lineage) | lineage  |
//! | `K`    | `K` parent(16) child(16)                         | empty (forks of a thread) | lineage    |
//! | `W`    | `W` thread(16)                                   | epoch(8) (live writer)    | lease      |
//! | `I`    | `I` collection(1) sort(1) index_time(8) thread(16) | empty                   | index      |
//! | `C`    | `C` collection(1) sort(1) cwd_hash(8) index_time(8) thread(16) | empty      | index      |
//! | `P`    | `P` parent(16) child(16)                         | empty                     | index      |
//! | `O`    | `O` rollout_path(utf-8)                          | thread(16)                | index      |
//! | `F`    | `F` first_feed_position(8)                       | [`FeedBlock`] (a group's events) | projection |
//! | `S`    | `S` name(utf-8)                                  | store metadata            | store      |
//!
//! `index_time` is [`index_time`]: the creation time exactly, the update and recency times
//! rounded down to a [`SORT_BUCKET_MS`] bucket. `S layout` holds the layout version
//! ([`crate::migrate::LAYOUT_VERSION`]); older stores are migrated when opened.
//!
//! Invariants (checked by `verify` and the tests):
//! - **dense log**: a thread's `L` keys are exactly positions `0..next_position` of its `T` record.
//! - **projection = rebuild**: `T`, `U`, `N` equal what [`crate::projection::rebuild`] derives
//!   from the `L` records, and so do the members of each turn.
//! - **members of broken runs only**: a turn whose members are its whole position range
//!   ([`TurnRecord::is_contiguous`]) has no `M` keys, its range is its membership; any other turn
//!   has one `M` key per member.
//! - **one index entry per sort key**: every thread has exactly one `I` key per sort key, in the
//!   collection its `archived_at` says, keyed by the [`index_time`] of the time its metadata says
//!   (and one `C` key per sort key when it has a cwd).
//! - **gapless feed**: the `F` blocks tile positions `0..head` without holes or overlaps, in commit
//!   order; each commit's events get consecutive positions in the same atomic batch as the commit
//!   (see [`crate::feed`]).
//! - **item view of paginated threads**: a paginated thread has one `V` key per member of a
//!   visible turn (its `item_completed` lines), valued with that turn's seq, so Codex's item view
//!   of the whole thread pages in O(page); other threads have none.
//! - **forks by reference** ([`crate::lineage`]): a fork's `B` key names its parent and the
//!   prefix it reads through (positions below `end`, turns below `seq_base`); its own `L` keys are
//!   `end..next_position`. Its parent has the `K parent child` key, and before a commit of the
//!   parent changes or drops a record a fork reads through, the old value is copied to the fork
//!   (copy on write). A deleted thread that still has forks keeps its log and projections (no
//!   `T` record, no index entries) until its last fork is deleted.
//! - **leases are not projections**: `W` keys are cleared when the store opens (the process that held
//!   them is gone); `R` keys live as long as the thread.
//!
//! [`LogRecord`]: crate::records::LogRecord
//! [`ThreadRecord`]: crate::records::ThreadRecord
//! [`TurnRecord`]: crate::records::TurnRecord
//! [`TurnRecord::is_contiguous`]: crate::records::TurnRecord::is_contiguous
//! [`FeedBlock`]: crate::records::FeedBlock
//! [`Base`]: crate::lineage::Base

use threadstore_api::{ThreadId, ThreadSortKey};

/// Prefix of log records.
pub const LOG: u8 = b'L';
/// Prefix of thread records.
pub const THREAD: u8 = b'T';
/// Prefix of turn records.
pub const TURN: u8 = b'U';
/// Prefix of the turn-id lookup.
pub const TURN_ID: u8 = b'N';
/// Prefix of turn membership entries.
pub const MEMBER: u8 = b'M';
/// Prefix of the item view of paginated threads.
pub const ITEM_VIEW: u8 = b'V';
/// Prefix of idempotency records.
pub const REQUEST: u8 = b'R';
/// Prefix of live-writer leases.
pub const WRITER: u8 = b'W';
/// Prefix of a fork's lineage record.
pub const BASE: u8 = b'B';
/// Prefix of the forks of a thread.
pub const FORK: u8 = b'K';
/// Prefix of the sort indexes.
pub const INDEX: u8 = b'I';
/// Prefix of the cwd-filtered sort indexes.
pub const CWD_INDEX: u8 = b'C';
/// Prefix of the parent → child index.
pub const PARENT: u8 = b'P';
/// Prefix of the rollout-path lookup.
pub const PATH: u8 = b'O';
/// Prefix of the global feed.
pub const FEED: u8 = b'F';
/// Prefix of store metadata.
pub const STORE: u8 = b'S';

/// Every per-thread prefix (deleted with the thread).
pub const PER_THREAD: [u8; 9] = [
    LOG, THREAD, TURN, TURN_ID, MEMBER, ITEM_VIEW, REQUEST, BASE, FORK,
];

/// The per-thread prefixes a fork reads through (kept while a deleted thread has forks).
pub const LINEAGE_READ: [u8; 7] = [LOG, TURN, TURN_ID, MEMBER, ITEM_VIEW, BASE, FORK];

/// Collection byte: active threads.
pub const ACTIVE: u8 = 0;
/// Collection byte: archived threads.
pub const ARCHIVED: u8 = 1;

/// `prefix ++ thread`: the start of every key of one thread under one prefix.
pub fn thread_prefix(prefix: u8, thread: &ThreadId) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(prefix);
    k.extend_from_slice(thread.as_bytes());
    k
}

/// `L thread position`.
pub fn log(thread: &ThreadId, position: u64) -> Vec<u8> {
    let mut k = thread_prefix(LOG, thread);
    k.extend_from_slice(&position.to_be_bytes());
    k
}

/// `T thread`.
pub fn thread(thread: &ThreadId) -> Vec<u8> {
    thread_prefix(THREAD, thread)
}

/// `U thread seq`.
pub fn turn(thread: &ThreadId, seq: u64) -> Vec<u8> {
    let mut k = thread_prefix(TURN, thread);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `N thread turn_id`.
pub fn turn_id(thread: &ThreadId, turn_id: &str) -> Vec<u8> {
    let mut k = thread_prefix(TURN_ID, thread);
    k.extend_from_slice(turn_id.as_bytes());
    k
}

/// `M thread seq` (prefix of one turn's members).
pub fn members_of(thread: &ThreadId, seq: u64) -> Vec<u8> {
    let mut k = thread_prefix(MEMBER, thread);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `M thread seq position`.
pub fn member(thread: &ThreadId, seq: u64, position: u64) -> Vec<u8> {
    let mut k = members_of(thread, seq);
    k.extend_from_slice(&position.to_be_bytes());
    k
}

/// `V thread position`.
pub fn item_view(thread: &ThreadId, position: u64) -> Vec<u8> {
    let mut k = thread_prefix(ITEM_VIEW, thread);
    k.extend_from_slice(&position.to_be_bytes());
    k
}

/// `R thread request_id`.
pub fn request(thread: &ThreadId, request_id: &str) -> Vec<u8> {
    let mut k = thread_prefix(REQUEST, thread);
    k.extend_from_slice(request_id.as_bytes());
    k
}

/// `B thread`.
pub fn base(thread: &ThreadId) -> Vec<u8> {
    thread_prefix(BASE, thread)
}

/// `K parent child`.
pub fn fork(parent: &ThreadId, child: &ThreadId) -> Vec<u8> {
    let mut k = thread_prefix(FORK, parent);
    k.extend_from_slice(child.as_bytes());
    k
}

/// `W thread`.
pub fn writer(thread: &ThreadId) -> Vec<u8> {
    thread_prefix(WRITER, thread)
}

/// Sort byte of a sort key.
pub fn sort_byte(key: ThreadSortKey) -> u8 {
    match key {
        ThreadSortKey::CreatedAt => 0,
        ThreadSortKey::UpdatedAt => 1,
        ThreadSortKey::RecencyAt => 2,
    }
}

/// Maps a (possibly pre-1970) millisecond time to an order-preserving u64.
pub fn time_bits(ms: i64) -> u64 {
    (ms as u64) ^ (1 << 63)
}

/// Inverse of [`time_bits`].
pub fn time_from_bits(bits: u64) -> i64 {
    (bits ^ (1 << 63)) as i64
}

/// Width of the time buckets that key the `UpdatedAt` and `RecencyAt` index entries, ms.
///
/// Those times move on every append. Keyed by exact time, every append would move the thread's
/// entries (a remove and an insert per index, ~40% of an append's cost when measured); keyed by
/// bucket, an entry moves at most once per bucket. A listing orders the threads of one bucket by
/// their exact time from their records, which it reads anyway, so a page costs O(page + one
/// bucket's threads).
pub const SORT_BUCKET_MS: i64 = 1_000;

/// The time an index entry of `sort` is keyed by for a thread whose sort time is `ms`: the
/// creation time exactly (it never moves), the others rounded down to their bucket. Monotone in
/// `ms`, so bucket order is time order.
pub fn index_time(sort: ThreadSortKey, ms: i64) -> i64 {
    match sort {
        ThreadSortKey::CreatedAt => ms,
        ThreadSortKey::UpdatedAt | ThreadSortKey::RecencyAt => {
            ms.saturating_sub(ms.rem_euclid(SORT_BUCKET_MS))
        }
    }
}

/// Keys `[start, end)` of every index entry keyed by `time` under `prefix`.
pub fn index_time_range(prefix: &[u8], time_ms: i64) -> (Vec<u8>, Vec<u8>) {
    let mut start = prefix.to_vec();
    start.extend_from_slice(&time_bits(time_ms).to_be_bytes());
    let end = prefix_end(&start);
    (start, end)
}

/// `I collection sort` (prefix of one sorted listing).
pub fn index_prefix(collection: u8, sort: ThreadSortKey) -> Vec<u8> {
    vec![INDEX, collection, sort_byte(sort)]
}

/// `C collection sort cwd_hash` (prefix of one cwd's sorted listing).
pub fn cwd_index_prefix(collection: u8, sort: ThreadSortKey, cwd: &str) -> Vec<u8> {
    let mut k = vec![CWD_INDEX, collection, sort_byte(sort)];
    k.extend_from_slice(&cwd_hash(cwd).to_be_bytes());
    k
}

/// Appends `time thread` to an index prefix.
pub fn index_entry(mut prefix: Vec<u8>, time_ms: i64, thread: &ThreadId) -> Vec<u8> {
    prefix.extend_from_slice(&time_bits(time_ms).to_be_bytes());
    prefix.extend_from_slice(thread.as_bytes());
    prefix
}

/// Splits the `time thread` tail of an index key.
pub fn parse_index_tail(key: &[u8]) -> Option<(i64, ThreadId)> {
    if key.len() < 24 {
        return None;
    }
    let tail = &key[key.len() - 24..];
    let time = u64::from_be_bytes(tail[..8].try_into().ok()?);
    let id: [u8; 16] = tail[8..].try_into().ok()?;
    Some((time_from_bits(time), ThreadId::from_bytes(id)))
}

/// `S name`: store metadata.
pub fn store_meta(name: &str) -> Vec<u8> {
    let mut k = vec![STORE];
    k.extend_from_slice(name.as_bytes());
    k
}

/// `F position`: the key of the feed block that starts at `position`.
pub fn feed(position: u64) -> Vec<u8> {
    let mut k = vec![FEED];
    k.extend_from_slice(&position.to_be_bytes());
    k
}

/// `P parent child`.
pub fn parent(parent: &ThreadId, child: &ThreadId) -> Vec<u8> {
    let mut k = thread_prefix(PARENT, parent);
    k.extend_from_slice(child.as_bytes());
    k
}

/// `O path`.
pub fn path(path: &str) -> Vec<u8> {
    let mut k = vec![PATH];
    k.extend_from_slice(path.as_bytes());
    k
}

/// Stable 64-bit FNV-1a hash of a cwd (collisions are filtered by the exact cwd check).
pub fn cwd_hash(cwd: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in cwd.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Reads a big-endian u64 at `offset`, if the slice is long enough.
pub fn be_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    bytes
        .get(offset..offset + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

/// The smallest key greater than every key that starts with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bits_preserve_order() {
        let times = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for w in times.windows(2) {
            assert!(time_bits(w[0]) < time_bits(w[1]));
            assert_eq!(time_from_bits(time_bits(w[0])), w[0]);
        }
    }

    #[test]
    fn log_keys_sort_by_position() {
        let t = ThreadId::new();
        assert!(log(&t, 255) < log(&t, 256));
        assert!(log(&t, u64::MAX) < prefix_end(&thread_prefix(LOG, &t)));
    }

    #[test]
    fn index_tail_round_trips() {
        let t = ThreadId::new();
        let k = index_entry(index_prefix(ACTIVE, ThreadSortKey::UpdatedAt), -42, &t);
        assert_eq!(parse_index_tail(&k), Some((-42, t)));
    }
}

//! Projections of a thread's log: pure reducers, applied incrementally by the thread actor on
//! every append and replayed from scratch by [`rebuild`]. Both paths call the same functions, which
//! is what makes "incremental == rebuild" checkable.

pub mod classify;
pub mod meta;
pub mod rebuild;
pub mod turns;

pub use classify::{classify, ItemClass};

/// Where an item sits in its thread's log: what the reducers need besides the item itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    /// Position in the log.
    pub position: u64,
    /// Recording time, unix ms.
    pub ts_ms: i64,
    /// Codex's ordinal of the line, if it has one.
    pub ordinal: Option<u64>,
}

impl At {
    /// Where `record` sits, at `position`.
    pub fn of(record: &crate::records::LogRecord, position: u64) -> Self {
        Self {
            position,
            ts_ms: record.ts_ms,
            ordinal: record.ordinal,
        }
    }
}

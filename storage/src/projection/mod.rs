//! Projections of a thread's log: pure reducers, applied incrementally by the thread actor on
//! every append and replayed from scratch by [`rebuild`]. Both paths call the same functions, which
//! is what makes "incremental == rebuild" checkable.

pub mod classify;
pub mod meta;
pub mod rebuild;
pub mod turns;

pub use classify::{classify, ItemClass};

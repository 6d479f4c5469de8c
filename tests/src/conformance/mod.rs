//! The conformance cases, one module per area. Every case is `pub async fn case(b: Backend)`; the
//! [`crate::conformance_suite!`] macro runs each as its own test per backend.

pub mod append;
pub mod archive_delete;
pub mod codex_home;
pub mod concurrency;
pub mod fork;
pub mod item_view;
pub mod items;
pub mod lifecycle;
pub mod list_threads;
pub mod memory_only;
pub mod metadata;
pub mod read;
pub mod restart;
pub mod revert;
pub mod search;
pub mod turns;

/// What every case module needs.
pub(crate) mod prelude {
    pub use crate::harness::*;
    pub use crate::{assert_err, assert_invalid};
    pub use serde_json::json;
    pub use std::path::PathBuf;
    pub use std::sync::Arc;
    pub use threadstore::*;
}

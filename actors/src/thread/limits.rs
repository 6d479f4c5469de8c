//! Size limits on everything a caller supplies: items and batches (`max_item_bytes`,
//! `max_batch_items`) and every string field of create params, metadata patches and request ids
//! (`max_field_bytes`). A value over a limit is `InvalidRequest` naming the field and the limit,
//! and nothing is written. Values the store derives itself (previews, first messages, names read
//! from a log) are clipped instead, in the metadata reducer.

use std::path::Path;

use threadstore_api::{
    CreateThreadParams, ThreadMetadataPatch, ThreadStoreError, ThreadStoreResult,
};

use crate::config::StoreConfig;

/// Rejects items and batches over the configured limits, naming the limit.
pub(crate) fn check_items(
    config: &StoreConfig,
    sizes: impl Iterator<Item = usize>,
    count: usize,
) -> ThreadStoreResult<()> {
    if count > config.max_batch_items {
        return Err(ThreadStoreError::invalid(format!(
            "batch of {count} items is over max_batch_items = {}",
            config.max_batch_items
        )));
    }
    for (i, size) in sizes.enumerate() {
        if size > config.max_item_bytes {
            return Err(ThreadStoreError::invalid(format!(
                "item {i} is {size} bytes, over max_item_bytes = {}",
                config.max_item_bytes
            )));
        }
    }
    Ok(())
}

/// Rejects the first field longer than `max_field_bytes`, naming it.
pub(crate) fn check_fields<'a>(
    config: &StoreConfig,
    fields: impl IntoIterator<Item = (&'static str, Option<usize>)> + 'a,
) -> ThreadStoreResult<()> {
    for (name, len) in fields {
        if let Some(len) = len.filter(|l| *l > config.max_field_bytes) {
            return Err(ThreadStoreError::invalid(format!(
                "{name} is {len} bytes, over max_field_bytes = {}",
                config.max_field_bytes
            )));
        }
    }
    Ok(())
}

fn text(v: &Option<String>) -> Option<usize> {
    v.as_ref().map(String::len)
}

fn clearable(v: &Option<Option<String>>) -> Option<usize> {
    v.as_ref().and_then(|v| v.as_ref().map(String::len))
}

fn path(v: &Option<impl AsRef<Path>>) -> Option<usize> {
    v.as_ref().map(|p| p.as_ref().as_os_str().len())
}

/// The string fields of a metadata patch, with their lengths.
pub(crate) fn patch_fields(p: &ThreadMetadataPatch) -> Vec<(&'static str, Option<usize>)> {
    let git = p.git_info.as_ref();
    vec![
        ("name", clearable(&p.name)),
        ("preview", text(&p.preview)),
        ("first_user_message", text(&p.first_user_message)),
        ("model_provider", text(&p.model_provider)),
        ("model", text(&p.model)),
        ("reasoning_effort", text(&p.reasoning_effort)),
        ("cwd", path(&p.cwd)),
        ("cli_version", text(&p.cli_version)),
        ("source", text(&p.source)),
        ("thread_source", clearable(&p.thread_source)),
        ("agent_nickname", clearable(&p.agent_nickname)),
        ("agent_role", clearable(&p.agent_role)),
        ("agent_path", clearable(&p.agent_path)),
        ("git_info.sha", git.and_then(|g| clearable(&g.sha))),
        ("git_info.branch", git.and_then(|g| clearable(&g.branch))),
        (
            "git_info.origin_url",
            git.and_then(|g| clearable(&g.origin_url)),
        ),
    ]
}

/// The string fields of create params, with their lengths (history lines are items).
pub(crate) fn create_fields(p: &CreateThreadParams) -> Vec<(&'static str, Option<usize>)> {
    let git = p.git_info.as_ref();
    vec![
        ("source", text(&p.source)),
        ("thread_source", text(&p.thread_source)),
        ("cwd", path(&p.cwd)),
        ("model_provider", text(&p.model_provider)),
        ("originator", text(&p.originator)),
        ("cli_version", text(&p.cli_version)),
        ("agent_nickname", text(&p.agent_nickname)),
        ("agent_role", text(&p.agent_role)),
        ("agent_path", text(&p.agent_path)),
        ("rollout_path", path(&p.rollout_path)),
        (
            "git_info.commit_hash",
            git.and_then(|g| text(&g.commit_hash)),
        ),
        ("git_info.branch", git.and_then(|g| text(&g.branch))),
        (
            "git_info.repository_url",
            git.and_then(|g| text(&g.repository_url)),
        ),
    ]
}

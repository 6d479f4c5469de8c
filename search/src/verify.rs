//! The index against the log: every thread has one document per indexed record of its log
//! plus its own, and no document belongs to a thread the store does not hold. Reads every log
//! (as `verify` does); run it once the index is caught up ([`crate::Indexer::sync`]).

use std::collections::HashMap;
use std::sync::Arc;

use threadstore_api::{SortDirection, ThreadId};
use threadstore_storage::JournalMaintenance;

use crate::extract;
use crate::index::SearchIndex;
use crate::query::documents_per_thread;
use crate::{SearchError, SearchResult};

/// Records read per step.
const PAGE: usize = 1024;

/// Documents the log of `thread` implies: its own indexed records, plus its own document. A
/// fork's prefix is its parent's: indexed (and found) there, not again for every fork.
pub async fn expected_documents(
    journal: &dyn JournalMaintenance,
    thread: ThreadId,
) -> SearchResult<u64> {
    let mut count = 1;
    let mut at = journal
        .own_log_start(thread)
        .await
        .map_err(SearchError::Store)?;
    loop {
        let records = journal
            .log_range(thread, at, u64::MAX, SortDirection::Asc, PAGE)
            .await
            .map_err(SearchError::Store)?;
        let Some((last, _)) = records.last() else {
            break;
        };
        at = last + 1;
        count += records
            .iter()
            .filter(|(_, r)| extract::record_text(&r.kind, &r.payload).is_some())
            .count() as u64;
    }
    Ok(count)
}

/// The differences between the index and the log, one line each, with the thread concerned.
pub async fn problems(
    index: Arc<SearchIndex>,
    journal: &dyn JournalMaintenance,
) -> SearchResult<Vec<(Option<ThreadId>, String)>> {
    let counted = tokio::task::spawn_blocking(move || documents_per_thread(&index))
        .await
        .map_err(|e| SearchError::Damaged(format!("counting panicked: {e}")))??;
    let mut indexed: HashMap<ThreadId, u64> = counted;
    let mut out = Vec::new();
    for thread in journal.thread_ids().await.map_err(SearchError::Store)? {
        let expected = expected_documents(journal, thread).await?;
        let held = indexed.remove(&thread).unwrap_or(0);
        if held != expected {
            out.push((
                Some(thread),
                format!(
                    "search index holds {held} documents for this thread; its log implies {expected}"
                ),
            ));
        }
    }
    for (thread, held) in indexed {
        out.push((
            Some(thread),
            format!("search index holds {held} documents of a thread the store does not hold"),
        ));
    }
    Ok(out)
}

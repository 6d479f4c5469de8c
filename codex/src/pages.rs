//! A thread's stored history read a page at a time, oldest first: how the importer compares a
//! thread with its file and the exporter writes one, in memory bounded by a page whatever the
//! thread's length.

use std::collections::VecDeque;

use threadstore_api::{ListItemsParams, StoredItem, ThreadId, ThreadStore, ThreadStoreResult};

/// The thread's history (archived or not), one item at a time (see the module documentation).
pub(crate) struct StoredPages {
    thread_id: ThreadId,
    page_size: usize,
    cursor: Option<String>,
    page: VecDeque<StoredItem>,
    done: bool,
    /// Items returned so far.
    pub(crate) index: u64,
}

impl StoredPages {
    /// The history of `thread_id`, read `page_size` items per store call.
    pub(crate) fn new(thread_id: ThreadId, page_size: usize) -> Self {
        Self {
            thread_id,
            page_size,
            cursor: None,
            page: VecDeque::new(),
            done: false,
            index: 0,
        }
    }

    /// The next item, `None` after the last.
    pub(crate) async fn next(
        &mut self,
        store: &dyn ThreadStore,
    ) -> ThreadStoreResult<Option<StoredItem>> {
        loop {
            if let Some(item) = self.page.pop_front() {
                self.index += 1;
                return Ok(Some(item));
            }
            if self.done {
                return Ok(None);
            }
            let page = store
                .list_items(ListItemsParams {
                    include_archived: true,
                    cursor: self.cursor.take(),
                    page_size: self.page_size,
                    ..ListItemsParams::new(self.thread_id)
                })
                .await?;
            self.page.extend(page.items);
            match page.next_cursor {
                Some(cursor) => self.cursor = Some(cursor),
                None => self.done = true,
            }
        }
    }
}

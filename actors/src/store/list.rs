//! Thread listings, served from the sort indexes (never from a scan of logs); search pages
//! sorted by a time key walk the same indexes (`super::search`).

use std::collections::HashSet;

use std::sync::Arc;
use threadstore_api::*;
use threadstore_storage::cursor::{CursorScope, PageCursor};

use threadstore_storage::journal::{IndexScan, ThreadFilter};
use threadstore_storage::{IndexHit, ThreadRecord};

use super::{convert, ActorStore};

/// Everything that narrows a listing, checked per index entry.
pub(super) struct Filter {
    pub(super) sources: Vec<String>,
    pub(super) providers: Option<Vec<String>>,
    pub(super) cwds: Option<Vec<String>>,
    pub(super) term: Option<String>,
    pub(super) allowed_ids: Option<HashSet<ThreadId>>,
}

impl Filter {
    pub(super) fn keep(&self, r: &ThreadRecord) -> bool {
        let m = &r.meta;
        if !self.sources.is_empty()
            && !m
                .source
                .as_ref()
                .is_some_and(|s| self.sources.iter().any(|a| a == s))
        {
            return false;
        }
        if let Some(p) = &self.providers {
            if !p.is_empty()
                && !m
                    .model_provider
                    .as_ref()
                    .is_some_and(|mp| p.iter().any(|a| a == mp))
            {
                return false;
            }
        }
        if let Some(cwds) = &self.cwds {
            if !m.cwd.as_ref().is_some_and(|c| cwds.contains(c)) {
                return false;
            }
        }
        if let Some(ids) = &self.allowed_ids {
            if !ids.contains(&r.thread_id) {
                return false;
            }
        }
        if let Some(term) = &self.term {
            return name_or_preview_contains(r, term);
        }
        true
    }
}

/// Whether `term` (lowercase) is a case-insensitive substring of the name or the preview
/// (`list_threads`' `search_term`; `search_threads` uses the full-text index).
fn name_or_preview_contains(r: &ThreadRecord, term: &str) -> bool {
    let m = &r.meta;
    [m.name.as_deref(), Some(m.preview.as_str())]
        .into_iter()
        .flatten()
        .any(|text| text.to_lowercase().contains(term))
}

pub(super) async fn relation_ids(
    store: &ActorStore,
    relation: Option<ThreadRelationFilter>,
) -> ThreadStoreResult<Option<HashSet<ThreadId>>> {
    let journal = store.journal();
    Ok(match relation {
        None => None,
        Some(ThreadRelationFilter::DirectChildrenOf(p)) => {
            Some(journal.children(p).await?.into_iter().collect())
        }
        Some(ThreadRelationFilter::DescendantsOf(p)) => {
            let mut seen = HashSet::new();
            let mut frontier = vec![p];
            while let Some(next) = frontier.pop() {
                for child in journal.children(next).await? {
                    if child != p && seen.insert(child) {
                        frontier.push(child);
                    }
                }
            }
            Some(seen)
        }
    })
}

pub(super) struct Listing {
    pub(super) sort: ThreadSortKey,
    pub(super) direction: SortDirection,
    pub(super) archived: bool,
    pub(super) search: bool,
    pub(super) page_size: usize,
    pub(super) cursor: Option<String>,
}

/// A page of a listing: its hits, the cursor after the last one (when more follow) and the
/// inclusive cursor at the first one for the opposite direction (when the page is not empty).
pub(super) struct Listed {
    pub(super) hits: Vec<IndexHit>,
    pub(super) next: Option<String>,
    pub(super) backwards: Option<String>,
}

/// Walks the index after the cursor, keeping matches, and returns a page with its cursors.
pub(super) async fn page(
    store: &ActorStore,
    l: Listing,
    filter: Filter,
) -> ThreadStoreResult<Listed> {
    let size = resolve_page_size(l.page_size)?;
    let scope = CursorScope::Threads {
        sort: l.sort,
        archived: l.archived,
        search: l.search,
    };
    let (after, include_anchor) = match &l.cursor {
        Some(c) => {
            let c = PageCursor::decode(c, None, &scope, l.direction)?;
            (c.anchor_thread, c.include_anchor)
        }
        None => (None, false),
    };
    if filter.cwds.as_ref().is_some_and(|c| c.is_empty()) {
        return Ok(Listed {
            hits: Vec::new(),
            next: None,
            backwards: None,
        });
    }
    let single_cwd = match &filter.cwds {
        Some(c) if c.len() == 1 => Some(c[0].clone()),
        _ => None,
    };
    let scan = IndexScan {
        archived: l.archived,
        sort: l.sort,
        direction: l.direction,
        cwd: single_cwd,
        after,
        include_anchor,
    };
    let keep: Arc<ThreadFilter> = Arc::new(move |r: &ThreadRecord| filter.keep(r));
    let mut hits = store.journal().scan_index(scan, size + 1, keep).await?;
    let more = hits.len() > size;
    hits.truncate(size);
    let cursor = |hit: &IndexHit, direction, include_anchor| {
        PageCursor {
            thread: None,
            scope: scope.clone(),
            direction,
            anchor: 0,
            anchor_turn: None,
            anchor_thread: Some((hit.time, hit.record.thread_id)),
            include_anchor,
        }
        .encode()
    };
    let next = hits
        .last()
        .filter(|_| more)
        .map(|hit| cursor(hit, l.direction, false));
    let backwards = hits
        .first()
        .map(|hit| cursor(hit, l.direction.reversed(), true));
    Ok(Listed {
        hits,
        next,
        backwards,
    })
}

/// A listed thread, with its live-writer flag read from the lease.
pub(super) fn listed(hit: &IndexHit) -> StoredThread {
    convert::stored_thread(&hit.record, hit.live)
}

pub(super) fn normalize_cwds(cwds: Option<Vec<std::path::PathBuf>>) -> Option<Vec<String>> {
    cwds.map(|v| {
        v.into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    })
}

/// `list_threads`.
pub async fn list_threads(
    store: &ActorStore,
    p: ListThreadsParams,
) -> ThreadStoreResult<ThreadPage> {
    let filter = Filter {
        sources: p.allowed_sources,
        providers: p.model_providers,
        cwds: normalize_cwds(p.cwd_filters),
        term: p
            .search_term
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty()),
        allowed_ids: relation_ids(store, p.relation_filter).await?,
    };
    let listing = Listing {
        sort: p.sort_key,
        direction: p.sort_direction,
        archived: p.archived,
        search: false,
        page_size: p.page_size,
        cursor: p.cursor,
    };
    let page = page(store, listing, filter).await?;
    Ok(ThreadPage {
        items: page.hits.iter().map(listed).collect(),
        next_cursor: page.next,
        backwards_cursor: page.backwards,
    })
}

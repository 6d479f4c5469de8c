//! `search_threads` over the full-text index (`threadstore_search`), and the index's place in
//! the store: where it lives ([`SearchPlace`]), when it starts (first use, or at open for a
//! store on disk, so it catches up by itself), how `flush_thread` waits for it and how `close`
//! stops it.
//!
//! A page by relevance ranks every matching thread (summed BM25, ties by id), then walks the
//! ranking after the cursor's `(score, thread)` anchor, reading each thread's record to apply
//! the collection and the `list_threads` filters, until the page is full: O(matches) in the
//! index, O(page + filtered out) records. A page sorted by a time key walks the sort index with
//! the matching threads as its allowed set. Each hit's snippet comes from the thread's best
//! document, re-read from the log.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use threadstore_api::*;
use threadstore_search::index::META_POSITION;
use threadstore_search::{extract, query, Hit, IndexWorker, Indexer, SearchIndex, SearchQuery};
use threadstore_storage::cursor::{CursorScope, PageCursor};
use threadstore_storage::{Journal, ThreadRecord};
use tokio::sync::OnceCell;
use tracing::warn;

use super::list::{self, Filter, Listing};
use super::{convert, ActorStore};

/// How long `flush_thread` waits for its appends to become searchable.
pub const FLUSH_WAIT: Duration = Duration::from_secs(10);
/// How long a search waits for the index to catch up with what the store held when it opened
/// (after a crash; then it answers from what is indexed, and `stats` shows the lag).
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);

/// Where a store keeps its full-text index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchPlace {
    /// In memory (rebuilt from the feed when the store opens).
    Memory,
    /// In this directory (a sled store's `<data>/search`).
    Dir(PathBuf),
    /// No index: `search_threads` is `Unsupported`.
    Off,
}

/// The store's index: its place, and the indexer once started (or why it could not start).
pub(super) struct SearchSlot {
    place: SearchPlace,
    indexer: OnceCell<Result<Arc<Indexer>, String>>,
    poke: Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>,
    /// The feed head when the indexer started: what a search waits for (bounded) after a crash.
    start_head: OnceLock<u64>,
}

impl SearchSlot {
    pub(super) fn new(place: SearchPlace) -> Self {
        Self {
            place,
            indexer: OnceCell::new(),
            poke: Arc::new(OnceLock::new()),
            start_head: OnceLock::new(),
        }
    }

    pub(super) fn set_place(&mut self, place: SearchPlace) {
        self.place = place;
    }

    /// What the journal's feed listener calls after each commit: pokes the indexer once it runs.
    pub(super) fn poker(&self) -> impl Fn() + Send + Sync + 'static {
        let poke = self.poke.clone();
        move || {
            if let Some(p) = poke.get() {
                p()
            }
        }
    }

    /// The running indexer, started on first use: `Unsupported` when the store keeps no index,
    /// `Internal` when it could not be opened (the store works on without search).
    pub(super) async fn indexer(&self, store: &ActorStore) -> ThreadStoreResult<Arc<Indexer>> {
        if self.place == SearchPlace::Off {
            return Err(ThreadStoreError::Unsupported {
                operation: "search_threads (this store keeps no search index)".into(),
            });
        }
        let started = self
            .indexer
            .get_or_init(|| async {
                let opened = open_index(self.place.clone()).await;
                let core: Arc<dyn Journal> = store.journal.clone();
                let _ = self.start_head.set(core.feed_head());
                let started = opened.and_then(|(index, worker)| {
                    Indexer::start(Arc::new(index), worker, &core).map_err(|e| e.to_string())
                });
                match started {
                    Ok(indexer) => {
                        let _ = self.poke.set(Box::new(indexer.poker()));
                        Ok(Arc::new(indexer))
                    }
                    Err(e) => {
                        warn!(error = %e, "the search index cannot be opened; search is unavailable");
                        Err(e)
                    }
                }
            })
            .await;
        started
            .clone()
            .map_err(|e| ThreadStoreError::internal(format!("search index unavailable: {e}")))
    }

    /// Starts the indexer now (a store on disk: it catches up at open), logging a failure.
    pub(super) async fn start(&self, store: &ActorStore) {
        if self.place != SearchPlace::Off {
            let _ = self.indexer(store).await;
        }
    }

    /// Waits (at most `wait`) until everything committed so far is searchable.
    pub(super) async fn sync(&self, store: &ActorStore, wait: Duration) {
        if self.place == SearchPlace::Off {
            return;
        }
        if let Ok(indexer) = self.indexer(store).await {
            // On a shared journal, this node's feed first takes in every commit made so far.
            if let Err(e) = store.journal.settle_feed().await {
                warn!(error = %e, "the feed did not settle; searching what it has");
            }
            let head = store.journal.feed_head();
            if !indexer.sync(head, wait).await {
                warn!(
                    head,
                    status = ?indexer.status(),
                    "the search index did not catch up in time"
                );
            }
        }
    }

    /// Where the index stands (`None` without one).
    pub(super) async fn stats(&self, store: &ActorStore) -> Option<SearchIndexStats> {
        let indexer = self.indexer(store).await.ok()?;
        let status = indexer.status();
        Some(SearchIndexStats {
            applied: status.applied,
            lag: status.lag,
            bytes_on_disk: indexer.index().size_on_disk(),
            failure: status.failure,
        })
    }

    /// The running indexer, if started.
    pub(super) fn running(&self) -> Option<Arc<Indexer>> {
        self.indexer.get().and_then(|r| r.as_ref().ok()).cloned()
    }

    /// Commits what the indexer has applied and stops it.
    pub(super) async fn stop(&self) {
        if let Some(indexer) = self.running() {
            indexer.stop(Duration::from_secs(10)).await;
        }
    }
}

/// Opens the index at `place` on a new index thread (see `threadstore_search::worker`); a
/// damaged one is rebuilt from scratch (the indexer then catches up from the start of the feed).
/// A directory another writer holds is retried for a few seconds (a store reopened right after a
/// close).
async fn open_index(place: SearchPlace) -> Result<(SearchIndex, IndexWorker), String> {
    let worker = IndexWorker::start().map_err(|e| e.to_string())?;
    let index = worker
        .run(move || match place {
            SearchPlace::Off => Err("no search index".to_string()),
            SearchPlace::Memory => SearchIndex::in_memory().map_err(|e| e.to_string()),
            SearchPlace::Dir(dir) => {
                let mut tries = 0;
                loop {
                    match SearchIndex::open(&dir) {
                        Ok(index) => return Ok(index),
                        Err(e) if e.is_busy() && tries < 50 => {
                            tries += 1;
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        Err(e) if e.is_busy() => return Err(e.to_string()),
                        Err(e) => {
                            warn!(error = %e, dir = %dir.display(), "rebuilding the search index");
                            return SearchIndex::recreate(&dir).map_err(|e| e.to_string());
                        }
                    }
                }
            }
        })
        .await
        .map_err(|e| e.to_string())??;
    Ok((index, worker))
}

impl ActorStore {
    /// Starts the full-text index now rather than on first use (it then catches up with the
    /// feed at once); a store on disk calls this when it opens.
    pub async fn start_search(&self) {
        self.search.start(self).await;
    }

    /// The running full-text indexer (`Unsupported` without one): stats, verify, tests.
    pub async fn search_indexer(&self) -> ThreadStoreResult<Arc<Indexer>> {
        self.search.indexer(self).await
    }

    /// Rebuilds the full-text index from the feed and waits for it (at most `wait`); then
    /// checks it against the log. Returns the problems left (none when it worked).
    pub async fn rebuild_search(
        &self,
        wait: Duration,
    ) -> ThreadStoreResult<Vec<(Option<ThreadId>, String)>> {
        let indexer = self.search.indexer(self).await?;
        indexer.rebuild();
        let deadline = tokio::time::Instant::now() + wait;
        // The indexer empties the index between two steps; only then does waiting mean anything.
        while indexer.rebuild_pending() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let head = self.journal.feed_head();
        while !indexer.sync(head, Duration::from_millis(200)).await {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        self.verify_search().await
    }

    /// The index's problems against the log (after catching it up): documents per thread.
    pub async fn verify_search(&self) -> ThreadStoreResult<Vec<(Option<ThreadId>, String)>> {
        let indexer = self.search.indexer(self).await?;
        self.journal.settle_feed().await?;
        let head = self.journal.feed_head();
        let mut problems = Vec::new();
        // Wait as long as the index makes progress (after a bulk import it has much to do).
        let mut last = indexer.status().applied;
        while !indexer.sync(head, Duration::from_secs(30)).await {
            let status = indexer.status();
            if status.applied == last {
                problems.push((
                    None,
                    format!(
                        "search index is {} feed events behind and not catching up{}",
                        status.lag,
                        status.failure.map(|f| format!(": {f}")).unwrap_or_default()
                    ),
                ));
                return Ok(problems);
            }
            last = status.applied;
        }
        problems.extend(
            threadstore_search::verify::problems(indexer.index().clone(), self.journal.as_ref())
                .await?,
        );
        Ok(problems)
    }
}

fn invalid(why: &str) -> ThreadStoreError {
    ThreadStoreError::invalid(format!("invalid cursor: {why}"))
}

fn query_hash(term: &SearchQuery) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", term.clauses()).hash(&mut h);
    h.finish()
}

/// `search_threads`.
pub async fn search_threads(
    store: &ActorStore,
    p: SearchThreadsParams,
) -> ThreadStoreResult<ThreadSearchPage> {
    let query = SearchQuery::parse(&p.search_term).ok_or_else(|| {
        ThreadStoreError::invalid("search_threads requires a search_term with at least one word")
    })?;
    let size = resolve_page_size(p.page_size)?;
    let indexer = store.search.indexer(store).await?;
    if let Some(&head) = store.search.start_head.get() {
        indexer.sync(head, CATCH_UP_WAIT).await;
    }
    let index = indexer.index().clone();
    let q = query.clone();
    let hits = tokio::task::spawn_blocking(move || query::search(&index, &q, None))
        .await
        .map_err(|e| ThreadStoreError::internal(format!("search panicked: {e}")))??;
    let filter = Filter {
        sources: p.allowed_sources,
        providers: p.model_providers,
        cwds: list::normalize_cwds(p.cwd_filters),
        term: None,
        allowed_ids: list::relation_ids(store, p.relation_filter).await?,
    };
    if filter.cwds.as_ref().is_some_and(|c| c.is_empty()) {
        return Ok(ThreadSearchPage::default());
    }
    match p.sort_key {
        None => by_relevance(store, &query, hits, filter, p.archived, size, p.cursor).await,
        Some(sort) => {
            let best: HashMap<ThreadId, Hit> = hits.iter().map(|h| (h.thread, *h)).collect();
            let matching: HashSet<ThreadId> = best.keys().copied().collect();
            let allowed = match &filter.allowed_ids {
                Some(related) => matching.intersection(related).copied().collect(),
                None => matching,
            };
            let filter = Filter {
                allowed_ids: Some(allowed),
                ..filter
            };
            let listing = Listing {
                sort,
                direction: p.sort_direction,
                archived: p.archived,
                search: true,
                page_size: p.page_size,
                cursor: p.cursor,
            };
            let listed = list::page(store, listing, filter).await?;
            let mut items = Vec::with_capacity(listed.hits.len());
            for hit in &listed.hits {
                let best_position = best
                    .get(&hit.record.thread_id)
                    .map_or(META_POSITION, |h| h.best_position);
                let (snippet, match_ranges) =
                    snippet_of(store, &hit.record, best_position, &query).await?;
                items.push(StoredThreadSearchResult {
                    thread: list::listed(hit),
                    snippet,
                    match_ranges,
                    score: None,
                });
            }
            Ok(ThreadSearchPage {
                items,
                next_cursor: listed.next,
            })
        }
    }
}

async fn by_relevance(
    store: &ActorStore,
    query: &SearchQuery,
    hits: Vec<Hit>,
    filter: Filter,
    archived: bool,
    size: usize,
    cursor: Option<String>,
) -> ThreadStoreResult<ThreadSearchPage> {
    let scope = CursorScope::Relevance {
        archived,
        query: query_hash(query),
    };
    let after = match &cursor {
        Some(c) => {
            let c = PageCursor::decode(c, None, &scope, SortDirection::Desc)?;
            let (bits, thread) = c.anchor_thread.ok_or_else(|| invalid("no anchor"))?;
            let bits = u32::try_from(bits).map_err(|_| invalid("bad anchor"))?;
            Some((f32::from_bits(bits), thread))
        }
        None => None,
    };
    // Hits are best first, ties by id: the page starts after the anchor.
    let start = match after {
        Some((score, thread)) => {
            hits.partition_point(|h| h.score > score || (h.score == score && h.thread <= thread))
        }
        None => 0,
    };
    let mut page: Vec<(Hit, ThreadRecord, bool)> = Vec::with_capacity(size + 1);
    for hit in &hits[start..] {
        if page.len() > size {
            break;
        }
        let Some(state) = store.journal.thread_state(hit.thread).await? else {
            continue; // deleted since it was indexed
        };
        if state.record.meta.archived_ms.is_some() != archived || !filter.keep(&state.record) {
            continue;
        }
        page.push((*hit, state.record, state.live.is_some()));
    }
    let more = page.len() > size;
    page.truncate(size);
    let next_cursor = page.last().filter(|_| more).map(|(hit, _, _)| {
        PageCursor {
            thread: None,
            scope: scope.clone(),
            direction: SortDirection::Desc,
            anchor: 0,
            anchor_turn: None,
            anchor_thread: Some((i64::from(hit.score.to_bits()), hit.thread)),
            include_anchor: false,
        }
        .encode()
    });
    let mut items = Vec::with_capacity(page.len());
    for (hit, record, live) in page {
        let (snippet, match_ranges) = snippet_of(store, &record, hit.best_position, query).await?;
        items.push(StoredThreadSearchResult {
            thread: convert::stored_thread(&record, live),
            snippet,
            match_ranges,
            score: Some(hit.score),
        });
    }
    Ok(ThreadSearchPage { items, next_cursor })
}

/// The snippet of a hit: from the document that matched best (the record at `position`, or the
/// thread's own text).
async fn snippet_of(
    store: &ActorStore,
    record: &ThreadRecord,
    position: u64,
    query: &SearchQuery,
) -> ThreadStoreResult<(String, Vec<(usize, usize)>)> {
    let text = if position == META_POSITION {
        extract::meta_text(record.thread_id, &record.meta)
    } else {
        match store.journal.log_at(record.thread_id, position).await? {
            Some(r) => extract::record_text(&r.kind, &r.payload)
                .map(|(_, t)| t)
                .unwrap_or_default(),
            None => String::new(),
        }
    };
    Ok(query::snippet(&text, query))
}

//! Method and notification names: Codex app-server names where Codex has the method, threadstore's
//! own (same style) for the rest. One constant per method, so the server and the client cannot
//! disagree on a spelling.

/// One page of threads (`ListThreadsRequest` → `ThreadListResult`).
pub const THREAD_LIST: &str = "thread/list";
/// Threads whose contents match a term (`SearchThreadsRequest` → `SearchResult`).
pub const THREAD_SEARCH: &str = "thread/search";
/// One thread's summary, optionally with its history (`ReadThreadRequest` → `ReadThreadResult`).
pub const THREAD_READ: &str = "thread/read";
/// The same, addressed by rollout path (`ReadByRolloutPathRequest` → `ReadThreadResult`).
pub const THREAD_READ_BY_ROLLOUT_PATH: &str = "thread/readByRolloutPath";
/// Every persisted item of a thread (`LoadHistoryRequest` → `HistoryResult`).
pub const THREAD_HISTORY_LOAD: &str = "thread/history/load";
/// Every line of a thread's log, reverted ones included (`LoadHistoryRequest` → `HistoryResult`).
pub const THREAD_LOG_LOAD: &str = "thread/log/load";
/// The history from the last compaction on (`LoadHistoryRequest` → `ModelContextResult`).
pub const THREAD_MODEL_CONTEXT_LOAD: &str = "thread/modelContext/load";
/// One page of turns (`ListTurnsRequest` → `TurnListResult`).
pub const THREAD_TURNS_LIST: &str = "thread/turns/list";
/// One page of items of a turn or of the whole thread (`ListItemsRequest` → `ItemListResult`):
/// the raw rollout lines, threadstore's older method.
pub const THREAD_TURNS_ITEMS_LIST: &str = "thread/turns/items/list";
/// One page of Codex's item view, of a turn or of the whole thread (`ThreadItemsListRequest` →
/// `ThreadItemsListResult`): Codex's `thread/items/list`.
pub const THREAD_ITEMS_LIST: &str = "thread/items/list";
/// Every occurrence of a term in one thread (`SearchOccurrencesRequest` →
/// `SearchOccurrencesResult`): Codex's `thread/searchOccurrences`.
pub const THREAD_SEARCH_OCCURRENCES: &str = "thread/searchOccurrences";
/// Reverts a thread to before a turn (`RevertRequest` → `RevertResult`): Codex's `thread/revert`.
pub const THREAD_REVERT: &str = "thread/revert";
/// Drops the last turns of an older era's thread (`RollbackRequest` → `ThreadResult`, its
/// turns filled): Codex's deprecated `thread/rollback`.
pub const THREAD_ROLLBACK: &str = "thread/rollback";
/// Forks a thread by reference (`ForkRequest` → `ForkResult`): Codex's `thread/fork`.
pub const THREAD_FORK: &str = "thread/fork";
/// Archives a thread (`ThreadIdRequest` → `ThreadResult`).
pub const THREAD_ARCHIVE: &str = "thread/archive";
/// Unarchives a thread (`ThreadIdRequest` → `ThreadResult`).
pub const THREAD_UNARCHIVE: &str = "thread/unarchive";
/// Sets or clears a thread's name (`SetNameRequest` → `ThreadResult`).
pub const THREAD_NAME_SET: &str = "thread/name/set";
/// Applies a metadata patch (`MetadataUpdateRequest` → `ThreadResult`).
pub const THREAD_METADATA_UPDATE: &str = "thread/metadata/update";
/// Deletes a thread (`ThreadIdRequest` → `{}`).
pub const THREAD_DELETE: &str = "thread/delete";
/// Creates a thread and opens a writer (`CreateThreadRequest` → `WriterResult`).
pub const THREAD_CREATE: &str = "thread/create";
/// Reopens a thread for appends (`ResumeThreadRequest` → `ResumeResult`).
pub const THREAD_RESUME: &str = "thread/resume";
/// Appends items (`AppendRequest` → `AppendResponse`).
pub const THREAD_ITEMS_APPEND: &str = "thread/items/append";
/// Durability barrier for a created thread (`ThreadIdRequest` → `{}`).
pub const THREAD_PERSIST: &str = "thread/persist";
/// Returns once everything appended is durable (`ThreadIdRequest` → `{}`).
pub const THREAD_FLUSH: &str = "thread/flush";
/// Flushes and closes the live writer (`ThreadIdRequest` → `{}`).
pub const THREAD_SHUTDOWN: &str = "thread/shutdown";
/// Idempotent release of the writer (`ThreadIdRequest` → `{}`).
pub const THREAD_DISCARD: &str = "thread/discard";
/// Subscribes to the event feed (`FeedSubscribeRequest` → subscription id).
pub const FEED_SUBSCRIBE: &str = "feed/subscribe";
/// Notification carrying one feed event (or the `live` marker) of a subscription.
pub const FEED_EVENT: &str = "feed/event";
/// Ends a feed subscription (`[subscriptionId]` → `true`).
pub const FEED_UNSUBSCRIBE: &str = "feed/unsubscribe";

/// The store's counters (`{}` → `StoreStatsResult`).
pub const STORE_STATS: &str = "store/stats";

/// The server's name, version, limits and methods (`{}` → `ServerInfo`).
pub const SERVER_INFO: &str = "server/info";

/// Every request method the server answers, in the order the README lists them.
pub const ALL: &[&str] = &[
    THREAD_LIST,
    THREAD_SEARCH,
    THREAD_READ,
    THREAD_READ_BY_ROLLOUT_PATH,
    THREAD_HISTORY_LOAD,
    THREAD_LOG_LOAD,
    THREAD_TURNS_LIST,
    THREAD_TURNS_ITEMS_LIST,
    THREAD_ITEMS_LIST,
    THREAD_SEARCH_OCCURRENCES,
    THREAD_MODEL_CONTEXT_LOAD,
    THREAD_REVERT,
    THREAD_ROLLBACK,
    THREAD_FORK,
    THREAD_ARCHIVE,
    THREAD_UNARCHIVE,
    THREAD_NAME_SET,
    THREAD_METADATA_UPDATE,
    THREAD_DELETE,
    THREAD_CREATE,
    THREAD_RESUME,
    THREAD_ITEMS_APPEND,
    THREAD_PERSIST,
    THREAD_FLUSH,
    THREAD_SHUTDOWN,
    THREAD_DISCARD,
    FEED_SUBSCRIBE,
    FEED_UNSUBSCRIBE,
    STORE_STATS,
    SERVER_INFO,
];

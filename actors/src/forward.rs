//! One macro that implements `ThreadStore` by forwarding every operation to an inner store,
//! calling a hook with the operation's name first (used by the backends and the recorder).
//! The calling module imports `threadstore_api::*` so the param and result types resolve.

/// `forward_thread_store!(Type, |self| inner_expr, |self, op| hook)`, or
/// `forward_thread_store!(@spawn Type, |self, op| runner)` where `runner` is an async method that
/// takes a closure `FnOnce(Arc<ActorStore>) -> impl Future` (the operation) and runs it.
#[macro_export]
#[doc(hidden)]
macro_rules! forward_thread_store {
    (@spawn $ty:ty, |$s:ident, $f:ident| $run:expr) => {
        $crate::forward_thread_store!(@each @spawn_impl $ty, $s, $f, $run);
    };
    ($ty:ty, |$s:ident| $inner:expr, |$h:ident, $op:ident| $hook:expr) => {
        $crate::forward_thread_store!(@each @impl $ty, $s, $inner, $h, $op, $hook);
    };
    (@each @$arm:ident $($args:tt)*) => {
        $crate::forward_thread_store!(@$arm $($args)*;
            create_thread(CreateThreadParams) -> ThreadWriter,
            resume_thread(ResumeThreadParams) -> ThreadWriter,
            append_items(AppendThreadItemsParams) -> AppendResult,
            persist_thread(ThreadId) -> (),
            persist_thread_with(PersistThreadParams) -> (),
            flush_thread(ThreadId) -> (),
            shutdown_thread(ThreadId) -> (),
            discard_thread(ThreadId) -> (),
            load_history(LoadThreadHistoryParams) -> StoredThreadHistory,
            load_log(LoadThreadHistoryParams) -> StoredThreadHistory,
            read_thread(ReadThreadParams) -> StoredThread,
            read_thread_by_rollout_path(ReadThreadByRolloutPathParams) -> StoredThread,
            list_threads(ListThreadsParams) -> ThreadPage,
            search_threads(SearchThreadsParams) -> ThreadSearchPage,
            list_turns(ListTurnsParams) -> TurnPage,
            list_items(ListItemsParams) -> ItemPage,
            list_thread_items(ListItemsParams) -> ThreadItemPage,
            search_thread_occurrences(SearchOccurrencesParams) -> OccurrencePage,
            revert_thread(RevertThreadParams) -> RevertedThread,
            rollback_thread(RollbackThreadParams) -> StoredThread,
            fork_thread(ForkThreadParams) -> ThreadWriter,
            load_latest_model_context(LoadThreadHistoryParams) -> StoredModelContext,
            update_thread_metadata(UpdateThreadMetadataParams) -> StoredThread,
            archive_thread(ArchiveThreadParams) -> StoredThread,
            unarchive_thread(ArchiveThreadParams) -> StoredThread,
            delete_thread(DeleteThreadParams) -> (),
            archive_threads(ArchiveThreadsParams) -> Vec<ThreadId>,
            delete_threads(DeleteThreadsParams) -> (),
            subscribe(SubscribeParams) -> FeedStream,
            store_stats(StoreStatsParams) -> StoreStats,
        );
    };
    (@spawn_impl $ty:ty, $s:ident, $f:ident, $run:expr; $($name:ident($p:ty) -> $r:ty,)*) => {
        #[async_trait::async_trait]
        impl threadstore_api::ThreadStore for $ty {
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            $(
                async fn $name(&self, params: $p) -> threadstore_api::ThreadStoreResult<$r> {
                    let $s = self;
                    let $f = move |store: std::sync::Arc<$crate::store::ActorStore>| async move {
                        threadstore_api::ThreadStore::$name(store.as_ref(), params).await
                    };
                    $run.await
                }
            )*
        }
    };
    (@impl $ty:ty, $s:ident, $inner:expr, $h:ident, $op:ident, $hook:expr; $($name:ident($p:ty) -> $r:ty,)*) => {
        #[async_trait::async_trait]
        impl threadstore_api::ThreadStore for $ty {
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            $(
                #[allow(clippy::no_effect, clippy::unused_unit)]
                async fn $name(&self, params: $p) -> threadstore_api::ThreadStoreResult<$r> {
                    let $h = self;
                    let $op: &'static str = stringify!($name);
                    $hook;
                    let $s = self;
                    $inner.$name(params).await
                }
            )*
        }
    };
}

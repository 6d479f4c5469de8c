//! Registration of the request methods: one line per method, each a params type, a store call
//! and a result conversion.

use std::future::Future;
use std::sync::Arc;

use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use serde::de::DeserializeOwned;
use serde::Serialize;
use threadstore_api::types::StoredTurnItemsView;
use threadstore_api::{
    AppendThreadItemsParams, ArchiveThreadParams, CreateThreadParams, DeleteThreadParams,
    ForkBoundary, ForkThreadParams, ListItemsParams, ListTurnsParams, LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams, ReadThreadParams, ResumeThreadParams, RollbackThreadParams,
    SortDirection, StoreStatsParams, StoredThread, ThreadId, ThreadMetadataPatch, ThreadStore,
    ThreadStoreError, ThreadStoreResult, UpdateThreadMetadataParams,
};

use super::{ServeError, ServerState};
use crate::protocol::error::{invalid_params, to_error_object, to_error_object_of};
use crate::protocol::methods as m;
use crate::protocol::*;

/// Parses a method's params: a JSON object (or a one-element array holding it); omitted params
/// count as `{}`.
pub(crate) fn parse<P: DeserializeOwned>(
    method: &str,
    params: &Params<'_>,
) -> ThreadStoreResult<P> {
    let text = params.as_str().unwrap_or("{}").trim();
    if text.starts_with('[') {
        let [one]: [P; 1] = serde_json::from_str(text).map_err(|e| invalid_params(method, e))?;
        return Ok(one);
    }
    serde_json::from_str(text).map_err(|e| invalid_params(method, e))
}

fn register<P, R, F, Fut>(
    module: &mut RpcModule<ServerState>,
    method: &'static str,
    handler: F,
) -> Result<(), ServeError>
where
    P: DeserializeOwned + Send + 'static,
    R: Serialize + Clone + Send + 'static,
    F: Fn(Arc<dyn ThreadStore>, P) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ThreadStoreResult<R>> + Send + 'static,
{
    module.register_async_method(method, move |params, state, _| {
        let handler = handler.clone();
        async move {
            let result = match parse::<P>(method, &params) {
                Ok(p) => handler(state.store.clone(), p).await,
                Err(e) => Err(e),
            };
            result.map_err(|e| {
                tracing::debug!(method, error = %e, "request failed");
                to_error_object_of(method, &e)
            })
        }
    })?;
    Ok(())
}

async fn read(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
    include_archived: bool,
) -> ThreadStoreResult<StoredThread> {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived,
            include_history: false,
        })
        .await
}

/// The session settings of `thread` ([`SessionSettings`]): from its metadata and its latest
/// `turn_context` line, looked for newest first over at most [`SETTINGS_SCAN`] lines.
async fn session_settings(
    store: &dyn ThreadStore,
    thread: &StoredThread,
) -> ThreadStoreResult<SessionSettings> {
    let mut cursor = None;
    let mut scanned = 0;
    let mut context = None;
    while scanned < SETTINGS_SCAN && context.is_none() {
        let page = store
            .list_items(ListItemsParams {
                include_archived: true,
                cursor,
                page_size: threadstore_api::MAX_PAGE_SIZE,
                sort_direction: SortDirection::Desc,
                ..ListItemsParams::new(thread.thread_id)
            })
            .await?;
        scanned += page.items.len();
        context = page
            .items
            .into_iter()
            .map(|i| i.line.item)
            .find(|item| item.kind() == threadstore_api::item::kinds::TURN_CONTEXT);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(SessionSettings::of(thread, context.as_ref()))
}

/// Lines read back from a thread's end to find its settings (a turn writes one `turn_context`).
const SETTINGS_SCAN: usize = 2_000;

/// Every turn of a thread with its items, oldest first, as Codex's `Turn` JSON (`thread.turns`
/// of `thread/fork`).
async fn full_turns(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
) -> ThreadStoreResult<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_turns(ListTurnsParams {
                cursor,
                page_size: 100,
                sort_direction: SortDirection::Asc,
                items_view: StoredTurnItemsView::Full,
                include_archived: true,
                ..ListTurnsParams::new(thread_id)
            })
            .await?;
        for t in &page.turns {
            out.push(
                serde_json::to_value(crate::protocol::turn::Turn::from(t))
                    .map_err(|e| ThreadStoreError::internal(format!("turn to JSON: {e}")))?,
            );
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

fn read_result(t: StoredThread) -> ReadThreadResult {
    ReadThreadResult {
        thread: Thread::from(&t),
        history: t.history.map(|h| h.items),
    }
}

async fn update(
    store: &dyn ThreadStore,
    thread_id: ThreadId,
    include_archived: bool,
    patch: ThreadMetadataPatch,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> ThreadStoreResult<ThreadResult> {
    let t = store
        .update_thread_metadata(UpdateThreadMetadataParams {
            thread_id,
            patch,
            include_archived,
            at,
        })
        .await?;
    Ok(ThreadResult {
        thread: Thread::from(&t),
    })
}

/// `thread/archive` and `thread/unarchive`: the same call but for the direction.
async fn set_archived(
    store: &dyn ThreadStore,
    r: ArchiveRequest,
    archived: bool,
) -> ThreadStoreResult<ThreadResult> {
    let params = ArchiveThreadParams {
        thread_id: r.thread_id,
        at: r.at,
    };
    let t = if archived {
        store.archive_thread(params).await?
    } else {
        store.unarchive_thread(params).await?
    };
    Ok(ThreadResult {
        thread: Thread::from(&t),
    })
}

/// Registers every request method (everything but the feed).
pub(crate) fn register_all(module: &mut RpcModule<ServerState>) -> Result<(), ServeError> {
    register(
        module,
        m::THREAD_LIST,
        |s, r: ListThreadsRequest| async move {
            Ok(ThreadListResult::from(&s.list_threads(r.into()).await?))
        },
    )?;
    register(
        module,
        m::THREAD_SEARCH,
        |s, r: SearchThreadsRequest| async move {
            Ok(SearchResult::from(&s.search_threads(r.into()).await?))
        },
    )?;
    register(
        module,
        m::THREAD_READ,
        |s, r: ReadThreadRequest| async move {
            let t = s
                .read_thread(ReadThreadParams {
                    thread_id: r.thread_id,
                    include_archived: r.include_archived,
                    include_history: r.include_history,
                })
                .await?;
            let mut result = read_result(t);
            if r.include_turns {
                result.thread.turns = full_turns(s.as_ref(), r.thread_id).await?;
            }
            Ok(result)
        },
    )?;
    register(
        module,
        m::THREAD_READ_BY_ROLLOUT_PATH,
        |s, r: ReadByRolloutPathRequest| async move {
            let t = s
                .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
                    rollout_path: r.rollout_path,
                    include_archived: r.include_archived,
                    include_history: r.include_history,
                })
                .await?;
            Ok(read_result(t))
        },
    )?;
    register(
        module,
        m::THREAD_HISTORY_LOAD,
        |s, r: LoadHistoryRequest| async move {
            Ok(HistoryResult::from(s.load_history(r.into()).await?))
        },
    )?;
    register(
        module,
        m::THREAD_LOG_LOAD,
        |s, r: LoadHistoryRequest| async move { Ok(HistoryResult::from(s.load_log(r.into()).await?)) },
    )?;
    register(
        module,
        m::THREAD_TURNS_LIST,
        |s, r: ListTurnsRequest| async move { Ok(TurnListResult::from(&s.list_turns(r.into()).await?)) },
    )?;
    register(
        module,
        m::THREAD_TURNS_ITEMS_LIST,
        |s, r: ListItemsRequest| async move { Ok(ItemListResult::from(&s.list_items(r.into()).await?)) },
    )?;
    register(
        module,
        m::THREAD_ITEMS_LIST,
        |s, r: ThreadItemsListRequest| async move {
            Ok(ThreadItemsListResult::from(
                s.list_thread_items(r.into()).await?,
            ))
        },
    )?;
    register(module, m::STORE_STATS, |s, _: Empty| async move {
        Ok(StoreStatsResult::from(
            s.store_stats(StoreStatsParams::default()).await?,
        ))
    })?;
    register(
        module,
        m::THREAD_SEARCH_OCCURRENCES,
        |s, r: SearchOccurrencesRequest| async move {
            Ok(SearchOccurrencesResult::from(
                s.search_thread_occurrences(r.into()).await?,
            ))
        },
    )?;
    register(
        module,
        m::THREAD_MODEL_CONTEXT_LOAD,
        |s, r: LoadHistoryRequest| async move {
            let c = s
                .load_latest_model_context(LoadThreadHistoryParams {
                    thread_id: r.thread_id,
                    include_archived: r.include_archived,
                })
                .await?;
            Ok(ModelContextResult {
                thread_id: c.thread_id,
                from_position: c.from_position,
                items: c.items,
            })
        },
    )?;
    register(module, m::THREAD_REVERT, |s, r: RevertRequest| async move {
        let reverted = s
            .revert_thread(threadstore_api::RevertThreadParams {
                revision: r.revision,
                ..threadstore_api::RevertThreadParams::new(r.thread_id, r.before_turn_id)
            })
            .await?;
        Ok(RevertResult {
            thread: Thread::from(&reverted.thread),
            turns_backwards_cursor: reverted.turns_backwards_cursor,
            items_backwards_cursor: reverted.items_backwards_cursor,
        })
    })?;
    register(
        module,
        m::THREAD_ROLLBACK,
        |s, r: RollbackRequest| async move {
            let stored = s
                .rollback_thread(RollbackThreadParams {
                    thread_id: r.thread_id,
                    num_turns: r.num_turns,
                })
                .await?;
            let mut thread = Thread::from(&stored);
            thread.turns = full_turns(s.as_ref(), r.thread_id).await?;
            Ok(ThreadResult { thread })
        },
    )?;
    register(module, m::THREAD_FORK, |s, r: ForkRequest| async move {
        let boundary = match (r.last_turn_id, r.before_turn_id) {
            (Some(_), Some(_)) => {
                return Err(ThreadStoreError::invalid(
                    "`beforeTurnId` cannot be combined with `lastTurnId`",
                ))
            }
            (Some(last), None) => ForkBoundary::ThroughTurn(last),
            (None, Some(before)) => ForkBoundary::BeforeTurn(before),
            (None, None) => ForkBoundary::Latest,
        };
        let w = s
            .fork_thread(ForkThreadParams {
                new_thread_id: r.new_thread_id,
                rollout_path: r.rollout_path,
                header: r.header,
                ..ForkThreadParams::new(r.thread_id, boundary)
            })
            .await?;
        let stored = read(s.as_ref(), w.thread_id, true).await?;
        let mut thread = Thread::from(&stored);
        if !r.exclude_turns {
            thread.turns = full_turns(s.as_ref(), w.thread_id).await?;
        }
        Ok(ForkResult {
            thread,
            writer: w.into(),
            settings: session_settings(s.as_ref(), &stored).await?,
        })
    })?;
    register(
        module,
        m::THREAD_ARCHIVE,
        |s, r: ArchiveRequest| async move { set_archived(s.as_ref(), r, true).await },
    )?;
    register(
        module,
        m::THREAD_UNARCHIVE,
        |s, r: ArchiveRequest| async move { set_archived(s.as_ref(), r, false).await },
    )?;
    register(
        module,
        m::THREAD_NAME_SET,
        |s, r: SetNameRequest| async move {
            let name = match r.name {
                Some(n) if n.trim().is_empty() => {
                    return Err(ThreadStoreError::invalid(
                        "thread name must not be empty (send null to clear it)",
                    ))
                }
                Some(n) => Some(n.trim().to_owned()),
                None => None,
            };
            let patch = ThreadMetadataPatch {
                name: Some(name),
                ..Default::default()
            };
            update(s.as_ref(), r.thread_id, r.include_archived, patch, None).await
        },
    )?;
    register(
        module,
        m::THREAD_METADATA_UPDATE,
        |s, r: MetadataUpdateRequest| async move {
            let patch = r.patch();
            update(s.as_ref(), r.thread_id, r.include_archived, patch, r.at).await
        },
    )?;
    register(
        module,
        m::THREAD_DELETE,
        |s, r: ThreadIdRequest| async move {
            s.delete_thread(DeleteThreadParams {
                thread_id: r.thread_id,
            })
            .await?;
            Ok(Empty {})
        },
    )?;
    register(
        module,
        m::THREAD_CREATE,
        |s, r: CreateThreadRequest| async move {
            let w = s
                .create_thread(CreateThreadParams {
                    thread_id: r.thread_id,
                    session_id: r.session_id,
                    source: r.source,
                    thread_source: r.thread_source,
                    cwd: r.cwd,
                    model_provider: r.model_provider,
                    originator: r.originator,
                    cli_version: r.cli_version,
                    parent_thread_id: r.parent_thread_id,
                    forked_from_id: r.forked_from_id,
                    agent_nickname: r.agent_nickname,
                    agent_role: r.agent_role,
                    agent_path: r.agent_path,
                    git_info: r.git_info.map(Into::into),
                    rollout_path: r.rollout_path,
                    history: r.history,
                })
                .await?;
            let thread = read(s.as_ref(), w.thread_id, true).await.ok();
            Ok(WriterResult {
                writer: w.into(),
                thread: thread.as_ref().map(Thread::from),
            })
        },
    )?;
    register(
        module,
        m::THREAD_RESUME,
        |s, r: ResumeThreadRequest| async move {
            let w = s
                .resume_thread(ResumeThreadParams {
                    thread_id: r.thread_id,
                    include_archived: r.include_archived,
                })
                .await?;
            let stored = read(s.as_ref(), w.thread_id, true).await?;
            Ok(ResumeResult {
                writer: w.into(),
                thread: Thread::from(&stored),
                settings: session_settings(s.as_ref(), &stored).await?,
            })
        },
    )?;
    register(
        module,
        m::THREAD_ITEMS_APPEND,
        |s, r: AppendRequest| async move {
            let result = s
                .append_items(AppendThreadItemsParams {
                    thread_id: r.thread_id,
                    items: r.items,
                    timestamps: r.timestamps,
                    ordinals: r.ordinals,
                    expected_position: r.expected_position,
                    request_id: r.request_id,
                    writer_epoch: r.writer_epoch,
                })
                .await?;
            Ok(AppendResponse::from(result))
        },
    )?;
    register(
        module,
        m::THREAD_PERSIST,
        |s, r: ThreadIdRequest| async move { s.persist_thread(r.thread_id).await.map(|()| Empty {}) },
    )?;
    register(
        module,
        m::THREAD_FLUSH,
        |s, r: ThreadIdRequest| async move { s.flush_thread(r.thread_id).await.map(|()| Empty {}) },
    )?;
    register(
        module,
        m::THREAD_SHUTDOWN,
        |s, r: ThreadIdRequest| async move { s.shutdown_thread(r.thread_id).await.map(|()| Empty {}) },
    )?;
    register(
        module,
        m::THREAD_DISCARD,
        |s, r: ThreadIdRequest| async move { s.discard_thread(r.thread_id).await.map(|()| Empty {}) },
    )?;
    module.register_method(m::SERVER_INFO, |_, state, _| {
        Ok::<_, ErrorObjectOwned>(ServerInfo {
            name: "threadstore".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            max_message_bytes: state.max_message_bytes,
            methods: m::ALL.iter().map(|s| (*s).to_owned()).collect(),
        })
    })?;
    Ok(())
}

/// The JSON-RPC error of a store error (re-exported for the feed and transports).
pub(crate) fn error_object(e: &ThreadStoreError) -> ErrorObjectOwned {
    to_error_object(e)
}

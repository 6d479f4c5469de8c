//! [`RemoteThreadStore`]: a `ThreadStore` whose every operation is a JSON-RPC call to a
//! `threadstore serve` over WebSocket.
//!
//! Writer handles travel as they are: `create_thread`/`resume_thread` return the server's
//! `ThreadWriter` (thread, epoch, next position), and `append_items` sends `writerEpoch`, so a
//! handle fenced on the server gets the same `StaleWriter` remotely. Errors come back as the
//! same `ThreadStoreError` variant (see [`crate::protocol::error`]); a lost connection is
//! `Internal` naming the server.

use std::any::Any;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use jsonrpsee::core::client::{ClientT, Error as ClientError, SubscriptionClientT};
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::ws_client::{HeaderMap, HeaderValue, WsClient, WsClientBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use threadstore_api::*;

use crate::protocol::error::from_error_object;
use crate::protocol::event::parse_feed_message;
use crate::protocol::methods as m;
use crate::protocol::*;

/// How to connect.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// Bearer token, sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest request the client sends (and the server must accept), bytes.
    pub max_message_bytes: u32,
    /// How long one call may take before it fails with `Internal`.
    pub request_timeout: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            token: None,
            max_message_bytes: crate::protocol::limits::DEFAULT_MAX_MESSAGE_BYTES,
            request_timeout: Duration::from_secs(300),
        }
    }
}

/// A `ThreadStore` served by a remote `threadstore serve`.
pub struct RemoteThreadStore {
    client: WsClient,
    url: String,
    /// The smaller of the client's and the server's request size limits.
    max_message_bytes: u64,
    info: ServerInfo,
}

/// Bytes a request adds around its params (`{"jsonrpc":"2.0","id":…,"method":…,"params":…}`).
const ENVELOPE_BYTES: usize = 64;

/// Params already serialized (so payloads keep their exact JSON text).
struct Raw(Box<RawValue>);

impl ToRpcParams for Raw {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        Ok(Some(self.0))
    }
}

impl RemoteThreadStore {
    /// Connects to `url` (`ws://host:port`) with the default options.
    pub async fn connect(url: &str) -> ThreadStoreResult<Self> {
        Self::connect_with(url, RemoteOptions::default()).await
    }

    /// Connects to `url` with explicit options.
    pub async fn connect_with(url: &str, options: RemoteOptions) -> ThreadStoreResult<Self> {
        let mut headers = HeaderMap::new();
        if let Some(token) = options.token.as_deref().filter(|t| !t.is_empty()) {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| ThreadStoreError::invalid(format!("bad token: {e}")))?;
            headers.insert("authorization", value);
        }
        let client = WsClientBuilder::default()
            .set_headers(headers)
            .max_request_size(options.max_message_bytes)
            .max_response_size(crate::protocol::limits::MAX_RESPONSE_BYTES)
            .request_timeout(options.request_timeout)
            .build(url)
            .await
            .map_err(|e| {
                ThreadStoreError::internal(format!(
                    "cannot connect to threadstore server {url}: {e}"
                ))
            })?;
        let mut store = Self {
            client,
            url: url.to_owned(),
            max_message_bytes: u64::from(options.max_message_bytes),
            info: ServerInfo {
                name: String::new(),
                version: String::new(),
                max_message_bytes: u64::from(options.max_message_bytes),
                methods: Vec::new(),
            },
        };
        let info: ServerInfo = store.call(m::SERVER_INFO, &Empty {}).await?;
        store.max_message_bytes = store.max_message_bytes.min(info.max_message_bytes);
        store.info = info;
        Ok(store)
    }

    /// What the server said about itself when the client connected (version, limits, methods).
    pub fn server_info(&self) -> &ServerInfo {
        &self.info
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.client.is_connected()
    }

    fn map_error(&self, method: &str, e: ClientError) -> ThreadStoreError {
        match e {
            ClientError::Call(object) => from_error_object(method, &object),
            other => ThreadStoreError::internal(format!(
                "{method} on threadstore server {}: {other}",
                self.url
            )),
        }
    }

    /// Calls `method` with `params` (serialized as one JSON object) and decodes the result.
    /// Traced as `remote.call` with the method and the request's size.
    #[tracing::instrument(level = "debug", name = "remote.call", skip_all, err(level = "debug"), fields(method = %method, request_bytes = tracing::field::Empty))]
    pub async fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
    ) -> ThreadStoreResult<R> {
        let raw = serde_json::value::to_raw_value(params).map_err(|e| {
            ThreadStoreError::invalid(format!("{method} params do not serialize: {e}"))
        })?;
        let size = raw.get().len() + method.len() + ENVELOPE_BYTES;
        tracing::Span::current().record("request_bytes", size);
        if size as u64 > self.max_message_bytes {
            return Err(ThreadStoreError::ResourceExhausted {
                message: format!(
                    "{method} request of {size} bytes is over the limit of {} bytes (the server's --max-message-bytes): send fewer items per call",
                    self.max_message_bytes
                ),
            });
        }
        self.client
            .request(method, Raw(raw))
            .await
            .map_err(|e| self.map_error(method, e))
    }

    async fn thread_call(&self, method: &str, thread_id: ThreadId) -> ThreadStoreResult<()> {
        let _: Empty = self.call(method, &ThreadIdRequest { thread_id }).await?;
        Ok(())
    }
}

#[async_trait]
impl ThreadStore for RemoteThreadStore {
    fn as_any(&self) -> &dyn Any {
        self
    }

    async fn create_thread(&self, p: CreateThreadParams) -> ThreadStoreResult<ThreadWriter> {
        let request = CreateThreadRequest {
            thread_id: p.thread_id,
            session_id: p.session_id,
            source: p.source,
            thread_source: p.thread_source,
            cwd: p.cwd,
            model_provider: p.model_provider,
            originator: p.originator,
            cli_version: p.cli_version,
            parent_thread_id: p.parent_thread_id,
            forked_from_id: p.forked_from_id,
            agent_nickname: p.agent_nickname,
            agent_role: p.agent_role,
            agent_path: p.agent_path,
            git_info: p.git_info.as_ref().map(GitInfoJson::from),
            rollout_path: p.rollout_path,
            history: p.history,
        };
        let result: WriterResult = self.call(m::THREAD_CREATE, &request).await?;
        Ok(result.writer.into())
    }

    async fn resume_thread(&self, p: ResumeThreadParams) -> ThreadStoreResult<ThreadWriter> {
        let request = ResumeThreadRequest {
            thread_id: p.thread_id,
            include_archived: p.include_archived,
        };
        let result: ResumeResult = self.call(m::THREAD_RESUME, &request).await?;
        Ok(result.writer.into())
    }

    async fn append_items(&self, p: AppendThreadItemsParams) -> ThreadStoreResult<AppendResult> {
        let request = AppendRequest {
            thread_id: p.thread_id,
            items: p.items,
            timestamps: p.timestamps,
            ordinals: p.ordinals,
            expected_position: p.expected_position,
            request_id: p.request_id,
            writer_epoch: p.writer_epoch,
        };
        let result: AppendResponse = self.call(m::THREAD_ITEMS_APPEND, &request).await?;
        Ok(result.into())
    }

    async fn persist_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.thread_call(m::THREAD_PERSIST, thread_id).await
    }

    async fn flush_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.thread_call(m::THREAD_FLUSH, thread_id).await
    }

    async fn shutdown_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.thread_call(m::THREAD_SHUTDOWN, thread_id).await
    }

    async fn discard_thread(&self, thread_id: ThreadId) -> ThreadStoreResult<()> {
        self.thread_call(m::THREAD_DISCARD, thread_id).await
    }

    async fn load_log(&self, p: LoadThreadHistoryParams) -> ThreadStoreResult<StoredThreadHistory> {
        let result: HistoryResult = self
            .call(m::THREAD_LOG_LOAD, &LoadHistoryRequest::from(&p))
            .await?;
        Ok(result.into())
    }

    async fn load_history(
        &self,
        p: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredThreadHistory> {
        let result: HistoryResult = self
            .call(m::THREAD_HISTORY_LOAD, &LoadHistoryRequest::from(&p))
            .await?;
        Ok(result.into())
    }

    async fn load_latest_model_context(
        &self,
        p: LoadThreadHistoryParams,
    ) -> ThreadStoreResult<StoredModelContext> {
        let request = LoadHistoryRequest {
            thread_id: p.thread_id,
            include_archived: p.include_archived,
        };
        let result: ModelContextResult = self.call(m::THREAD_MODEL_CONTEXT_LOAD, &request).await?;
        Ok(StoredModelContext {
            thread_id: result.thread_id,
            from_position: result.from_position,
            items: result.items,
        })
    }

    async fn read_thread(&self, p: ReadThreadParams) -> ThreadStoreResult<StoredThread> {
        let request = ReadThreadRequest {
            thread_id: p.thread_id,
            include_archived: p.include_archived,
            include_history: p.include_history,
            include_turns: false,
        };
        let result: ReadThreadResult = self.call(m::THREAD_READ, &request).await?;
        Ok(stored(result))
    }

    async fn read_thread_by_rollout_path(
        &self,
        p: ReadThreadByRolloutPathParams,
    ) -> ThreadStoreResult<StoredThread> {
        let request = ReadByRolloutPathRequest {
            rollout_path: p.rollout_path,
            include_archived: p.include_archived,
            include_history: p.include_history,
        };
        let result: ReadThreadResult = self.call(m::THREAD_READ_BY_ROLLOUT_PATH, &request).await?;
        Ok(stored(result))
    }

    async fn list_threads(&self, p: ListThreadsParams) -> ThreadStoreResult<ThreadPage> {
        let result: ThreadListResult = self
            .call(m::THREAD_LIST, &ListThreadsRequest::from(p))
            .await?;
        Ok(result.into())
    }

    async fn search_threads(&self, p: SearchThreadsParams) -> ThreadStoreResult<ThreadSearchPage> {
        let result: SearchResult = self
            .call(m::THREAD_SEARCH, &SearchThreadsRequest::from(p))
            .await?;
        Ok(result.into())
    }

    async fn list_turns(&self, p: ListTurnsParams) -> ThreadStoreResult<TurnPage> {
        let result: TurnListResult = self
            .call(m::THREAD_TURNS_LIST, &ListTurnsRequest::from(p))
            .await?;
        Ok(result.into())
    }

    async fn list_items(&self, p: ListItemsParams) -> ThreadStoreResult<ItemPage> {
        let result: ItemListResult = self
            .call(m::THREAD_TURNS_ITEMS_LIST, &ListItemsRequest::from(p))
            .await?;
        Ok(result.into())
    }

    async fn store_stats(&self, _p: StoreStatsParams) -> ThreadStoreResult<StoreStats> {
        let result: StoreStatsResult = self.call(m::STORE_STATS, &Empty {}).await?;
        Ok(result.into())
    }

    async fn search_thread_occurrences(
        &self,
        p: SearchOccurrencesParams,
    ) -> ThreadStoreResult<OccurrencePage> {
        if p.page_size > 250 {
            return Err(ThreadStoreError::invalid(format!(
                "page size {} is over the largest page of occurrences (250)",
                p.page_size
            )));
        }
        let result: SearchOccurrencesResult = self
            .call(
                m::THREAD_SEARCH_OCCURRENCES,
                &SearchOccurrencesRequest::from(p),
            )
            .await?;
        Ok(result.into())
    }

    async fn list_thread_items(&self, p: ListItemsParams) -> ThreadStoreResult<ThreadItemPage> {
        if p.page_size > MAX_PAGE_SIZE {
            return Err(ThreadStoreError::invalid(format!(
                "page_size {} is over the maximum of {MAX_PAGE_SIZE}",
                p.page_size
            )));
        }
        let result: ThreadItemsListResult = self
            .call(m::THREAD_ITEMS_LIST, &ThreadItemsListRequest::from(p))
            .await?;
        Ok(result.into())
    }

    async fn update_thread_metadata(
        &self,
        p: UpdateThreadMetadataParams,
    ) -> ThreadStoreResult<StoredThread> {
        let request = MetadataUpdateRequest {
            at: p.at,
            ..MetadataUpdateRequest::new(p.thread_id, p.include_archived, p.patch)
        };
        let result: ThreadResult = self.call(m::THREAD_METADATA_UPDATE, &request).await?;
        Ok(result.thread.into_stored(None))
    }

    async fn archive_thread(&self, p: ArchiveThreadParams) -> ThreadStoreResult<StoredThread> {
        let result: ThreadResult = self
            .call(
                m::THREAD_ARCHIVE,
                &ArchiveRequest {
                    thread_id: p.thread_id,
                    at: p.at,
                },
            )
            .await?;
        Ok(result.thread.into_stored(None))
    }

    async fn revert_thread(&self, p: RevertThreadParams) -> ThreadStoreResult<RevertedThread> {
        let request = RevertRequest {
            thread_id: p.thread_id,
            before_turn_id: p.before_turn_id,
            revision: p.revision,
        };
        let result: RevertResult = self.call(m::THREAD_REVERT, &request).await?;
        Ok(RevertedThread {
            thread: result.thread.into_stored(None),
            turns_backwards_cursor: result.turns_backwards_cursor,
            items_backwards_cursor: result.items_backwards_cursor,
        })
    }

    async fn rollback_thread(&self, p: RollbackThreadParams) -> ThreadStoreResult<StoredThread> {
        let request = RollbackRequest {
            thread_id: p.thread_id,
            num_turns: p.num_turns,
        };
        let result: ThreadResult = self.call(m::THREAD_ROLLBACK, &request).await?;
        Ok(result.thread.into_stored(None))
    }

    async fn fork_thread(&self, p: ForkThreadParams) -> ThreadStoreResult<ThreadWriter> {
        let (last_turn_id, before_turn_id) = match p.boundary {
            ForkBoundary::Latest => (None, None),
            ForkBoundary::ThroughTurn(t) => (Some(t), None),
            ForkBoundary::BeforeTurn(t) => (None, Some(t)),
        };
        let request = ForkRequest {
            thread_id: p.thread_id,
            last_turn_id,
            before_turn_id,
            exclude_turns: true,
            new_thread_id: p.new_thread_id,
            rollout_path: p.rollout_path,
            header: p.header,
        };
        let result: ForkResult = self.call(m::THREAD_FORK, &request).await?;
        Ok(result.writer.into())
    }

    async fn unarchive_thread(&self, p: ArchiveThreadParams) -> ThreadStoreResult<StoredThread> {
        let result: ThreadResult = self
            .call(
                m::THREAD_UNARCHIVE,
                &ArchiveRequest {
                    thread_id: p.thread_id,
                    at: p.at,
                },
            )
            .await?;
        Ok(result.thread.into_stored(None))
    }

    async fn delete_thread(&self, p: DeleteThreadParams) -> ThreadStoreResult<()> {
        self.thread_call(m::THREAD_DELETE, p.thread_id).await
    }

    /// `feed/subscribe` on the server: events in feed order, then one [`FeedMessage::Live`] once
    /// caught up. The server catches a slow reader up from the durable feed by itself, so the
    /// stream never says `Lagged`; it ends when the connection or the server closes, and dropping
    /// it unsubscribes.
    async fn subscribe(&self, params: SubscribeParams) -> ThreadStoreResult<FeedStream> {
        let request = FeedSubscribeRequest::from(&params);
        let raw = serde_json::value::to_raw_value(&request)
            .map_err(|e| ThreadStoreError::invalid(format!("feed/subscribe params: {e}")))?;
        let subscription = self
            .client
            .subscribe::<Box<RawValue>, _>(m::FEED_SUBSCRIBE, Raw(raw), m::FEED_UNSUBSCRIBE)
            .await
            .map_err(|e| self.map_error(m::FEED_SUBSCRIBE, e))?;
        Ok(Box::pin(subscription.map(|message| match message {
            Ok(raw) => parse_feed_message(raw.get()),
            Err(e) => Err(ThreadStoreError::internal(format!(
                "feed notification: {e}"
            ))),
        })))
    }
}

fn stored(result: ReadThreadResult) -> StoredThread {
    let thread_id = result.thread.thread_id;
    let history = result
        .history
        .map(|items| StoredThreadHistory { thread_id, items });
    result.thread.into_stored(history)
}

//! Test harness: opens each backend behind `Arc<dyn ThreadStore>`, reopens the sled one on the same
//! directory for restart cases, and builds the items, headers and threads the cases need.
//!
//! Every helper that "must succeed" panics with the operation and the error, so a failing case
//! names the call that broke instead of a bare `unwrap` on `Err`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use threadstore::{
    AppendResult, AppendThreadItemsParams, ArchiveThreadParams, CreateThreadParams, GitInfo,
    InMemoryThreadStore, ItemPage, ListItemsParams, ListThreadsParams, ListTurnsParams,
    LoadThreadHistoryParams, ReadThreadParams, ResumeThreadParams, RolloutItem, RolloutLine,
    SledThreadStore, SortDirection, StoredItem, StoredThread, StoredTurnItemsView, ThreadId,
    ThreadMetadataPatch, ThreadPage, ThreadSortKey, ThreadStore, ThreadWriter, TurnPage,
    UpdateThreadMetadataParams,
};

/// Asserts that a store call failed with the given error pattern and returns the error.
///
/// `assert_err!(store.op(p).await, ThreadStoreError::ThreadNotFound { .. })`
#[macro_export]
macro_rules! assert_err {
    ($res:expr, $pat:pat $(,)?) => {
        match $res {
            Err(e @ $pat) => e,
            other => panic!(
                "expected Err({}), got {:?} (at {}:{})",
                stringify!($pat),
                other,
                file!(),
                line!()
            ),
        }
    };
}

/// Asserts an `InvalidRequest` whose message contains `needle` (case-insensitive).
#[macro_export]
macro_rules! assert_invalid {
    ($res:expr $(,)?) => {
        $crate::assert_err!($res, ::threadstore::ThreadStoreError::InvalidRequest { .. })
    };
    ($res:expr, $needle:expr $(,)?) => {{
        let e = $crate::assert_err!($res, ::threadstore::ThreadStoreError::InvalidRequest { .. });
        let msg = e.to_string().to_lowercase();
        assert!(
            msg.contains(&$needle.to_lowercase()),
            "InvalidRequest message {:?} should mention {:?}",
            msg,
            $needle
        );
        e
    }};
}

/// The backends every conformance case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `InMemoryThreadStore::default()`.
    Memory,
    /// `SledThreadStore::open(<fresh temp dir>)`.
    Sled,
    /// A real `threadstore serve` process (the binary at this path) on a fresh temp dir, reached
    /// over WebSocket through `RemoteThreadStore`. Reopening restarts the process (SIGTERM, then
    /// a new server on the same directory).
    Remote(&'static str),
    /// `PostgresThreadStore` on a fresh schema of the database `THREADSTORE_PG` names.
    Postgres,
    /// A real `threadstore serve --postgres` process (the binary at this path) on a fresh schema,
    /// reached through `RemoteThreadStore`.
    RemotePostgres(&'static str),
}

/// The database the PostgreSQL suites use: `THREADSTORE_PG`, a libpq connection string. Without
/// it they skip with a message, except under CI (`CI` set), where a missing database fails them:
/// a green CI run always ran them.
pub fn postgres_url() -> Option<String> {
    match std::env::var("THREADSTORE_PG") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "THREADSTORE_PG is not set under CI: .ci/run starts a PostgreSQL and sets it"
                );
            }
            eprintln!("skipped: set THREADSTORE_PG to a PostgreSQL connection string to run the PostgreSQL suites");
            None
        }
    }
}

/// A fresh schema name for one test store.
pub fn fresh_schema() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

/// Opens a `PostgresThreadStore` on `schema`.
pub async fn open_postgres(url: &str, schema: &str) -> threadstore::PostgresThreadStore {
    threadstore::PostgresThreadStore::builder(url)
        .schema(schema)
        .pool_size(8)
        .open()
        .await
        .unwrap_or_else(|e| panic!("PostgresThreadStore::open(schema {schema}) failed: {e}"))
}

impl Backend {
    /// Whether the backend can run here (PostgreSQL needs a database, see [`postgres_url`]).
    pub fn available(self) -> bool {
        match self {
            Backend::Postgres | Backend::RemotePostgres(_) => postgres_url().is_some(),
            _ => true,
        }
    }

    /// Opens a fresh, empty store of this backend.
    pub async fn open(self) -> TestStore {
        match self {
            Backend::Postgres => {
                let url = postgres_url().expect("checked by available()");
                let schema = fresh_schema();
                let store = open_postgres(&url, &schema).await;
                TestStore {
                    store: Arc::new(store),
                    backend: self,
                    dir: None,
                    server: None,
                    schema: Some(schema),
                }
            }
            Backend::RemotePostgres(binary) => {
                let url = postgres_url().expect("checked by available()");
                let schema = fresh_schema();
                let (server, store) = ServerProcess::start_postgres(binary, &url, &schema).await;
                TestStore {
                    store,
                    backend: self,
                    dir: None,
                    server: Some(server),
                    schema: Some(schema),
                }
            }
            Backend::Memory => TestStore {
                store: Arc::new(InMemoryThreadStore::default()),
                backend: self,
                dir: None,
                server: None,
                schema: None,
            },
            Backend::Sled => {
                let dir = tempfile::tempdir().expect("create temp dir");
                let store = open_sled(&dir.path().join("db")).await;
                TestStore {
                    store,
                    backend: self,
                    dir: Some(dir),
                    server: None,
                    schema: None,
                }
            }
            Backend::Remote(binary) => {
                let dir = tempfile::tempdir().expect("create temp dir");
                let (server, store) = ServerProcess::start(binary, &dir.path().join("db")).await;
                TestStore {
                    store,
                    backend: self,
                    dir: Some(dir),
                    server: Some(server),
                    schema: None,
                }
            }
        }
    }

    /// Whether the backend keeps data across a reopen (restart cases).
    pub fn persistent(self) -> bool {
        !matches!(self, Backend::Memory)
    }
}

/// A `threadstore serve --listen 127.0.0.1:0` child process; killed if still running on drop.
pub struct ServerProcess {
    child: tokio::process::Child,
    /// `ws://127.0.0.1:<port>`.
    pub url: String,
}

impl ServerProcess {
    /// Starts the server binary on `data` and connects a `RemoteThreadStore` to it.
    pub async fn start(binary: &str, data: &std::path::Path) -> (Self, Arc<dyn ThreadStore>) {
        let mut command = tokio::process::Command::new(binary);
        command.arg("--data").arg(data);
        Self::start_with(binary, command).await
    }

    /// Starts the server binary on the PostgreSQL store at `url`, schema `schema`.
    pub async fn start_postgres(
        binary: &str,
        url: &str,
        schema: &str,
    ) -> (Self, Arc<dyn ThreadStore>) {
        let mut command = tokio::process::Command::new(binary);
        command.args(["--postgres", url, "--postgres-schema", schema]);
        Self::start_with(binary, command).await
    }

    async fn start_with(
        binary: &str,
        mut command: tokio::process::Command,
    ) -> (Self, Arc<dyn ThreadStore>) {
        use tokio::io::AsyncBufReadExt;
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "error")
            .env_remove("THREADSTORE_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("server printed its address within 60 s")
            .expect("read server stdout")
            .expect("server printed a line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .unwrap_or_else(|| panic!("no ws:// address in {line:?}"))
            .to_owned();
        let store = threadstore::RemoteThreadStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        (Self { child, url }, Arc::new(store))
    }

    /// Kills the server without warning (SIGKILL) and waits for it to be gone.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it to exit.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => status.expect("wait for server"),
            Err(_) => {
                let _ = self.child.kill().await;
                panic!("server did not exit within 30 s of SIGTERM");
            }
        }
    }
}

async fn open_sled(path: &std::path::Path) -> Arc<dyn ThreadStore> {
    // A dropped store may need a moment to release its actors and the directory lock; retry for a
    // while before reporting the error.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match SledThreadStore::open(path).await {
            Ok(store) => return Arc::new(store),
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = &e;
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => panic!("SledThreadStore::open({}) failed: {e}", path.display()),
        }
    }
}

/// An open store plus what the harness needs to reopen it.
pub struct TestStore {
    /// The store under test.
    pub store: Arc<dyn ThreadStore>,
    /// Which backend it is.
    pub backend: Backend,
    dir: Option<tempfile::TempDir>,
    server: Option<ServerProcess>,
    /// The PostgreSQL schema of a PostgreSQL backend.
    pub schema: Option<String>,
}

/// Base time of every fixture: 2025-01-01T00:00:00Z.
pub const BASE_UNIX: i64 = 1_735_689_600;

/// `BASE + secs` as a UTC time (whole seconds, so every precision keeps it exactly).
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(BASE_UNIX + secs, 0).unwrap()
}

/// Default cwd of threads created with [`create_params`].
pub const CWD: &str = "/work/project";
/// Default provider of threads created with [`create_params`].
pub const PROVIDER: &str = "openai";
/// Default source of threads created with [`create_params`].
pub const SOURCE: &str = "cli";

/// Create params with the usual metadata and a generated header.
pub fn create_params() -> CreateThreadParams {
    CreateThreadParams {
        thread_id: Some(ThreadId::new()),
        source: Some(SOURCE.into()),
        thread_source: Some("user".into()),
        cwd: Some(PathBuf::from(CWD)),
        model_provider: Some(PROVIDER.into()),
        originator: Some("codex_cli_rs".into()),
        cli_version: Some("0.130.0".into()),
        ..Default::default()
    }
}

/// A thread created from an explicit Codex header (`history`), so its times are controlled.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Thread id.
    pub id: ThreadId,
    /// `session_meta.payload.timestamp` and the header line's timestamp.
    pub created: DateTime<Utc>,
    /// Working directory.
    pub cwd: String,
    /// Model provider.
    pub provider: String,
    /// Source kind.
    pub source: String,
    /// Parent thread (sub-agents).
    pub parent: Option<ThreadId>,
    /// Rollout path recorded for the thread.
    pub rollout_path: Option<PathBuf>,
}

impl Spec {
    /// A thread created at `at(created_secs)` with the default cwd, provider and source.
    pub fn at(created_secs: i64) -> Self {
        Self {
            id: ThreadId::new(),
            created: at(created_secs),
            cwd: CWD.into(),
            provider: PROVIDER.into(),
            source: SOURCE.into(),
            parent: None,
            rollout_path: None,
        }
    }
    /// Sets the cwd.
    pub fn cwd(mut self, cwd: &str) -> Self {
        self.cwd = cwd.into();
        self
    }
    /// Sets the provider.
    pub fn provider(mut self, p: &str) -> Self {
        self.provider = p.into();
        self
    }
    /// Sets the source.
    pub fn source(mut self, s: &str) -> Self {
        self.source = s.into();
        self
    }
    /// Sets the parent.
    pub fn parent(mut self, p: ThreadId) -> Self {
        self.parent = Some(p);
        self
    }
    /// Sets the id.
    pub fn id(mut self, id: ThreadId) -> Self {
        self.id = id;
        self
    }

    /// The Codex `session_meta` header line of this thread.
    pub fn meta_line(&self) -> RolloutLine {
        RolloutLine {
            timestamp: self.created,
            ordinal: None,
            item: session_meta(
                self.id,
                self.created,
                &self.cwd,
                &self.provider,
                &self.source,
                self.parent,
            ),
        }
    }

    /// Create params carrying the header as `history` (and the same metadata as fields).
    pub fn params(&self) -> CreateThreadParams {
        CreateThreadParams {
            thread_id: Some(self.id),
            source: Some(self.source.clone()),
            cwd: Some(PathBuf::from(&self.cwd)),
            model_provider: Some(self.provider.clone()),
            originator: Some("codex_cli_rs".into()),
            cli_version: Some("0.130.0".into()),
            parent_thread_id: self.parent,
            rollout_path: self.rollout_path.clone(),
            history: vec![self.meta_line()],
            ..Default::default()
        }
    }
}

/// A Codex `session_meta` item (shape of `SessionMetaLine`).
pub fn session_meta(
    id: ThreadId,
    created: DateTime<Utc>,
    cwd: &str,
    provider: &str,
    source: &str,
    parent: Option<ThreadId>,
) -> RolloutItem {
    RolloutItem::new(
        "session_meta",
        &json!({
            "id": id.to_string(),
            "session_id": id.to_string(),
            "forked_from_id": null,
            "parent_thread_id": parent.map(|p| p.to_string()),
            "timestamp": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "cwd": cwd,
            "originator": "codex_cli_rs",
            "cli_version": "0.130.0",
            "source": source,
            "thread_source": "user",
            "model_provider": provider,
            "memory_mode": "disabled",
            "history_mode": "legacy",
        }),
    )
}

/// A complete explicit turn: task_started, user message, agent message, task_complete.
pub fn turn(turn_id: &str, user: &str, agent: &str) -> Vec<RolloutItem> {
    vec![
        RolloutItem::task_started(turn_id),
        RolloutItem::user_message(user),
        RolloutItem::agent_message(agent),
        RolloutItem::task_complete(turn_id, Some(agent)),
    ]
}

/// `event_msg/token_count` with the given totals.
pub fn token_count(
    input: i64,
    cached: i64,
    output: i64,
    reasoning: i64,
    total: i64,
) -> RolloutItem {
    let usage = json!({
        "input_tokens": input,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "reasoning_output_tokens": reasoning,
        "total_tokens": total,
    });
    RolloutItem::event_msg(json!({
        "type": "token_count",
        "info": {"total_token_usage": usage, "last_token_usage": usage, "model_context_window": 272000},
        "rate_limits": null,
    }))
}

/// A `turn_context` item with a model and effort.
pub fn turn_context(turn_id: &str, model: &str, effort: &str) -> RolloutItem {
    RolloutItem::new(
        "turn_context",
        &json!({
            "turn_id": turn_id,
            "cwd": CWD,
            "approval_policy": "on-request",
            "model": model,
            "effort": effort,
            "summary": "auto",
        }),
    )
}

/// `event_msg/error` with a message (affects the turn status).
pub fn error_event(message: &str) -> RolloutItem {
    RolloutItem::event_msg(json!({"type": "error", "message": message}))
}

/// `event_msg/thread_rolled_back`.
pub fn rolled_back(num_turns: u64) -> RolloutItem {
    RolloutItem::event_msg(json!({"type": "thread_rolled_back", "num_turns": num_turns}))
}

/// The visible text of a user/agent message item (event or response item), if it is one.
pub fn item_text(item: &RolloutItem) -> Option<String> {
    let v = item.payload_value();
    match (item.kind(), v.get("type").and_then(|t| t.as_str())) {
        ("event_msg", Some("user_message")) | ("event_msg", Some("agent_message")) => {
            v.get("message").and_then(|m| m.as_str()).map(str::to_owned)
        }
        ("response_item", Some("message")) => v
            .get("content")
            .and_then(|c| c.as_array())
            .and_then(|parts| parts.first())
            .and_then(|p| p.get("text"))
            .and_then(|t| t.as_str())
            .map(str::to_owned),
        _ => None,
    }
}

/// Texts of the message items among `items` (others are skipped).
pub fn texts(items: &[StoredItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| item_text(&i.line.item))
        .collect()
}

/// Positions of `items`.
pub fn positions(items: &[StoredItem]) -> Vec<u64> {
    items.iter().map(|i| i.position).collect()
}

/// Turn ids of a page.
pub fn turn_ids(page: &TurnPage) -> Vec<String> {
    page.turns.iter().map(|t| t.turn_id.clone()).collect()
}

/// Thread ids of a page.
pub fn thread_ids(page: &ThreadPage) -> Vec<ThreadId> {
    page.items.iter().map(|t| t.thread_id).collect()
}

/// Lines of a history, as items.
pub fn items_of(lines: &[RolloutLine]) -> Vec<RolloutItem> {
    lines.iter().map(|l| l.item.clone()).collect()
}

impl TestStore {
    /// Drops the store and opens it again: the same directory (sled, a server on it) or the same
    /// schema (PostgreSQL, a server on it).
    pub async fn reopen(self) -> TestStore {
        let TestStore {
            store,
            backend,
            dir,
            server,
            schema,
        } = self;
        assert!(backend.persistent(), "{backend:?} cannot be reopened");
        if let Some(pg) = store
            .as_any()
            .downcast_ref::<threadstore::PostgresThreadStore>()
        {
            pg.close()
                .await
                .unwrap_or_else(|e| panic!("close the PostgreSQL node: {e}"));
        }
        drop(store);
        if let Some(server) = server {
            let status = server.stop().await;
            assert!(
                status.success(),
                "server exited with {status} after SIGTERM"
            );
        }
        match backend {
            Backend::Postgres | Backend::RemotePostgres(_) => {
                let url = postgres_url().expect("checked by available()");
                let schema = schema.expect("a PostgreSQL backend has a schema");
                let (store, server): (Arc<dyn ThreadStore>, _) = match backend {
                    Backend::RemotePostgres(binary) => {
                        let (server, store) =
                            ServerProcess::start_postgres(binary, &url, &schema).await;
                        (store, Some(server))
                    }
                    _ => (Arc::new(open_postgres(&url, &schema).await), None),
                };
                TestStore {
                    store,
                    backend,
                    dir: None,
                    server,
                    schema: Some(schema),
                }
            }
            Backend::Remote(binary) => {
                let dir = dir.expect("persistent backend has a directory");
                let (server, store) = ServerProcess::start(binary, &dir.path().join("db")).await;
                TestStore {
                    store,
                    backend,
                    dir: Some(dir),
                    server: Some(server),
                    schema: None,
                }
            }
            _ => {
                let dir = dir.expect("persistent backend has a directory");
                let store = open_sled(&dir.path().join("db")).await;
                TestStore {
                    store,
                    backend,
                    dir: Some(dir),
                    server: None,
                    schema: None,
                }
            }
        }
    }

    /// Creates a thread with [`create_params`].
    pub async fn create(&self) -> ThreadWriter {
        self.create_with(create_params()).await
    }

    /// Creates a thread; panics on error.
    pub async fn create_with(&self, params: CreateThreadParams) -> ThreadWriter {
        self.store
            .create_thread(params)
            .await
            .unwrap_or_else(|e| panic!("create_thread failed: {e}"))
    }

    /// Creates the thread a [`Spec`] describes.
    pub async fn create_spec(&self, spec: &Spec) -> ThreadId {
        let w = self.create_with(spec.params()).await;
        assert_eq!(w.thread_id, spec.id);
        spec.id
    }

    /// Appends `items` (timestamps "now"); panics on error.
    pub async fn append(&self, id: ThreadId, items: Vec<RolloutItem>) -> AppendResult {
        self.append_with(AppendThreadItemsParams::new(id, items))
            .await
    }

    /// Appends `items`, all recorded at `ts`; panics on error.
    pub async fn append_at(
        &self,
        id: ThreadId,
        items: Vec<RolloutItem>,
        ts: DateTime<Utc>,
    ) -> AppendResult {
        let timestamps = vec![ts; items.len()];
        self.append_with(AppendThreadItemsParams {
            timestamps,
            ..AppendThreadItemsParams::new(id, items)
        })
        .await
    }

    /// Appends with full params; panics on error.
    pub async fn append_with(&self, params: AppendThreadItemsParams) -> AppendResult {
        self.store
            .append_items(params)
            .await
            .unwrap_or_else(|e| panic!("append_items failed: {e}"))
    }

    /// Shuts the writer down; panics on error.
    pub async fn shutdown(&self, id: ThreadId) {
        self.store
            .shutdown_thread(id)
            .await
            .unwrap_or_else(|e| panic!("shutdown_thread failed: {e}"))
    }

    /// Resumes (active threads only); panics on error.
    pub async fn resume(&self, id: ThreadId) -> ThreadWriter {
        self.store
            .resume_thread(ResumeThreadParams {
                thread_id: id,
                include_archived: false,
            })
            .await
            .unwrap_or_else(|e| panic!("resume_thread failed: {e}"))
    }

    /// Full history (archived included); panics on error.
    pub async fn history(&self, id: ThreadId) -> Vec<RolloutLine> {
        self.store
            .load_history(LoadThreadHistoryParams {
                thread_id: id,
                include_archived: true,
            })
            .await
            .unwrap_or_else(|e| panic!("load_history failed: {e}"))
            .items
    }

    /// Summary without history (archived included); panics on error.
    pub async fn read(&self, id: ThreadId) -> StoredThread {
        self.store
            .read_thread(ReadThreadParams {
                thread_id: id,
                include_archived: true,
                include_history: false,
            })
            .await
            .unwrap_or_else(|e| panic!("read_thread failed: {e}"))
    }

    /// Applies a patch (archived included); panics on error.
    pub async fn patch(&self, id: ThreadId, patch: ThreadMetadataPatch) -> StoredThread {
        self.store
            .update_thread_metadata(UpdateThreadMetadataParams {
                thread_id: id,
                patch,
                include_archived: true,
                at: None,
            })
            .await
            .unwrap_or_else(|e| panic!("update_thread_metadata failed: {e}"))
    }

    /// Archives; panics on error.
    pub async fn archive(&self, id: ThreadId) -> StoredThread {
        self.store
            .archive_thread(ArchiveThreadParams::new(id))
            .await
            .unwrap_or_else(|e| panic!("archive_thread failed: {e}"))
    }

    /// Unarchives; panics on error.
    pub async fn unarchive(&self, id: ThreadId) -> StoredThread {
        self.store
            .unarchive_thread(ArchiveThreadParams::new(id))
            .await
            .unwrap_or_else(|e| panic!("unarchive_thread failed: {e}"))
    }

    /// One page of threads; panics on error.
    pub async fn list(&self, params: ListThreadsParams) -> ThreadPage {
        self.store
            .list_threads(params)
            .await
            .unwrap_or_else(|e| panic!("list_threads failed: {e}"))
    }

    /// Pages through a listing with `params.page_size` and returns every id, checking that
    /// `next_cursor` is absent exactly on the last page.
    pub async fn list_all(&self, params: ListThreadsParams) -> Vec<ThreadId> {
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..10_000 {
            let page = self
                .list(ListThreadsParams {
                    cursor: cursor.clone(),
                    ..params.clone()
                })
                .await;
            if params.page_size > 0 {
                assert!(page.items.len() <= params.page_size, "page over its size");
            }
            out.extend(thread_ids(&page));
            match page.next_cursor {
                Some(c) => {
                    assert!(!page.items.is_empty(), "empty page with a next cursor");
                    cursor = Some(c)
                }
                None => return out,
            }
        }
        panic!("listing never ended");
    }

    /// Every id of a listing with the default page size (one page expected).
    pub async fn list_ids(&self, params: ListThreadsParams) -> Vec<ThreadId> {
        let page = self.list(params).await;
        assert!(page.next_cursor.is_none(), "expected a single page");
        thread_ids(&page)
    }

    /// One page of turns; panics on error.
    pub async fn turns(&self, params: ListTurnsParams) -> TurnPage {
        self.store
            .list_turns(params)
            .await
            .unwrap_or_else(|e| panic!("list_turns failed: {e}"))
    }

    /// Every turn id of a thread, oldest first (single page).
    pub async fn turn_ids(&self, id: ThreadId) -> Vec<String> {
        let page = self
            .turns(ListTurnsParams {
                include_archived: true,
                sort_direction: SortDirection::Asc,
                items_view: StoredTurnItemsView::NotLoaded,
                page_size: 200,
                ..ListTurnsParams::new(id)
            })
            .await;
        turn_ids(&page)
    }

    /// One page of items; panics on error.
    pub async fn items(&self, params: ListItemsParams) -> ItemPage {
        self.store
            .list_items(params)
            .await
            .unwrap_or_else(|e| panic!("list_items failed: {e}"))
    }
}

/// Listing params for a sort key and direction.
pub fn sorted(key: ThreadSortKey, dir: SortDirection) -> ListThreadsParams {
    ListThreadsParams {
        sort_key: key,
        sort_direction: dir,
        ..Default::default()
    }
}

/// A full git info.
pub fn git(sha: &str, branch: &str, url: &str) -> GitInfo {
    GitInfo {
        commit_hash: Some(sha.into()),
        branch: Some(branch.into()),
        repository_url: Some(url.into()),
    }
}

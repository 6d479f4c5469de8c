//! What every inspection command shares: opening the store with helpful errors, parsing ids,
//! readable timestamps, tables, and the camelCase JSON shapes of threads, turns, items and feed
//! events.
//!
//! # JSON shapes
//!
//! The shapes are the JSON-RPC server's (`threadstore_rpc::protocol`): `threads --json` prints
//! exactly the `thread/list` result, `turns --json` the `thread/turns/list` result, `items
//! --json` the `thread/turns/items/list` result, `tail --json` the `feed/event` payloads.
//! Field names follow Codex's app-server v2 (`Thread`, `Turn`) where Codex has the field, and
//! threadstore's own names (camelCase) for the rest. Times are unix seconds, like Codex's
//! `Thread.createdAt` (plus the exact instants under `times`); absent values are `null`, never
//! omitted.
//!
//! **Thread** (`threads`, `show`): `id` and `threadId` (the same UUID), `name`, `preview`,
//! `firstUserMessage`, `createdAt`, `updatedAt`, `recencyAt`, `archived` (bool), `archivedAt`,
//! `cwd`, `path` (the rollout file it was imported from, if any), `modelProvider`, `model`,
//! `reasoningEffort`, `source`, `threadSource`, `sessionId`, `parentThreadId`, `forkedFromId`,
//! `agentNickname`, `agentRole`, `agentPath`, `gitInfo` (`{sha, branch, originUrl}` or `null`),
//! `tokenUsage` (`{inputTokens, cachedInputTokens, outputTokens, reasoningOutputTokens,
//! totalTokens}` or `null`), `cliVersion`, `originator`, `itemCount`, `turnCount`, `live`,
//! `times` (`{createdAt, updatedAt, recencyAt, archivedAt}` as exact RFC 3339 times).
//!
//! **Turn** (`turns`): `id` and `turnId`, `status` (`completed`, `interrupted`, `failed`,
//! `inProgress`), `error` (`{message, additionalDetails}` or `null`), `itemsView` (`notLoaded`,
//! `summary`, `full`), `items`, `itemCount`, `startedAt`, `completedAt` (unix seconds),
//! `durationMs`.
//!
//! **Item** (`turns`, `items`): the Codex rollout JSON line object as stored
//! (`{timestamp, ordinal?, type, payload}`) plus its `position` in the thread's log.
//!
//! **Feed event** (`tail`): `position`, `threadId`, `at` (RFC 3339), `kind` (the event kind's
//! stable name: `threadCreated`, `itemsAppended`, `turnStarted`, `turnCompleted`,
//! `metadataUpdated`, `archived`, `unarchived`, `deleted`, `writerOpened`, `writerClosed`) and the
//! kind's details in camelCase (`firstPosition`, `count`, `turnId`, `status`, `summaryPositions`,
//! `durationMs`, `epoch`).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Utc};
use serde_json::Value;
use threadstore::{
    Durability, FeedEvent, FeedEventKind, ItemPage, PostgresThreadStore, ReadThreadParams,
    RemoteOptions, RemoteThreadStore, RolloutLine, SledThreadStore, StoredItem, StoredThread,
    StoredTurnStatus, ThreadId, ThreadPage, ThreadStore, ThreadStoreError, TurnPage,
};
use threadstore_rpc::protocol;

use super::layout::{Column, Cut, Layout, Table};
use crate::output::outln;

/// Whether opening may create a new, empty store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// The directory must already hold a store (inspection commands).
    Existing,
    /// Create the store when the directory does not exist (import).
    Create,
}

/// Where a command reads and writes: the data directory (opened, and locked while the command
/// runs) or a running `threadstore serve` (`--connect`, through `RemoteThreadStore`).
#[derive(Clone, Debug)]
pub enum Target {
    /// The store in this data directory.
    Local(PathBuf),
    /// The store in this PostgreSQL database and schema (`--postgres`).
    Postgres {
        /// The libpq connection string or URL.
        url: String,
        /// The schema.
        schema: String,
    },
    /// The store a server at this WebSocket URL serves.
    Remote {
        /// `ws://host:port`.
        url: String,
        /// Bearer token for a server that asks for one.
        token: Option<String>,
    },
}

/// How messages name the store: its data directory, or the server's URL.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(data) => write!(f, "{}", data.display()),
            Self::Postgres { url, schema } => write!(f, "PostgreSQL {url} (schema {schema})"),
            Self::Remote { url, .. } => f.write_str(url),
        }
    }
}

impl Target {
    /// The data directory, or an error saying that `command` needs one (it reads the store's
    /// files, which a server does not share).
    pub fn local(&self, command: &str) -> anyhow::Result<&Path> {
        match self {
            Self::Local(data) => Ok(data),
            Self::Remote { url, .. } => bail!(
                "`threadstore {command}` works on the data directory, not through a server: run it without --connect {url} (and without THREADSTORE_CONNECT) where the data directory is, with the server stopped"
            ),
            Self::Postgres { .. } => bail!(
                "`threadstore {command}` works on a data directory, not on PostgreSQL: run it without --postgres (and without THREADSTORE_POSTGRES)"
            ),
        }
    }

    /// Opens the store itself (a data directory or PostgreSQL; a server's is refused, naming
    /// `command`).
    pub async fn open(&self, command: &str, mode: Open) -> anyhow::Result<OpenStore> {
        Ok(match self {
            Self::Postgres { url, schema } => {
                OpenStore::Postgres(open_postgres(url, schema, command == "serve").await?)
            }
            _ => OpenStore::Sled(open_store(self.local(command)?, mode).await?),
        })
    }
}

/// A store this process opened: on a data directory or on PostgreSQL.
pub enum OpenStore {
    /// sled in a data directory.
    Sled(SledThreadStore),
    /// PostgreSQL.
    Postgres(PostgresThreadStore),
}

impl OpenStore {
    /// The actor store underneath (verify, flush).
    pub fn actor_store(&self) -> &threadstore::layers::actors::store::ActorStore {
        match self {
            Self::Sled(s) => s.actor_store(),
            Self::Postgres(s) => s.actor_store(),
        }
    }

    /// Flushes, stops the actors and closes (releasing the directory lock, or this node's
    /// writer leases).
    pub async fn close(self) -> anyhow::Result<()> {
        match self {
            Self::Sled(s) => Ok(s.close().await?),
            Self::Postgres(s) => Ok(s.close().await?),
        }
    }
}

/// Opens the store on PostgreSQL (with an in-memory search index when `search`), with a message
/// that says what to check when it cannot.
pub async fn open_postgres(
    url: &str,
    schema: &str,
    search: bool,
) -> anyhow::Result<PostgresThreadStore> {
    PostgresThreadStore::builder(url)
        .schema(schema)
        .search_index(search)
        .open()
        .await
        .map_err(|e| anyhow!("cannot open the store on PostgreSQL {url} (schema {schema}): {e}; check --postgres / THREADSTORE_POSTGRES and that the database is up"))
}

/// Runs `body` with the target's store: the data directory's store (opened, then closed, which
/// releases its lock) or a connection to the server.
pub async fn with_target<T>(
    target: &Target,
    mode: Open,
    body: impl AsyncFnOnce(&dyn ThreadStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_target_tuned(target, mode, Tuning::default(), body).await
}

/// How a command that writes in bulk opens a local store.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tuning {
    /// sled's page cache in bytes (default: the store's), for a command with a memory bound.
    pub cache_bytes: Option<u64>,
    /// Appends are acknowledged before their fsync: the command makes its work durable itself
    /// (`import` shuts each thread's writer down, which flushes, before it reports the file).
    pub buffered: bool,
    /// Leave the search index alone while the command runs (a bulk import or export): the next
    /// store that keeps it (any other command, `serve`) catches it up from the feed.
    pub without_search: bool,
    /// The command searches. On PostgreSQL each process keeps its own index, built in memory
    /// from the feed: only the commands that search (and `serve`) build one.
    pub searches: bool,
}

/// [`with_target`] with a local store opened as `tuning` says (a server keeps its own settings).
pub async fn with_target_tuned<T>(
    target: &Target,
    mode: Open,
    tuning: Tuning,
    body: impl AsyncFnOnce(&dyn ThreadStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match target {
        Target::Local(data) => {
            with_store_tuned(data, mode, tuning, async |store| {
                body(store as &dyn ThreadStore).await
            })
            .await
        }
        Target::Postgres { url, schema } => {
            let store = open_postgres(url, schema, tuning.searches).await?;
            let result = body(&store as &dyn ThreadStore).await;
            let closed = store.close().await;
            let value = result?;
            closed.with_context(|| format!("closing the store on {target}"))?;
            Ok(value)
        }
        Target::Remote { .. } => body(connect(target).await?.as_ref()).await,
    }
}

/// A connection to the server a `--connect` target names (a local target is refused).
pub async fn connect(target: &Target) -> anyhow::Result<std::sync::Arc<dyn ThreadStore>> {
    let Target::Remote { url, token } = target else {
        bail!("{target} is a data directory, not a server");
    };
    let options = RemoteOptions {
        token: token.clone(),
        ..RemoteOptions::default()
    };
    let store = RemoteThreadStore::connect_with(url, options)
        .await
        .map_err(|e| {
            anyhow!("cannot reach a threadstore server at {url}: {e}; start one with `threadstore serve` (or check --connect / THREADSTORE_CONNECT and the token)")
        })?;
    Ok(std::sync::Arc::new(store))
}

/// The file where `threadstore serve` records the URL it serves a data directory on, while it
/// runs, so a command locked out of the directory can say where to connect.
pub const SERVE_URL_FILE: &str = "serve-url";

/// Opens the store in `data`, turning the errors people hit into messages that say what to do.
pub async fn open_store(data: &Path, mode: Open) -> anyhow::Result<SledThreadStore> {
    open_store_tuned(data, mode, Tuning::default()).await
}

/// [`open_store`] with the [`Tuning`] of a bulk command.
pub async fn open_store_tuned(
    data: &Path,
    mode: Open,
    tuning: Tuning,
) -> anyhow::Result<SledThreadStore> {
    if mode == Open::Existing && !data.join("db").exists() {
        bail!(
            "no store in {}: pass --data <dir> (or set THREADSTORE_DATA); `threadstore import` or `threadstore demo` creates one",
            data.display()
        );
    }
    let mut builder = SledThreadStore::builder(data);
    if let Some(bytes) = tuning.cache_bytes {
        builder = builder.cache_bytes(bytes);
    }
    if tuning.buffered {
        builder = builder.durability(Durability::Buffered);
    }
    if tuning.without_search {
        builder = builder.search_index(false);
    }
    match builder.open().await {
        Ok(store) => {
            // This process holds the lock: a served URL left by a server that was killed is
            // stale.
            let _ = std::fs::remove_file(data.join(SERVE_URL_FILE));
            Ok(store)
        }
        Err(ThreadStoreError::Locked { .. }) => {
            let served = std::fs::read_to_string(data.join(SERVE_URL_FILE))
                .ok()
                .map(|url| url.trim().to_owned())
                .filter(|url| !url.is_empty());
            Err(match served {
                Some(url) => anyhow!(
                    "the store in {} is served by `threadstore serve` at {url}: run this command through it with --connect {url} (or THREADSTORE_CONNECT={url}), stop the server, or use another --data directory",
                    data.display()
                ),
                None => anyhow!(
                    "the store in {} is in use by another threadstore process: stop it, use another --data directory, or, if it is `threadstore serve`, run this command through it with --connect ws://HOST:PORT",
                    data.display()
                ),
            })
        }
        Err(e) => {
            Err(anyhow::Error::new(e)
                .context(format!("cannot open the store in {}", data.display())))
        }
    }
}

/// Opens the store, runs `body` with it, and always closes it (releasing the directory lock)
/// before returning `body`'s result.
pub async fn with_store<T>(
    data: &Path,
    mode: Open,
    body: impl AsyncFnOnce(&SledThreadStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_store_tuned(data, mode, Tuning::default(), body).await
}

/// [`with_store`] with the [`Tuning`] of a bulk command.
async fn with_store_tuned<T>(
    data: &Path,
    mode: Open,
    tuning: Tuning,
    body: impl AsyncFnOnce(&SledThreadStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let store = open_store_tuned(data, mode, tuning).await?;
    let result = body(&store).await;
    let closed = store.close().await;
    let value = result?;
    closed.with_context(|| format!("closing the store in {}", data.display()))?;
    Ok(value)
}

/// Parses a thread id given on the command line.
pub fn parse_thread_id(text: &str) -> anyhow::Result<ThreadId> {
    text.parse().map_err(|_| {
        anyhow!("invalid thread id {text:?}: expected a UUID such as 019b04ae-b1c6-7c72-a134-a4c2de66058c (see `threadstore threads`)")
    })
}

/// Turns the error of a read (a listing, a page, a thread) into a message naming the thread, the
/// data directory or the cursor, with advice for someone reading. Every command that names a
/// thread only reads it, so a missing thread means a wrong id; the store's own message for it
/// ends in advice for writers ("create or resume it first"), which would send people the wrong
/// way.
pub fn explain_read(e: ThreadStoreError, target: &Target, cursor: Option<&str>) -> anyhow::Error {
    match (&e, cursor) {
        (ThreadStoreError::ThreadNotFound { thread_id }, _) => anyhow!(
            "no thread {thread_id} in {target}: check the id; `threadstore threads` lists the threads (`--archived` the archived ones)"
        ),
        (ThreadStoreError::InvalidRequest { message }, Some(c)) if message.contains("cursor") => {
            anyhow!("bad cursor {c:?}: {message}; pass a nextCursor or backwardsCursor printed by the same command for the same thread")
        }
        _ => anyhow::Error::new(e),
    }
}

/// Reads a thread (archived ones included) or says it does not exist.
pub async fn read_thread(
    store: &dyn ThreadStore,
    target: &Target,
    thread_id: ThreadId,
) -> anyhow::Result<StoredThread> {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .map_err(|e| explain_read(e, target, None))
}

/// A readable UTC time: `2026-01-02 10:04:05`.
pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A readable UTC time to the minute, for listings: `2026-01-02 10:04`.
pub fn time_minutes(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A readable UTC time to the minute from unix seconds, for listings.
pub fn time_secs_minutes(secs: Option<i64>) -> String {
    secs.and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| time_minutes(&t))
        .unwrap_or_else(|| "-".into())
}

/// A duration in milliseconds as `850ms`, `12.3s`, `4m05s` or `2h03m`.
pub fn duration_ms(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "-".into() };
    match ms {
        ms if ms < 1_000 => format!("{ms}ms"),
        ms if ms < 60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        ms if ms < 3_600_000 => format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60),
        ms => format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// `text` on one line, cut to `max` display columns with `…` (see `commands::layout`).
pub fn truncate(text: &str, max: usize) -> String {
    super::layout::clip_end(text, max)
}

/// Prints a two-column key/value table within `layout`: keys whole, values cut at their end.
pub fn print_key_values(rows: Vec<(&str, String)>, layout: &Layout) -> anyhow::Result<()> {
    let mut table = Table::new(&[Column::whole("key"), Column::text("value", Cut::End, 1)]);
    for (k, v) in rows {
        table.row(vec![k.to_owned(), v]);
    }
    for line in table.lines(layout, false) {
        outln!("{line}")?;
    }
    Ok(())
}

/// Prints a JSON value on one line.
pub fn print_json(value: &Value) -> anyhow::Result<()> {
    outln!("{value}")
}

/// The camelCase status name Codex uses.
pub fn status_name(status: StoredTurnStatus) -> &'static str {
    protocol::turn::status_name(status)
}

/// Any protocol object as a JSON value (keys sorted, as `serde_json` maps are).
fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A thread as the protocol's camelCase thread object (`threadstore_rpc::protocol::thread`).
pub fn thread_json(t: &StoredThread) -> Value {
    to_json(&protocol::Thread::from(t))
}

/// The `thread/list` result object for a page of threads.
pub fn thread_list_json(page: &ThreadPage) -> Value {
    to_json(&protocol::ThreadListResult::from(page))
}

/// The `thread/turns/list` result object for a page of turns.
pub fn turn_list_json(page: &TurnPage) -> Value {
    to_json(&protocol::TurnListResult::from(page))
}

/// The `thread/turns/items/list` result object for a page of items.
pub fn item_list_json(page: &ItemPage) -> Value {
    to_json(&protocol::ItemListResult::from(page))
}

/// A feed event as the protocol's camelCase event object (what `feed/event` carries).
pub fn event_json(e: &FeedEvent) -> Value {
    protocol::event_json(e)
}

/// The details of a feed event, for one human-readable line.
pub fn event_details(e: &FeedEvent) -> String {
    match &e.kind {
        FeedEventKind::ItemsAppended {
            first_position,
            count,
        } => match count {
            1 => format!("item {first_position}"),
            n => format!("items {first_position}..{}", first_position + n - 1),
        },
        FeedEventKind::TurnStarted { turn_id } => format!("turn {turn_id}"),
        FeedEventKind::TurnCompleted {
            turn_id,
            status,
            summary_positions,
            duration_ms: d,
        } => format!(
            "turn {turn_id} {} after {}, summary items {:?}",
            status_name(*status),
            duration_ms(*d),
            summary_positions
        ),
        FeedEventKind::WriterOpened { epoch } => format!("epoch {epoch}"),
        _ => String::new(),
    }
}

/// The kind of a line for people: `event_msg/user_message`, `response_item/function_call`, …
pub fn line_kind(line: &RolloutLine) -> String {
    match line.item.payload_type() {
        Some(t) => format!("{}/{t}", line.item.kind()),
        None => line.item.kind().to_owned(),
    }
}

/// The readable text of a line, if it has some: a message's text, a reasoning summary, a tool
/// call's name and arguments, a tool output.
pub fn line_text(line: &RolloutLine) -> Option<(String, String)> {
    let payload = line.item.payload_value();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match (
        line.item.kind(),
        payload.get("type").and_then(Value::as_str),
    ) {
        ("event_msg", Some("user_message")) => Some(("user".into(), text(&payload["message"])?)),
        ("event_msg", Some("agent_message")) => Some(("agent".into(), text(&payload["message"])?)),
        ("event_msg", Some("task_complete")) => Some((
            "agent".into(),
            text(&payload["last_agent_message"]).unwrap_or_default(),
        )),
        ("event_msg", Some("error")) => Some(("error".into(), text(&payload["message"])?)),
        ("response_item", Some("message")) => {
            let role = text(&payload["role"]).unwrap_or_else(|| "message".into());
            let parts: Vec<String> = payload["content"]
                .as_array()?
                .iter()
                .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_owned))
                .collect();
            Some((
                if role == "assistant" {
                    "agent".into()
                } else {
                    role
                },
                parts.join(" "),
            ))
        }
        ("response_item", Some("reasoning")) => {
            let parts: Vec<String> = payload["summary"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Some(("reasoning".into(), parts.join(" ")))
        }
        ("response_item", Some("function_call" | "custom_tool_call")) => {
            let name = text(&payload["name"]).unwrap_or_default();
            let args = payload
                .get("arguments")
                .or_else(|| payload.get("input"))
                .map(|a| {
                    a.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| a.to_string())
                })
                .unwrap_or_default();
            Some(("call".into(), format!("{name} {args}")))
        }
        ("response_item", Some("function_call_output" | "custom_tool_call_output")) => {
            let output = &payload["output"];
            let out = output
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    output
                        .get("content")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| output.to_string());
            Some(("output".into(), out))
        }
        _ => None,
    }
}

/// `user: "…" → agent: "…"` from a turn's summary items (or any items).
pub fn summary_text(items: &[StoredItem], width: usize) -> String {
    let mut user = None;
    let mut agent = None;
    for item in items {
        match line_text(&item.line) {
            Some((role, text)) if role == "user" && user.is_none() && !text.is_empty() => {
                user = Some(text)
            }
            Some((role, text)) if role == "agent" && !text.is_empty() => agent = Some(text),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(u) = user {
        out.push(format!("user: {}", truncate(&u, width)));
    }
    if let Some(a) = agent {
        out.push(format!("agent: {}", truncate(&a, width)));
    }
    out.join("  → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_durations_and_truncation() {
        assert_eq!(duration_ms(Some(850)), "850ms");
        assert_eq!(duration_ms(Some(12_345)), "12.3s");
        assert_eq!(duration_ms(Some(245_000)), "4m05s");
        assert_eq!(duration_ms(None), "-");
        assert_eq!(truncate("a  b\nc", 10), "a b c");
        assert_eq!(truncate("abcdefghijkl", 5), "abcd…");
    }
}

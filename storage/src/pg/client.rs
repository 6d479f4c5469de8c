//! Connections to PostgreSQL: a runtime of their own, a pool, a bound on every call, and the one
//! mapping from database errors to the contract's.
//!
//! **Why a runtime of its own**: the journal's reads of the key layout are synchronous
//! ([`crate::engine::KvEngine`]), called from the store's async workers and from its blocking
//! pool, on multi-threaded and current-thread runtimes alike. Every connection task and every
//! query runs on this runtime ("threadstore-pg" threads), and a synchronous caller only waits for
//! the answer; so no caller's runtime is ever asked to drive the connection it is blocked on.
//!
//! **Failure semantics**: every call is bounded by [`PgOptions::call_timeout`] (the wait for a
//! connection included). A call that cannot reach the database (refused, reset, timed out) is
//! `Unavailable`; the pool drops closed connections and opens new ones on the next call, so a node
//! recovers by itself when the database returns. A transaction that fails is rolled back by the
//! database (a dropped transaction is rolled back before the connection is used again).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, RecycleResult};
use threadstore_api::ThreadStoreError;
use tokio_postgres::{Client, NoTls, Statement};

use crate::StorageResult;

/// Where the store's tables are and how to reach them.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// A libpq connection string or URL (`host=/run/postgresql user=postgres`,
    /// `postgres://user@host/db`).
    pub url: String,
    /// The schema holding the store's tables (created when missing): one database can hold
    /// several stores.
    pub schema: String,
    /// Connections in the pool (each node).
    pub pool_size: usize,
    /// The bound on every call to the database, the wait for a connection included: beyond it a
    /// call fails with `Unavailable` (CONTRACT.md §10).
    pub call_timeout: Duration,
}

impl PgOptions {
    /// The default schema.
    pub const DEFAULT_SCHEMA: &'static str = "threadstore";

    /// Options for `url` with the default schema, a pool of 16 and a 5 s bound per call.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: Self::DEFAULT_SCHEMA.to_owned(),
            pool_size: 16,
            call_timeout: Duration::from_secs(5),
        }
    }

    /// The same options with another schema.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Checks what the database cannot: the schema is a plain identifier (it is spliced into
    /// statements and the feed's notification channel), the pool is not empty.
    pub fn validate(&self) -> StorageResult<()> {
        let ok = !self.schema.is_empty()
            && self.schema.len() <= 40
            && self
                .schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !self.schema.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            return Err(ThreadStoreError::invalid(format!(
                "schema {:?}: use 1 to 40 lowercase letters, digits and underscores, not starting with a digit",
                self.schema
            )));
        }
        if self.pool_size == 0 {
            return Err(ThreadStoreError::invalid(
                "the pool needs at least one connection",
            ));
        }
        Ok(())
    }
}

/// One pooled connection with its prepared statements.
pub struct Conn {
    /// The client.
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// The prepared statement for `sql` (prepared once per connection).
    pub async fn prepare(&mut self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

/// Opens connections for the pool (each with the store's `search_path`) and drops closed ones.
pub struct Manager {
    config: tokio_postgres::Config,
    schema: String,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<Conn, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a PostgreSQL connection ended");
            }
        });
        // The schema comes from `PgOptions::validate`d options: a plain identifier.
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .await?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<tokio_postgres::Error> {
        if conn.client.is_closed() {
            return Err(managed::RecycleError::message("connection closed"));
        }
        Ok(())
    }
}

/// The pool and the runtime its connections live on.
pub struct PgClient {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool<Manager>,
    options: PgOptions,
    config: tokio_postgres::Config,
}

impl Drop for PgClient {
    fn drop(&mut self) {
        self.pool.close();
        if let Some(rt) = self.runtime.take() {
            // Allowed anywhere, also inside an async context.
            rt.shutdown_background();
        }
    }
}

impl PgClient {
    /// Starts the runtime and the (lazy) pool; connects nothing yet.
    pub fn new(options: &PgOptions) -> StorageResult<Arc<Self>> {
        options.validate()?;
        let mut config: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|e| ThreadStoreError::invalid(format!("PostgreSQL connection string: {e}")))?;
        config.connect_timeout(options.call_timeout);
        config.application_name("threadstore");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("threadstore-pg")
            .enable_all()
            .build()
            .map_err(|e| ThreadStoreError::internal(format!("cannot start a runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let manager = Manager {
            config: config.clone(),
            schema: options.schema.clone(),
        };
        let pool = {
            let _enter = handle.enter();
            Pool::builder(manager)
                .max_size(options.pool_size)
                .wait_timeout(Some(options.call_timeout))
                .create_timeout(Some(options.call_timeout))
                .recycle_timeout(Some(options.call_timeout))
                .runtime(deadpool::Runtime::Tokio1)
                .build()
                .map_err(|e| ThreadStoreError::internal(format!("connection pool: {e}")))?
        };
        Ok(Arc::new(Self {
            runtime: Some(runtime),
            handle,
            pool,
            options: options.clone(),
            config,
        }))
    }

    /// The options.
    pub fn options(&self) -> &PgOptions {
        &self.options
    }

    /// The parsed connection settings (for the feed's listening connection).
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The runtime's handle (background tasks of the journal run on it).
    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Runs `f` with a pooled connection on the client's runtime, bounded by the call timeout.
    pub async fn run<T, F, Fut>(&self, what: &'static str, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(PooledConn) -> Fut + Send + 'static,
        Fut: Future<Output = StorageResult<T>> + Send,
    {
        let pool = self.pool.clone();
        let bound = self.options.call_timeout;
        let task = self.handle.spawn(async move {
            let work = async move {
                let conn = pool.get().await.map_err(|e| pool_error(what, e))?;
                f(conn).await
            };
            match tokio::time::timeout(bound, work).await {
                Ok(result) => result,
                Err(_) => Err(ThreadStoreError::Unavailable {
                    message: format!("{what}: no answer from PostgreSQL within {bound:?}"),
                }),
            }
        });
        task.await
            .map_err(|e| ThreadStoreError::internal(format!("{what}: database task failed: {e}")))?
    }

    /// [`run`](Self::run) for a synchronous caller: blocks the calling thread until the answer.
    pub fn run_blocking<T, F, Fut>(&self, what: &'static str, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(PooledConn) -> Fut + Send + 'static,
        Fut: Future<Output = StorageResult<T>> + Send,
    {
        futures::executor::block_on(self.run(what, f))
    }
}

/// The pooled connection type.
pub type PooledConn = managed::Object<Manager>;

fn pool_error(what: &str, e: managed::PoolError<tokio_postgres::Error>) -> ThreadStoreError {
    match e {
        managed::PoolError::Backend(e) => db_error(what, e),
        other => ThreadStoreError::Unavailable {
            message: format!("{what}: no connection to PostgreSQL: {other}"),
        },
    }
}

/// SQLSTATEs that mean "another transaction got there first" (serialization failure, deadlock,
/// unique violation): the caller reports `Contended`, and the store retries.
const RACE_STATES: [&str; 3] = ["40001", "40P01", "23505"];

/// Whether `e` is a lost race (see [`RACE_STATES`]).
pub fn is_race(e: &tokio_postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|db| RACE_STATES.contains(&db.code().code()))
}

/// The contract's error for a database error: a connection that failed is `Unavailable`;
/// anything the database refused is `Internal` (lost races are told apart by [`is_race`] first).
pub fn db_error(what: &str, e: tokio_postgres::Error) -> ThreadStoreError {
    if let Some(db) = e.as_db_error() {
        let state = db.code().code();
        // Class 08 (connection exception), 57P01..57P03 (shutdown, cannot connect now).
        if state.starts_with("08") || state.starts_with("57P") {
            return ThreadStoreError::Unavailable {
                message: format!("{what}: {}", db.message()),
            };
        }
        return ThreadStoreError::internal(format!(
            "{what}: PostgreSQL refused ({state}): {}",
            db.message()
        ));
    }
    // No database error: the connection itself failed (closed, reset, refused, timed out).
    ThreadStoreError::Unavailable {
        message: format!("{what}: {e}"),
    }
}

//! The store's tables in PostgreSQL, created and migrated when a node opens the store.
//!
//! | table | columns | holds |
//! |---|---|---|
//! | `kv` | `k bytea` primary key, `v bytea` | every record of the key layout ([`crate::keys`]): logs, thread records, turns, indexes, leases, request ids, and the sequenced feed blocks (`F first_position`) |
//! | `feed_pending` | `id bigserial`, `xid xid8` (the writing transaction), `count int`, `block bytea` | each commit's feed events until the sequencer gives them positions ([`super::feed`]) |
//! | `feed_head` | `one int` (always 1), `head bigint` | the next feed position; its row lock makes one sequencer run at a time |
//! | `schema_version` | `version int` | the version of these tables, [`SCHEMA_VERSION`] |
//!
//! **Migrations** are embedded, numbered statements applied in order inside one transaction that
//! first takes a transaction-scoped advisory lock, so nodes that open the store at the same
//! moment apply each step once (a node that finds the version current does nothing). A version
//! newer than this build's is refused: an older node must not write a newer layout.

use threadstore_api::ThreadStoreError;

use super::client::{db_error, PgClient};
use crate::StorageResult;

/// The version of the tables this build writes.
pub const SCHEMA_VERSION: i32 = 1;

/// Step `i` brings version `i` to `i + 1`.
const STEPS: [&str; 1] = [r"
CREATE TABLE kv (k bytea PRIMARY KEY, v bytea NOT NULL);
CREATE TABLE feed_pending (
    id bigserial PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    count int NOT NULL,
    block bytea NOT NULL
);
CREATE INDEX feed_pending_order ON feed_pending (xid, id);
CREATE TABLE feed_head (one int PRIMARY KEY CHECK (one = 1), head bigint NOT NULL);
INSERT INTO feed_head VALUES (1, 0);
"];

/// A key for the advisory lock of migrations (any fixed number; "tsmigr" in ASCII).
const MIGRATION_LOCK: i64 = 0x7473_6d69_6772;

/// Creates the schema and its tables, or brings them to [`SCHEMA_VERSION`].
pub async fn migrate(client: &PgClient) -> StorageResult<()> {
    let schema = client.options().schema.clone();
    client
        .run("migrate", move |mut conn| async move {
            let tx = conn
                .client
                .transaction()
                .await
                .map_err(|e| db_error("migrate", e))?;
            let err = |e| db_error("migrate", e);
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(err)?;
            // The schema name was validated by `PgOptions::validate`: a plain identifier.
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 SET LOCAL search_path TO {schema};
                 CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL);"
            ))
            .await
            .map_err(err)?;
            let version: i32 = match tx
                .query_opt("SELECT version FROM schema_version", &[])
                .await
                .map_err(err)?
            {
                Some(row) => row.get(0),
                None => {
                    tx.execute("INSERT INTO schema_version VALUES (0)", &[])
                        .await
                        .map_err(err)?;
                    0
                }
            };
            if version > SCHEMA_VERSION {
                return Err(ThreadStoreError::invalid(format!(
                    "schema {schema} is at version {version}, newer than this threadstore's {SCHEMA_VERSION}: upgrade threadstore"
                )));
            }
            for (i, step) in STEPS.iter().enumerate().skip(version as usize) {
                tx.batch_execute(step).await.map_err(err)?;
                tracing::info!(schema, version = i + 1, "PostgreSQL schema migrated");
            }
            tx.execute("UPDATE schema_version SET version = $1", &[&SCHEMA_VERSION])
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)
        })
        .await
}

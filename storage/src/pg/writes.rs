//! The writes of the `kv` table: a batch reduced to the last write of each key, and the
//! statements that apply it (shared by the journal's commits and the engine's batches).

use std::collections::BTreeMap;

use tokio_postgres::Transaction;

use crate::engine::WriteBatch;

/// Keys with their new values, and keys to remove.
pub(crate) type Writes = (Vec<(Vec<u8>, Vec<u8>)>, Vec<Vec<u8>>);

/// The last write of each key in `batch`: puts and removals (a key written twice in one
/// statement would be refused).
pub(crate) fn final_writes(batch: WriteBatch) -> Writes {
    let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for (k, v) in batch.ops {
        last.insert(k, v);
    }
    let mut puts = Vec::new();
    let mut removes = Vec::new();
    for (k, v) in last {
        match v {
            Some(v) => puts.push((k, v)),
            None => removes.push(k),
        }
    }
    (puts, removes)
}

pub(crate) const LOCK_SQL: &str = "SELECT k, v FROM kv WHERE k = $1 OR k = $2 FOR UPDATE";
pub(crate) const UPSERT_SQL: &str =
    "INSERT INTO kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                          ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v";
pub(crate) const DELETE_SQL: &str = "DELETE FROM kv WHERE k = ANY($1)";
pub(crate) const PENDING_SQL: &str = "INSERT INTO feed_pending (count, block) VALUES ($1, $2)";
pub(crate) const INSERT_NEW_SQL: &str =
    "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING";

/// Writes puts (upserts) and removals into `kv`, one statement each.
pub(crate) async fn write_kv(
    tx: &Transaction<'_>,
    puts: &[(Vec<u8>, Vec<u8>)],
    removes: &[Vec<u8>],
) -> Result<(), tokio_postgres::Error> {
    if !removes.is_empty() {
        tx.execute(DELETE_SQL, &[&removes]).await?;
    }
    if !puts.is_empty() {
        let (ks, vs): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = puts.iter().map(|(k, v)| (k, v)).unzip();
        tx.execute(UPSERT_SQL, &[&ks, &vs]).await?;
    }
    Ok(())
}

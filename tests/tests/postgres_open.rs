//! Nodes opening one fresh schema at the same moment: the embedded migrations run once (under a
//! transaction-scoped advisory lock), every node opens, and all of them share the store.
//! Skipped with a message without `THREADSTORE_PG`, a failure under CI.

use threadstore::{ReadThreadParams, ThreadStore};
use threadstore_tests::harness::{create_params, fresh_schema, open_postgres, postgres_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_opening_a_fresh_schema_at_once_all_open_one_store() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema();
    let nodes = futures::future::join_all((0..6).map(|_| open_postgres(&url, &schema))).await;
    let w = nodes[0].create_thread(create_params()).await.unwrap();
    for node in &nodes {
        let t = node
            .read_thread(ReadThreadParams::new(w.thread_id))
            .await
            .unwrap();
        assert_eq!(t.thread_id, w.thread_id);
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let versions = client
        .query(&format!("SELECT version FROM {schema}.schema_version"), &[])
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "one version row");
    assert_eq!(
        versions[0].get::<_, i32>(0),
        threadstore::layers::storage::pg::schema::SCHEMA_VERSION
    );
    for node in nodes {
        node.close().await.unwrap();
    }
}

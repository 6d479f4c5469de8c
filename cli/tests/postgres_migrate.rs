//! `threadstore migrate --to-postgres`: a sled store with turns, a fork, a name, an archived
//! thread and request ids is copied into a fresh schema; the copy verifies, and every thread
//! reads the same on PostgreSQL as on sled (listing, metadata, history), request ids included.
//! A second copy into the same schema is refused. Skipped with a message without
//! `THREADSTORE_PG`, a failure under CI.

use threadstore::{
    AppendThreadItemsParams, ArchiveThreadParams, ForkBoundary, ForkThreadParams,
    ListThreadsParams, ReadThreadParams, SledThreadStore, ThreadMetadataPatch, ThreadStore,
    UpdateThreadMetadataParams,
};
use threadstore_tests::harness::{create_params, fresh_schema, open_postgres, postgres_url, turn};

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");

async fn listing(store: &dyn ThreadStore, archived: bool) -> Vec<threadstore::StoredThread> {
    store
        .list_threads(ListThreadsParams {
            archived,
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_store_copied_to_postgres_reads_the_same() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let store = SledThreadStore::open(&data).await.unwrap();
    let mut ids = Vec::new();
    for t in 0..4 {
        let w = store.create_thread(create_params()).await.unwrap();
        for k in 0..3 {
            let mut p = AppendThreadItemsParams::new(
                w.thread_id,
                turn(&format!("t{t}-{k}"), &format!("question {t} {k}"), "answer"),
            );
            p.request_id = Some(format!("r{t}-{k}"));
            store.append_items(p).await.unwrap();
        }
        ids.push(w.thread_id);
    }
    let mut named = UpdateThreadMetadataParams::new(ids[0], ThreadMetadataPatch::default());
    named.patch.name = Some(Some("the named one".into()));
    store.update_thread_metadata(named).await.unwrap();
    let fork = store
        .fork_thread(ForkThreadParams::new(
            ids[1],
            ForkBoundary::ThroughTurn("t1-1".into()),
        ))
        .await
        .unwrap();
    ids.push(fork.thread_id);
    store
        .archive_thread(ArchiveThreadParams {
            thread_id: ids[2],
            at: None,
        })
        .await
        .unwrap();
    store.close().await.unwrap();

    let schema = fresh_schema();
    let migrate = |expect_ok: bool| {
        let out = std::process::Command::new(BIN)
            .arg("--data")
            .arg(&data)
            .args([
                "--postgres-schema",
                &schema,
                "migrate",
                "--to-postgres",
                &url,
            ])
            .env_remove("THREADSTORE_POSTGRES")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.success(), expect_ok, "{stdout}{stderr}");
        stdout + &stderr
    };
    let said = migrate(true);
    assert!(
        said.contains("copied 5 threads") && said.contains("every projection matches its log"),
        "{said}"
    );
    let again = migrate(false);
    assert!(again.contains("already holds a store"), "{again}");

    let sled = SledThreadStore::open(&data).await.unwrap();
    let pg = open_postgres(&url, &schema).await;
    for archived in [false, true] {
        assert_eq!(
            listing(&pg, archived).await,
            listing(&sled, archived).await,
            "archived: {archived}"
        );
    }
    for &id in &ids {
        let mut read = ReadThreadParams::new(id);
        read.include_archived = true;
        read.include_history = true;
        let on_pg = pg.read_thread(read.clone()).await.unwrap();
        let on_sled = sled.read_thread(read).await.unwrap();
        assert_eq!(on_pg, on_sled, "thread {id}");
    }
    assert_eq!(
        pg.read_thread(ReadThreadParams::new(ids[0]))
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("the named one")
    );
    // Request ids came along: a retry of an old append is deduplicated on PostgreSQL.
    let w = pg
        .resume_thread(threadstore::ResumeThreadParams::new(ids[3]))
        .await
        .unwrap();
    let mut p = AppendThreadItemsParams::new(ids[3], turn("t3-0", "question 3 0", "answer"));
    p.request_id = Some("r3-0".into());
    p.writer_epoch = Some(w.epoch);
    assert!(pg.append_items(p).await.unwrap().deduplicated);
    pg.close().await.unwrap();
    sled.close().await.unwrap();
}

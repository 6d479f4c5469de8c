use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, ListTurnsParams, RolloutItem, SledThreadStore,
    ThreadStore,
};

#[tokio::main]
async fn main() -> threadstore::ThreadStoreResult<()> {
    let store = SledThreadStore::open("./threadstore-data").await?;
    let writer = store
        .create_thread(CreateThreadParams {
            cwd: Some("/repo".into()),
            ..Default::default()
        })
        .await?;
    let mut append = AppendThreadItemsParams::new(
        writer.thread_id,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("fix the build"),
            RolloutItem::agent_message("done"),
            RolloutItem::task_complete("t1", Some("done")),
        ],
    );
    append.writer_epoch = Some(writer.epoch);
    store.append_items(append).await?;
    let page = store
        .list_turns(ListTurnsParams::new(writer.thread_id))
        .await?;
    assert_eq!(page.turns[0].items.len(), 2);
    Ok(())
}

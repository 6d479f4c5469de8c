use threadstore::{CreateThreadParams, ListTurnsParams, RolloutItem, SledThreadStore, ThreadStore};

#[tokio::main]
async fn main() -> threadstore::ThreadStoreResult<()> {
    // Or SledThreadStore::builder(path).durability(..).open(), or InMemoryThreadStore::default().
    let store = SledThreadStore::open("./threadstore-data").await?;
    let create = CreateThreadParams {
        cwd: Some("/repo".into()),
        ..Default::default()
    };
    let mut writer = store.create_thread(create).await?;
    let items = vec![
        RolloutItem::task_started("t1"),
        RolloutItem::user_message("fix the build"),
        RolloutItem::agent_message("done"),
        RolloutItem::task_complete("t1", Some("done")),
    ];
    // Fenced by the writer's epoch (StaleWriter if someone resumed since); returns once fsynced.
    writer.append(&store, items).await?;
    let page = store
        .list_turns(ListTurnsParams::new(writer.thread_id))
        .await?;
    // The summary view: the turn's first user message and last agent message.
    assert_eq!(page.turns[0].items.len(), 2);
    println!(
        "{} turn(s), {} items",
        page.turns.len(),
        writer.next_position
    );
    store.close().await
}

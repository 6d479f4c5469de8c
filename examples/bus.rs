use futures::StreamExt;
use threadstore::{
    FeedKind, FeedMessage, FeedStart, InMemoryThreadStore, RolloutItem, SubscribeParams,
    ThreadStore,
};

#[tokio::main]
async fn main() -> threadstore::ThreadStoreResult<()> {
    let store = InMemoryThreadStore::default();
    let mut writer = store.create_thread(Default::default()).await?;
    let mut events = store
        .subscribe(SubscribeParams {
            threads: Some([writer.thread_id].into()), // None: every thread
            kinds: Some([FeedKind::TurnCompleted].into()), // None: every kind
            start: FeedStart::Beginning,              // or Now, After(p), At(p)
            ..Default::default()
        })
        .await?;
    let turn = vec![
        RolloutItem::task_started("t1"),
        RolloutItem::user_message("hi"),
        RolloutItem::agent_message("hello"),
        RolloutItem::task_complete("t1", Some("hello")),
    ];
    writer.append(&store, turn).await?;
    while let Some(message) = events.next().await {
        match message? {
            FeedMessage::Event(e) => {
                println!("{} {} {:?}", e.position, e.thread_id, e.kind);
                break; // the turn we waited for
            }
            FeedMessage::Live { next_position } => println!("caught up; live from {next_position}"),
            FeedMessage::Lagged { resume_from } => {
                println!("fell behind: subscribe again with FeedStart::At({resume_from})")
            }
        }
    }
    Ok(())
}

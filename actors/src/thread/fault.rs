//! Fault injection for tests (feature `fault-injection`): a message whose handler panics.

use kameo::message::{Context, Message};
use threadstore_api::ThreadStoreResult;

use super::ThreadActor;

/// Panics inside the thread actor.
#[derive(Clone)]
pub struct Crash;

/// Keeps the thread actor busy for a while (fills its mailbox behind it).
#[derive(Clone)]
pub struct Stall(pub std::time::Duration);

impl Message<Stall> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    #[tracing::instrument(level = "debug", name = "thread.stall", skip_all, fields(thread_id = %self.id))]
    async fn handle(&mut self, msg: Stall, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        tokio::time::sleep(msg.0).await;
        Ok(())
    }
}

impl Message<Crash> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    #[tracing::instrument(level = "debug", name = "thread.crash", skip_all, fields(thread_id = %self.id))]
    async fn handle(&mut self, _: Crash, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        panic!(
            "fault injection: thread {} actor crashes on purpose",
            self.id
        )
    }
}

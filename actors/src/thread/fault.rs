//! Fault injection for tests (feature `fault-injection`): a message whose handler panics.

use kameo::message::{Context, Message};
use threadstore_api::ThreadStoreResult;

use super::ThreadActor;

/// Panics inside the thread actor.
pub struct Crash;

impl Message<Crash> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    async fn handle(&mut self, _: Crash, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        panic!(
            "fault injection: thread {} actor crashes on purpose",
            self.id
        )
    }
}

//! `Snapshot`: the thread's committed state, for reads served outside the actor.

use kameo::message::{Context, Message};
use threadstore_api::ThreadStoreResult;
use threadstore_storage::ThreadRecord;

use super::ThreadActor;

/// Asks for the thread's record and lease; `Archived` unless `include_archived`.
pub struct Snapshot {
    /// Allow an archived thread.
    pub include_archived: bool,
}

/// A consistent view of one thread: reads bound themselves by its positions and turn seqs.
#[derive(Clone, Debug)]
pub struct ThreadSnapshot {
    /// The record at the time of the snapshot.
    pub record: ThreadRecord,
    /// Whether a writer is live.
    pub live: bool,
}

impl Message<Snapshot> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadSnapshot>;

    async fn handle(&mut self, msg: Snapshot, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.check_archived(msg.include_archived)?;
        Ok(ThreadSnapshot {
            record: self.record()?.clone(),
            live: self.live.is_some(),
        })
    }
}

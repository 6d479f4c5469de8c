//! `ThreadSnapshot`: a thread's committed state as a reply (metadata changes answer with it;
//! reads build it from the journal without asking the actor).

use threadstore_api::ThreadStoreResult;
use threadstore_storage::ThreadRecord;

use super::ThreadActor;

/// A consistent view of one thread: reads bound themselves by its positions and turn seqs.
#[derive(Clone, Debug)]
pub struct ThreadSnapshot {
    /// The record at the time of the snapshot.
    pub record: ThreadRecord,
    /// Whether a writer is live.
    pub live: bool,
}

impl ThreadActor {
    /// The actor's current state as a snapshot.
    pub(super) fn snapshot(&self) -> ThreadStoreResult<ThreadSnapshot> {
        Ok(ThreadSnapshot {
            record: self.record()?.clone(),
            live: self.live.is_some(),
        })
    }
}

//! Store settings: durability, actor limits, size limits.

use std::time::Duration;

/// When an append is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Only after its bytes are fsynced (group commit shares fsyncs between concurrent appends).
    #[default]
    Sync,
    /// Before fsync; `flush_thread` forces durability, and the engine flushes in the background.
    Buffered,
}

/// Settings of an actor-based store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// When appends are acknowledged.
    pub durability: Durability,
    /// An actor idle this long is passivated.
    pub idle_timeout: Duration,
    /// At most this many live thread actors; beyond it the least recently used are passivated.
    pub max_live_actors: usize,
    /// Mailbox capacity of each thread actor.
    pub mailbox_capacity: usize,
    /// How long a call waits for room in a full mailbox before `ResourceExhausted`.
    pub mailbox_timeout: Duration,
    /// Largest item (kind + payload bytes).
    pub max_item_bytes: usize,
    /// Most items in one append.
    pub max_batch_items: usize,
    /// Events the bus keeps for momentarily slow subscribers before telling them they lagged.
    pub bus_ring_capacity: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            durability: Durability::Sync,
            idle_timeout: Duration::from_secs(30),
            max_live_actors: 10_000,
            mailbox_capacity: 256,
            mailbox_timeout: Duration::from_secs(10),
            max_item_bytes: 16 * 1024 * 1024,
            max_batch_items: 10_000,
            bus_ring_capacity: crate::bus::RING_CAPACITY,
        }
    }
}

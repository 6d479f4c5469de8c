//! Store settings: durability, actor limits, size limits.

use std::time::Duration;

use threadstore_api::{ThreadStoreError, ThreadStoreResult};
use threadstore_storage::codec::MAX_RECORD_BYTES;
use threadstore_storage::WriteGroupOptions;

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
    /// Longest string field a caller supplies (names, metadata patch fields, create params,
    /// request ids), in bytes.
    pub max_field_bytes: usize,
    /// Events the bus keeps for momentarily slow subscribers before telling them they lagged.
    pub bus_ring_capacity: usize,
    /// Commits waiting for the writer thread, and appends waiting for an fsync; beyond it a
    /// writer waits for room (backpressure).
    pub queue_capacity: usize,
    /// How long a writer waits for room in a full write or fsync queue before
    /// `ResourceExhausted`.
    pub queue_timeout: Duration,
    /// Keep the full-text index (`search_threads`, CONTRACT.md §8): on by default. Off,
    /// `search_threads` is `Unsupported`; turned on again, the index catches up from the feed.
    pub search_index: bool,
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
            max_field_bytes: 64 * 1024,
            bus_ring_capacity: crate::bus::RING_CAPACITY,
            queue_capacity: 1024,
            queue_timeout: Duration::from_secs(10),
            search_index: true,
        }
    }
}

impl StoreConfig {
    /// Refuses settings a store cannot run with, with `InvalidRequest` naming the field (checked
    /// when a store opens).
    pub fn validate(&self) -> ThreadStoreResult<()> {
        let at_least_one = [
            ("max_live_actors", self.max_live_actors),
            ("mailbox_capacity", self.mailbox_capacity),
            ("max_item_bytes", self.max_item_bytes),
            ("max_batch_items", self.max_batch_items),
            ("max_field_bytes", self.max_field_bytes),
            ("bus_ring_capacity", self.bus_ring_capacity),
            ("queue_capacity", self.queue_capacity),
        ];
        for (field, value) in at_least_one {
            if value == 0 {
                return Err(ThreadStoreError::invalid(format!(
                    "StoreConfig::{field} must be at least 1, got 0"
                )));
            }
        }
        if self.max_item_bytes > MAX_ITEM_BYTES {
            return Err(ThreadStoreError::invalid(format!(
                "StoreConfig::max_item_bytes must be at most {MAX_ITEM_BYTES} (a record must stay \
                 under the codec's cap of {MAX_RECORD_BYTES} bytes), got {}",
                self.max_item_bytes
            )));
        }
        if self.max_field_bytes > MAX_FIELD_BYTES {
            return Err(ThreadStoreError::invalid(format!(
                "StoreConfig::max_field_bytes must be at most {MAX_FIELD_BYTES} (a thread record \
                 holds several such fields and must stay under the codec's cap), got {}",
                self.max_field_bytes
            )));
        }
        for (field, value) in [
            ("idle_timeout", self.idle_timeout),
            ("mailbox_timeout", self.mailbox_timeout),
            ("queue_timeout", self.queue_timeout),
        ] {
            if value.is_zero() {
                return Err(ThreadStoreError::invalid(format!(
                    "StoreConfig::{field} must be longer than zero"
                )));
            }
        }
        Ok(())
    }

    /// The write group's settings derived from this config.
    pub fn write_group(&self) -> WriteGroupOptions {
        WriteGroupOptions {
            queue_capacity: self.queue_capacity,
            queue_timeout: self.queue_timeout,
            ..WriteGroupOptions::default()
        }
    }
}

/// Largest `max_field_bytes` accepted.
pub const MAX_FIELD_BYTES: usize = 1024 * 1024;

/// Largest `max_item_bytes` accepted: a record (item plus framing) must stay under the codec's cap.
pub const MAX_ITEM_BYTES: usize = MAX_RECORD_BYTES - 1024 * 1024;

//! Thread-level changes: `Patch` (metadata), `SetArchived`, `Delete`. Patches and archive moves are
//! appended to the log as events, so a rebuild reproduces them.

use chrono::{DateTime, Utc};
use kameo::message::{Context, Message};
use serde_json::json;
use threadstore_api::{FeedEventKind, ThreadMetadataPatch, ThreadStoreResult};
use threadstore_storage::projection::classify::{
    ARCHIVED, METADATA_UPDATED, NAME_UPDATED, UNARCHIVED,
};
use tracing::instrument;

use super::limits::{check_fields, patch_fields};
use super::{ThreadActor, ThreadSnapshot};

/// Applies a literal metadata patch.
#[derive(Clone)]
pub struct Patch {
    /// The patch.
    pub patch: ThreadMetadataPatch,
    /// Allow an archived thread.
    pub include_archived: bool,
    /// The time its log event records (`None` = now).
    pub at: Option<DateTime<Utc>>,
}

/// Archives or unarchives; idempotent.
#[derive(Clone)]
pub struct SetArchived {
    /// `true` archives, `false` unarchives.
    pub archived: bool,
    /// The time its log event records (`None` = now).
    pub at: Option<DateTime<Utc>>,
}

/// Deletes the thread: log, projections, indexes.
#[derive(Clone)]
pub struct Delete;

impl Message<Patch> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadSnapshot>;

    #[instrument(level = "debug", name = "thread.patch", skip_all, err(level = "debug"), fields(thread_id = %self.id))]
    async fn handle(&mut self, msg: Patch, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.check_archived(msg.include_archived)?;
        let patch = msg.patch;
        check_fields(&self.deps.config, patch_fields(&patch))?;
        if patch.is_empty() {
            return self.snapshot();
        }
        let name_only = ThreadMetadataPatch {
            name: patch.name.clone(),
            ..ThreadMetadataPatch::default()
        } == patch;
        let event = if name_only {
            json!({"type": NAME_UPDATED, "thread_id": self.id.to_string(), "thread_name": patch.name.clone().flatten()})
        } else {
            json!({"type": METADATA_UPDATED, "patch": patch})
        };
        self.append_event(event, FeedEventKind::MetadataUpdated, msg.at)
            .await?;
        self.snapshot()
    }
}

impl Message<SetArchived> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadSnapshot>;

    #[instrument(level = "debug", name = "thread.set_archived", skip_all, err(level = "debug"), fields(thread_id = %self.id, archived = msg.archived))]
    async fn handle(
        &mut self,
        msg: SetArchived,
        _: &mut Context<Self, Self::Reply>,
    ) -> Self::Reply {
        let archived = self.record()?.meta.archived_ms.is_some();
        if archived != msg.archived {
            let (ty, event) = if msg.archived {
                (ARCHIVED, FeedEventKind::Archived)
            } else {
                (UNARCHIVED, FeedEventKind::Unarchived)
            };
            self.append_event(json!({"type": ty}), event, msg.at)
                .await?;
        }
        self.snapshot()
    }
}

impl Message<Delete> for ThreadActor {
    type Reply = ThreadStoreResult<()>;

    #[instrument(level = "debug", name = "thread.delete", skip_all, err(level = "debug"), fields(thread_id = %self.id))]
    async fn handle(&mut self, _: Delete, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let record = self.record()?.clone();
        self.deps
            .journal
            .delete_thread(&record, chrono::Utc::now().timestamp_millis())
            .await?;
        self.record = None;
        self.live = None;
        self.tail = None;
        self.deps.committer.durable().await
    }
}

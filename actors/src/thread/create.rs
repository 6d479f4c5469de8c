//! `Create`: a new thread, its header written at position 0, and a live writer at epoch 1.

use chrono::Utc;
use kameo::message::{Context, Message};
use serde_json::{json, Map, Value};
use threadstore_api::item::{check_ordinals, format_timestamp, kinds};
use threadstore_api::{CreateThreadParams, ThreadStoreError, ThreadStoreResult, ThreadWriter};
use threadstore_storage::{LogRecord, ThreadRecord};
use tracing::instrument;

use super::append::ordinal_error;
use super::limits::{check_fields, check_items, create_fields};
use super::{Change, ThreadActor};

/// Creates the thread this actor is for.
#[derive(Clone)]
pub struct Create(pub CreateThreadParams);

impl Message<Create> for ThreadActor {
    type Reply = ThreadStoreResult<ThreadWriter>;

    #[instrument(level = "debug", name = "thread.create", skip_all, err(level = "debug"), fields(thread_id = %self.id, history = msg.0.history.len()))]
    async fn handle(&mut self, msg: Create, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.check_loaded()?;
        if self.record.is_some() {
            return Err(ThreadStoreError::Conflict {
                message: format!("thread {} already exists", self.id),
                actual_position: None,
            });
        }
        let params = msg.0;
        check_fields(&self.deps.config, create_fields(&params))?;
        let lines: Vec<LogRecord> = if params.history.is_empty() {
            vec![header(&self.id.to_string(), &params)]
        } else {
            params.history.iter().map(LogRecord::from_line).collect()
        };
        check_items(
            &self.deps.config,
            lines.iter().map(|l| l.kind.len() + l.payload.len()),
            lines.len(),
        )?;
        check_ordinals(None, lines.iter().map(|l| l.ordinal))
            .map_err(|e| ordinal_error(self.id, e, lines.len()))?;
        let mut base = ThreadRecord {
            epoch: 1,
            ..ThreadRecord::new(self.id)
        };
        base.meta.rollout_path = params
            .rollout_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        self.open_new(Change::new_thread(base, lines, None)).await
    }
}

/// The Codex `session_meta` header built from create params (absent fields omitted).
fn header(id: &str, p: &CreateThreadParams) -> LogRecord {
    let now = Utc::now();
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("timestamp".into(), json!(format_timestamp(&now)));
    let mut opt = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    opt("session_id", p.session_id.map(|s| json!(s.to_string())));
    opt("cwd", p.cwd.as_ref().map(|c| json!(c.to_string_lossy())));
    opt("originator", p.originator.as_ref().map(|v| json!(v)));
    opt("cli_version", p.cli_version.as_ref().map(|v| json!(v)));
    opt("source", p.source.as_ref().map(|v| json!(v)));
    opt("thread_source", p.thread_source.as_ref().map(|v| json!(v)));
    opt(
        "model_provider",
        p.model_provider.as_ref().map(|v| json!(v)),
    );
    opt(
        "parent_thread_id",
        p.parent_thread_id.map(|v| json!(v.to_string())),
    );
    opt(
        "forked_from_id",
        p.forked_from_id.map(|v| json!(v.to_string())),
    );
    opt(
        "agent_nickname",
        p.agent_nickname.as_ref().map(|v| json!(v)),
    );
    opt("agent_role", p.agent_role.as_ref().map(|v| json!(v)));
    opt("agent_path", p.agent_path.as_ref().map(|v| json!(v)));
    opt("git", p.git_info.as_ref().map(|g| json!(g)));
    LogRecord::new(
        now,
        None,
        kinds::SESSION_META.to_owned(),
        Value::Object(m).to_string(),
    )
}

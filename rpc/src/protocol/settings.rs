//! The session settings Codex's `ThreadResumeResponse` and `ThreadForkResponse` carry beside the
//! thread: model, provider, cwd, reasoning effort, approval policy, approvals reviewer, sandbox.
//!
//! A store runs no agent, so it answers with what the thread recorded: the model, provider,
//! effort and cwd of its metadata, and the approval policy, reviewer and sandbox of its latest
//! `turn_context` line, in Codex's wire enums (`approval_policy: "never"` → `"never"`,
//! `sandbox_policy: {"type": "workspace-write", "writable_roots": […]}` →
//! `{"type": "workspaceWrite", "writableRoots": […]}`). What the thread never recorded is sent as
//! Codex's own default: approval `on-request`, reviewer `user`, sandbox `readOnly`, and `""` for a
//! missing model, provider or cwd.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use threadstore_api::thread_item::camel_case;
use threadstore_api::{RolloutItem, StoredThread};

/// Codex's session settings of a thread (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSettings {
    /// The latest model, `""` when unknown.
    pub model: String,
    /// The model provider, `""` when unknown.
    pub model_provider: String,
    /// The working directory, `""` when unknown.
    pub cwd: String,
    /// The latest reasoning effort.
    pub reasoning_effort: Option<String>,
    /// Codex's `AskForApproval`.
    pub approval_policy: Value,
    /// Codex's `ApprovalsReviewer`.
    pub approvals_reviewer: Value,
    /// Codex's `SandboxPolicy`.
    pub sandbox: Value,
    /// Codex's `instructionSources`: none are known to a store.
    pub instruction_sources: Vec<String>,
    /// Codex's `serviceTier`: not recorded in rollouts.
    pub service_tier: Option<String>,
}

impl SessionSettings {
    /// The settings of `thread` whose latest `turn_context` line (if any) is `turn_context`.
    pub fn of(thread: &StoredThread, turn_context: Option<&RolloutItem>) -> Self {
        let context = turn_context.map(RolloutItem::payload_value);
        let field = |name: &str| context.as_ref().and_then(|c| c.get(name)).cloned();
        Self {
            model: thread.model.clone().unwrap_or_default(),
            model_provider: thread.model_provider.clone().unwrap_or_default(),
            cwd: thread
                .cwd
                .as_ref()
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default(),
            reasoning_effort: thread.reasoning_effort.clone(),
            approval_policy: approval_policy(field("approval_policy")),
            approvals_reviewer: match field("approvals_reviewer") {
                Some(Value::String(r))
                    if ["user", "auto_review", "guardian_subagent"].contains(&r.as_str()) =>
                {
                    Value::String(r)
                }
                _ => json!("user"),
            },
            sandbox: sandbox(field("sandbox_policy")),
            instruction_sources: Vec::new(),
            service_tier: None,
        }
    }
}

/// Codex's `AskForApproval` from a rollout's `approval_policy`.
fn approval_policy(recorded: Option<Value>) -> Value {
    match recorded {
        Some(Value::String(p)) if ["untrusted", "on-request", "never"].contains(&p.as_str()) => {
            Value::String(p)
        }
        // Codex retired `on-failure` for `on-request`.
        Some(Value::String(p)) if p == "on-failure" => json!("on-request"),
        Some(granular @ Value::Object(_)) if granular.get("granular").is_some() => granular,
        _ => json!("on-request"),
    }
}

/// Codex's `SandboxPolicy` from a rollout's `sandbox_policy` (`type` and field names in
/// camelCase).
fn sandbox(recorded: Option<Value>) -> Value {
    let Some(Value::Object(policy)) = recorded else {
        return json!({"type": "readOnly"});
    };
    let kind = policy
        .get("type")
        .and_then(Value::as_str)
        .map(|t| camel_case(&t.replace('-', "_")));
    match kind.as_deref() {
        Some("dangerFullAccess" | "readOnly" | "externalSandbox" | "workspaceWrite") => {
            let mut out = Map::new();
            for (k, v) in policy {
                out.insert(camel_case(&k), v);
            }
            out.insert("type".into(), json!(kind));
            Value::Object(out)
        }
        _ => json!({"type": "readOnly"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_settings_map_to_codexs_enums() {
        assert_eq!(approval_policy(Some(json!("never"))), json!("never"));
        assert_eq!(
            approval_policy(Some(json!("on-failure"))),
            json!("on-request")
        );
        assert_eq!(approval_policy(None), json!("on-request"));
        assert_eq!(
            sandbox(Some(json!({"type": "danger-full-access"}))),
            json!({"type": "dangerFullAccess"})
        );
        assert_eq!(
            sandbox(Some(
                json!({"type": "workspace-write", "writable_roots": ["/w"], "network_access": false})
            )),
            json!({"type": "workspaceWrite", "writableRoots": ["/w"], "networkAccess": false})
        );
        assert_eq!(
            sandbox(Some(json!({"type": "odd"}))),
            json!({"type": "readOnly"})
        );
    }
}

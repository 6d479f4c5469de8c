//! `threadstore show <thread>`: one thread's metadata, as a key/value table or (`--json`) the
//! camelCase thread object documented in `commands::common`. Archived threads are shown too.

use std::process::ExitCode;

use clap::Args;

use super::common::{self, Open};
use super::layout::Layout;

/// `show` options.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The thread id.
    pub thread: String,
    /// Print the thread object as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Shows one thread.
pub async fn run(
    target: &common::Target,
    args: ShowArgs,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let id = common::parse_thread_id(&args.thread)?;
    let t = common::with_target(target, Open::Existing, async |store| {
        common::read_thread(store, target, id).await
    })
    .await?;
    if args.json {
        common::print_json(&common::thread_json(&t))?;
        return Ok(ExitCode::SUCCESS);
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let id_opt =
        |v: &Option<threadstore::ThreadId>| v.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
    let mut rows = vec![
        ("id", t.thread_id.to_string()),
        ("name", opt(&t.name)),
        ("preview", t.preview.clone()),
        (
            "state",
            match (&t.archived_at, t.live) {
                (Some(at), _) => format!("archived at {} UTC", common::time(at)),
                (None, true) => "active, a writer is live".into(),
                (None, false) => "active".into(),
            },
        ),
        ("created", format!("{} UTC", common::time(&t.created_at))),
        ("updated", format!("{} UTC", common::time(&t.updated_at))),
        ("last turn", format!("{} UTC", common::time(&t.recency_at))),
        ("items", t.item_count.to_string()),
        ("turns", t.turn_count.to_string()),
        (
            "cwd",
            t.cwd
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        ("model provider", opt(&t.model_provider)),
        ("model", opt(&t.model)),
        ("reasoning effort", opt(&t.reasoning_effort)),
        ("source", opt(&t.source)),
        ("thread source", opt(&t.thread_source)),
        ("originator", opt(&t.originator)),
        ("cli version", opt(&t.cli_version)),
        ("session", id_opt(&t.session_id)),
        ("parent", id_opt(&t.parent_thread_id)),
        ("forked from", id_opt(&t.forked_from_id)),
    ];
    if t.agent_nickname.is_some() || t.agent_role.is_some() || t.agent_path.is_some() {
        rows.push(("agent nickname", opt(&t.agent_nickname)));
        rows.push(("agent role", opt(&t.agent_role)));
        rows.push(("agent path", opt(&t.agent_path)));
    }
    if let Some(g) = &t.git_info {
        rows.push((
            "git",
            format!(
                "{} {} {}",
                opt(&g.branch),
                opt(&g.commit_hash),
                opt(&g.repository_url)
            ),
        ));
    }
    if let Some(u) = &t.token_usage {
        rows.push((
            "tokens",
            format!(
                "{} total ({} input, {} cached, {} output, {} reasoning)",
                u.total_tokens,
                u.input_tokens,
                u.cached_input_tokens,
                u.output_tokens,
                u.reasoning_output_tokens
            ),
        ));
    }
    rows.push((
        "rollout path",
        t.rollout_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into()),
    ));
    common::print_key_values(rows, &layout)?;
    Ok(ExitCode::SUCCESS)
}

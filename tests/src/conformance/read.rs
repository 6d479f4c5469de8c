//! load_history, read_thread and read_thread_by_rollout_path; metadata derived from the log.

use super::prelude::*;

fn read_params(id: ThreadId, include_history: bool) -> ReadThreadParams {
    ReadThreadParams {
        thread_id: id,
        include_archived: false,
        include_history,
    }
}

/// load_history of an unknown thread is `ThreadNotFound`.
pub async fn load_history_unknown_is_not_found(b: Backend) {
    let t = b.open().await;
    for include_archived in [false, true] {
        assert_err!(
            t.store
                .load_history(LoadThreadHistoryParams {
                    thread_id: ThreadId::new(),
                    include_archived
                })
                .await,
            ThreadStoreError::ThreadNotFound { .. }
        );
    }
}

/// Items come back in order, the index is the position, the id is the thread's.
pub async fn load_history_in_order(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let mut all = Vec::new();
    for k in 0..4 {
        let items = turn(&format!("t{k}"), &format!("q{k}"), &format!("a{k}"));
        t.append(id, items.clone()).await;
        all.extend(items);
    }
    let h = t
        .store
        .load_history(LoadThreadHistoryParams {
            thread_id: id,
            include_archived: false,
        })
        .await
        .unwrap();
    assert_eq!(h.thread_id, id);
    assert_eq!(h.items.len(), 17);
    assert_eq!(h.items[0].item.kind(), "session_meta");
    assert_eq!(items_of(&h.items[1..]), all);
    // Index == position: list_items agrees with the history line by line.
    let page = t
        .items(ListItemsParams {
            page_size: 200,
            ..ListItemsParams::new(id)
        })
        .await;
    assert_eq!(positions(&page.items), (0..17).collect::<Vec<u64>>());
    for it in &page.items {
        assert_eq!(it.line, h.items[it.position as usize]);
    }
}

/// read_thread of an unknown thread is `ThreadNotFound`.
pub async fn read_thread_unknown_is_not_found(b: Backend) {
    let t = b.open().await;
    let id = ThreadId::new();
    let e = assert_err!(
        t.store.read_thread(read_params(id, true)).await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    assert_eq!(e, ThreadStoreError::ThreadNotFound { thread_id: id });
}

/// History is attached only when asked for, and equals load_history.
pub async fn read_thread_history_only_when_asked(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("t1", "q", "a")).await;
    let without = t.store.read_thread(read_params(id, false)).await.unwrap();
    assert!(without.history.is_none());
    let with = t.store.read_thread(read_params(id, true)).await.unwrap();
    let h = with.history.as_ref().expect("history requested");
    assert_eq!(h.thread_id, id);
    assert_eq!(h.items, t.history(id).await);
    assert_eq!(h.items.len(), 5);
    // Apart from the history, the two reads agree.
    assert_eq!(
        StoredThread {
            history: None,
            ..with
        },
        without
    );
}

/// Metadata given at create comes back from read_thread.
pub async fn metadata_from_create_params(b: Backend) {
    let t = b.open().await;
    let parent = t.create().await.thread_id;
    let origin = t.create().await.thread_id;
    let session = ThreadId::new();
    let params = CreateThreadParams {
        session_id: Some(session),
        source: Some("vscode".into()),
        thread_source: Some("subagent".into()),
        cwd: Some(PathBuf::from("/repo/x")),
        model_provider: Some("azure".into()),
        originator: Some("codex_vscode".into()),
        cli_version: Some("0.131.0".into()),
        parent_thread_id: Some(parent),
        forked_from_id: Some(origin),
        agent_nickname: Some("scout".into()),
        agent_role: Some("explorer".into()),
        agent_path: Some("root/scout".into()),
        git_info: Some(git("abc123", "main", "https://example.com/r.git")),
        ..create_params()
    };
    let id = t.create_with(params).await.thread_id;
    let th = t.read(id).await;
    assert_eq!(th.thread_id, id);
    assert_eq!(th.cwd, Some(PathBuf::from("/repo/x")));
    assert_eq!(th.model_provider.as_deref(), Some("azure"));
    assert_eq!(th.source.as_deref(), Some("vscode"));
    assert_eq!(th.thread_source.as_deref(), Some("subagent"));
    assert_eq!(th.originator.as_deref(), Some("codex_vscode"));
    assert_eq!(th.cli_version.as_deref(), Some("0.131.0"));
    assert_eq!(th.parent_thread_id, Some(parent));
    assert_eq!(th.forked_from_id, Some(origin));
    assert_eq!(th.agent_nickname.as_deref(), Some("scout"));
    assert_eq!(th.agent_role.as_deref(), Some("explorer"));
    assert_eq!(th.agent_path.as_deref(), Some("root/scout"));
    assert_eq!(
        th.git_info,
        Some(git("abc123", "main", "https://example.com/r.git"))
    );
    assert_eq!(th.session_id, Some(session));
    // Nothing else yet.
    assert_eq!(th.name, None);
    assert_eq!(th.preview, "");
    assert_eq!(th.first_user_message, None);
    assert_eq!(th.model, None);
    assert_eq!(th.reasoning_effort, None);
    assert_eq!(th.token_usage, None);
    assert_eq!(th.archived_at, None);
    assert_eq!(th.item_count, 1);
    assert_eq!(th.turn_count, 0);
    assert!(th.live);
    assert!(th.updated_at >= th.created_at);
    // The generated header records the same facts.
    let meta = t.history(id).await[0].item.payload_value();
    assert_eq!(meta["cwd"], json!("/repo/x"));
    assert_eq!(meta["model_provider"], json!("azure"));
    assert_eq!(meta["parent_thread_id"], json!(parent.to_string()));
}

/// With a Codex header as history, created_at and the rest come from the header.
pub async fn metadata_from_history_header(b: Backend) {
    let t = b.open().await;
    let spec = Spec::at(3600)
        .cwd("/from/meta")
        .provider("oss")
        .source("exec");
    let mut params = spec.params();
    // Only the header carries the metadata.
    params.cwd = None;
    params.model_provider = None;
    params.source = None;
    params.cli_version = None;
    params.originator = None;
    let id = t.create_with(params).await.thread_id;
    let th = t.read(id).await;
    assert_eq!(th.created_at, at(3600));
    assert_eq!(th.updated_at, at(3600));
    assert_eq!(th.recency_at, at(3600));
    assert_eq!(th.cwd, Some(PathBuf::from("/from/meta")));
    assert_eq!(th.model_provider.as_deref(), Some("oss"));
    assert_eq!(th.source.as_deref(), Some("exec"));
    assert_eq!(th.cli_version.as_deref(), Some("0.130.0"));
    assert_eq!(th.originator.as_deref(), Some("codex_cli_rs"));
    assert_eq!(th.preview, "");
    assert_eq!(th.item_count, 1);
}

/// The first `user_message` sets preview and first_user_message, once.
pub async fn preview_from_first_user_message(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::agent_message("agent speaks first")])
        .await;
    assert_eq!(t.read(id).await.preview, "");
    t.append(
        id,
        vec![
            RolloutItem::user_message("Hello from user"),
            RolloutItem::agent_message("hi"),
            RolloutItem::user_message("second question"),
        ],
    )
    .await;
    let th = t.read(id).await;
    assert_eq!(th.preview, "Hello from user");
    assert_eq!(th.first_user_message.as_deref(), Some("Hello from user"));
    assert_eq!(th.name, None);
}

/// updated_at is the latest item's timestamp.
pub async fn updated_at_is_latest_item_timestamp(b: Backend) {
    let t = b.open().await;
    let id = t.create_spec(&Spec::at(0)).await;
    assert_eq!(t.read(id).await.updated_at, at(0));
    t.append_at(id, vec![RolloutItem::user_message("q")], at(100))
        .await;
    assert_eq!(t.read(id).await.updated_at, at(100));
    t.append_with(AppendThreadItemsParams {
        timestamps: vec![at(150), at(200)],
        ordinals: Vec::new(),
        ..AppendThreadItemsParams::new(
            id,
            vec![
                RolloutItem::agent_message("a"),
                RolloutItem::agent_message("b"),
            ],
        )
    })
    .await;
    let th = t.read(id).await;
    assert_eq!(th.updated_at, at(200));
    assert_eq!(th.created_at, at(0));
}

/// recency_at advances on task_started only; agent output moves updated_at but not recency_at.
pub async fn recency_at_moves_on_task_started_only(b: Backend) {
    let t = b.open().await;
    let id = t.create_spec(&Spec::at(0)).await;
    assert_eq!(t.read(id).await.recency_at, at(0));
    t.append_at(id, vec![RolloutItem::task_started("t1")], at(50))
        .await;
    let th = t.read(id).await;
    assert_eq!(th.recency_at, at(50));
    assert_eq!(th.updated_at, at(50));
    t.append_at(
        id,
        vec![
            RolloutItem::user_message("q"),
            RolloutItem::agent_message("tool output and answer"),
            RolloutItem::task_complete("t1", Some("answer")),
        ],
        at(60),
    )
    .await;
    let th = t.read(id).await;
    assert_eq!(th.recency_at, at(50));
    assert_eq!(th.updated_at, at(60));
    t.append_at(id, vec![RolloutItem::task_started("t2")], at(70))
        .await;
    assert_eq!(t.read(id).await.recency_at, at(70));
}

/// model and reasoning_effort follow the latest turn_context.
pub async fn model_and_effort_from_turn_context(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(
        id,
        vec![
            RolloutItem::task_started("t1"),
            turn_context("t1", "gpt-5", "high"),
        ],
    )
    .await;
    let th = t.read(id).await;
    assert_eq!(th.model.as_deref(), Some("gpt-5"));
    assert_eq!(th.reasoning_effort.as_deref(), Some("high"));
    t.append(
        id,
        vec![
            RolloutItem::task_complete("t1", None),
            RolloutItem::task_started("t2"),
            turn_context("t2", "gpt-5.1-codex", "low"),
        ],
    )
    .await;
    let th = t.read(id).await;
    assert_eq!(th.model.as_deref(), Some("gpt-5.1-codex"));
    assert_eq!(th.reasoning_effort.as_deref(), Some("low"));
}

/// token_usage is the latest token_count's total usage.
pub async fn token_usage_from_token_count(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![token_count(10, 2, 5, 1, 15)]).await;
    t.append(
        id,
        vec![
            RolloutItem::event_msg(
                json!({"type": "token_count", "info": null, "rate_limits": null}),
            ),
            token_count(100, 20, 50, 10, 150),
        ],
    )
    .await;
    assert_eq!(
        t.read(id).await.token_usage,
        Some(TokenUsage {
            input_tokens: 100,
            cached_input_tokens: 20,
            output_tokens: 50,
            reasoning_output_tokens: 10,
            total_tokens: 150,
        })
    );
}

/// item_count is the log length; turn_count the visible turns.
pub async fn item_and_turn_counts(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("t1", "q1", "a1")).await;
    t.append(id, turn("t2", "q2", "a2")).await;
    t.append(id, vec![RolloutItem::task_started("t3")]).await;
    let th = t.read(id).await;
    assert_eq!(th.item_count, 10);
    assert_eq!(th.turn_count, 3);
    assert_eq!(th.item_count as usize, t.history(id).await.len());
}

/// A thread created with a rollout path is found by it, with history when asked.
pub async fn read_by_rollout_path(b: Backend) {
    let t = b.open().await;
    let path = PathBuf::from(format!(
        "/home/u/.codex/sessions/2025/01/01/rollout-2025-01-01T00-00-00-{}.jsonl",
        ThreadId::new()
    ));
    let id = t
        .create_with(CreateThreadParams {
            rollout_path: Some(path.clone()),
            ..create_params()
        })
        .await
        .thread_id;
    let _other = t.create().await.thread_id;
    t.append(id, turn("t1", "Hello from user", "hi")).await;
    let th = t
        .store
        .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
            rollout_path: path.clone(),
            include_archived: false,
            include_history: true,
        })
        .await
        .unwrap();
    assert_eq!(th.thread_id, id);
    assert_eq!(th.rollout_path, Some(path.clone()));
    assert_eq!(th.preview, "Hello from user");
    assert_eq!(th.history.expect("history").items, t.history(id).await);
    let th = t
        .store
        .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
            rollout_path: path,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(th.thread_id, id);
    assert!(th.history.is_none());
}

/// An unknown rollout path is `InvalidRequest`.
pub async fn read_by_unknown_rollout_path_is_invalid(b: Backend) {
    let t = b.open().await;
    t.create_with(CreateThreadParams {
        rollout_path: Some(PathBuf::from("/known/rollout.jsonl")),
        ..create_params()
    })
    .await;
    assert_invalid!(
        t.store
            .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
                rollout_path: PathBuf::from("/unknown/rollout.jsonl"),
                include_archived: true,
                include_history: false,
            })
            .await
    );
}

/// `load_latest_model_context`: the history from the last `compacted` line on; the whole history
/// without one; a reverted compaction no longer counts.
pub async fn latest_model_context_starts_at_the_last_compaction(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let context = |t: &TestStore| {
        let store = t.store.clone();
        async move {
            store
                .load_latest_model_context(LoadThreadHistoryParams::new(id))
                .await
                .unwrap()
        }
    };
    // Header (0) and t1 (1..=4): no compaction yet.
    t.append(id, turn("t1", "q1", "a1")).await;
    let c = context(&t).await;
    assert_eq!((c.from_position, c.items.len()), (0, 5));
    let compacted = |n: &str| {
        RolloutItem::new(
            "compacted",
            &json!({"message": format!("summary {n}"), "replacement_history": []}),
        )
    };
    // t2 (5..=9) with a compaction at 7, then t3 (10..=14) with one at 12.
    let mut t2 = turn("t2", "q2", "a2");
    t2.insert(2, compacted("one"));
    t.append(id, t2).await;
    let mut t3 = turn("t3", "q3", "a3");
    t3.insert(2, compacted("two"));
    t.append(id, t3).await;
    let c = context(&t).await;
    assert_eq!(c.from_position, 12);
    assert_eq!(c.items.len(), 3);
    assert_eq!(c.items[0].item.kind(), "compacted");
    assert_eq!(c.items[0].item.payload_value()["message"], "summary two");
    // Reverting t3 hides its compaction: the one of t2 is the latest again, and the suffix runs
    // to the revert's own line.
    t.store
        .revert_thread(RevertThreadParams::new(id, "t3"))
        .await
        .unwrap();
    let c = context(&t).await;
    assert_eq!(c.from_position, 7);
    assert_eq!(c.items[0].item.payload_value()["message"], "summary one");
    assert_eq!(c.items.len(), 3 + 1);
}

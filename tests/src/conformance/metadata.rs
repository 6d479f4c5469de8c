//! update_thread_metadata: presence semantics, logged patches, archived handling.

use super::prelude::*;

fn name(n: &str) -> ThreadMetadataPatch {
    ThreadMetadataPatch {
        name: Some(Some(n.into())),
        ..Default::default()
    }
}

/// The last line of the history, with its payload type.
async fn last_event(t: &TestStore, id: ThreadId) -> (String, serde_json::Value) {
    let h = t.history(id).await;
    let last = h.last().unwrap();
    (last.item.kind().to_owned(), last.item.payload_value())
}

/// Patching an unknown thread is `ThreadNotFound`.
pub async fn unknown_thread_is_not_found(b: Backend) {
    let t = b.open().await;
    assert_err!(
        t.store
            .update_thread_metadata(UpdateThreadMetadataParams {
                thread_id: ThreadId::new(),
                patch: name("x"),
                include_archived: true,
                at: None,
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
}

/// A name-only patch returns the updated thread and is logged as `thread_name_updated`.
pub async fn name_patch_is_logged_as_thread_name_updated(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, turn("t1", "q", "a")).await;
    let before = t.read(id).await;
    let th = t.patch(id, name("My title")).await;
    assert_eq!(th.thread_id, id);
    assert_eq!(th.name.as_deref(), Some("My title"));
    assert_eq!(th.item_count, before.item_count + 1);
    assert_eq!(t.read(id).await.name.as_deref(), Some("My title"));
    let (kind, payload) = last_event(&t, id).await;
    assert_eq!(kind, "event_msg");
    assert_eq!(payload["type"], json!("thread_name_updated"));
    assert_eq!(t.history(id).await.len() as u64, before.item_count + 1);
    // The patch is not a turn.
    assert_eq!(t.turn_ids(id).await, vec!["t1".to_string()]);
}

/// Any other patch is logged as `thread_metadata_updated`.
pub async fn other_patch_is_logged_as_thread_metadata_updated(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                model: Some("gpt-5".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.model.as_deref(), Some("gpt-5"));
    assert_eq!(th.item_count, 2);
    let (kind, payload) = last_event(&t, id).await;
    assert_eq!(kind, "event_msg");
    assert_eq!(payload["type"], json!("thread_metadata_updated"));
    // Name plus something else is a general metadata update too.
    t.patch(
        id,
        ThreadMetadataPatch {
            name: Some(Some("n".into())),
            reasoning_effort: Some("high".into()),
            ..Default::default()
        },
    )
    .await;
    let (_, payload) = last_event(&t, id).await;
    assert_eq!(payload["type"], json!("thread_metadata_updated"));
    let th = t.read(id).await;
    assert_eq!(th.name.as_deref(), Some("n"));
    assert_eq!(th.reasoning_effort.as_deref(), Some("high"));
    assert_eq!(th.item_count, 3);
}

/// Omitted fields stay as they were.
pub async fn omitted_fields_are_unchanged(b: Backend) {
    let t = b.open().await;
    let id = t
        .create_with(CreateThreadParams {
            agent_nickname: Some("nick".into()),
            git_info: Some(git("a", "main", "u")),
            ..create_params()
        })
        .await
        .thread_id;
    t.append(id, vec![RolloutItem::user_message("first words")])
        .await;
    t.patch(id, name("kept")).await;
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                model: Some("m".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.name.as_deref(), Some("kept"));
    assert_eq!(th.agent_nickname.as_deref(), Some("nick"));
    assert_eq!(th.git_info, Some(git("a", "main", "u")));
    assert_eq!(th.preview, "first words");
    assert_eq!(th.cwd, Some(PathBuf::from(CWD)));
    assert_eq!(th.model_provider.as_deref(), Some(PROVIDER));
    assert_eq!(th.source.as_deref(), Some(SOURCE));
    assert_eq!(th.thread_source.as_deref(), Some("user"));
    // An empty patch changes nothing visible.
    let th2 = t.patch(id, ThreadMetadataPatch::default()).await;
    assert_eq!(th2.name, th.name);
    assert_eq!(th2.model, th.model);
    assert_eq!(th2.git_info, th.git_info);
}

/// `Some(None)` clears name, thread_source and the agent fields.
pub async fn clearable_fields_are_cleared(b: Backend) {
    let t = b.open().await;
    let id = t
        .create_with(CreateThreadParams {
            thread_source: Some("subagent".into()),
            agent_nickname: Some("nick".into()),
            agent_role: Some("role".into()),
            agent_path: Some("a/b".into()),
            ..create_params()
        })
        .await
        .thread_id;
    t.patch(id, name("title")).await;
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                name: Some(None),
                thread_source: Some(None),
                agent_nickname: Some(None),
                agent_role: Some(None),
                agent_path: Some(None),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.name, None);
    assert_eq!(th.thread_source, None);
    assert_eq!(th.agent_nickname, None);
    assert_eq!(th.agent_role, None);
    assert_eq!(th.agent_path, None);
    let th = t.read(id).await;
    assert_eq!(
        (
            th.name,
            th.thread_source,
            th.agent_nickname,
            th.agent_role,
            th.agent_path
        ),
        (None, None, None, None, None)
    );
    // And they can be set again.
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                agent_role: Some(Some("new role".into())),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.agent_role.as_deref(), Some("new role"));
    assert_eq!(th.agent_nickname, None);
}

/// Git info patches merge field by field; `null` clears one field.
pub async fn git_info_is_merged_field_by_field(b: Backend) {
    let t = b.open().await;
    let id = t
        .create_with(CreateThreadParams {
            git_info: Some(git("aaa", "main", "https://x/r.git")),
            ..create_params()
        })
        .await
        .thread_id;
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                git_info: Some(GitInfoPatch {
                    sha: Some(Some("bbb".into())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.git_info, Some(git("bbb", "main", "https://x/r.git")));
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                git_info: Some(GitInfoPatch {
                    branch: Some(None),
                    origin_url: Some(Some("https://y/r.git".into())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        th.git_info,
        Some(GitInfo {
            commit_hash: Some("bbb".into()),
            branch: None,
            repository_url: Some("https://y/r.git".into()),
        })
    );
    // A thread without git info gets one from a patch.
    let other = t.create().await.thread_id;
    let th = t
        .patch(
            other,
            ThreadMetadataPatch {
                git_info: Some(GitInfoPatch {
                    branch: Some(Some("dev".into())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.git_info.map(|g| g.branch), Some(Some("dev".to_string())));
}

/// Plain (non-clearable) fields are set by a patch.
pub async fn plain_fields_are_set(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("original")])
        .await;
    let th = t
        .patch(
            id,
            ThreadMetadataPatch {
                preview: Some("patched preview".into()),
                model_provider: Some("azure".into()),
                model: Some("gpt-x".into()),
                reasoning_effort: Some("minimal".into()),
                cwd: Some(PathBuf::from("/elsewhere")),
                cli_version: Some("9.9.9".into()),
                source: Some("exec".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(th.preview, "patched preview");
    assert_eq!(th.model_provider.as_deref(), Some("azure"));
    assert_eq!(th.model.as_deref(), Some("gpt-x"));
    assert_eq!(th.reasoning_effort.as_deref(), Some("minimal"));
    assert_eq!(th.cwd, Some(PathBuf::from("/elsewhere")));
    assert_eq!(th.cli_version.as_deref(), Some("9.9.9"));
    assert_eq!(th.source.as_deref(), Some("exec"));
    assert_eq!(
        t.read(id).await,
        StoredThread {
            live: th.live,
            ..th
        }
    );
}

/// An archived thread needs `include_archived` to be patched.
pub async fn archived_thread_needs_include_archived(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.archive(id).await;
    let count = t.read(id).await.item_count;
    assert_err!(
        t.store
            .update_thread_metadata(UpdateThreadMetadataParams {
                thread_id: id,
                patch: name("x"),
                include_archived: false,
                at: None,
            })
            .await,
        ThreadStoreError::Archived { .. }
    );
    assert_eq!(t.read(id).await.item_count, count);
    let th = t
        .store
        .update_thread_metadata(UpdateThreadMetadataParams {
            thread_id: id,
            patch: name("x"),
            include_archived: true,
            at: None,
        })
        .await
        .unwrap();
    assert_eq!(th.name.as_deref(), Some("x"));
    assert!(th.archived_at.is_some());
}

/// Patching works on a thread without a live writer, and a later resume appends after the patch.
pub async fn works_without_live_writer(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.shutdown(id).await;
    let th = t.patch(id, name("offline")).await;
    assert_eq!(th.name.as_deref(), Some("offline"));
    assert_eq!(th.item_count, 2);
    assert!(!th.live);
    let w = t.resume(id).await;
    assert_eq!(w.next_position, 2);
}

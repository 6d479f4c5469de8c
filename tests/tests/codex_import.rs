//! Codex rollout import into a real store (`threadstore::codex::import_rollout` and the Codex
//! home discovery of `threadstore::codex::home`).
//!
//! Covers: every fixture in `shared/fixtures/codex` imports with its own id, every line and its
//! original timestamp; re-import writes nothing; an interrupted import is finished by a re-run,
//! and a thread with the same id but other contents is a conflict; chunked appends; the rollout path is recorded;
//! a live writer is a `Conflict`, not "already imported"; files without a header; archiving; the
//! turns the store derives from generated rollouts of each era; and a generated Codex home
//! (`sessions/`, `archived_sessions/`, `.jsonl.zst`, torn and bad lines, `session_index.jsonl`).

use std::io::Write as _;
use std::path::PathBuf;

use threadstore::codex::{
    discover, generate_rollout, import_file, import_rollout, import_source, parse_rollout,
    read_rollout, read_session_index, GenSpec, ImportOptions, RolloutEra,
};
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, InMemoryThreadStore, ListTurnsParams,
    LoadThreadHistoryParams, ReadThreadByRolloutPathParams, ReadThreadParams, SledThreadStore,
    StoredTurnItemsView, StoredTurnStatus, ThreadId, ThreadStore, ThreadStoreError,
};
use threadstore_tests::fixtures::{fixture_files, CODEX};

/// The rollouts of `../shared/fixtures/codex`; `None` (skip) when missing outside CI, a failure
/// in CI (see `threadstore_tests::fixtures`).
fn fixtures() -> Option<Vec<PathBuf>> {
    fixture_files(CODEX, "jsonl")
}

async fn history(store: &dyn ThreadStore, thread_id: ThreadId) -> Vec<threadstore::RolloutLine> {
    store
        .load_history(LoadThreadHistoryParams {
            thread_id,
            include_archived: true,
        })
        .await
        .unwrap()
        .items
}

async fn read(store: &dyn ThreadStore, thread_id: ThreadId) -> threadstore::StoredThread {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .unwrap()
}

/// Same items (kind and payload text) and timestamps, in order.
fn assert_same_lines(stored: &[threadstore::RolloutLine], parsed: &[threadstore::RolloutLine]) {
    assert_eq!(stored.len(), parsed.len());
    for (i, (s, p)) in stored.iter().zip(parsed).enumerate() {
        assert_eq!(s.item, p.item, "item {i}");
        assert_eq!(s.timestamp, p.timestamp, "timestamp of item {i}");
        assert_eq!(s.ordinal, p.ordinal, "ordinal of item {i}");
    }
}

/// Newer Codex numbers its lines (`"ordinal"`): every line keeps its ordinal, also the lines
/// appended after the create call's first chunk.
#[tokio::test]
async fn ordinals_survive_chunked_import() {
    let spec = GenSpec {
        turns: 5,
        ..GenSpec::default()
    };
    let numbered: String = generate_rollout(RolloutEra::E3TurnIds, &spec)
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["ordinal"] = serde_json::json!(1000 + i);
            format!("{v}\n")
        })
        .collect();
    let parsed = parse_rollout(numbered, "numbered.jsonl");
    assert!(parsed.lines.len() > 14, "needs several chunks");
    assert!(parsed.lines.iter().all(|l| l.ordinal.is_some()));
    let store = InMemoryThreadStore::default();
    let opts = ImportOptions {
        chunk_size: 7,
        ..ImportOptions::default()
    };
    import_rollout(&store, &parsed, &opts).await.unwrap();
    assert_same_lines(&history(&store, spec.thread_id).await, &parsed.lines);
}

/// A file whose ordinals go backwards or repeat (Codex's "expected ordinal N, got N-1") is
/// refused with the line that breaks the order, and nothing is imported; the reader reports
/// every such line.
#[tokio::test]
async fn a_rollout_whose_ordinals_go_backwards_is_refused_with_its_line() {
    let spec = GenSpec {
        turns: 2,
        ..GenSpec::default()
    };
    let lines: Vec<String> = generate_rollout(RolloutEra::E3TurnIds, &spec)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.len() > 6);
    // Ordinals 0, 1, 2, 3, 3, 4, …: line 5 repeats ordinal 3.
    let numbered: String = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["ordinal"] = serde_json::json!(if i < 4 { i } else { i - 1 });
            format!("{v}\n")
        })
        .collect();
    let parsed = parse_rollout(numbered, "repeated.jsonl");
    assert_eq!(parsed.lines.len(), lines.len(), "every line is still read");
    assert_eq!(
        parsed.ordinal_errors,
        [threadstore::codex::OrdinalError {
            line_number: 5,
            ordinal: 3,
            previous: 3
        }]
    );
    let store = InMemoryThreadStore::default();
    let err = import_rollout(&store, &parsed, &ImportOptions::default())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, ThreadStoreError::InvalidRequest { .. })
            && message.contains("repeated.jsonl: line 5 has ordinal 3"),
        "{message}"
    );
    assert!(matches!(
        store
            .read_thread(ReadThreadParams::new(spec.thread_id))
            .await,
        Err(ThreadStoreError::ThreadNotFound { .. })
    ));

    // Streamed from a file in chunks of 2 lines, the bad line comes after the thread was
    // created with the first chunks: the import removes what it wrote, so nothing is imported.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeated.jsonl");
    std::fs::write(&path, parse_rollout_text(&parsed)).unwrap();
    let opts = ImportOptions {
        chunk_size: 2,
        ..ImportOptions::default()
    };
    let err = import_file(&store, &path, &opts).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("repeated.jsonl: line 5 has ordinal 3")
            && message.contains("nothing was imported"),
        "{message}"
    );
    assert!(matches!(
        store
            .read_thread(ReadThreadParams {
                include_archived: true,
                ..ReadThreadParams::new(spec.thread_id)
            })
            .await,
        Err(ThreadStoreError::ThreadNotFound { .. })
    ));
}

/// The file text of parsed lines.
fn parse_rollout_text(parsed: &threadstore::codex::ParsedRollout) -> String {
    parsed
        .lines
        .iter()
        .map(|l| format!("{}\n", l.to_json_line()))
        .collect()
}

#[tokio::test]
async fn every_fixture_imports_with_its_id_lines_and_timestamps() {
    let Some(files) = fixtures() else { return };
    let store = InMemoryThreadStore::default();
    for file in files {
        let parsed = read_rollout(&file).unwrap();
        let report = import_rollout(&store, &parsed, &ImportOptions::default())
            .await
            .unwrap();
        let name = file.display();
        assert_eq!(Some(report.thread_id), parsed.thread_id, "{name}");
        assert!(!report.already_imported, "{name}");
        assert_eq!(report.items, parsed.lines.len() as u64, "{name}");
        assert!(report.skipped.is_empty(), "{name}");
        assert_eq!(report.era, parsed.era, "{name}");

        assert_same_lines(&history(&store, report.thread_id).await, &parsed.lines);
        let thread = read(&store, report.thread_id).await;
        assert!(!thread.live, "{name}: the import shuts the writer down");
        assert_eq!(
            thread.rollout_path.as_deref(),
            Some(file.as_path()),
            "{name}"
        );
        assert_eq!(thread.item_count, parsed.lines.len() as u64, "{name}");
        let by_path = store
            .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
                rollout_path: file.clone(),
                include_archived: true,
                include_history: false,
            })
            .await
            .unwrap();
        assert_eq!(by_path.thread_id, report.thread_id, "{name}");
    }
}

#[tokio::test]
async fn reimport_is_reported_and_writes_nothing() {
    let spec = GenSpec {
        turns: 4,
        ..GenSpec::default()
    };
    let parsed = parse_rollout(generate_rollout(RolloutEra::E3TurnIds, &spec), "gen.jsonl");
    let store = InMemoryThreadStore::default();
    let opts = ImportOptions::default();
    let first = import_rollout(&store, &parsed, &opts).await.unwrap();
    let again = import_rollout(&store, &parsed, &opts).await.unwrap();
    assert!(!first.already_imported);
    assert!(again.already_imported);
    assert_eq!(again.items, 0);
    assert_eq!(again.thread_id, spec.thread_id);
    assert_eq!(read(&store, spec.thread_id).await.item_count, first.items);
}

/// An import cut short (the process died after the create call and one append) leaves the thread
/// with only the first lines of the file. Re-running the import appends the missing lines and
/// says it finished the import; a third run finds everything and writes nothing.
#[tokio::test]
async fn interrupted_import_is_finished_on_rerun() {
    let spec = GenSpec {
        turns: 6,
        aborted_turns: vec![2],
        compaction: true,
        ..GenSpec::default()
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!(
        "rollout-2026-01-01T00-00-00-{}.jsonl",
        spec.thread_id
    ));
    std::fs::write(&path, generate_rollout(RolloutEra::E3TurnIds, &spec)).unwrap();
    let parsed = read_rollout(&path).unwrap();
    let total = parsed.lines.len();
    assert!(total > 20, "needs several chunks: {total} lines");
    let data = tmp.path().join("db");

    // The first run: the create call with the first chunk, one append, then the process dies
    // (the store is closed without the importer's shutdown; leases do not survive a restart).
    let (first, second) = (7, 5);
    {
        let store = SledThreadStore::open(&data).await.unwrap();
        let writer = store
            .create_thread(CreateThreadParams {
                thread_id: Some(spec.thread_id),
                rollout_path: Some(path.clone()),
                history: parsed.lines[..first].to_vec(),
                ..Default::default()
            })
            .await
            .unwrap();
        let chunk = &parsed.lines[first..first + second];
        let mut append = AppendThreadItemsParams::new(
            spec.thread_id,
            chunk.iter().map(|l| l.item.clone()).collect(),
        );
        append.timestamps = chunk.iter().map(|l| l.timestamp).collect();
        append.ordinals = chunk.iter().map(|l| l.ordinal).collect();
        append.writer_epoch = Some(writer.epoch);
        store.append_items(append).await.unwrap();
        store.close().await.unwrap();
    }

    let store = SledThreadStore::open(&data).await.unwrap();
    assert_eq!(
        read(&store, spec.thread_id).await.item_count,
        (first + second) as u64
    );
    let opts = ImportOptions {
        chunk_size: 7,
        ..ImportOptions::default()
    };
    let rerun = import_file(&store, &path, &opts).await.unwrap();
    assert_eq!(rerun.thread_id, spec.thread_id);
    assert!(rerun.finished, "{rerun:?}");
    assert!(!rerun.already_imported, "{rerun:?}");
    assert_eq!(rerun.items, (total - first - second) as u64);
    assert_same_lines(&history(&store, spec.thread_id).await, &parsed.lines);
    let thread = read(&store, spec.thread_id).await;
    assert!(!thread.live, "the finishing run shuts the writer down");
    assert_eq!(thread.item_count, total as u64);
    assert_eq!(thread.turn_count, spec.turns as u64);
    let verified = store.actor_store().verify().await.unwrap();
    assert!(
        verified.differences.is_empty(),
        "{:?}",
        verified.differences
    );

    // A third run: everything is there, nothing is written.
    let third = import_file(&store, &path, &opts).await.unwrap();
    assert!(third.already_imported, "{third:?}");
    assert!(!third.finished, "{third:?}");
    assert_eq!(third.items, 0);
    assert_eq!(read(&store, spec.thread_id).await.item_count, total as u64);
    store.close().await.unwrap();
}

/// A failed append leaves a prefix and a discarded writer; an import of an archived file stopped
/// right before its archive call leaves every line unarchived: a re-run finishes both.
#[tokio::test]
async fn a_rerun_finishes_after_a_failed_append_and_a_missing_archive() {
    let spec = GenSpec {
        turns: 4,
        ..GenSpec::default()
    };
    let parsed = parse_rollout(
        generate_rollout(RolloutEra::E2OldEnvelope, &spec),
        "gen.jsonl",
    );
    let store = InMemoryThreadStore::default();
    store
        .create_thread(CreateThreadParams {
            thread_id: Some(spec.thread_id),
            history: parsed.lines[..3].to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
    store.discard_thread(spec.thread_id).await.unwrap();
    let opts = ImportOptions {
        chunk_size: 4,
        ..ImportOptions::default()
    };
    let report = import_rollout(&store, &parsed, &opts).await.unwrap();
    assert!(report.finished && !report.already_imported, "{report:?}");
    assert_eq!(report.items, parsed.lines.len() as u64 - 3);
    assert_same_lines(&history(&store, spec.thread_id).await, &parsed.lines);

    let archive = ImportOptions {
        archive: true,
        ..opts
    };
    let report = import_rollout(&store, &parsed, &archive).await.unwrap();
    assert!(report.finished && report.items == 0, "{report:?}");
    assert!(read(&store, spec.thread_id).await.archived_at.is_some());
    let again = import_rollout(&store, &parsed, &archive).await.unwrap();
    assert!(again.already_imported && !again.finished, "{again:?}");
}

/// A thread with the file's id but other contents (here its own header) is neither skipped nor
/// appended to: the import is a `Conflict` and writes nothing.
#[tokio::test]
async fn a_different_thread_with_the_same_id_is_a_conflict() {
    let spec = GenSpec::default();
    let parsed = parse_rollout(generate_rollout(RolloutEra::E3TurnIds, &spec), "gen.jsonl");
    let store = InMemoryThreadStore::default();
    store
        .create_thread(CreateThreadParams {
            thread_id: Some(spec.thread_id),
            ..Default::default()
        })
        .await
        .unwrap();
    store.shutdown_thread(spec.thread_id).await.unwrap();
    let before = history(&store, spec.thread_id).await;
    let err = import_rollout(&store, &parsed, &ImportOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ThreadStoreError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains("other contents"), "{err}");
    assert_eq!(history(&store, spec.thread_id).await, before);
    assert!(!read(&store, spec.thread_id).await.live);
}

#[tokio::test]
async fn small_chunks_append_everything_in_order() {
    let spec = GenSpec {
        turns: 6,
        aborted_turns: vec![2],
        compaction: true,
        ..GenSpec::default()
    };
    for era in [
        RolloutEra::E0Legacy,
        RolloutEra::E2OldEnvelope,
        RolloutEra::E3TurnIds,
    ] {
        let parsed = parse_rollout(generate_rollout(era, &spec), "gen.jsonl");
        let store = InMemoryThreadStore::default();
        let opts = ImportOptions {
            chunk_size: 7,
            ..ImportOptions::default()
        };
        let report = import_rollout(&store, &parsed, &opts).await.unwrap();
        assert_eq!(report.items, parsed.lines.len() as u64, "{era:?}");
        assert_same_lines(&history(&store, spec.thread_id).await, &parsed.lines);
    }
}

#[tokio::test]
async fn a_live_writer_is_a_conflict_not_an_import() {
    let spec = GenSpec::default();
    let parsed = parse_rollout(
        generate_rollout(RolloutEra::E2OldEnvelope, &spec),
        "gen.jsonl",
    );
    let store = InMemoryThreadStore::default();
    store
        .create_thread(CreateThreadParams {
            thread_id: Some(spec.thread_id),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = import_rollout(&store, &parsed, &ImportOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ThreadStoreError::Conflict { .. }), "{err:?}");
}

#[tokio::test]
async fn a_file_without_header_gets_the_id_in_its_name_or_a_fresh_one() {
    let text = generate_rollout(RolloutEra::E1EarlyEnvelope, &GenSpec::default());
    let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let store = InMemoryThreadStore::default();

    let named = parse_rollout(
        &body,
        "rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl",
    );
    assert_eq!(named.thread_id, None);
    let report = import_rollout(&store, &named, &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.thread_id,
        "97b66f6c-a160-40e0-bd0f-1fdcbbb9498b".parse().unwrap()
    );

    let anonymous = parse_rollout(&body, "session.jsonl");
    let report = import_rollout(&store, &anonymous, &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.items, anonymous.lines.len() as u64);
    assert_same_lines(&history(&store, report.thread_id).await, &anonymous.lines);
}

#[tokio::test]
async fn an_empty_file_is_invalid() {
    let store = InMemoryThreadStore::default();
    let err = import_rollout(
        &store,
        &parse_rollout("\n\n", "empty.jsonl"),
        &ImportOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ThreadStoreError::InvalidRequest { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn import_file_can_archive() {
    let spec = GenSpec::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!(
        "rollout-2026-01-01T00-00-00-{}.jsonl",
        spec.thread_id
    ));
    std::fs::write(&path, generate_rollout(RolloutEra::E3TurnIds, &spec)).unwrap();

    let store = InMemoryThreadStore::default();
    let opts = ImportOptions {
        archive: true,
        ..ImportOptions::default()
    };
    let report = import_file(&store, &path, &opts).await.unwrap();
    assert_eq!(report.thread_id, spec.thread_id);
    let err = store
        .read_thread(ReadThreadParams {
            thread_id: spec.thread_id,
            include_archived: false,
            include_history: false,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ThreadStoreError::Archived { .. }), "{err:?}");
    assert!(read(&store, spec.thread_id).await.archived_at.is_some());
}

/// Turns the store derives from imported rollouts (CONTRACT.md §3): one per user prompt in every
/// era, aborted turns `interrupted`, the rest `completed`.
#[tokio::test]
async fn imported_generated_rollouts_have_one_turn_per_prompt() {
    let spec = GenSpec {
        turns: 5,
        aborted_turns: vec![1],
        compaction: true,
        ..GenSpec::default()
    };
    for era in [
        RolloutEra::E0Legacy,
        RolloutEra::E1EarlyEnvelope,
        RolloutEra::E2OldEnvelope,
        RolloutEra::E3TurnIds,
    ] {
        let store = InMemoryThreadStore::default();
        let parsed = parse_rollout(generate_rollout(era, &spec), "gen.jsonl");
        import_rollout(&store, &parsed, &ImportOptions::default())
            .await
            .unwrap();
        let page = store
            .list_turns(ListTurnsParams {
                include_archived: true,
                sort_direction: threadstore::SortDirection::Asc,
                items_view: StoredTurnItemsView::NotLoaded,
                ..ListTurnsParams::new(spec.thread_id)
            })
            .await
            .unwrap();
        let statuses: Vec<StoredTurnStatus> = page.turns.iter().map(|t| t.status).collect();
        let expected_aborted = if era == RolloutEra::E0Legacy {
            // E0 has no abort event: the interrupted turn just has no answer.
            StoredTurnStatus::Completed
        } else {
            StoredTurnStatus::Interrupted
        };
        assert_eq!(
            statuses,
            [
                StoredTurnStatus::Completed,
                expected_aborted,
                StoredTurnStatus::Completed,
                StoredTurnStatus::Completed,
                StoredTurnStatus::Completed,
            ],
            "{era:?}"
        );
    }
}

#[tokio::test]
async fn fixture_v0_118_has_three_turns_one_interrupted() {
    let Some(files) = fixtures() else { return };
    let file = files
        .iter()
        .find(|f| f.ends_with("v0.118-codex-tui-task-events-aborted.jsonl"))
        .expect("the fixture folder has v0.118-codex-tui-task-events-aborted.jsonl");
    let store = InMemoryThreadStore::default();
    let report = import_file(&store, file, &ImportOptions::default())
        .await
        .unwrap();
    let page = store
        .list_turns(ListTurnsParams {
            sort_direction: threadstore::SortDirection::Asc,
            items_view: StoredTurnItemsView::NotLoaded,
            ..ListTurnsParams::new(report.thread_id)
        })
        .await
        .unwrap();
    let statuses: Vec<StoredTurnStatus> = page.turns.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses,
        [
            StoredTurnStatus::Completed,
            StoredTurnStatus::Interrupted,
            StoredTurnStatus::Completed
        ]
    );
}

/// A generated Codex home imported the way `threadstore import ~/.codex` does it: archived
/// sessions archived, the compressed sibling of a plain file left out, a `.zst` file read, torn
/// and bad lines skipped with their line numbers, names from `session_index.jsonl` (newest wins,
/// only for threads this run imports), and a second run writes nothing.
#[tokio::test]
async fn generated_codex_home_imports_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let day = root.join("sessions/2026/01/02");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(root.join("archived_sessions")).unwrap();
    let name =
        |n: usize, id: ThreadId, ext: &str| format!("rollout-2026-01-02T10-00-{n:02}-{id}.{ext}");
    let mut specs = Vec::new();
    for (n, era) in [
        RolloutEra::E0Legacy,
        RolloutEra::E1EarlyEnvelope,
        RolloutEra::E2OldEnvelope,
        RolloutEra::E3TurnIds,
    ]
    .into_iter()
    .enumerate()
    {
        let spec = GenSpec {
            turns: 2 + n,
            seed: n as u64,
            ..GenSpec::default()
        };
        let mut text = generate_rollout(era, &spec);
        if era == RolloutEra::E1EarlyEnvelope {
            let mut lines: Vec<&str> = text.lines().collect();
            lines.insert(2, "garbage");
            text =
                lines.join("\n") + "\n" + r#"{"timestamp":"2026-01-02T10:09:00.000Z","type":"ev"#;
        }
        std::fs::write(day.join(name(n, spec.thread_id, "jsonl")), &text).unwrap();
        if era == RolloutEra::E3TurnIds {
            // A compressed copy next to the plain file: the same thread, left out.
            let packed = zstd::encode_all(text.as_bytes(), 3).unwrap();
            std::fs::write(day.join(name(n, spec.thread_id, "jsonl.zst")), packed).unwrap();
        }
        specs.push((era, spec));
    }
    let zst = GenSpec::default();
    let packed =
        zstd::encode_all(generate_rollout(RolloutEra::E3TurnIds, &zst).as_bytes(), 3).unwrap();
    std::fs::write(day.join(name(8, zst.thread_id, "jsonl.zst")), packed).unwrap();
    let archived = GenSpec::default();
    std::fs::write(
        root.join("archived_sessions")
            .join(name(9, archived.thread_id, "jsonl")),
        generate_rollout(RolloutEra::E2OldEnvelope, &archived),
    )
    .unwrap();
    let named = specs[3].1.thread_id;
    let mut index = std::fs::File::create(root.join("session_index.jsonl")).unwrap();
    writeln!(
        index,
        r#"{{"id":"{named}","thread_name":"new","updated_at":"2026-01-03T00:00:00Z"}}"#
    )
    .unwrap();
    writeln!(
        index,
        r#"{{"id":"{named}","thread_name":"old","updated_at":"2026-01-02T00:00:00Z"}}"#
    )
    .unwrap();
    writeln!(index, "[]").unwrap();

    let found = discover(&[root.to_path_buf()]).unwrap();
    assert_eq!(found.sources.len(), 6, "{:?}", found.sources);
    assert_eq!(found.shadowed.len(), 1);
    let names = read_session_index(&found.indexes).unwrap();
    assert_eq!(names.bad_lines.len(), 1);

    let store = InMemoryThreadStore::default();
    let mut imported = Vec::new();
    for source in &found.sources {
        imported.push(import_source(&store, source, &names).await.unwrap());
    }
    for r in &imported {
        assert!(!r.report.already_imported);
        let thread = read(&store, r.report.thread_id).await;
        assert_eq!(
            thread.archived_at.is_some(),
            r.report.thread_id == archived.thread_id
        );
        assert_eq!(r.archived, r.report.thread_id == archived.thread_id);
        assert_eq!(thread.turn_count, r.turns);
    }
    let e1 = imported
        .iter()
        .find(|r| r.report.thread_id == specs[1].1.thread_id)
        .unwrap();
    let skipped: Vec<(usize, bool)> = e1
        .report
        .skipped
        .iter()
        .map(|s| (s.line_number, s.torn))
        .collect();
    let lines = generate_rollout(RolloutEra::E1EarlyEnvelope, &specs[1].1)
        .lines()
        .count();
    assert_eq!(skipped, [(3, false), (lines + 2, true)]);
    let with_name = imported
        .iter()
        .find(|r| r.report.thread_id == named)
        .unwrap();
    assert_eq!(with_name.name.as_deref(), Some("new"));
    assert!(with_name.named_by_index);
    assert_eq!(read(&store, named).await.name.as_deref(), Some("new"));
    assert!(imported
        .iter()
        .any(|r| r.report.thread_id == zst.thread_id && r.report.items > 0));
    for (era, spec) in &specs {
        let turns = read(&store, spec.thread_id).await.turn_count;
        assert_eq!(turns, spec.turns as u64, "{era:?}");
    }

    // Again: nothing is written, not even the name.
    let items_before: Vec<u64> = {
        let mut v = Vec::new();
        for r in &imported {
            v.push(read(&store, r.report.thread_id).await.item_count);
        }
        v
    };
    for (source, before) in found.sources.iter().zip(items_before) {
        let again = import_source(&store, source, &names).await.unwrap();
        assert!(again.report.already_imported);
        assert!(!again.named_by_index);
        assert_eq!(
            read(&store, again.report.thread_id).await.item_count,
            before
        );
    }
}

/// The changes an import derives itself, a name from `session_index.jsonl` and the archiving of a
/// file in `archived_sessions/`, carry the time of the thread's last line, not the import's: an
/// imported named or archived thread keeps its place in a listing by update time.
#[tokio::test]
async fn derived_names_and_archives_keep_the_threads_own_time() {
    let home = tempfile::tempdir().unwrap();
    let day = home.path().join("sessions/2026/01/02");
    let archived_dir = home.path().join("archived_sessions");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(&archived_dir).unwrap();
    let (named, archived) = (GenSpec::default(), GenSpec::default());
    for (dir, spec) in [(&day, &named), (&archived_dir, &archived)] {
        std::fs::write(
            dir.join(format!(
                "rollout-2026-01-02T10-00-00-{}.jsonl",
                spec.thread_id
            )),
            generate_rollout(RolloutEra::E3TurnIds, spec),
        )
        .unwrap();
    }
    std::fs::write(
        home.path().join("session_index.jsonl"),
        format!(
            "{{\"id\":\"{}\",\"thread_name\":\"Named later\",\"updated_at\":\"2030-01-01T00:00:00Z\"}}\n",
            named.thread_id
        ),
    )
    .unwrap();
    let store = InMemoryThreadStore::default();
    let found = discover(&[home.path().to_path_buf()]).unwrap();
    let names = read_session_index(&found.indexes).unwrap();
    for source in &found.sources {
        import_source(&store, source, &names).await.unwrap();
    }
    for (spec, what) in [(&named, "named"), (&archived, "archived")] {
        let file = found
            .sources
            .iter()
            .find(|s| {
                s.path
                    .to_string_lossy()
                    .contains(&spec.thread_id.to_string())
            })
            .unwrap();
        let last = read_rollout(&file.path)
            .unwrap()
            .lines
            .last()
            .unwrap()
            .timestamp;
        let thread = read(&store, spec.thread_id).await;
        assert_eq!(thread.updated_at, last, "{what}: updated at its last line");
        if what == "named" {
            assert_eq!(thread.name.as_deref(), Some("Named later"));
        } else {
            assert_eq!(thread.archived_at, Some(last), "archived at its last line");
        }
    }
}

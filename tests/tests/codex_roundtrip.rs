//! Codex import → export → import round trip (`threadstore::codex::{home, export}`), over the real
//! fixtures in `shared/fixtures/codex` and over a generated Codex home (all four format eras,
//! archived and `.zst` files, a torn last line, a bad middle line, `session_index.jsonl` names,
//! plus threadstore's own metadata, archive and unarchive events).
//!
//! The second store must hold the same threads (every metadata field but the rollout path, which
//! names the file each store imported from), names and archived state, the same turns (ids,
//! statuses, errors, times, item positions) and the same items (kind, payload text, timestamp,
//! ordinal), and exporting the second store must write the same files byte for byte.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use threadstore::codex::{
    all_thread_ids, discover, export_thread, generate_rollout, import_source, read_session_index,
    write_session_index, ExportOptions, GenSpec, RolloutEra,
};
use threadstore::{
    ArchiveThreadParams, InMemoryThreadStore, ListTurnsParams, LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams, ReadThreadParams, RolloutLine, SortDirection, StoredThread,
    StoredTurn, StoredTurnItemsView, ThreadId, ThreadMetadataPatch, ThreadStore,
    UpdateThreadMetadataParams,
};

/// `../shared/fixtures/codex`; `None` (skip) when missing outside CI, a failure in CI (see
/// `threadstore_tests::fixtures`).
fn fixtures_dir() -> Option<PathBuf> {
    threadstore_tests::fixtures::codex_dir()
}

/// Imports every rollout under `root` the way `threadstore import` does; returns the thread ids.
async fn import_folder(store: &dyn ThreadStore, root: &Path) -> Vec<ThreadId> {
    let found = discover(&[root.to_path_buf()]).unwrap();
    let names = read_session_index(&found.indexes).unwrap();
    let mut ids = Vec::new();
    for source in &found.sources {
        let imported = import_source(store, source, &names).await.unwrap();
        ids.push(imported.report.thread_id);
    }
    ids
}

/// Exports every thread of `store` under `out` the way `threadstore export` does.
async fn export_all(store: &dyn ThreadStore, out: &Path, compress: bool) -> usize {
    let opts = ExportOptions {
        compress,
        ..Default::default()
    };
    let mut exported = Vec::new();
    for id in all_thread_ids(store).await.unwrap() {
        exported.push(export_thread(store, id, out, &opts).await.unwrap());
    }
    write_session_index(out, &exported).unwrap();
    exported.len()
}

async fn thread(store: &dyn ThreadStore, thread_id: ThreadId) -> StoredThread {
    store
        .read_thread(ReadThreadParams {
            thread_id,
            include_archived: true,
            include_history: false,
        })
        .await
        .unwrap()
}

async fn history(store: &dyn ThreadStore, thread_id: ThreadId) -> Vec<RolloutLine> {
    store
        .load_history(LoadThreadHistoryParams {
            thread_id,
            include_archived: true,
        })
        .await
        .unwrap()
        .items
}

/// Every turn, oldest first, with all its items.
async fn turns(store: &dyn ThreadStore, thread_id: ThreadId) -> Vec<StoredTurn> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_turns(ListTurnsParams {
                thread_id,
                include_archived: true,
                cursor: cursor.take(),
                page_size: 200,
                sort_direction: SortDirection::Asc,
                items_view: StoredTurnItemsView::Full,
            })
            .await
            .unwrap();
        all.extend(page.turns);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

/// Asserts that `b` holds what `a` holds, thread by thread; returns the threads compared.
async fn assert_same_store(a: &dyn ThreadStore, b: &dyn ThreadStore) -> usize {
    let ids_a = all_thread_ids(a).await.unwrap();
    let mut sorted_a = ids_a.clone();
    let mut sorted_b = all_thread_ids(b).await.unwrap();
    sorted_a.sort();
    sorted_b.sort();
    assert_eq!(sorted_a, sorted_b, "the same threads");
    for id in &ids_a {
        let (mut ta, mut tb) = (thread(a, *id).await, thread(b, *id).await);
        assert!(ta.rollout_path.is_some() && tb.rollout_path.is_some());
        ta.rollout_path = None;
        tb.rollout_path = None;
        assert_eq!(ta, tb, "thread {id}: metadata, name, archived state");

        let (ha, hb) = (history(a, *id).await, history(b, *id).await);
        assert_eq!(ha.len(), hb.len(), "thread {id}: items");
        for (i, (la, lb)) in ha.iter().zip(&hb).enumerate() {
            assert_eq!(la.item, lb.item, "thread {id}: payload of item {i}");
            assert_eq!(la.timestamp, lb.timestamp, "thread {id}: time of item {i}");
            assert_eq!(la.ordinal, lb.ordinal, "thread {id}: ordinal of item {i}");
        }

        let (ua, ub) = (turns(a, *id).await, turns(b, *id).await);
        assert_eq!(ua.len() as u64, ta.turn_count, "thread {id}");
        assert_eq!(ua, ub, "thread {id}: turns (ids, statuses, times, items)");
    }
    ids_a.len()
}

/// Every file under `root`, relative path → bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// What a round trip leaves: the second store, the first export (in a temporary folder that
/// lives as long as this) and the number of threads.
struct RoundTrip {
    second: InMemoryThreadStore,
    _tmp: tempfile::TempDir,
    out: PathBuf,
    threads: usize,
}

/// import → export → import → export: same store contents, same files.
async fn round_trip(source: &Path, compress: bool) -> RoundTrip {
    let a = InMemoryThreadStore::default();
    let imported = import_folder(&a, source).await;
    round_trip_store(a, imported.len(), compress).await
}

async fn round_trip_store(a: InMemoryThreadStore, expected: usize, compress: bool) -> RoundTrip {
    let tmp = tempfile::tempdir().unwrap();
    let (out1, out2) = (tmp.path().join("export1"), tmp.path().join("export2"));
    assert_eq!(export_all(&a, &out1, compress).await, expected);

    let b = InMemoryThreadStore::default();
    let reimported = import_folder(&b, &out1).await;
    assert_eq!(reimported.len(), expected, "one file per thread");
    assert_eq!(assert_same_store(&a, &b).await, expected);

    // The second store's threads are found by the exported files' paths.
    let found = discover(std::slice::from_ref(&out1)).unwrap();
    for source in &found.sources {
        let by_path = b
            .read_thread_by_rollout_path(ReadThreadByRolloutPathParams {
                rollout_path: source.path.clone(),
                include_archived: true,
                include_history: false,
            })
            .await
            .unwrap();
        assert!(source.shown.contains(&by_path.thread_id.to_string()));
    }

    // Importing the export again writes nothing.
    for source in &found.sources {
        let again = import_source(&b, source, &Default::default())
            .await
            .unwrap();
        assert!(again.report.already_imported);
    }

    // Exporting the second store writes the same files, byte for byte.
    assert_eq!(export_all(&b, &out2, compress).await, expected);
    let (t1, t2) = (tree(&out1), tree(&out2));
    assert_eq!(
        t1.keys().collect::<Vec<_>>(),
        t2.keys().collect::<Vec<_>>(),
        "same file names"
    );
    for (path, bytes) in &t1 {
        assert!(t2[path] == *bytes, "{} differs", path.display());
    }
    RoundTrip {
        second: b,
        _tmp: tmp,
        out: out1,
        threads: expected,
    }
}

#[tokio::test]
async fn fixtures_round_trip() {
    let Some(dir) = fixtures_dir() else { return };
    let trip = round_trip(&dir, false).await;
    assert_eq!(trip.threads, 11);
    let out = &trip.out;
    // Every exported line is the fixture's line, in meaning (the E0 file is converted).
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") || path.ends_with("session_index.jsonl") {
            continue;
        }
        let original = std::fs::read_to_string(&path).unwrap();
        if original.starts_with(r#"{"id""#) {
            continue; // E0 legacy: converted to envelopes on import.
        }
        let id = threadstore::codex::read_rollout(&path)
            .unwrap()
            .thread_id
            .unwrap();
        let exported = tree(out)
            .into_iter()
            .find(|(p, _)| p.to_string_lossy().contains(&id.to_string()))
            .unwrap();
        let exported = String::from_utf8(exported.1).unwrap();
        assert_eq!(exported.lines().count(), original.lines().count(), "{id}");
        for (e, o) in exported.lines().zip(original.lines()) {
            let e: serde_json::Value = serde_json::from_str(e).unwrap();
            let o: serde_json::Value = serde_json::from_str(o).unwrap();
            assert_eq!(e, o, "{id}");
        }
    }
}

#[tokio::test]
async fn fixtures_round_trip_compressed() {
    let Some(dir) = fixtures_dir() else { return };
    let trip = round_trip(&dir, true).await;
    let files = tree(&trip.out);
    assert!(files
        .keys()
        .filter(|p| p.starts_with("sessions"))
        .all(|p| p.to_string_lossy().ends_with(".jsonl.zst")));
}

fn rollout_name(n: usize, id: ThreadId, ext: &str) -> String {
    format!("rollout-2026-01-02T10-00-{n:02}-{id}.{ext}")
}

/// A generated Codex home: every era, a compressed file, a torn last line, a bad middle line,
/// two archived files and names in `session_index.jsonl`. Returns (root, thread ids by role).
fn generated_home(root: &Path) -> BTreeMap<&'static str, ThreadId> {
    let day = root.join("sessions/2026/01/02");
    let archived = root.join("archived_sessions");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(&archived).unwrap();
    let mut ids = BTreeMap::new();
    let spec = |turns, seed| GenSpec {
        thread_id: ThreadId::new(),
        turns,
        seed,
        aborted_turns: vec![1],
        compaction: true,
        ..Default::default()
    };
    let files: [(&str, RolloutEra, &Path, &str); 6] = [
        ("e3", RolloutEra::E3TurnIds, &day, "jsonl"),
        ("e2", RolloutEra::E2OldEnvelope, &day, "jsonl"),
        ("e1", RolloutEra::E1EarlyEnvelope, &day, "jsonl"),
        ("e0", RolloutEra::E0Legacy, &day, "jsonl"),
        ("zst", RolloutEra::E3TurnIds, &day, "jsonl.zst"),
        ("archived", RolloutEra::E2OldEnvelope, &archived, "jsonl"),
    ];
    for (n, (role, era, dir, ext)) in files.into_iter().enumerate() {
        let s = spec(3 + n % 3, n as u64 + 1);
        let mut text = generate_rollout(era, &s);
        if role == "e2" {
            // A bad middle line and a torn last line.
            let mut lines: Vec<&str> = text.lines().collect();
            lines.insert(3, "{not json");
            text = lines.join("\n");
            text.push('\n');
            text.push_str(r#"{"timestamp":"2026-01-02T10:09:00.000Z","type":"event_msg","pay"#);
        }
        let path = dir.join(rollout_name(n, s.thread_id, ext));
        if ext.ends_with("zst") {
            std::fs::write(path, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        } else {
            std::fs::write(path, text).unwrap();
        }
        ids.insert(role, s.thread_id);
    }
    let mut index = std::fs::File::create(root.join("session_index.jsonl")).unwrap();
    for (role, name) in [("e3", "Fix the build"), ("archived", "Old work")] {
        writeln!(
            index,
            r#"{{"id":"{}","thread_name":"{name}","updated_at":"2026-01-03T09:00:00Z"}}"#,
            ids[role]
        )
        .unwrap();
    }
    ids
}

#[tokio::test]
async fn generated_home_round_trip_with_threadstore_events() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = generated_home(tmp.path());
    let a = InMemoryThreadStore::default();
    let imported = import_folder(&a, tmp.path()).await;
    assert_eq!(imported.len(), ids.len());
    assert_eq!(
        thread(&a, ids["e3"]).await.name.as_deref(),
        Some("Fix the build")
    );
    assert!(thread(&a, ids["archived"]).await.archived_at.is_some());

    // threadstore's own events: a metadata patch, an archive, an unarchive.
    a.update_thread_metadata(UpdateThreadMetadataParams {
        thread_id: ids["e1"],
        patch: ThreadMetadataPatch {
            name: Some(Some("Patched".into())),
            model: Some("gpt-test".into()),
            ..Default::default()
        },
        include_archived: true,
        at: None,
    })
    .await
    .unwrap();
    a.archive_thread(ArchiveThreadParams::new(ids["e0"]))
        .await
        .unwrap();
    a.unarchive_thread(ArchiveThreadParams::new(ids["archived"]))
        .await
        .unwrap();

    let trip = round_trip_store(a, ids.len(), false).await;
    let (b, out) = (&trip.second, &trip.out);
    assert_eq!(trip.threads, ids.len());
    assert_eq!(thread(b, ids["e1"]).await.name.as_deref(), Some("Patched"));
    assert_eq!(
        thread(b, ids["e1"]).await.model.as_deref(),
        Some("gpt-test")
    );
    assert!(thread(b, ids["e0"]).await.archived_at.is_some());
    assert!(thread(b, ids["archived"]).await.archived_at.is_none());

    // The layout: the archived thread under archived_sessions/, the others under sessions/ with
    // the file names they were imported from, and the names in session_index.jsonl.
    let files = tree(out);
    let path_of = |id: ThreadId| {
        files
            .keys()
            .find(|p| p.to_string_lossy().contains(&id.to_string()))
            .unwrap()
            .clone()
    };
    assert!(path_of(ids["e0"]).starts_with("archived_sessions"));
    assert_eq!(
        path_of(ids["e3"]),
        Path::new("sessions/2026/01/02").join(rollout_name(0, ids["e3"], "jsonl"))
    );
    assert_eq!(
        path_of(ids["zst"]),
        Path::new("sessions/2026/01/02").join(rollout_name(4, ids["zst"], "jsonl")),
        "compressed input, plain output unless --compress"
    );
    let names = read_session_index(&[out.join("session_index.jsonl")]).unwrap();
    assert_eq!(names.name(ids["e3"]), Some("Fix the build"));
    assert_eq!(names.name(ids["e1"]), Some("Patched"));
    assert_eq!(names.name(ids["archived"]), Some("Old work"));
    assert_eq!(names.names.len(), 3);
    assert!(names.bad_lines.is_empty());

    // The torn and the bad line were skipped on import, so they are not in the export.
    let e2 = String::from_utf8(files[&path_of(ids["e2"])].clone()).unwrap();
    assert!(e2
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(e2.ends_with('\n'));
}

#[tokio::test]
async fn exporting_again_replaces_files_and_moves_archived_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = generated_home(&tmp.path().join("home"));
    let store = InMemoryThreadStore::default();
    import_folder(&store, &tmp.path().join("home")).await;
    let out = tmp.path().join("out");
    export_all(&store, &out, false).await;
    let before = tree(&out);
    store
        .archive_thread(ArchiveThreadParams::new(ids["e3"]))
        .await
        .unwrap();
    export_all(&store, &out, true).await;
    let after = tree(&out);
    let id = ids["e3"].to_string();
    let located: Vec<&PathBuf> = after
        .keys()
        .filter(|p| p.to_string_lossy().contains(&id))
        .collect();
    assert_eq!(located.len(), 1, "one copy per thread: {located:?}");
    assert!(located[0].starts_with("archived_sessions"));
    assert!(located[0].to_string_lossy().ends_with(".jsonl.zst"));
    assert_eq!(
        before.len(),
        after.len(),
        "every thread replaced, not duplicated"
    );
    // The names did not change, so the index got no new line.
    assert_eq!(
        before[Path::new("session_index.jsonl")],
        after[Path::new("session_index.jsonl")]
    );
}

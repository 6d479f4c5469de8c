//! Search over a real Codex rollout in Chinese (`v0.118-codex-tui-task-events-aborted.jsonl`):
//! `search_threads` finds it with match ranges on the right characters, and
//! `search_thread_occurrences` lists every occurrence in log order, each range (UTF-16 code
//! units) covering exactly the term, each turn id one of the thread's turns.

use threadstore::codex::import::{import_file, ImportOptions};
use threadstore::{
    InMemoryThreadStore, ListTurnsParams, SearchOccurrencesParams, SearchThreadsParams,
    SortDirection, ThreadStore,
};
use threadstore_tests::fixtures::codex_dir;

fn utf16_slice(text: &str, (start, end): (usize, usize)) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16(&units[start..end]).expect("a range on character boundaries")
}

#[tokio::test]
async fn chinese_text_is_found_with_exact_utf16_ranges_in_log_order() {
    let Some(dir) = codex_dir() else { return };
    let store = InMemoryThreadStore::default();
    let report = import_file(
        &store,
        &dir.join("v0.118-codex-tui-task-events-aborted.jsonl"),
        &ImportOptions::default(),
    )
    .await
    .unwrap();
    let id = report.thread_id;
    // A second thread, so the search has something to leave out.
    import_file(
        &store,
        &dir.join("v0.69-codex-exec-small.jsonl"),
        &ImportOptions::default(),
    )
    .await
    .unwrap();
    store.flush_thread(id).await.unwrap();

    let term = "中文字体";
    let found = store
        .search_threads(SearchThreadsParams::new(term))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1, "{found:?}");
    let hit = &found.items[0];
    assert_eq!(hit.thread.thread_id, id);
    assert!(!hit.match_ranges.is_empty());
    for range in &hit.match_ranges {
        assert_eq!(utf16_slice(&hit.snippet, *range), term, "{}", hit.snippet);
    }

    let turns = store
        .list_turns(ListTurnsParams {
            page_size: 200,
            sort_direction: SortDirection::Asc,
            ..ListTurnsParams::new(id)
        })
        .await
        .unwrap();
    let turn_ids: Vec<&str> = turns.turns.iter().map(|t| t.turn_id.as_str()).collect();
    let mut occurrences = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .search_thread_occurrences(SearchOccurrencesParams {
                thread_id: id,
                search_term: term.into(),
                cursor: cursor.take(),
                page_size: 2,
            })
            .await
            .unwrap();
        occurrences.extend(page.occurrences);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert!(occurrences.len() >= 2, "{occurrences:?}");
    assert!(
        occurrences
            .windows(2)
            .all(|w| w[0].position <= w[1].position),
        "log order"
    );
    for o in &occurrences {
        assert_eq!(
            utf16_slice(&o.snippet, o.snippet_match_range),
            term,
            "{o:?}"
        );
        assert!(turn_ids.contains(&o.turn_id.as_str()), "{o:?}");
    }
}

//! search_threads: required term, name / preview / first message, case-insensitive, snippets.

use super::prelude::*;

fn search(term: &str) -> SearchThreadsParams {
    SearchThreadsParams {
        search_term: term.into(),
        ..Default::default()
    }
}

async fn hits(t: &TestStore, params: SearchThreadsParams) -> Vec<ThreadId> {
    let page = t
        .store
        .search_threads(params)
        .await
        .unwrap_or_else(|e| panic!("search_threads failed: {e}"));
    page.items.iter().map(|h| h.thread.thread_id).collect()
}

/// An empty or blank term is `InvalidRequest`.
pub async fn empty_term_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("something")])
        .await;
    for term in ["", "   ", "\t\n"] {
        assert_invalid!(t.store.search_threads(search(term)).await);
    }
}

/// Finds by name, by preview and by first user message, case-insensitively.
pub async fn finds_by_name_preview_and_first_message(b: Backend) {
    let t = b.open().await;
    let by_name = t.create_spec(&Spec::at(1)).await;
    t.patch(
        by_name,
        ThreadMetadataPatch {
            name: Some(Some("Quantum Refactor".into())),
            ..Default::default()
        },
    )
    .await;
    let by_preview = t.create_spec(&Spec::at(2)).await;
    t.append(
        by_preview,
        vec![RolloutItem::user_message("please refactor QUANTUM code")],
    )
    .await;
    // The first message matches, but the preview was patched to something else.
    let by_first = t.create_spec(&Spec::at(3)).await;
    t.append(by_first, vec![RolloutItem::user_message("quantum leap")])
        .await;
    t.patch(
        by_first,
        ThreadMetadataPatch {
            preview: Some("a different preview".into()),
            ..Default::default()
        },
    )
    .await;
    let unrelated = t.create_spec(&Spec::at(4)).await;
    t.append(unrelated, vec![RolloutItem::user_message("classical")])
        .await;

    let mut got = hits(&t, search("quantum")).await;
    got.sort();
    let mut expected = vec![by_name, by_preview, by_first];
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(hits(&t, search("QUANTUM refactor")).await, vec![by_name]);
    assert_eq!(hits(&t, search("Leap")).await, vec![by_first]);
    // Default order is created_at desc.
    assert_eq!(
        hits(&t, search("quantum")).await,
        vec![by_first, by_preview, by_name]
    );
}

/// Each hit's snippet contains the term.
pub async fn snippet_contains_term(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let long = format!(
        "{} the needle is here {}",
        "lorem ipsum ".repeat(20),
        "dolor sit amet ".repeat(20)
    );
    t.append(id, vec![RolloutItem::user_message(&long)]).await;
    let page = t.store.search_threads(search("NEEDLE")).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].thread.thread_id, id);
    assert!(
        page.items[0].snippet.to_lowercase().contains("needle"),
        "snippet {:?}",
        page.items[0].snippet
    );
}

/// No match gives an empty page without a cursor.
pub async fn no_match_gives_empty_page(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("hello")]).await;
    let page = t.store.search_threads(search("absent")).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next_cursor, None);
}

/// Archived threads are found only when searching the archived collection.
pub async fn archived_collection_is_separate(b: Backend) {
    let t = b.open().await;
    let a = t.create_spec(&Spec::at(1)).await;
    let c = t.create_spec(&Spec::at(2)).await;
    t.append(a, vec![RolloutItem::user_message("shared term alpha")])
        .await;
    t.append(c, vec![RolloutItem::user_message("shared term beta")])
        .await;
    t.archive(a).await;
    assert_eq!(hits(&t, search("shared term")).await, vec![c]);
    assert_eq!(
        hits(
            &t,
            SearchThreadsParams {
                archived: true,
                ..search("shared term")
            }
        )
        .await,
        vec![a]
    );
}

//! search_threads (CONTRACT.md §8): full text over whole threads (every message, reasoning
//! summaries, tool commands and outputs, names, previews, cwd, the thread id), words, phrases
//! and prefixes, relevance ranking, snippets with UTF-16 match ranges, the list filters, keyset
//! paging. `flush_thread` makes a thread's appends searchable at once.

use super::prelude::*;

fn search(term: &str) -> SearchThreadsParams {
    SearchThreadsParams {
        search_term: term.into(),
        ..Default::default()
    }
}

/// Makes the threads' appends searchable (`flush_thread`).
async fn searchable(t: &TestStore, ids: &[ThreadId]) {
    for id in ids {
        t.store
            .flush_thread(*id)
            .await
            .unwrap_or_else(|e| panic!("flush_thread failed: {e}"));
    }
}

async fn page(t: &TestStore, params: SearchThreadsParams) -> ThreadSearchPage {
    t.store
        .search_threads(params)
        .await
        .unwrap_or_else(|e| panic!("search_threads failed: {e}"))
}

async fn hits(t: &TestStore, params: SearchThreadsParams) -> Vec<ThreadId> {
    page(t, params)
        .await
        .items
        .iter()
        .map(|h| h.thread.thread_id)
        .collect()
}

fn sorted(mut v: Vec<ThreadId>) -> Vec<ThreadId> {
    v.sort();
    v
}

/// The text of `snippet` in a UTF-16 range.
fn utf16_slice(snippet: &str, (start, end): (usize, usize)) -> String {
    let units: Vec<u16> = snippet.encode_utf16().collect();
    String::from_utf16(&units[start..end]).expect("a range on character boundaries")
}

/// A term with no word is `InvalidRequest`.
pub async fn empty_term_is_invalid(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("something")])
        .await;
    searchable(&t, &[id]).await;
    for term in ["", "   ", "\t\n", " ,;- ", "\"\""] {
        assert_invalid!(t.store.search_threads(search(term)).await);
    }
}

/// A word is found wherever a person would look for it: only in an agent's answer, only in the
/// second prompt, only in a tool's output, only in the name, or by the thread's id.
pub async fn finds_words_anywhere_in_a_thread(b: Backend) {
    let t = b.open().await;
    let answer = t.create_spec(&Spec::at(1)).await;
    t.append(
        answer,
        turn("t1", "how do I fix it", "use the xylophone crate"),
    )
    .await;
    let second = t.create_spec(&Spec::at(2)).await;
    t.append(second, turn("t1", "hello", "hi")).await;
    t.append(second, turn("t2", "now marmalade please", "done"))
        .await;
    let tool = t.create_spec(&Spec::at(3)).await;
    t.append(
        tool,
        vec![
            RolloutItem::task_started("t1"),
            RolloutItem::user_message("run the tests"),
            RolloutItem::event_msg(json!({
                "type": "exec_command_end", "call_id": "c1", "turn_id": "t1",
                "command": ["bash", "-lc", "cargo test"], "exit_code": 1,
                "aggregated_output": "error: thread panicked at zanzibar.rs:4",
            })),
            RolloutItem::response_item(json!({
                "type": "function_call_output", "call_id": "c2",
                "output": "stdout: quokka count 3",
            })),
            RolloutItem::task_complete("t1", Some("fixed")),
        ],
    )
    .await;
    let named = t.create_spec(&Spec::at(4)).await;
    t.append(named, turn("t1", "plain words", "plain answer"))
        .await;
    t.patch(
        named,
        ThreadMetadataPatch {
            name: Some(Some("Nebula migration".into())),
            ..Default::default()
        },
    )
    .await;
    searchable(&t, &[answer, second, tool, named]).await;

    assert_eq!(hits(&t, search("xylophone")).await, vec![answer]);
    assert_eq!(hits(&t, search("MARMALADE")).await, vec![second]);
    assert_eq!(hits(&t, search("zanzibar")).await, vec![tool]);
    assert_eq!(hits(&t, search("quokka")).await, vec![tool]);
    assert_eq!(hits(&t, search("cargo test")).await, vec![tool]);
    assert_eq!(hits(&t, search("nebula")).await, vec![named]);
    assert_eq!(hits(&t, search(&named.to_string())).await, vec![named]);
    assert!(hits(&t, search("absentword")).await.is_empty());
}

/// Every word must occur in the thread (in any of its items); `"a phrase"` must occur as written
/// in one item; `pre*` matches words starting so.
pub async fn words_phrases_and_prefixes(b: Backend) {
    let t = b.open().await;
    let phrase = t.create_spec(&Spec::at(1)).await;
    t.append(
        phrase,
        turn("t1", "the borrow checker complains", "refactoring helps"),
    )
    .await;
    let apart = t.create_spec(&Spec::at(2)).await;
    t.append(
        apart,
        turn("t1", "borrow a book", "the checker passed; refactor later"),
    )
    .await;
    let other = t.create_spec(&Spec::at(3)).await;
    t.append(other, turn("t1", "a checker only", "nothing else"))
        .await;
    searchable(&t, &[phrase, apart, other]).await;

    assert_eq!(
        sorted(hits(&t, search("borrow checker")).await),
        sorted(vec![phrase, apart])
    );
    assert_eq!(hits(&t, search("\"borrow checker\"")).await, vec![phrase]);
    assert_eq!(
        sorted(hits(&t, search("refactor*")).await),
        sorted(vec![phrase, apart])
    );
    assert_eq!(hits(&t, search("refactoring")).await, vec![phrase]);
    assert_eq!(
        hits(&t, search("\"borrow checker\" refact*")).await,
        vec![phrase]
    );
}

/// A thread mentioning a term ten times ranks above one mentioning it once in a long thread;
/// scores come with the hits and decrease.
pub async fn relevance_ranks_more_matches_first(b: Backend) {
    let t = b.open().await;
    let once = t.create_spec(&Spec::at(1)).await;
    for i in 0..20 {
        t.append(
            once,
            turn(
                &format!("t{i}"),
                &format!("question number {i} about the weather"),
                &format!("answer {i} with many other words in it"),
            ),
        )
        .await;
    }
    t.append(once, turn("t20", "and gazpacho once", "ok")).await;
    let often = t.create_spec(&Spec::at(2)).await;
    for i in 0..10 {
        t.append(
            often,
            turn(&format!("t{i}"), "gazpacho again", "gazpacho is a soup"),
        )
        .await;
    }
    searchable(&t, &[once, often]).await;
    let found = page(&t, search("gazpacho")).await;
    let ids: Vec<ThreadId> = found.items.iter().map(|h| h.thread.thread_id).collect();
    assert_eq!(ids, vec![often, once]);
    let scores: Vec<f32> = found.items.iter().map(|h| h.score.unwrap()).collect();
    assert!(scores[0] > scores[1], "scores {scores:?}");
}

/// Each hit's snippet shows its best match, and its match ranges (UTF-16) cover exactly the
/// matched words, also in non-ASCII text.
pub async fn snippets_carry_utf16_match_ranges(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    let long = format!(
        "{} the Needle is here {}",
        "lorem ipsum ".repeat(20),
        "dolor sit amet ".repeat(20)
    );
    t.append(id, vec![RolloutItem::user_message(&long)]).await;
    let cjk = t.create().await.thread_id;
    t.append(
        cjk,
        vec![RolloutItem::user_message(
            "😀 请帮我修复登录页面的错误, then café crème",
        )],
    )
    .await;
    searchable(&t, &[id, cjk]).await;

    let found = page(&t, search("NEEDLE")).await;
    assert_eq!(found.items.len(), 1);
    let hit = &found.items[0];
    assert!(hit.snippet.starts_with("... "), "{:?}", hit.snippet);
    assert_eq!(hit.match_ranges.len(), 1);
    assert_eq!(utf16_slice(&hit.snippet, hit.match_ranges[0]), "Needle");

    let found = page(&t, search("错误 cafe")).await;
    assert_eq!(found.items.len(), 1);
    let hit = &found.items[0];
    let matched: Vec<String> = hit
        .match_ranges
        .iter()
        .map(|r| utf16_slice(&hit.snippet, *r))
        .collect();
    assert_eq!(matched, vec!["错误", "café"]);
    // A run of ideographs matches as a phrase of them, not as each character anywhere.
    assert_eq!(hits(&t, search("修复")).await, vec![cjk]);
    assert!(hits(&t, search("复修")).await.is_empty());
}

/// No match gives an empty page without a cursor.
pub async fn no_match_gives_empty_page(b: Backend) {
    let t = b.open().await;
    let id = t.create().await.thread_id;
    t.append(id, vec![RolloutItem::user_message("hello")]).await;
    searchable(&t, &[id]).await;
    let page = page(&t, search("absent")).await;
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
    searchable(&t, &[a, c]).await;
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

/// The `list_threads` filters apply: source, provider, cwd, relation.
pub async fn list_filters_apply(b: Backend) {
    let t = b.open().await;
    let parent = t
        .create_spec(&Spec::at(1).cwd("/work/a").provider("openai").source("cli"))
        .await;
    let child = t
        .create_spec(
            &Spec::at(2)
                .cwd("/work/b")
                .provider("ollama")
                .source("exec")
                .parent(parent),
        )
        .await;
    for id in [parent, child] {
        t.append(id, vec![RolloutItem::user_message("common pangolin")])
            .await;
    }
    searchable(&t, &[parent, child]).await;
    let base = || search("pangolin");
    assert_eq!(sorted(hits(&t, base()).await), sorted(vec![parent, child]));
    assert_eq!(
        hits(
            &t,
            SearchThreadsParams {
                allowed_sources: vec!["exec".into()],
                ..base()
            }
        )
        .await,
        vec![child]
    );
    assert_eq!(
        hits(
            &t,
            SearchThreadsParams {
                model_providers: Some(vec!["openai".into()]),
                ..base()
            }
        )
        .await,
        vec![parent]
    );
    assert_eq!(
        hits(
            &t,
            SearchThreadsParams {
                cwd_filters: Some(vec!["/work/b".into()]),
                ..base()
            }
        )
        .await,
        vec![child]
    );
    assert!(hits(
        &t,
        SearchThreadsParams {
            cwd_filters: Some(vec![]),
            ..base()
        }
    )
    .await
    .is_empty());
    assert_eq!(
        hits(
            &t,
            SearchThreadsParams {
                relation_filter: Some(ThreadRelationFilter::DirectChildrenOf(parent)),
                ..base()
            }
        )
        .await,
        vec![child]
    );
    // The cwd is searchable itself.
    assert_eq!(hits(&t, search("\"work/b\"")).await, vec![child]);
}

/// Pages by relevance are keyset pages: together every hit once, in score order; a cursor
/// of another query, or a forged one, is `InvalidRequest`. With a sort key, hits come in that
/// order.
pub async fn pages_and_sort_keys(b: Backend) {
    let t = b.open().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let id = t.create_spec(&Spec::at(i + 1)).await;
        let text = vec!["ocelot"; (i + 1) as usize].join(" ");
        t.append(id, vec![RolloutItem::user_message(&text)]).await;
        ids.push(id);
    }
    searchable(&t, &ids).await;
    let mut seen = Vec::new();
    let mut scores = Vec::new();
    let mut cursor = None;
    loop {
        let p = page(
            &t,
            SearchThreadsParams {
                page_size: 3,
                cursor: cursor.clone(),
                ..search("ocelot")
            },
        )
        .await;
        assert!(p.items.len() <= 3);
        seen.extend(p.items.iter().map(|h| h.thread.thread_id));
        scores.extend(p.items.iter().map(|h| h.score.unwrap()));
        match p.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(sorted(seen.clone()), sorted(ids.clone()));
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let first = page(
        &t,
        SearchThreadsParams {
            page_size: 3,
            ..search("ocelot")
        },
    )
    .await;
    let other_query = SearchThreadsParams {
        cursor: first.next_cursor.clone(),
        ..search("another")
    };
    assert_invalid!(t.store.search_threads(other_query).await);
    assert_invalid!(
        t.store
            .search_threads(SearchThreadsParams {
                cursor: Some("forged".into()),
                ..search("ocelot")
            })
            .await
    );
    // Sorted by creation time, newest first.
    let by_time = hits(
        &t,
        SearchThreadsParams {
            sort_key: Some(ThreadSortKey::CreatedAt),
            sort_direction: SortDirection::Desc,
            ..search("ocelot")
        },
    )
    .await;
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(by_time, newest_first);
}

/// A deleted thread is no longer found, and the index reports no lag once flushed.
pub async fn deleted_threads_leave_the_index(b: Backend) {
    let t = b.open().await;
    let gone = t.create().await.thread_id;
    let kept = t.create().await.thread_id;
    for id in [gone, kept] {
        t.append(id, vec![RolloutItem::user_message("platypus tale")])
            .await;
    }
    searchable(&t, &[gone, kept]).await;
    assert_eq!(
        sorted(hits(&t, search("platypus")).await),
        sorted(vec![gone, kept])
    );
    t.store
        .delete_thread(DeleteThreadParams { thread_id: gone })
        .await
        .unwrap();
    searchable(&t, &[kept]).await;
    assert_eq!(hits(&t, search("platypus")).await, vec![kept]);
    let stats = t
        .store
        .store_stats(StoreStatsParams::default())
        .await
        .unwrap();
    let index = stats.search_index.expect("the store keeps a search index");
    assert_eq!(index.lag, 0, "{index:?}");
    assert_eq!(index.failure, None);
}

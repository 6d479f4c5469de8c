//! list_threads: sort keys, directions, ties, keyset paging, page sizes, cursors, filters.

use super::prelude::*;

/// Sorts `(time, id)` pairs in a direction, ties broken by id in the same direction.
fn expected_order(
    mut rows: Vec<(chrono::DateTime<chrono::Utc>, ThreadId)>,
    dir: SortDirection,
) -> Vec<ThreadId> {
    rows.sort();
    if dir == SortDirection::Desc {
        rows.reverse();
    }
    rows.into_iter().map(|(_, id)| id).collect()
}

async fn create_all(t: &TestStore, specs: &[Spec]) -> Vec<ThreadId> {
    let mut ids = Vec::new();
    for s in specs {
        ids.push(t.create_spec(s).await);
    }
    ids
}

fn by_created(specs: &[Spec], dir: SortDirection) -> Vec<ThreadId> {
    expected_order(specs.iter().map(|s| (s.created, s.id)).collect(), dir)
}

/// An empty store lists nothing, without a cursor, in both collections.
pub async fn empty_store_gives_empty_page(b: Backend) {
    let t = b.open().await;
    for archived in [false, true] {
        let page = t
            .list(ListThreadsParams {
                archived,
                ..Default::default()
            })
            .await;
        assert!(page.items.is_empty());
        assert_eq!(page.next_cursor, None);
    }
}

/// The default listing is created_at, newest first.
pub async fn default_sort_is_created_at_desc(b: Backend) {
    let t = b.open().await;
    let specs = [Spec::at(10), Spec::at(30), Spec::at(20)];
    let ids = create_all(&t, &specs).await;
    let got = t.list_ids(ListThreadsParams::default()).await;
    assert_eq!(got, vec![ids[1], ids[2], ids[0]]);
    let got = t
        .list_ids(sorted(ThreadSortKey::CreatedAt, SortDirection::Desc))
        .await;
    assert_eq!(got, vec![ids[1], ids[2], ids[0]]);
}

/// created_at ascending.
pub async fn created_at_asc(b: Backend) {
    let t = b.open().await;
    let specs = [Spec::at(10), Spec::at(30), Spec::at(20), Spec::at(5)];
    let ids = create_all(&t, &specs).await;
    let got = t
        .list_ids(sorted(ThreadSortKey::CreatedAt, SortDirection::Asc))
        .await;
    assert_eq!(got, vec![ids[3], ids[0], ids[2], ids[1]]);
}

/// updated_at follows the latest item timestamp, not creation.
pub async fn updated_at_order(b: Backend) {
    let t = b.open().await;
    let ids = create_all(&t, &[Spec::at(1), Spec::at(2), Spec::at(3)]).await;
    t.append_at(ids[0], vec![RolloutItem::agent_message("a")], at(300))
        .await;
    t.append_at(ids[1], vec![RolloutItem::agent_message("b")], at(100))
        .await;
    t.append_at(ids[2], vec![RolloutItem::agent_message("c")], at(200))
        .await;
    let got = t
        .list_ids(sorted(ThreadSortKey::UpdatedAt, SortDirection::Desc))
        .await;
    assert_eq!(got, vec![ids[0], ids[2], ids[1]]);
    let got = t
        .list_ids(sorted(ThreadSortKey::UpdatedAt, SortDirection::Asc))
        .await;
    assert_eq!(got, vec![ids[1], ids[2], ids[0]]);
    // A later append moves a thread to the front.
    t.append_at(ids[1], vec![RolloutItem::agent_message("d")], at(400))
        .await;
    let got = t
        .list_ids(sorted(ThreadSortKey::UpdatedAt, SortDirection::Desc))
        .await;
    assert_eq!(got, vec![ids[1], ids[0], ids[2]]);
    // created_at order is untouched.
    let got = t.list_ids(ListThreadsParams::default()).await;
    assert_eq!(got, vec![ids[2], ids[1], ids[0]]);
}

/// recency_at follows task_started only; agent output does not move it.
pub async fn recency_at_order(b: Backend) {
    let t = b.open().await;
    let ids = create_all(&t, &[Spec::at(1), Spec::at(2), Spec::at(3)]).await;
    t.append_at(ids[0], vec![RolloutItem::task_started("a")], at(50))
        .await;
    t.append_at(ids[1], vec![RolloutItem::task_started("b")], at(150))
        .await;
    // Agent output at a late time: updated_at moves, recency_at stays at creation.
    t.append_at(ids[2], vec![RolloutItem::agent_message("late")], at(999))
        .await;
    let got = t
        .list_ids(sorted(ThreadSortKey::RecencyAt, SortDirection::Desc))
        .await;
    assert_eq!(got, vec![ids[1], ids[0], ids[2]]);
    let got = t
        .list_ids(sorted(ThreadSortKey::RecencyAt, SortDirection::Asc))
        .await;
    assert_eq!(got, vec![ids[2], ids[0], ids[1]]);
    let got = t
        .list_ids(sorted(ThreadSortKey::UpdatedAt, SortDirection::Desc))
        .await;
    assert_eq!(got, vec![ids[2], ids[1], ids[0]]);
}

/// Equal timestamps are ordered by thread id, in the listing's direction, across pages.
pub async fn ties_broken_by_id(b: Backend) {
    let t = b.open().await;
    let specs: Vec<Spec> = (0..6).map(|_| Spec::at(42)).collect();
    create_all(&t, &specs).await;
    let mut asc: Vec<ThreadId> = specs.iter().map(|s| s.id).collect();
    asc.sort();
    let mut desc = asc.clone();
    desc.reverse();
    for key in [
        ThreadSortKey::CreatedAt,
        ThreadSortKey::UpdatedAt,
        ThreadSortKey::RecencyAt,
    ] {
        assert_eq!(t.list_ids(sorted(key, SortDirection::Asc)).await, asc);
        assert_eq!(t.list_ids(sorted(key, SortDirection::Desc)).await, desc);
        for page_size in [1, 4] {
            let got = t
                .list_all(ListThreadsParams {
                    page_size,
                    ..sorted(key, SortDirection::Desc)
                })
                .await;
            assert_eq!(got, desc, "{key:?} page {page_size}");
        }
    }
}

/// Paging with any page size returns every thread exactly once, in order, for every sort.
pub async fn paging_with_every_page_size(b: Backend) {
    let t = b.open().await;
    let created = [5i64, 3, 5, 9, 1, 5, 7, 3, 2, 8, 5, 6, 4];
    let mut rows_created = Vec::new();
    let mut rows_updated = Vec::new();
    let mut rows_recency = Vec::new();
    for (i, c) in created.iter().enumerate() {
        let spec = Spec::at(*c);
        let id = t.create_spec(&spec).await;
        let updated = c + ((i as i64 * 7) % 11) * 3;
        let item = if i % 3 == 0 {
            RolloutItem::task_started(&format!("t{i}"))
        } else {
            RolloutItem::agent_message(&format!("m{i}"))
        };
        t.append_at(id, vec![item], at(updated)).await;
        let recency = if i % 3 == 0 { updated } else { *c };
        rows_created.push((at(*c), id));
        rows_updated.push((at(updated), id));
        rows_recency.push((at(recency), id));
    }
    for (key, rows) in [
        (ThreadSortKey::CreatedAt, &rows_created),
        (ThreadSortKey::UpdatedAt, &rows_updated),
        (ThreadSortKey::RecencyAt, &rows_recency),
    ] {
        for dir in [SortDirection::Asc, SortDirection::Desc] {
            let expected = expected_order(rows.clone(), dir);
            for page_size in 1..=7usize {
                let got = t
                    .list_all(ListThreadsParams {
                        page_size,
                        ..sorted(key, dir)
                    })
                    .await;
                assert_eq!(got, expected, "{key:?} {dir:?} page size {page_size}");
            }
        }
    }
}

/// The last page has no next cursor, also when the count divides the page size.
pub async fn last_page_has_no_cursor(b: Backend) {
    let t = b.open().await;
    let specs = [Spec::at(1), Spec::at(2), Spec::at(3)];
    create_all(&t, &specs).await;
    let p1 = t
        .list(ListThreadsParams {
            page_size: 2,
            ..Default::default()
        })
        .await;
    assert_eq!(p1.items.len(), 2);
    let c = p1.next_cursor.expect("more threads exist");
    let p2 = t
        .list(ListThreadsParams {
            page_size: 2,
            cursor: Some(c),
            ..Default::default()
        })
        .await;
    assert_eq!(thread_ids(&p2), vec![specs[0].id]);
    assert_eq!(p2.next_cursor, None);

    t.create_spec(&Spec::at(0)).await;
    let p1 = t
        .list(ListThreadsParams {
            page_size: 2,
            ..Default::default()
        })
        .await;
    let p2 = t
        .list(ListThreadsParams {
            page_size: 2,
            cursor: p1.next_cursor,
            ..Default::default()
        })
        .await;
    assert_eq!(p2.items.len(), 2);
    assert_eq!(p2.next_cursor, None, "no more threads after an exact page");
    // A page size covering everything has no cursor.
    let all = t
        .list(ListThreadsParams {
            page_size: 4,
            ..Default::default()
        })
        .await;
    assert_eq!(all.items.len(), 4);
    assert_eq!(all.next_cursor, None);
}

/// Page size 0 means 50.
pub async fn page_size_zero_means_fifty(b: Backend) {
    let t = b.open().await;
    let specs: Vec<Spec> = (0..53).map(Spec::at).collect();
    create_all(&t, &specs).await;
    let p1 = t.list(ListThreadsParams::default()).await;
    assert_eq!(p1.items.len(), 50);
    let p2 = t
        .list(ListThreadsParams {
            cursor: Some(p1.next_cursor.clone().expect("53 > 50")),
            ..Default::default()
        })
        .await;
    assert_eq!(p2.items.len(), 3);
    assert_eq!(p2.next_cursor, None);
    let mut all = thread_ids(&p1);
    all.extend(thread_ids(&p2));
    assert_eq!(all, by_created(&specs, SortDirection::Desc));
}

/// More than 200 is rejected, naming the maximum; 200 is fine.
pub async fn page_size_over_max_is_invalid(b: Backend) {
    let t = b.open().await;
    t.create().await;
    assert_invalid!(
        t.store
            .list_threads(ListThreadsParams {
                page_size: 201,
                ..Default::default()
            })
            .await,
        "200"
    );
    assert_invalid!(
        t.store
            .list_threads(ListThreadsParams {
                page_size: 10_000,
                archived: true,
                ..Default::default()
            })
            .await,
        "200"
    );
    let p = t
        .list(ListThreadsParams {
            page_size: 200,
            ..Default::default()
        })
        .await;
    assert_eq!(p.items.len(), 1);
}

/// A cursor that does not decode is `InvalidRequest`.
pub async fn garbage_cursor_is_invalid(b: Backend) {
    let t = b.open().await;
    t.create().await;
    for bad in [
        "garbage",
        "%%%",
        "eyJmb28iOiJiYXIifQ",
        "2025-01-01T00:00:00Z|nope",
    ] {
        assert_invalid!(
            t.store
                .list_threads(ListThreadsParams {
                    cursor: Some(bad.into()),
                    ..Default::default()
                })
                .await
        );
    }
}

/// A cursor is bound to its sort key, direction and collection.
pub async fn cursor_from_another_listing_is_invalid(b: Backend) {
    let t = b.open().await;
    create_all(&t, &[Spec::at(1), Spec::at(2), Spec::at(3)]).await;
    let p = t
        .list(ListThreadsParams {
            page_size: 1,
            ..Default::default()
        })
        .await;
    let cursor = p.next_cursor.expect("more threads");
    let misuses = [
        sorted(ThreadSortKey::UpdatedAt, SortDirection::Desc),
        sorted(ThreadSortKey::RecencyAt, SortDirection::Desc),
        sorted(ThreadSortKey::CreatedAt, SortDirection::Asc),
        ListThreadsParams {
            archived: true,
            ..Default::default()
        },
    ];
    for params in misuses {
        let label = format!(
            "{:?} {:?} archived={}",
            params.sort_key, params.sort_direction, params.archived
        );
        let res = t
            .store
            .list_threads(ListThreadsParams {
                cursor: Some(cursor.clone()),
                page_size: 1,
                ..params
            })
            .await;
        assert!(
            matches!(res, Err(ThreadStoreError::InvalidRequest { .. })),
            "{label}: {res:?}"
        );
    }
    // The right listing accepts it.
    let p2 = t
        .list(ListThreadsParams {
            cursor: Some(cursor),
            page_size: 1,
            ..Default::default()
        })
        .await;
    assert_eq!(p2.items.len(), 1);
}

/// allowed_sources: empty means all; otherwise only those sources.
pub async fn filter_allowed_sources(b: Backend) {
    let t = b.open().await;
    let specs = [
        Spec::at(1).source("cli"),
        Spec::at(2).source("vscode"),
        Spec::at(3).source("exec"),
        Spec::at(4).source("mcp"),
    ];
    let ids = create_all(&t, &specs).await;
    let all = t.list_ids(ListThreadsParams::default()).await;
    assert_eq!(all, vec![ids[3], ids[2], ids[1], ids[0]]);
    let got = t
        .list_ids(ListThreadsParams {
            allowed_sources: vec!["cli".into(), "exec".into()],
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[2], ids[0]]);
    let got = t
        .list_ids(ListThreadsParams {
            allowed_sources: vec!["subagent".into()],
            ..Default::default()
        })
        .await;
    assert!(got.is_empty());
}

/// model_providers: None or empty means all; otherwise only those providers.
pub async fn filter_model_providers(b: Backend) {
    let t = b.open().await;
    let specs = [
        Spec::at(1).provider("openai"),
        Spec::at(2).provider("azure"),
        Spec::at(3).provider("oss"),
    ];
    let ids = create_all(&t, &specs).await;
    for providers in [None, Some(vec![])] {
        let got = t
            .list_ids(ListThreadsParams {
                model_providers: providers,
                ..Default::default()
            })
            .await;
        assert_eq!(got.len(), 3);
    }
    let got = t
        .list_ids(ListThreadsParams {
            model_providers: Some(vec!["azure".into(), "oss".into()]),
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[2], ids[1]]);
    let got = t
        .list_ids(ListThreadsParams {
            model_providers: Some(vec!["nobody".into()]),
            ..Default::default()
        })
        .await;
    assert!(got.is_empty());
}

/// cwd_filters: None = all, empty = nothing, otherwise an exact match.
pub async fn filter_cwd(b: Backend) {
    let t = b.open().await;
    let specs = [
        Spec::at(1).cwd("/a"),
        Spec::at(2).cwd("/a/b"),
        Spec::at(3).cwd("/c"),
    ];
    let ids = create_all(&t, &specs).await;
    let got = t
        .list_ids(ListThreadsParams {
            cwd_filters: None,
            ..Default::default()
        })
        .await;
    assert_eq!(got.len(), 3);
    let got = t
        .list_ids(ListThreadsParams {
            cwd_filters: Some(vec![]),
            ..Default::default()
        })
        .await;
    assert!(got.is_empty());
    let got = t
        .list_ids(ListThreadsParams {
            cwd_filters: Some(vec![PathBuf::from("/a")]),
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[0]]);
    let got = t
        .list_ids(ListThreadsParams {
            cwd_filters: Some(vec![PathBuf::from("/a/b"), PathBuf::from("/c")]),
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[2], ids[1]]);
}

/// search_term: case-insensitive substring of the name or the preview.
pub async fn filter_search_term(b: Backend) {
    let t = b.open().await;
    let ids = create_all(&t, &[Spec::at(1), Spec::at(2), Spec::at(3), Spec::at(4)]).await;
    t.append(
        ids[0],
        vec![RolloutItem::user_message("Fix the Parser bug")],
    )
    .await;
    t.append(ids[1], vec![RolloutItem::user_message("unrelated")])
        .await;
    t.patch(
        ids[1],
        ThreadMetadataPatch {
            name: Some(Some("PARSER rewrite".into())),
            ..Default::default()
        },
    )
    .await;
    t.append(ids[2], vec![RolloutItem::user_message("nothing here")])
        .await;
    // Only an agent message mentions it: not a name or preview.
    t.append(
        ids[3],
        vec![RolloutItem::agent_message("the parser is fine")],
    )
    .await;
    let got = t
        .list_ids(ListThreadsParams {
            search_term: Some("parser".into()),
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[1], ids[0]]);
    let got = t
        .list_ids(ListThreadsParams {
            search_term: Some("PaRsEr ReW".into()),
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[1]]);
    let got = t
        .list_ids(ListThreadsParams {
            search_term: Some("zzz".into()),
            ..Default::default()
        })
        .await;
    assert!(got.is_empty());
}

/// Relation filters: direct children, and all descendants (transitive, not the ancestor).
pub async fn filter_relation(b: Backend) {
    let t = b.open().await;
    let root = Spec::at(1);
    let c1 = Spec::at(2).parent(root.id);
    let c2 = Spec::at(3).parent(root.id);
    let g = Spec::at(4).parent(c1.id);
    let gg = Spec::at(5).parent(g.id);
    let other = Spec::at(6);
    let other_child = Spec::at(7).parent(other.id);
    create_all(
        &t,
        &[
            root.clone(),
            c1.clone(),
            c2.clone(),
            g.clone(),
            gg.clone(),
            other.clone(),
            other_child.clone(),
        ],
    )
    .await;
    let rel = |f| ListThreadsParams {
        relation_filter: Some(f),
        sort_direction: SortDirection::Asc,
        ..Default::default()
    };
    assert_eq!(
        t.list_ids(rel(ThreadRelationFilter::DirectChildrenOf(root.id)))
            .await,
        vec![c1.id, c2.id]
    );
    assert_eq!(
        t.list_ids(rel(ThreadRelationFilter::DescendantsOf(root.id)))
            .await,
        vec![c1.id, c2.id, g.id, gg.id]
    );
    assert_eq!(
        t.list_ids(rel(ThreadRelationFilter::DescendantsOf(c1.id)))
            .await,
        vec![g.id, gg.id]
    );
    assert_eq!(
        t.list_ids(rel(ThreadRelationFilter::DirectChildrenOf(c1.id)))
            .await,
        vec![g.id]
    );
    assert!(t
        .list_ids(rel(ThreadRelationFilter::DescendantsOf(gg.id)))
        .await
        .is_empty());
    assert!(t
        .list_ids(rel(ThreadRelationFilter::DirectChildrenOf(ThreadId::new())))
        .await
        .is_empty());
    // Paged, the descendants still come out once each.
    let got = t
        .list_all(ListThreadsParams {
            page_size: 1,
            ..rel(ThreadRelationFilter::DescendantsOf(root.id))
        })
        .await;
    assert_eq!(got, vec![c1.id, c2.id, g.id, gg.id]);
}

/// Archived threads leave the active listing and appear only in the archived one.
pub async fn archived_collection_is_disjoint(b: Backend) {
    let t = b.open().await;
    let specs: Vec<Spec> = (1..=5).map(Spec::at).collect();
    let ids = create_all(&t, &specs).await;
    t.archive(ids[1]).await;
    t.archive(ids[3]).await;
    let active = t.list(ListThreadsParams::default()).await;
    assert_eq!(thread_ids(&active), vec![ids[4], ids[2], ids[0]]);
    assert!(active.items.iter().all(|th| th.archived_at.is_none()));
    let archived = t
        .list(ListThreadsParams {
            archived: true,
            ..Default::default()
        })
        .await;
    assert_eq!(thread_ids(&archived), vec![ids[3], ids[1]]);
    assert!(archived.items.iter().all(|th| th.archived_at.is_some()));
    // Paging the archived collection.
    let got = t
        .list_all(ListThreadsParams {
            archived: true,
            page_size: 1,
            sort_direction: SortDirection::Asc,
            ..Default::default()
        })
        .await;
    assert_eq!(got, vec![ids[1], ids[3]]);
}

/// Filters combine with paging: every matching thread once, in order, whatever the page size.
pub async fn filters_combine_with_paging(b: Backend) {
    let t = b.open().await;
    let mut specs = Vec::new();
    for i in 0..14i64 {
        let source = if i % 2 == 0 { "cli" } else { "vscode" };
        let provider = if i % 3 == 0 { "azure" } else { "openai" };
        specs.push(Spec::at(i % 5).source(source).provider(provider));
    }
    create_all(&t, &specs).await;
    let matching: Vec<Spec> = specs
        .iter()
        .filter(|s| s.source == "cli" && s.provider == "openai")
        .cloned()
        .collect();
    assert!(matching.len() >= 4);
    for dir in [SortDirection::Desc, SortDirection::Asc] {
        let expected = by_created(&matching, dir);
        for page_size in 1..=4 {
            let got = t
                .list_all(ListThreadsParams {
                    page_size,
                    sort_direction: dir,
                    allowed_sources: vec!["cli".into()],
                    model_providers: Some(vec!["openai".into()]),
                    ..Default::default()
                })
                .await;
            assert_eq!(got, expected, "{dir:?} page size {page_size}");
        }
    }
}

/// A listed thread is the same summary read_thread returns.
pub async fn listed_thread_matches_read(b: Backend) {
    let t = b.open().await;
    let id = t
        .create_with(CreateThreadParams {
            git_info: Some(git("abc", "main", "https://x/r.git")),
            ..create_params()
        })
        .await
        .thread_id;
    t.append(id, turn("t1", "Hello from user", "hi")).await;
    t.patch(
        id,
        ThreadMetadataPatch {
            name: Some(Some("named".into())),
            ..Default::default()
        },
    )
    .await;
    let page = t.list(ListThreadsParams::default()).await;
    assert_eq!(page.items.len(), 1);
    let listed = &page.items[0];
    assert!(listed.history.is_none());
    assert_eq!(listed, &t.read(id).await);
    assert_eq!(listed.git_info, Some(git("abc", "main", "https://x/r.git")));
    assert_eq!(listed.preview, "Hello from user");
    assert_eq!(listed.name.as_deref(), Some("named"));
}

//! The in-memory store's process-wide registry of named stores (`for_id` / `remove_id`), as Codex
//! tests use it.

use super::prelude::*;

/// `for_id` returns the same store for the same name, and a different one for another name.
pub async fn for_id_shares_one_store(_b: Backend) {
    let name = format!("conformance-{}", ThreadId::new());
    let other_name = format!("conformance-{}", ThreadId::new());
    let a = InMemoryThreadStore::for_id(&name);
    let again = InMemoryThreadStore::for_id(&name);
    let other = InMemoryThreadStore::for_id(&other_name);
    assert!(Arc::ptr_eq(&a, &again));
    assert!(!Arc::ptr_eq(&a, &other));
    let w = a.create_thread(create_params()).await.unwrap();
    let th = again
        .read_thread(ReadThreadParams {
            thread_id: w.thread_id,
            include_archived: false,
            include_history: false,
        })
        .await
        .unwrap();
    assert_eq!(th.thread_id, w.thread_id);
    assert_err!(
        other
            .read_thread(ReadThreadParams {
                thread_id: w.thread_id,
                include_archived: true,
                include_history: false,
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    InMemoryThreadStore::remove_id(&name);
    InMemoryThreadStore::remove_id(&other_name);
}

/// After `remove_id`, the name gives a fresh, empty store.
pub async fn remove_id_forgets_the_store(_b: Backend) {
    let name = format!("conformance-{}", ThreadId::new());
    let a = InMemoryThreadStore::for_id(&name);
    let w = a.create_thread(create_params()).await.unwrap();
    InMemoryThreadStore::remove_id(&name);
    let fresh = InMemoryThreadStore::for_id(&name);
    assert!(!Arc::ptr_eq(&a, &fresh));
    assert_err!(
        fresh
            .read_thread(ReadThreadParams {
                thread_id: w.thread_id,
                include_archived: true,
                include_history: false,
            })
            .await,
        ThreadStoreError::ThreadNotFound { .. }
    );
    let page = fresh
        .list_threads(ListThreadsParams::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
    InMemoryThreadStore::remove_id(&name);
}

//! Property test of forks by reference (CONTRACT.md §7): random programs of appends (whole turns,
//! turns left open, late items), forks at every boundary (a fork of a fork, a fork mid-turn),
//! reverts and deletes, over threads in the standard and the paginated history mode. After every
//! step every thread's stored projections equal a rebuild from its lineage's log (`verify`), each
//! fork shows what it showed when it was made plus its own turns, whatever its ancestors did
//! since, and paging a thread's turns and items returns each once, in order, in both directions.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::json;
use threadstore::{
    AppendThreadItemsParams, CreateThreadParams, DeleteThreadParams, ForkBoundary,
    ForkThreadParams, InMemoryThreadStore, ListItemsParams, ListTurnsParams, RevertThreadParams,
    RolloutItem, RolloutLine, SortDirection, ThreadId, ThreadStore,
};

/// One step of a program; thread and turn choices are indexes taken modulo what exists.
#[derive(Clone, Debug)]
enum Op {
    /// A complete turn.
    Turn(usize),
    /// A turn left open (started, a prompt, no end).
    Open(usize),
    /// An item of an older turn of the thread (paginated: attached by its turn id).
    Late(usize, usize),
    /// Ends the thread's open turn, if any.
    Close(usize),
    /// Forks a thread: 0 latest, 1 through a turn, 2 before a turn.
    Fork(usize, u8, usize),
    /// Reverts a thread to before one of its turns.
    Revert(usize, usize),
    /// Deletes a thread.
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let n = || 0usize..8;
    prop_oneof![
        5 => n().prop_map(Op::Turn),
        2 => n().prop_map(Op::Open),
        1 => (n(), n()).prop_map(|(t, k)| Op::Late(t, k)),
        2 => n().prop_map(Op::Close),
        4 => (n(), 0u8..3, n()).prop_map(|(t, b, k)| Op::Fork(t, b, k)),
        2 => (n(), n()).prop_map(|(t, k)| Op::Revert(t, k)),
        1 => n().prop_map(Op::Delete),
    ]
}

/// What the model knows of a thread.
#[derive(Clone, Debug, Default)]
struct Model {
    paginated: bool,
    /// Visible turn ids, oldest first.
    turns: Vec<String>,
    /// The open turn, if any.
    open: Option<String>,
}

struct World {
    store: InMemoryThreadStore,
    threads: Vec<ThreadId>,
    models: HashMap<ThreadId, Model>,
    counter: usize,
}

impl World {
    fn fresh_id(&mut self) -> String {
        self.counter += 1;
        format!("turn-{}", self.counter)
    }

    fn items(&self, id: ThreadId, turn: &str, prompt: bool, answer: bool) -> Vec<RolloutItem> {
        let paginated = self.models[&id].paginated;
        let completed = |item: serde_json::Value| {
            RolloutItem::event_msg(json!({
                "type": "item_completed", "thread_id": id.to_string(), "turn_id": turn, "item": item,
            }))
        };
        let mut out = Vec::new();
        if prompt {
            out.push(if paginated {
                completed(json!({"type": "UserMessage", "id": format!("u-{turn}"),
                    "content": [{"type": "text", "text": format!("q {turn}"), "text_elements": []}]}))
            } else {
                RolloutItem::user_message(&format!("q {turn}"))
            });
        }
        if answer {
            out.push(if paginated {
                completed(json!({"type": "AgentMessage", "id": format!("a-{turn}"),
                    "content": [{"type": "Text", "text": format!("a {turn}")}], "phase": "final_answer"}))
            } else {
                RolloutItem::agent_message(&format!("a {turn}"))
            });
        }
        out
    }

    async fn append(&self, id: ThreadId, items: Vec<RolloutItem>) -> Result<(), TestCaseError> {
        self.store
            .append_items(AppendThreadItemsParams::new(id, items))
            .await
            .map_err(|e| TestCaseError::fail(format!("append to {id}: {e}")))?;
        Ok(())
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        if self.threads.is_empty() {
            return Ok(());
        }
        let pick = |i: usize| self.threads[i % self.threads.len()];
        match *op {
            Op::Turn(t) => {
                let id = pick(t);
                self.close(id).await?;
                let turn = self.fresh_id();
                let mut items = vec![RolloutItem::task_started(&turn)];
                items.extend(self.items(id, &turn, true, true));
                items.push(RolloutItem::task_complete(&turn, Some("done")));
                self.append(id, items).await?;
                self.models.get_mut(&id).unwrap().turns.push(turn);
            }
            Op::Open(t) => {
                let id = pick(t);
                self.close(id).await?;
                let turn = self.fresh_id();
                let mut items = vec![RolloutItem::task_started(&turn)];
                items.extend(self.items(id, &turn, true, false));
                self.append(id, items).await?;
                let m = self.models.get_mut(&id).unwrap();
                m.turns.push(turn.clone());
                m.open = Some(turn);
            }
            Op::Late(t, k) => {
                let id = pick(t);
                let m = &self.models[&id];
                if m.paginated && !m.turns.is_empty() {
                    let turn = m.turns[k % m.turns.len()].clone();
                    let items = self.items(id, &turn, false, true);
                    self.append(id, items).await?;
                }
            }
            Op::Close(t) => self.close(pick(t)).await?,
            Op::Fork(t, b, k) => {
                let id = pick(t);
                let m = self.models[&id].clone();
                let (boundary, turns) = match (b, m.turns.is_empty()) {
                    (0, _) | (_, true) => (ForkBoundary::Latest, m.turns.clone()),
                    (1, false) => {
                        let k = k % m.turns.len();
                        if m.open.as_deref() == Some(m.turns[k].as_str()) {
                            return Ok(());
                        }
                        (
                            ForkBoundary::ThroughTurn(m.turns[k].clone()),
                            m.turns[..=k].to_vec(),
                        )
                    }
                    _ => {
                        let k = k % m.turns.len();
                        (
                            ForkBoundary::BeforeTurn(m.turns[k].clone()),
                            m.turns[..k].to_vec(),
                        )
                    }
                };
                let w = self
                    .store
                    .fork_thread(ForkThreadParams::new(id, boundary.clone()))
                    .await
                    .map_err(|e| TestCaseError::fail(format!("fork {boundary:?}: {e}")))?;
                // A fork mid-turn interrupts the open turn: nothing is open in the fork.
                self.threads.push(w.thread_id);
                self.models.insert(
                    w.thread_id,
                    Model {
                        paginated: m.paginated,
                        turns,
                        open: None,
                    },
                );
            }
            Op::Revert(t, k) => {
                let id = pick(t);
                let m = self.models[&id].clone();
                if m.turns.is_empty() {
                    return Ok(());
                }
                let k = k % m.turns.len();
                self.store
                    .revert_thread(RevertThreadParams::new(id, m.turns[k].clone()))
                    .await
                    .map_err(|e| TestCaseError::fail(format!("revert: {e}")))?;
                // The revert fenced the writer: take it again.
                self.store
                    .resume_thread(threadstore::ResumeThreadParams::new(id))
                    .await
                    .map_err(|e| TestCaseError::fail(format!("resume: {e}")))?;
                let m = self.models.get_mut(&id).unwrap();
                m.turns.truncate(k);
                m.open = None;
            }
            Op::Delete(t) => {
                if self.threads.len() > 1 {
                    let id = pick(t);
                    self.store
                        .delete_thread(DeleteThreadParams::new(id))
                        .await
                        .map_err(|e| TestCaseError::fail(format!("delete: {e}")))?;
                    self.threads.retain(|x| *x != id);
                    self.models.remove(&id);
                }
            }
        }
        Ok(())
    }

    /// Ends the thread's open turn.
    async fn close(&mut self, id: ThreadId) -> Result<(), TestCaseError> {
        if let Some(turn) = self.models.get_mut(&id).unwrap().open.take() {
            self.append(id, vec![RolloutItem::task_complete(&turn, Some("done"))])
                .await?;
        }
        Ok(())
    }

    /// Every invariant, on every thread.
    async fn check(&self) -> Result<(), TestCaseError> {
        let report = self
            .store
            .actor_store()
            .verify()
            .await
            .map_err(|e| TestCaseError::fail(format!("verify: {e}")))?;
        prop_assert!(
            report.differences.is_empty(),
            "verify: {:#?}",
            report.differences
        );
        prop_assert_eq!(report.threads, self.threads.len() as u64);
        for id in &self.threads {
            let want = &self.models[id].turns;
            for (dir, size) in [(SortDirection::Asc, 2), (SortDirection::Desc, 3)] {
                let mut got = Vec::new();
                let mut cursor = None;
                loop {
                    let page = self
                        .store
                        .list_turns(ListTurnsParams {
                            cursor,
                            page_size: size,
                            sort_direction: dir,
                            ..ListTurnsParams::new(*id)
                        })
                        .await
                        .map_err(|e| TestCaseError::fail(format!("turns: {e}")))?;
                    got.extend(page.turns.into_iter().map(|t| t.turn_id));
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                if dir == SortDirection::Desc {
                    got.reverse();
                }
                prop_assert_eq!(&got, want, "turns of {} ({:?})", id, dir);
            }
            // Items page each line of the history once, in both directions.
            let history: Vec<RolloutLine> = self
                .store
                .load_history(threadstore::LoadThreadHistoryParams::new(*id))
                .await
                .map_err(|e| TestCaseError::fail(format!("history: {e}")))?
                .items;
            let mut asc = Vec::new();
            let mut cursor = None;
            loop {
                let page = self
                    .store
                    .list_items(ListItemsParams {
                        cursor,
                        page_size: 4,
                        ..ListItemsParams::new(*id)
                    })
                    .await
                    .map_err(|e| TestCaseError::fail(format!("items: {e}")))?;
                asc.extend(page.items.into_iter().map(|i| i.line));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            prop_assert_eq!(asc.len(), history.len(), "items of {}", id);
            prop_assert!(asc == history, "items of {} differ from its history", id);
        }
        Ok(())
    }
}

async fn run(paginated: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = InMemoryThreadStore::default();
    let id = ThreadId::new();
    let mut header = json!({"id": id.to_string(), "cwd": "/repo"});
    if paginated {
        header["history_mode"] = json!("paginated");
    }
    store
        .create_thread(CreateThreadParams {
            thread_id: Some(id),
            history: vec![RolloutLine::now(RolloutItem::new("session_meta", &header))],
            ..Default::default()
        })
        .await
        .map_err(|e| TestCaseError::fail(format!("create: {e}")))?;
    let mut world = World {
        store,
        threads: vec![id],
        models: HashMap::from([(
            id,
            Model {
                paginated,
                ..Model::default()
            },
        )]),
        counter: 0,
    };
    for op in &ops {
        world.apply(op).await?;
        world.check().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_keep_their_view_and_verify_after_every_step() {
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        max_shrink_iters: 1024,
        ..Config::default()
    });
    let strategy = (any::<bool>(), prop::collection::vec(op(), 1..40));
    let result = tokio::task::block_in_place(|| {
        runner.run(&strategy, |(paginated, ops)| {
            handle.block_on(run(paginated, ops))
        })
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("property failed: {reason}\nminimal failing input: {value:#?}")
        }
        Err(e) => panic!("{e}"),
    }
}

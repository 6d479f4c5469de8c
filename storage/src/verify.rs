//! `verify`: checks every stored projection against a rebuild from the log and reports each
//! difference. The log is the truth; a difference means a projection is wrong, never the log.

use threadstore_api::{SortDirection, ThreadId, ThreadStoreError};

use crate::journal::{Journal, JournalMaintenance};
use crate::projection::rebuild::Builder;
use crate::StorageResult;

/// One projection that differs from its rebuild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The thread (`None` for an index entry that belongs to no thread).
    pub thread_id: Option<ThreadId>,
    /// What differs.
    pub what: String,
}

/// What `verify` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Threads checked.
    pub threads: u64,
    /// Log records replayed.
    pub items: u64,
    /// Differences found (empty when every projection matches).
    pub differences: Vec<Difference>,
}

/// Verifies one thread; appends its differences to `report`.
pub async fn verify_thread(
    journal: &dyn Journal,
    id: ThreadId,
    report: &mut VerifyReport,
) -> StorageResult<()> {
    let Some(stored) = journal.thread(id).await? else {
        return Ok(());
    };
    let mut diff = |what: String| {
        report.differences.push(Difference {
            thread_id: Some(id),
            what,
        })
    };
    let mut builder = Builder::default();
    let mut from = 0;
    loop {
        let chunk = journal
            .log_range(id, from, u64::MAX, SortDirection::Asc, 4096)
            .await?;
        let Some((last, _)) = chunk.last() else { break };
        from = last + 1;
        for (pos, rec) in &chunk {
            if *pos != builder.position() {
                diff(format!(
                    "log gap: expected position {}, found {pos}",
                    builder.position()
                ));
            }
            builder.push(rec);
        }
    }
    let mut rebuilt = builder.finish();
    report.threads += 1;
    report.items += rebuilt.next_position;
    rebuilt
        .meta
        .rollout_path
        .clone_from(&stored.meta.rollout_path);
    if rebuilt.next_position != stored.next_position {
        diff(format!(
            "next_position: stored {}, log has {}",
            stored.next_position, rebuilt.next_position
        ));
    }
    if rebuilt.meta != stored.meta {
        diff(format!(
            "metadata: stored {:?}, rebuilt {:?}",
            stored.meta, rebuilt.meta
        ));
    }
    if rebuilt.cursor != stored.turns {
        diff(format!(
            "turn state: stored {:?}, rebuilt {:?}",
            stored.turns, rebuilt.cursor
        ));
    }
    let turns = journal
        .turn_range(id, 0, u64::MAX, SortDirection::Asc, usize::MAX)
        .await?;
    let expected: Vec<_> = rebuilt.turns.values().cloned().collect();
    if turns != expected {
        diff(format!(
            "turns: stored {} turn records, rebuilt {} (first difference at seq {:?})",
            turns.len(),
            expected.len(),
            turns
                .iter()
                .zip(&expected)
                .find(|(a, b)| a != b)
                .map(|(a, _)| a.seq)
        ));
    }
    for (seq, positions) in &rebuilt.members {
        let stored_members = journal
            .turn_members(id, *seq, 0, u64::MAX, SortDirection::Asc, usize::MAX)
            .await?;
        if &stored_members != positions {
            diff(format!("members of turn seq {seq} differ"));
        }
    }
    let view: Vec<(u64, u64)> = journal
        .thread_item_page(id, 0, u64::MAX, SortDirection::Asc, usize::MAX)
        .await?
        .into_iter()
        .map(|(pos, seq, _)| (pos, seq))
        .collect();
    let rebuilt_view = rebuilt.item_view();
    if view != rebuilt_view {
        diff(format!(
            "item view: stored {} entries, rebuilt {}",
            view.len(),
            rebuilt_view.len()
        ));
    }
    Ok(())
}

/// Verifies every thread.
pub async fn verify(journal: &dyn JournalMaintenance) -> StorageResult<VerifyReport> {
    let mut report = VerifyReport::default();
    for id in journal.thread_ids().await? {
        // A damaged record is a finding about that thread, not the end of the check.
        match verify_thread(journal, id, &mut report).await {
            Ok(()) => {}
            Err(e @ ThreadStoreError::Corrupt { .. }) => report.differences.push(Difference {
                thread_id: Some(id),
                what: format!("unreadable record: {e}"),
            }),
            Err(e) => return Err(e),
        }
    }
    for (thread_id, what) in journal.index_problems().await? {
        report.differences.push(Difference { thread_id, what });
    }
    Ok(report)
}

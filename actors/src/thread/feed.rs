//! Which feed events a commit's turn changes produce.

use threadstore_api::FeedEventKind;
use threadstore_storage::TurnRecord;

/// Appends `TurnStarted` for turns opened in this commit (seq >= `first_new`) and
/// `TurnCompleted` for visible turns a `task_complete`/`turn_aborted` of this commit targeted.
pub fn turn_events(
    put: &[TurnRecord],
    first_new: u64,
    completed: &[u64],
    events: &mut Vec<FeedEventKind>,
) {
    for t in put.iter().filter(|t| t.seq >= first_new) {
        events.push(FeedEventKind::TurnStarted {
            turn_id: t.turn_id.clone(),
        });
    }
    let mut done: Vec<u64> = completed.to_vec();
    done.sort_unstable();
    done.dedup();
    for seq in done {
        if let Some(t) = put.iter().find(|t| t.seq == seq) {
            let mut summary: Vec<u64> = t.first_user.into_iter().chain(t.last_agent).collect();
            summary.sort_unstable();
            summary.dedup();
            events.push(FeedEventKind::TurnCompleted {
                turn_id: t.turn_id.clone(),
                status: t.status,
                summary_positions: summary,
                duration_ms: t.duration_ms,
            });
        }
    }
}

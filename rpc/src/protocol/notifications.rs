//! Codex's notifications of a change (`ServerNotification` in Codex's app-server schema): what
//! Codex's app-server sends after the answer to a change it makes. A pure function of the
//! method, its params and its answer, so a transport writes them right after that answer.
//!
//! | method | notification |
//! |---|---|
//! | `thread/archive` | `thread/archived {threadId}` |
//! | `thread/unarchive` | `thread/unarchived {threadId}` |
//! | `thread/delete` | `thread/deleted {threadId}` |
//! | `thread/name/set` | `thread/name/updated {threadId, threadName}` |
//! | `thread/revert` | `thread/reverted {threadId}` |
//! | `thread/fork` | `thread/started {thread}` (the fork) |
//!
//! The stdio transport sends them (a Codex client on stdio is the connection that made the
//! change, as with Codex's app-server). jsonrpsee's WebSocket server can send a connection
//! subscription notifications only, so over WebSocket the feed (`feed/subscribe`) carries the
//! same changes.

use serde_json::{json, Value};

use super::methods as m;

/// The methods whose answer Codex follows with a notification (the table above): a transport
/// looks at an answer only for these.
pub const NOTIFYING: [&str; 6] = [
    m::THREAD_ARCHIVE,
    m::THREAD_UNARCHIVE,
    m::THREAD_DELETE,
    m::THREAD_NAME_SET,
    m::THREAD_REVERT,
    m::THREAD_FORK,
];

/// The Codex notifications that follow the answer `result` to `method` with `params`; none for
/// a method that changes nothing Codex notifies of.
pub fn codex_notifications(method: &str, params: &Value, result: &Value) -> Vec<Value> {
    let thread_id = || {
        result
            .get("thread")
            .and_then(|t| t.get("id"))
            .or_else(|| params.get("threadId"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let notify =
        |name: &str, params: Value| json!({"jsonrpc": "2.0", "method": name, "params": params});
    match method {
        m::THREAD_ARCHIVE => vec![notify("thread/archived", json!({"threadId": thread_id()}))],
        m::THREAD_UNARCHIVE => {
            vec![notify(
                "thread/unarchived",
                json!({"threadId": thread_id()}),
            )]
        }
        m::THREAD_DELETE => vec![notify("thread/deleted", json!({"threadId": thread_id()}))],
        m::THREAD_NAME_SET => vec![notify(
            "thread/name/updated",
            json!({
                "threadId": thread_id(),
                "threadName": result.get("thread").and_then(|t| t.get("name")).cloned().unwrap_or(Value::Null),
            }),
        )],
        m::THREAD_REVERT => vec![notify("thread/reverted", json!({"threadId": thread_id()}))],
        m::THREAD_FORK => match result.get("thread") {
            Some(thread) => vec![notify("thread/started", json!({"thread": thread}))],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_names_its_thread_and_reads_change_nothing() {
        let id = "019e0000-0000-7000-8000-000000000001";
        let params = json!({"threadId": id});
        let answered = json!({"thread": {"id": id, "name": "Named"}});
        let method = |n: &Value| n["method"].as_str().unwrap_or_default().to_owned();
        for (call, name) in [
            (m::THREAD_ARCHIVE, "thread/archived"),
            (m::THREAD_UNARCHIVE, "thread/unarchived"),
            (m::THREAD_DELETE, "thread/deleted"),
            (m::THREAD_REVERT, "thread/reverted"),
        ] {
            let sent = codex_notifications(call, &params, &json!({}));
            assert_eq!(sent.len(), 1);
            assert_eq!(method(&sent[0]), name);
            assert_eq!(sent[0]["params"], json!({"threadId": id}));
        }
        let named = codex_notifications(m::THREAD_NAME_SET, &params, &answered);
        assert_eq!(
            named[0]["params"],
            json!({"threadId": id, "threadName": "Named"})
        );
        let forked = codex_notifications(m::THREAD_FORK, &params, &answered);
        assert_eq!(method(&forked[0]), "thread/started");
        assert_eq!(forked[0]["params"]["thread"]["id"], id);
        assert!(codex_notifications(m::THREAD_READ, &params, &answered).is_empty());
        for notifying in NOTIFYING {
            assert_eq!(
                codex_notifications(notifying, &params, &answered).len(),
                1,
                "{notifying}"
            );
        }
    }
}

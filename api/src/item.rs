//! Codex rollout items and lines, kept as raw JSON so nothing is lost.
//!
//! A Codex rollout line is `{"timestamp": "...", "ordinal"?: n, "type": "<kind>", "payload": {...}}`.
//! threadstore keeps the payload as the exact JSON text it was given: unknown kinds and unknown
//! payload fields survive a store round-trip, and the bincode records on disk never have to carry a
//! `serde_json::Value` (which bincode cannot decode).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::ThreadStoreError;

/// Well-known item kinds (the `type` of a rollout line).
pub mod kinds {
    /// Thread header: id, cwd, source, provider, git…
    pub const SESSION_META: &str = "session_meta";
    /// A Responses API item: messages, reasoning, tool calls and outputs.
    pub const RESPONSE_ITEM: &str = "response_item";
    /// An event: user/agent messages, task started/complete, token counts, errors…
    pub const EVENT_MSG: &str = "event_msg";
    /// Per-turn settings: model, effort, cwd, turn id.
    pub const TURN_CONTEXT: &str = "turn_context";
    /// A context compaction.
    pub const COMPACTED: &str = "compacted";
}

/// One rollout item: a kind and its payload, as the exact JSON text Codex wrote.
#[derive(Clone)]
pub struct RolloutItem {
    kind: String,
    /// Always valid JSON text (checked on construction).
    payload: String,
}

impl RolloutItem {
    /// Builds an item from a kind and the payload's JSON text (validated, kept verbatim).
    pub fn from_json_text(
        kind: impl Into<String>,
        payload: impl Into<String>,
    ) -> Result<Self, ThreadStoreError> {
        let kind = kind.into();
        if kind.is_empty() {
            return Err(ThreadStoreError::invalid(
                "rollout item kind must not be empty",
            ));
        }
        let payload = payload.into();
        serde_json::from_str::<&RawValue>(&payload)
            .map_err(|e| ThreadStoreError::invalid(format!("item payload is not JSON: {e}")))?;
        Ok(Self { kind, payload })
    }

    /// Builds an item from a kind and a JSON value.
    pub fn new(kind: impl Into<String>, payload: &serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            payload: payload.to_string(),
        }
    }

    /// An `event_msg` item with the given payload (which carries its own `type`).
    pub fn event_msg(payload: serde_json::Value) -> Self {
        Self::new(kinds::EVENT_MSG, &payload)
    }

    /// A `response_item` item with the given payload.
    pub fn response_item(payload: serde_json::Value) -> Self {
        Self::new(kinds::RESPONSE_ITEM, &payload)
    }

    /// `event_msg/user_message` with the given text, as Codex writes it.
    pub fn user_message(text: &str) -> Self {
        Self::event_msg(
            serde_json::json!({"type": "user_message", "message": text, "images": null, "local_images": [], "text_elements": []}),
        )
    }

    /// `event_msg/agent_message` with the given text.
    pub fn agent_message(text: &str) -> Self {
        Self::event_msg(serde_json::json!({"type": "agent_message", "message": text}))
    }

    /// A `response_item` message with the given role (`user`, `assistant`, `developer`).
    pub fn message(role: &str, text: &str) -> Self {
        let part = if role == "assistant" {
            "output_text"
        } else {
            "input_text"
        };
        Self::response_item(
            serde_json::json!({"type": "message", "role": role, "content": [{"type": part, "text": text}]}),
        )
    }

    /// `event_msg/task_started` opening the explicit turn `turn_id`.
    pub fn task_started(turn_id: &str) -> Self {
        Self::event_msg(serde_json::json!({"type": "task_started", "turn_id": turn_id}))
    }

    /// `event_msg/task_complete` completing the turn `turn_id`.
    pub fn task_complete(turn_id: &str, last_agent_message: Option<&str>) -> Self {
        Self::event_msg(
            serde_json::json!({"type": "task_complete", "turn_id": turn_id, "last_agent_message": last_agent_message}),
        )
    }

    /// `event_msg/turn_aborted` for `turn_id` (or the current turn when `None`).
    pub fn turn_aborted(turn_id: Option<&str>, reason: &str) -> Self {
        Self::event_msg(
            serde_json::json!({"type": "turn_aborted", "turn_id": turn_id, "reason": reason}),
        )
    }

    /// The item's kind (`session_meta`, `response_item`, `event_msg`, `turn_context`, `compacted`, or any other).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The payload's JSON text, exactly as given.
    pub fn payload_json(&self) -> &str {
        &self.payload
    }

    /// The payload parsed into a JSON value.
    pub fn payload_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null)
    }

    /// The payload's own `type` field (e.g. `user_message` for an `event_msg`), if any.
    pub fn payload_type(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(rename = "type")]
            ty: Option<String>,
        }
        serde_json::from_str::<Probe>(&self.payload)
            .ok()
            .and_then(|p| p.ty)
    }

    /// Size of the item as stored (kind plus payload text), used for size limits.
    pub fn encoded_len(&self) -> usize {
        self.kind.len() + self.payload.len()
    }
}

impl PartialEq for RolloutItem {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.payload == other.payload
    }
}

impl Eq for RolloutItem {}

impl fmt::Debug for RolloutItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RolloutItem")
            .field("kind", &self.kind)
            .field("payload", &self.payload)
            .finish()
    }
}

#[derive(Serialize)]
struct ItemOut<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    payload: &'a RawValue,
}

#[derive(Deserialize)]
struct ItemIn {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<Box<RawValue>>,
}

fn payload_text(raw: Option<Box<RawValue>>) -> String {
    raw.map(|r| r.get().to_owned())
        .unwrap_or_else(|| "null".to_owned())
}

fn raw<E: serde::ser::Error>(text: &str) -> Result<&RawValue, E> {
    serde_json::from_str(text).map_err(E::custom)
}

impl Serialize for RolloutItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ItemOut {
            kind: &self.kind,
            payload: raw(&self.payload)?,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for RolloutItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = ItemIn::deserialize(d)?;
        if raw.kind.is_empty() {
            return Err(D::Error::custom("rollout item type must not be empty"));
        }
        Ok(Self {
            kind: raw.kind,
            payload: payload_text(raw.payload),
        })
    }
}

/// One line of a rollout: an item with the time it was recorded and Codex's optional ordinal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutLine {
    /// When the item was recorded (RFC 3339 UTC on the wire).
    pub timestamp: DateTime<Utc>,
    /// Codex's optional per-line ordinal (newer writers).
    pub ordinal: Option<u64>,
    /// The item.
    pub item: RolloutItem,
}

impl RolloutLine {
    /// A line recorded now.
    pub fn now(item: RolloutItem) -> Self {
        Self {
            timestamp: Utc::now(),
            ordinal: None,
            item,
        }
    }

    /// Parses one JSON line of an enveloped (post-August-2025) Codex rollout.
    pub fn from_json_line(line: &str) -> Result<Self, ThreadStoreError> {
        serde_json::from_str(line)
            .map_err(|e| ThreadStoreError::invalid(format!("not a rollout line: {e}")))
    }

    /// Writes the line as compact Codex JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Formats a timestamp the way Codex does: RFC 3339, milliseconds, `Z`; a time with digits
/// below the millisecond keeps them (so parsing and writing a line never changes its time).
pub fn format_timestamp(ts: &DateTime<Utc>) -> String {
    let format = if ts.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        SecondsFormat::Millis
    } else {
        SecondsFormat::AutoSi
    };
    ts.to_rfc3339_opts(format, true)
}

#[derive(Serialize)]
struct LineOut<'a> {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ordinal: Option<u64>,
    #[serde(rename = "type")]
    kind: &'a str,
    payload: &'a RawValue,
}

#[derive(Deserialize)]
struct LineIn {
    timestamp: String,
    #[serde(default)]
    ordinal: Option<u64>,
    #[serde(rename = "type")]
    kind: String,
    payload: Option<Box<RawValue>>,
}

impl Serialize for RolloutLine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LineOut {
            timestamp: format_timestamp(&self.timestamp),
            ordinal: self.ordinal,
            kind: &self.item.kind,
            payload: raw(&self.item.payload)?,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for RolloutLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = LineIn::deserialize(d)?;
        let timestamp = DateTime::parse_from_rfc3339(&raw.timestamp)
            .map_err(|e| D::Error::custom(format!("bad timestamp {:?}: {e}", raw.timestamp)))?
            .with_timezone(&Utc);
        if raw.kind.is_empty() {
            return Err(D::Error::custom("rollout line type must not be empty"));
        }
        Ok(Self {
            timestamp,
            ordinal: raw.ordinal,
            item: RolloutItem {
                kind: raw.kind,
                payload: payload_text(raw.payload),
            },
        })
    }
}

/// A line ordinal that does not increase: Codex numbers the lines of a rollout `0, 1, 2, …`, and
/// a duplicate or backwards ordinal means lines were lost, repeated or reordered on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrdinalOutOfOrder {
    /// Index (in the checked sequence) of the offending line.
    pub index: usize,
    /// Its ordinal.
    pub ordinal: u64,
    /// The ordinal it had to exceed: the latest one before it.
    pub previous: u64,
}

/// Checks that the ordinals present in `ordinals` strictly increase, starting after `previous`
/// (the latest ordinal already stored, if any). Lines without an ordinal (older writers) are
/// neither checked nor counted. Returns the first line that breaks the order.
pub fn check_ordinals(
    previous: Option<u64>,
    ordinals: impl IntoIterator<Item = Option<u64>>,
) -> Result<(), OrdinalOutOfOrder> {
    let mut last = previous;
    for (index, ordinal) in ordinals.into_iter().enumerate() {
        let Some(ordinal) = ordinal else { continue };
        if let Some(previous) = last {
            if ordinal <= previous {
                return Err(OrdinalOutOfOrder {
                    index,
                    ordinal,
                    previous,
                });
            }
        }
        last = Some(ordinal);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trips_unknown_kinds_and_fields() {
        let text = r#"{"timestamp":"2025-11-01T17:34:37.799Z","type":"future_kind","payload":{"z":1,"a":{"nested":[1,2,{"x":null}]},"unknown_field":"kept"}}"#;
        let line = RolloutLine::from_json_line(text).unwrap();
        assert_eq!(line.item.kind(), "future_kind");
        assert_eq!(line.to_json_line(), text);
    }

    #[test]
    fn sub_millisecond_timestamps_round_trip() {
        let text = r#"{"timestamp":"2025-11-01T17:34:41.8749Z","type":"x","payload":{}}"#;
        let line = RolloutLine::from_json_line(text).unwrap();
        assert_eq!(
            RolloutLine::from_json_line(&line.to_json_line()).unwrap(),
            line
        );
    }

    #[test]
    fn ordinal_is_kept_when_present() {
        let text = r#"{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":7,"type":"event_msg","payload":{"type":"agent_message","message":"hi"}}"#;
        let line = RolloutLine::from_json_line(text).unwrap();
        assert_eq!(line.ordinal, Some(7));
        assert_eq!(line.item.payload_type().as_deref(), Some("agent_message"));
        assert_eq!(line.to_json_line(), text);
    }

    #[test]
    fn bad_lines_are_typed_errors() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"timestamp":"x","type":"a","payload":{}}"#,
            r#"{"timestamp":"2026-01-01T00:00:00Z","type":"","payload":{}}"#,
        ] {
            assert!(
                matches!(
                    RolloutLine::from_json_line(bad),
                    Err(ThreadStoreError::InvalidRequest { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn item_serializes_as_codex_shape() {
        let item = RolloutItem::user_message("hello");
        let v = serde_json::to_value(&item).unwrap();
        assert_eq!(v["type"], "event_msg");
        assert_eq!(v["payload"]["message"], "hello");
        let back: RolloutItem = serde_json::from_value(v).unwrap();
        assert_eq!(back.payload_value()["type"], "user_message");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_text_never_panics(text in ".{0,200}") {
                let _ = RolloutLine::from_json_line(&text);
            }

            #[test]
            fn parsed_lines_round_trip(
                kind in "[a-z_]{1,12}",
                key in "[a-z]{1,6}",
                value in proptest::num::i64::ANY,
                text in ".{0,40}",
                ordinal in proptest::option::of(0u64..1_000_000),
                ms in 0i64..4_000_000_000_000,
            ) {
                let payload = serde_json::json!({ key.clone(): value, "text": text });
                let line = RolloutLine {
                    timestamp: chrono::DateTime::from_timestamp_millis(ms).unwrap(),
                    ordinal,
                    item: RolloutItem::new(kind, &payload),
                };
                let back = RolloutLine::from_json_line(&line.to_json_line()).unwrap();
                prop_assert_eq!(back, line);
            }

            #[test]
            fn truncated_lines_are_errors_not_panics(cut in 0usize..120) {
                let full = r#"{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"hello world"}}"#;
                let cut = cut.min(full.len() - 1);
                prop_assert!(RolloutLine::from_json_line(&full[..cut]).is_err());
            }
        }
    }

    #[test]
    fn ordinals_must_increase_where_present() {
        assert_eq!(
            check_ordinals(None, [Some(0), None, Some(1), Some(5)]),
            Ok(())
        );
        assert_eq!(check_ordinals(Some(4), [Some(5), Some(6)]), Ok(()));
        assert_eq!(check_ordinals(Some(4), [None, None]), Ok(()));
        assert_eq!(
            check_ordinals(None, [Some(0), Some(1), None, Some(1)]),
            Err(OrdinalOutOfOrder {
                index: 3,
                ordinal: 1,
                previous: 1
            })
        );
        assert_eq!(
            check_ordinals(Some(9), [Some(8)]),
            Err(OrdinalOutOfOrder {
                index: 0,
                ordinal: 8,
                previous: 9
            })
        );
    }
}

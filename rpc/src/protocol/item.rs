//! The item object: the Codex rollout line object as stored (`{timestamp, ordinal?, type,
//! payload}`) plus its `position` in the thread's log. The payload is passed through as the
//! exact JSON text the store holds, both ways.

use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use threadstore_api::item::format_timestamp;
use threadstore_api::{RolloutItem, RolloutLine, StoredItem};

/// An item with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Item(
    /// The item as the store returns it.
    pub StoredItem,
);

#[derive(Serialize)]
struct ItemOut<'a> {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ordinal: Option<u64>,
    #[serde(rename = "type")]
    kind: &'a str,
    payload: &'a RawValue,
    position: u64,
}

#[derive(Deserialize)]
struct ItemIn {
    timestamp: String,
    #[serde(default)]
    ordinal: Option<u64>,
    #[serde(rename = "type")]
    kind: String,
    payload: Option<Box<RawValue>>,
    position: u64,
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let line = &self.0.line;
        let payload: &RawValue =
            serde_json::from_str(line.item.payload_json()).map_err(serde::ser::Error::custom)?;
        ItemOut {
            timestamp: format_timestamp(&line.timestamp),
            ordinal: line.ordinal,
            kind: line.item.kind(),
            payload,
            position: self.0.position,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = ItemIn::deserialize(d)?;
        let timestamp: DateTime<Utc> = DateTime::parse_from_rfc3339(&raw.timestamp)
            .map_err(|e| D::Error::custom(format!("bad timestamp {:?}: {e}", raw.timestamp)))?
            .with_timezone(&Utc);
        let payload = raw.payload.as_deref().map_or("null", RawValue::get);
        let item = RolloutItem::from_json_text(raw.kind, payload).map_err(D::Error::custom)?;
        Ok(Self(StoredItem {
            position: raw.position,
            line: RolloutLine {
                timestamp,
                ordinal: raw.ordinal,
                item,
            },
        }))
    }
}

impl From<&StoredItem> for Item {
    fn from(i: &StoredItem) -> Self {
        Self(i.clone())
    }
}

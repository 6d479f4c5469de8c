//! The record codec: `[version: u8][bincode 2 (standard config) body]`.
//!
//! One configuration for every record, defined once here. Arbitrary JSON never reaches bincode as a
//! `serde_json::Value` (bincode cannot decode it): records carry JSON as text. Anything that does not
//! decode — wrong version, truncated or random bytes, trailing garbage — is `Corrupt`, never a panic.

use serde::de::DeserializeOwned;
use serde::Serialize;
use threadstore_api::{ThreadId, ThreadStoreError};

/// Version byte of every record written by this build.
pub const RECORD_VERSION: u8 = 1;

/// Upper bound on one decoded record (guards allocations on corrupt length prefixes): the
/// largest item allowed plus room for its envelope.
pub const MAX_RECORD_BYTES: usize = 40 * 1024 * 1024;

/// Upper bound for small values decoded from outside input (cursors).
pub const MAX_SMALL_BYTES: usize = 4096;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD_BYTES>()
}

fn small_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_SMALL_BYTES>()
}

/// Encodes a record with the current version byte.
pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, ThreadStoreError> {
    let mut out = vec![RECORD_VERSION];
    bincode::serde::encode_into_std_write(record, &mut out, config())
        .map_err(|e| ThreadStoreError::internal(format!("record encoding failed: {e}")))?;
    Ok(out)
}

/// Decodes a small value from outside input (a cursor): allocations are capped at
/// [`MAX_SMALL_BYTES`], so a forged length prefix cannot make it allocate much.
pub fn decode_small<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ThreadStoreError> {
    let corrupt = |message: String| ThreadStoreError::Corrupt {
        thread_id: None,
        position: None,
        message,
    };
    let (version, body) = bytes
        .split_first()
        .ok_or_else(|| corrupt("empty record".into()))?;
    if *version != RECORD_VERSION || body.len() > MAX_SMALL_BYTES {
        return Err(corrupt("not a small record of this version".into()));
    }
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(body, small_config())
        .map_err(|e| corrupt(format!("undecodable record: {e}")))?;
    if used != body.len() {
        return Err(corrupt("trailing bytes after record".into()));
    }
    Ok(value)
}

/// Decodes a record; `thread` and `position` only label the error.
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    thread: Option<ThreadId>,
    position: Option<u64>,
) -> Result<T, ThreadStoreError> {
    let corrupt = |message: String| ThreadStoreError::Corrupt {
        thread_id: thread,
        position,
        message,
    };
    let (version, body) = bytes
        .split_first()
        .ok_or_else(|| corrupt("empty record".into()))?;
    if *version != RECORD_VERSION {
        return Err(corrupt(format!("unknown record version {version}")));
    }
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| corrupt(format!("undecodable record: {e}")))?;
    if used != body.len() {
        return Err(corrupt(format!(
            "{} trailing bytes after record",
            body.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{LogRecord, ThreadRecord, TurnRecord};
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let rec = LogRecord {
            ts_ms: 1_700_000_000_123,
            ordinal: Some(3),
            kind: "event_msg".into(),
            payload: r#"{"type":"user_message","message":"hi"}"#.into(),
            sub_ms_nanos: 900,
        };
        let bytes = encode(&rec).unwrap();
        assert_eq!(decode::<LogRecord>(&bytes, None, None).unwrap(), rec);
    }

    #[test]
    fn wrong_version_and_trailing_bytes_are_corrupt() {
        let rec = LogRecord::default();
        let mut bytes = encode(&rec).unwrap();
        bytes[0] = 9;
        assert!(matches!(
            decode::<LogRecord>(&bytes, None, Some(4)),
            Err(ThreadStoreError::Corrupt {
                position: Some(4),
                ..
            })
        ));
        let mut bytes = encode(&rec).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode::<LogRecord>(&bytes, None, None),
            Err(ThreadStoreError::Corrupt { .. })
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode::<LogRecord>(&bytes, None, None);
            let _ = decode::<ThreadRecord>(&bytes, None, None);
            let _ = decode::<TurnRecord>(&bytes, None, None);
        }

        #[test]
        fn truncated_records_are_corrupt(text in ".{0,64}", cut in 0usize..64) {
            let rec = LogRecord { ts_ms: 1, ordinal: None, kind: "k".into(), payload: text, sub_ms_nanos: 0 };
            let bytes = encode(&rec).unwrap();
            let cut = cut.min(bytes.len().saturating_sub(1));
            let is_corrupt = matches!(decode::<LogRecord>(&bytes[..cut], None, None), Err(ThreadStoreError::Corrupt { .. }));
            prop_assert!(is_corrupt);
        }
    }
}

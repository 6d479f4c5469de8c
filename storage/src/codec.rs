//! The record codec: `[version: u8][body]`, where the body is bincode 2 (standard config), plain
//! (version 1) or LZ4-compressed (version 2: `[uncompressed length: u32 LE][LZ4 block]`).
//!
//! One configuration for every record, defined once here. Arbitrary JSON never reaches bincode as a
//! `serde_json::Value` (bincode cannot decode it): records carry JSON as text. Anything that does not
//! decode — wrong version, truncated or random bytes, trailing garbage, a compressed body whose
//! stated length is over the limit or does not match — is `Corrupt`, never a panic.
//!
//! **Compression**: a body of at least [`COMPRESS_MIN_BYTES`] is stored LZ4-compressed when that
//! is smaller. Rollout lines are JSON text; compressing them shrinks what sled copies and writes
//! per append and the store's footprint (issue 6, W9). LZ4 rather than zstd, by measurement: zstd
//! level 1 made 10,000-item `load_history` 3× slower (8.6 → 25.9 ms; a fresh entropy-table setup
//! per ~600-byte frame) for ~12% less disk. Records written as version 1 stay readable. Cursors,
//! which leave the process, are always plain and small ([`encode_small`]).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;
use threadstore_api::{ThreadId, ThreadStoreError};

/// Version byte of a plain record (and of every cursor).
pub const RECORD_VERSION: u8 = 1;

/// Version byte of a record whose bincode body is LZ4-compressed, after its length.
pub const COMPRESSED_VERSION: u8 = 2;

/// Bodies shorter than this are stored plain: short texts barely compress.
pub const COMPRESS_MIN_BYTES: usize = 256;

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

/// Encodes a record: plain, or LZ4-compressed when the body is large and compresses.
pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, ThreadStoreError> {
    let plain = encode_small(record)?;
    let body = &plain[1..];
    if body.len() < COMPRESS_MIN_BYTES {
        return Ok(plain);
    }
    let Ok(len) = u32::try_from(body.len()) else {
        return Ok(plain);
    };
    let mut out = vec![0u8; 5 + lz4_flex::block::get_maximum_output_size(body.len())];
    out[0] = COMPRESSED_VERSION;
    out[1..5].copy_from_slice(&len.to_le_bytes());
    match lz4_flex::block::compress_into(body, &mut out[5..]) {
        Ok(n) if 5 + n < plain.len() => {
            out.truncate(5 + n);
            Ok(out)
        }
        // Incompressible (or the buffer was somehow short): the plain record is always valid.
        _ => Ok(plain),
    }
}

/// Encodes a record plain (version 1): cursors, and bodies too small to compress.
pub fn encode_small<T: Serialize>(record: &T) -> Result<Vec<u8>, ThreadStoreError> {
    let mut out = vec![RECORD_VERSION];
    bincode::serde::encode_into_std_write(record, &mut out, config())
        .map_err(|e| ThreadStoreError::internal(format!("record encoding failed: {e}")))?;
    // The encode cap equals the decode cap: a record that could not be read back is never written.
    if out.len() - 1 > MAX_RECORD_BYTES {
        return Err(ThreadStoreError::invalid(format!(
            "a record of {} bytes is over the cap of {MAX_RECORD_BYTES} bytes; nothing was written",
            out.len() - 1
        )));
    }
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
    let body = match *version {
        RECORD_VERSION => Cow::Borrowed(body),
        COMPRESSED_VERSION => Cow::Owned(decompress(body).map_err(corrupt)?),
        other => return Err(corrupt(format!("unknown record version {other}"))),
    };
    let body = body.as_ref();
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

/// Inflates a version-2 body. Its stated length must be within [`MAX_RECORD_BYTES`] (checked
/// before allocating) and must be exactly what the block inflates to.
fn decompress(body: &[u8]) -> Result<Vec<u8>, String> {
    let (len, block) = body
        .split_first_chunk::<4>()
        .ok_or_else(|| "compressed record without its length".to_owned())?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > MAX_RECORD_BYTES {
        return Err(format!("compressed record states {len} bytes"));
    }
    let mut out = vec![0u8; len];
    let n = lz4_flex::block::decompress_into(block, &mut out)
        .map_err(|e| format!("undecompressable record: {e}"))?;
    if n != len {
        return Err(format!(
            "compressed record inflated to {n} bytes, its header states {len}"
        ));
    }
    Ok(out)
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

    fn big_line() -> LogRecord {
        LogRecord {
            ts_ms: 1,
            ordinal: None,
            kind: "response_item".into(),
            payload: format!(
                r#"{{"type":"message","role":"assistant","content":[{{"type":"output_text","text":"{}"}}]}}"#,
                "the quick brown fox jumps over the lazy dog. ".repeat(30)
            ),
            sub_ms_nanos: 0,
        }
    }

    #[test]
    fn large_records_are_compressed_and_round_trip() {
        let rec = big_line();
        let bytes = encode(&rec).unwrap();
        assert_eq!(bytes[0], COMPRESSED_VERSION);
        assert!(bytes.len() * 2 < rec.payload.len(), "{} bytes", bytes.len());
        assert_eq!(decode::<LogRecord>(&bytes, None, None).unwrap(), rec);
        // Small records stay plain (frame overhead would make them bigger).
        let small = encode(&LogRecord::default()).unwrap();
        assert_eq!(small[0], RECORD_VERSION);
    }

    #[test]
    fn plain_version_one_records_stay_readable() {
        let rec = big_line();
        let plain = encode_small(&rec).unwrap();
        assert_eq!(plain[0], RECORD_VERSION);
        assert_eq!(decode::<LogRecord>(&plain, None, None).unwrap(), rec);
    }

    #[test]
    fn corrupt_compressed_records_are_corrupt() {
        let mut bytes = encode(&big_line()).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0xff;
        bytes.truncate(n - 3);
        assert!(matches!(
            decode::<LogRecord>(&bytes, None, Some(7)),
            Err(ThreadStoreError::Corrupt {
                position: Some(7),
                ..
            })
        ));
        // A frame claiming a huge size is refused before any allocation.
        let mut huge = vec![COMPRESSED_VERSION];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&[0u8; 8]);
        let err = decode::<LogRecord>(&huge, None, None).unwrap_err();
        assert!(err.to_string().contains("states"), "{err}");
        // A compressed record is never accepted where a small plain one is expected.
        assert!(decode_small::<LogRecord>(&encode(&big_line()).unwrap()).is_err());
    }

    proptest! {
        #[test]
        fn compressed_round_trip(text in ".{256,2048}") {
            let rec = LogRecord { ts_ms: 5, ordinal: Some(1), kind: "k".into(), payload: text, sub_ms_nanos: 1 };
            let bytes = encode(&rec).unwrap();
            prop_assert_eq!(decode::<LogRecord>(&bytes, None, None).unwrap(), rec);
        }

        #[test]
        fn random_compressed_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut framed = vec![COMPRESSED_VERSION];
            framed.extend(bytes);
            let _ = decode::<LogRecord>(&framed, None, None);
        }

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

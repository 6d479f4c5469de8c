//! The record codec: `[version: u8][body]`, where the body is bincode 2 (standard config), plain
//! (version 1) or as one zstd frame (version 2).
//!
//! One configuration for every record, defined once here. Arbitrary JSON never reaches bincode as a
//! `serde_json::Value` (bincode cannot decode it): records carry JSON as text. Anything that does not
//! decode — wrong version, truncated or random bytes, trailing garbage, a zstd frame that does not
//! state its size or states one over the limit — is `Corrupt`, never a panic.
//!
//! **Compression**: a body of at least [`COMPRESS_MIN_BYTES`] is stored as a zstd frame (level
//! [`ZSTD_LEVEL`]) when that is smaller. Rollout lines are JSON text and shrink about 2×, which
//! shrinks everything sled copies and writes per append (node rewrites, log buffers) and the
//! store's footprint (issue 6, W9). Records written as version 1 stay readable. Cursors, which
//! leave the process, are always plain and small ([`encode_small`]).

use std::borrow::Cow;
use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;
use threadstore_api::{ThreadId, ThreadStoreError};

/// Version byte of a plain record (and of every cursor).
pub const RECORD_VERSION: u8 = 1;

/// Version byte of a record whose bincode body is one zstd frame.
pub const COMPRESSED_VERSION: u8 = 2;

/// Bodies shorter than this are stored plain: zstd's frame overhead eats the gain.
pub const COMPRESS_MIN_BYTES: usize = 256;

/// zstd level: the fastest standard level; higher levels cost CPU on every append for a few
/// percent of size.
pub const ZSTD_LEVEL: i32 = 1;

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

thread_local! {
    /// One zstd context per thread, reused: creating a context per record costs more than
    /// compressing a 1 KiB line.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Encodes a record: plain, or zstd-compressed when the body is large and compresses.
pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, ThreadStoreError> {
    let plain = encode_small(record)?;
    let body = &plain[1..];
    if body.len() < COMPRESS_MIN_BYTES {
        return Ok(plain);
    }
    let compressed = COMPRESSOR.with(|cell| -> std::io::Result<Vec<u8>> {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
        };
        let frame = compressor.compress(body)?;
        let mut out = Vec::with_capacity(frame.len() + 1);
        out.push(COMPRESSED_VERSION);
        out.extend_from_slice(&frame);
        Ok(out)
    });
    match compressed {
        Ok(out) if out.len() < plain.len() => Ok(out),
        // Incompressible, or zstd failed: the plain record is always valid.
        _ => Ok(plain),
    }
}

/// Encodes a record plain (version 1): cursors, and bodies too small to compress.
pub fn encode_small<T: Serialize>(record: &T) -> Result<Vec<u8>, ThreadStoreError> {
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

thread_local! {
    /// One zstd decompression context per thread, reused like the compressor.
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Inflates a version-2 body. The frame must state its content size (ours always do) and that
/// size must be within [`MAX_RECORD_BYTES`], so a corrupt frame cannot make it allocate much.
fn decompress(frame: &[u8]) -> Result<Vec<u8>, String> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= MAX_RECORD_BYTES as u64 => size as usize,
        Ok(Some(size)) => return Err(format!("compressed record states {size} bytes")),
        Ok(None) | Err(_) => return Err("compressed record without a valid frame header".into()),
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?),
        };
        let out = decompressor
            .decompress(frame, size)
            .map_err(|e| format!("undecompressable record: {e}"))?;
        if out.len() != size {
            return Err(format!(
                "compressed record inflated to {} bytes, its frame states {size}",
                out.len()
            ));
        }
        Ok(out)
    })
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
        // (zstd magic, a single-segment header with an 8-byte content size of 2^62.)
        let mut huge = vec![COMPRESSED_VERSION, 0x28, 0xB5, 0x2F, 0xFD, 0xE0];
        huge.extend_from_slice(&(1u64 << 62).to_le_bytes());
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

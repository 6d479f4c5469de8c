//! The one mapping between `ThreadStoreError` and JSON-RPC errors, both ways.
//!
//! Every store error becomes a JSON-RPC error whose `message` is the error's text and whose
//! `data` names the variant and carries its fields, e.g.
//! `{"error": "StaleWriter", "threadId": "…", "epoch": 1, "currentEpoch": 2}`, so a client maps
//! it back to the same variant. Codes follow Codex's app-server where it has one:
//!
//! | code | errors |
//! |---|---|
//! | `-32600` | `InvalidRequest` (bad params too), `ThreadNotFound`, `Conflict`, `Archived`, `StaleWriter` |
//! | `-32601` | unknown method; `Unsupported` |
//! | `-32001` | `ResourceExhausted` (Codex's "overloaded") |
//! | `-32603` | `Internal`, `Corrupt`, `Poisoned`, `Locked` |
//! | `-32700` | the message is not JSON (no `data`) |
//! | `-32007` | the message is over the size limit (no `data`) |

use std::path::PathBuf;

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use serde::{Deserialize, Serialize};
use threadstore_api::{ThreadId, ThreadStoreError};

/// Bad request: invalid params or a request the store refuses as it stands.
pub const INVALID_REQUEST: i32 = -32600;
/// Unknown method, or an operation the backend does not support.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// A failure inside the store or the server.
pub const INTERNAL_ERROR: i32 = -32603;
/// The message is not JSON.
pub const PARSE_ERROR: i32 = -32700;
/// A limit was hit: back off and retry.
pub const RESOURCE_EXHAUSTED: i32 = -32001;
/// The message is bigger than the server's `--max-message-bytes`.
pub const OVERSIZED_REQUEST: i32 = -32007;

/// The `data` object of a store error: the variant name under `error` and its fields in camelCase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all_fields = "camelCase")]
pub enum ErrorData {
    /// `ThreadStoreError::ThreadNotFound`.
    ThreadNotFound {
        /// The thread.
        thread_id: ThreadId,
    },
    /// `ThreadStoreError::InvalidRequest`.
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// `ThreadStoreError::Conflict`.
    Conflict {
        /// What conflicted.
        message: String,
        /// For an expected-position mismatch, the real next position.
        actual_position: Option<u64>,
    },
    /// `ThreadStoreError::Unsupported`.
    Unsupported {
        /// The operation.
        operation: String,
    },
    /// `ThreadStoreError::ResourceExhausted`.
    ResourceExhausted {
        /// Which limit.
        message: String,
    },
    /// `ThreadStoreError::Internal`.
    Internal {
        /// What failed.
        message: String,
    },
    /// `ThreadStoreError::Archived`.
    Archived {
        /// The thread.
        thread_id: ThreadId,
    },
    /// `ThreadStoreError::StaleWriter`.
    StaleWriter {
        /// The thread.
        thread_id: ThreadId,
        /// The epoch presented.
        epoch: u64,
        /// The current epoch.
        current_epoch: u64,
    },
    /// `ThreadStoreError::Corrupt`.
    Corrupt {
        /// Thread of the record, when known.
        thread_id: Option<ThreadId>,
        /// Position of the record, when known.
        position: Option<u64>,
        /// Decoder message.
        message: String,
    },
    /// `ThreadStoreError::Poisoned`.
    Poisoned {
        /// The failure that poisoned the store.
        message: String,
    },
    /// `ThreadStoreError::Locked`.
    Locked {
        /// The data directory.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
}

impl From<&ThreadStoreError> for ErrorData {
    fn from(e: &ThreadStoreError) -> Self {
        use ThreadStoreError as E;
        match e.clone() {
            E::ThreadNotFound { thread_id } => Self::ThreadNotFound { thread_id },
            E::InvalidRequest { message } => Self::InvalidRequest { message },
            E::Conflict {
                message,
                actual_position,
            } => Self::Conflict {
                message,
                actual_position,
            },
            E::Unsupported { operation } => Self::Unsupported { operation },
            E::ResourceExhausted { message } => Self::ResourceExhausted { message },
            E::Internal { message } => Self::Internal { message },
            E::Archived { thread_id } => Self::Archived { thread_id },
            E::StaleWriter {
                thread_id,
                epoch,
                current_epoch,
            } => Self::StaleWriter {
                thread_id,
                epoch,
                current_epoch,
            },
            E::Corrupt {
                thread_id,
                position,
                message,
            } => Self::Corrupt {
                thread_id,
                position,
                message,
            },
            E::Poisoned { message } => Self::Poisoned { message },
            E::Locked { path, message } => Self::Locked { path, message },
            other => Self::Internal {
                message: other.to_string(),
            },
        }
    }
}

impl From<ErrorData> for ThreadStoreError {
    fn from(d: ErrorData) -> Self {
        use ErrorData as D;
        match d {
            D::ThreadNotFound { thread_id } => Self::ThreadNotFound { thread_id },
            D::InvalidRequest { message } => Self::InvalidRequest { message },
            D::Conflict {
                message,
                actual_position,
            } => Self::Conflict {
                message,
                actual_position,
            },
            D::Unsupported { operation } => Self::Unsupported { operation },
            D::ResourceExhausted { message } => Self::ResourceExhausted { message },
            D::Internal { message } => Self::Internal { message },
            D::Archived { thread_id } => Self::Archived { thread_id },
            D::StaleWriter {
                thread_id,
                epoch,
                current_epoch,
            } => Self::StaleWriter {
                thread_id,
                epoch,
                current_epoch,
            },
            D::Corrupt {
                thread_id,
                position,
                message,
            } => Self::Corrupt {
                thread_id,
                position,
                message,
            },
            D::Poisoned { message } => Self::Poisoned { message },
            D::Locked { path, message } => Self::Locked { path, message },
        }
    }
}

/// The JSON-RPC code of a store error (see the module table).
pub fn code_of(e: &ThreadStoreError) -> i32 {
    use ThreadStoreError as E;
    match e {
        E::InvalidRequest { .. }
        | E::ThreadNotFound { .. }
        | E::Conflict { .. }
        | E::Archived { .. }
        | E::StaleWriter { .. } => INVALID_REQUEST,
        E::Unsupported { .. } => METHOD_NOT_FOUND,
        E::ResourceExhausted { .. } => RESOURCE_EXHAUSTED,
        _ => INTERNAL_ERROR,
    }
}

/// A store error as a JSON-RPC error object: code, the error's text, and [`ErrorData`].
pub fn to_error_object(e: &ThreadStoreError) -> ErrorObjectOwned {
    ErrorObject::owned(code_of(e), e.to_string(), Some(ErrorData::from(e)))
}

/// Maps a JSON-RPC error back to the store error: through its `data` when it names one, else by
/// code (`-32601` is `Unsupported { operation: method }`, `-32007` and `-32001`
/// `ResourceExhausted`, `-32600`/`-32602`/`-32700` `InvalidRequest`, anything else `Internal`).
pub fn from_error_object(method: &str, e: &ErrorObject<'_>) -> ThreadStoreError {
    if let Some(data) = e
        .data()
        .and_then(|d| serde_json::from_str::<ErrorData>(d.get()).ok())
    {
        return data.into();
    }
    let message = format!("{method}: {} (JSON-RPC error {})", e.message(), e.code());
    match e.code() {
        METHOD_NOT_FOUND => ThreadStoreError::Unsupported {
            operation: method.to_owned(),
        },
        OVERSIZED_REQUEST | RESOURCE_EXHAUSTED => ThreadStoreError::ResourceExhausted { message },
        INVALID_REQUEST | PARSE_ERROR | -32602 => ThreadStoreError::InvalidRequest { message },
        _ => ThreadStoreError::Internal { message },
    }
}

/// The error for params that do not deserialize: `InvalidRequest` naming the method.
pub fn invalid_params(method: &str, e: impl std::fmt::Display) -> ThreadStoreError {
    ThreadStoreError::invalid(format!("invalid params for {method}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_an_error_object() {
        let id = ThreadId::new();
        let errors = vec![
            ThreadStoreError::ThreadNotFound { thread_id: id },
            ThreadStoreError::invalid("bad cursor"),
            ThreadStoreError::Conflict {
                message: "expected 3".into(),
                actual_position: Some(4),
            },
            ThreadStoreError::Unsupported {
                operation: "list_turns".into(),
            },
            ThreadStoreError::ResourceExhausted {
                message: "mailbox".into(),
            },
            ThreadStoreError::internal("io"),
            ThreadStoreError::Archived { thread_id: id },
            ThreadStoreError::StaleWriter {
                thread_id: id,
                epoch: 1,
                current_epoch: 2,
            },
            ThreadStoreError::Corrupt {
                thread_id: Some(id),
                position: Some(7),
                message: "bad".into(),
            },
            ThreadStoreError::Poisoned {
                message: "fsync".into(),
            },
            ThreadStoreError::Locked {
                path: "/tmp/x".into(),
                message: "busy".into(),
            },
        ];
        for e in errors {
            let object = to_error_object(&e);
            let text = serde_json::to_string(&object).unwrap();
            let back: ErrorObjectOwned = serde_json::from_str(&text).unwrap();
            assert_eq!(from_error_object("m", &back), e, "{text}");
        }
        let data = serde_json::to_value(ErrorData::from(&ThreadStoreError::StaleWriter {
            thread_id: id,
            epoch: 1,
            current_epoch: 2,
        }))
        .unwrap();
        assert_eq!(data["error"], "StaleWriter");
        assert_eq!(data["currentEpoch"], 2);
        assert_eq!(data["threadId"], id.to_string());
    }
}

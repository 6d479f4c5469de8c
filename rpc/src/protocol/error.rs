//! The one mapping between `ThreadStoreError` and JSON-RPC errors, both ways.
//!
//! Every store error becomes a JSON-RPC error whose `message` is the error's text and whose
//! `data` names the variant and carries its fields, e.g.
//! `{"error": "StaleWriter", "threadId": "…", "epoch": 1, "currentEpoch": 2}`, so a client maps
//! it back to the same variant. Protocol errors the server raises before any method runs carry a
//! `data` object of the same form ([`ErrorData::MethodNotFound`], [`ErrorData::ParseError`],
//! [`ErrorData::MessageTooLarge`], and [`ErrorData::InvalidRequest`] for a message that is not
//! a JSON-RPC request). Codes follow Codex's app-server where it has one:
//!
//! | code | errors (`data.error`) |
//! |---|---|
//! | `-32600` | `InvalidRequest` (bad params or a malformed request too), `ThreadNotFound`, `Conflict`, `Archived`, `StaleWriter` |
//! | `-32601` | `MethodNotFound` (`method`); `Unsupported` |
//! | `-32001` | `ResourceExhausted` (Codex's "overloaded"), `Contended`, `Unavailable` |
//! | `-32603` | `Internal`, `Corrupt`, `Poisoned`, `Locked` |
//! | `-32700` | `ParseError`: the message is not JSON |
//! | `-32007` | `MessageTooLarge` (`maxMessageBytes`, `messageBytes`): over the size limit |
//!
//! Over WebSocket, three of these are produced inside jsonrpsee before the server's code sees the
//! message, and so come without the `data` object: `-32700` for a single message that is not
//! JSON, `-32600` for a single JSON object that is not a JSON-RPC request, and `-32007` for a
//! message over the limit (whose `data` is jsonrpsee's string `"Exceeded max limit of N"`). The
//! stdio transport sends the `data` object for all of them; see [`crate::server::ws`].

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

/// The `data` object of an error: the variant name under `error` and its fields in camelCase.
/// Most variants are `ThreadStoreError`'s; [`ErrorData::MethodNotFound`],
/// [`ErrorData::ParseError`] and [`ErrorData::MessageTooLarge`] are protocol errors the server
/// raises before any method runs.
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
    /// `ThreadStoreError::Contended`.
    Contended {
        /// The thread.
        thread_id: ThreadId,
    },
    /// `ThreadStoreError::Unavailable`.
    Unavailable {
        /// What failed.
        message: String,
    },
    /// `ThreadStoreError::Locked`.
    Locked {
        /// The data directory.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// The request names a method the server does not have (`-32601`); a client reads it as
    /// `ThreadStoreError::Unsupported`.
    MethodNotFound {
        /// The method asked for.
        method: String,
    },
    /// The message is not JSON (`-32700`); a client reads it as `ThreadStoreError::InvalidRequest`.
    ParseError {},
    /// The message is over the server's `--max-message-bytes` (`-32007`); a client reads it as
    /// `ThreadStoreError::ResourceExhausted`.
    MessageTooLarge {
        /// The server's limit, in bytes.
        max_message_bytes: u64,
        /// The size of the refused message, when the transport knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_bytes: Option<u64>,
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
            E::Contended { thread_id } => Self::Contended { thread_id },
            E::Unavailable { message } => Self::Unavailable { message },
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
            D::Contended { thread_id } => Self::Contended { thread_id },
            D::Unavailable { message } => Self::Unavailable { message },
            D::MethodNotFound { method } => Self::Unsupported { operation: method },
            D::ParseError {} => Self::invalid("the server could not parse the message as JSON"),
            D::MessageTooLarge {
                max_message_bytes,
                message_bytes,
            } => Self::ResourceExhausted {
                message: match message_bytes {
                    Some(n) => format!(
                        "message of {n} bytes is over the server's limit of {max_message_bytes} bytes"
                    ),
                    None => format!(
                        "message is over the server's limit of {max_message_bytes} bytes"
                    ),
                },
            },
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
        E::ResourceExhausted { .. } | E::Contended { .. } | E::Unavailable { .. } => {
            RESOURCE_EXHAUSTED
        }
        _ => INTERNAL_ERROR,
    }
}

/// A store error as a JSON-RPC error object: code, the error's text, and [`ErrorData`].
pub fn to_error_object(e: &ThreadStoreError) -> ErrorObjectOwned {
    ErrorObject::owned(code_of(e), e.to_string(), Some(ErrorData::from(e)))
}

/// [`to_error_object`] for an error of `method`, with advice that fits the call: an unknown
/// thread in a method that only reads it says to check the id, not to create or resume it.
pub fn to_error_object_of(method: &str, e: &ThreadStoreError) -> ErrorObjectOwned {
    match e {
        ThreadStoreError::ThreadNotFound { thread_id } if !writes_to_a_live_thread(method) => {
            ErrorObject::owned(
                code_of(e),
                format!(
                    "thread {thread_id} not found: check the id (thread/list lists the threads, archived ones with archived: true)"
                ),
                Some(ErrorData::from(e)),
            )
        }
        _ => to_error_object(e),
    }
}

/// Methods whose `ThreadNotFound` can mean "no live writer": their advice is to create or
/// resume the thread.
fn writes_to_a_live_thread(method: &str) -> bool {
    use super::methods as m;
    [
        m::THREAD_ITEMS_APPEND,
        m::THREAD_FLUSH,
        m::THREAD_SHUTDOWN,
        m::THREAD_PERSIST,
    ]
    .contains(&method)
}

/// `-32601` for a method the server does not have, with [`ErrorData::MethodNotFound`] data.
pub fn method_not_found(method: &str) -> ErrorObjectOwned {
    ErrorObject::owned(
        METHOD_NOT_FOUND,
        format!("Method not found: {method}"),
        Some(ErrorData::MethodNotFound {
            method: method.to_owned(),
        }),
    )
}

/// `-32700` for a message that is not JSON (`detail` says why), with [`ErrorData::ParseError`]
/// data.
pub fn parse_error(detail: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(
        PARSE_ERROR,
        format!("Parse error: {detail}"),
        Some(ErrorData::ParseError {}),
    )
}

/// `-32007` for a message over the limit, with [`ErrorData::MessageTooLarge`] data.
pub fn message_too_large(max_message_bytes: u64, message_bytes: Option<u64>) -> ErrorObjectOwned {
    let message = match message_bytes {
        Some(n) => format!(
            "Request is too big: {n} bytes, the limit is {max_message_bytes} (--max-message-bytes)"
        ),
        None => format!(
            "Request is too big: the limit is {max_message_bytes} bytes (--max-message-bytes)"
        ),
    };
    ErrorObject::owned(
        OVERSIZED_REQUEST,
        message,
        Some(ErrorData::MessageTooLarge {
            max_message_bytes,
            message_bytes,
        }),
    )
}

/// `-32600` for a message that is JSON but not a JSON-RPC 2.0 request (`why` says what is
/// wrong), with [`ErrorData::InvalidRequest`] data.
pub fn malformed_request(why: impl std::fmt::Display) -> ErrorObjectOwned {
    to_error_object(&ThreadStoreError::invalid(format!(
        "not a JSON-RPC 2.0 request: {why}"
    )))
}

/// Maps a JSON-RPC error back to the store error: through its `data` when it names one (the
/// protocol variants as [`ErrorData`] says), else by code (`-32601` is
/// `Unsupported { operation: method }`, `-32007` and `-32001` `ResourceExhausted`,
/// `-32600`/`-32602`/`-32700` `InvalidRequest`, anything else `Internal`).
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
    use serde_json::Value;

    #[test]
    fn an_unknown_thread_gets_advice_that_fits_the_call() {
        let e = ThreadStoreError::ThreadNotFound {
            thread_id: ThreadId::new(),
        };
        let read = to_error_object_of(super::super::methods::THREAD_READ, &e);
        assert!(
            read.message().contains("check the id"),
            "{}",
            read.message()
        );
        assert!(!read.message().contains("resume"), "{}", read.message());
        let append = to_error_object_of(super::super::methods::THREAD_ITEMS_APPEND, &e);
        assert!(
            append.message().contains("create or resume"),
            "{}",
            append.message()
        );
        // The typed error travels in `data` either way.
        assert_eq!(read.data().map(|d| d.get()), append.data().map(|d| d.get()));
    }

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
            ThreadStoreError::Contended { thread_id: id },
            ThreadStoreError::Unavailable {
                message: "connection refused".into(),
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

    #[test]
    fn protocol_errors_carry_typed_data_and_map_back() {
        let round_trip = |e: ErrorObjectOwned| -> (Value, ThreadStoreError) {
            let text = serde_json::to_string(&e).unwrap();
            let back: ErrorObjectOwned = serde_json::from_str(&text).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            (value, from_error_object("m", &back))
        };
        let (v, e) = round_trip(method_not_found("thread/frobnicate"));
        assert_eq!(v["code"], METHOD_NOT_FOUND);
        assert_eq!(
            v["data"],
            serde_json::json!({"error": "MethodNotFound", "method": "thread/frobnicate"})
        );
        assert!(v["message"].as_str().unwrap().contains("thread/frobnicate"));
        assert_eq!(
            e,
            ThreadStoreError::Unsupported {
                operation: "thread/frobnicate".into()
            }
        );

        let (v, e) = round_trip(parse_error("expected value"));
        assert_eq!(v["code"], PARSE_ERROR);
        assert_eq!(v["data"], serde_json::json!({"error": "ParseError"}));
        assert!(
            matches!(e, ThreadStoreError::InvalidRequest { .. }),
            "{e:?}"
        );

        let (v, e) = round_trip(message_too_large(4096, Some(5000)));
        assert_eq!(v["code"], OVERSIZED_REQUEST);
        assert_eq!(
            v["data"],
            serde_json::json!({"error": "MessageTooLarge", "maxMessageBytes": 4096, "messageBytes": 5000})
        );
        assert!(
            matches!(e, ThreadStoreError::ResourceExhausted { .. }),
            "{e:?}"
        );
        let (v, _) = round_trip(message_too_large(4096, None));
        assert_eq!(
            v["data"],
            serde_json::json!({"error": "MessageTooLarge", "maxMessageBytes": 4096})
        );

        let (v, e) = round_trip(malformed_request("\"method\" must be a string"));
        assert_eq!(v["code"], INVALID_REQUEST);
        assert_eq!(v["data"]["error"], "InvalidRequest");
        assert!(
            matches!(e, ThreadStoreError::InvalidRequest { .. }),
            "{e:?}"
        );
    }
}

//! Message size limits both ends of a connection agree on.

/// Default request size limit: 16 MiB (the server's `--max-message-bytes`).
pub const DEFAULT_MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;
/// Largest response: whole histories can be big, so far above the request limit.
pub const MAX_RESPONSE_BYTES: u32 = 1024 * 1024 * 1024;

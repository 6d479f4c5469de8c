//! The wire protocol, one concept per module: method names ([`methods`]), request params
//! ([`requests`]), results ([`results`]), the thread, turn, item and feed event objects
//! ([`thread`], [`turn`], [`item`], [`event`]), the session settings of resume and fork answers
//! ([`settings`]), the error mapping ([`error`]), the size limits ([`limits`]) and Codex's
//! notifications of a change ([`notifications`]). The server,
//! the client and the CLI's `--json` output all use these types, so their shapes cannot drift.

pub mod error;
pub mod event;
pub mod item;
pub mod limits;
pub mod methods;
pub mod notifications;
pub mod requests;
pub mod results;
pub mod settings;
pub mod thread;
pub mod turn;

pub use error::{from_error_object, to_error_object, ErrorData};
pub use event::event_json;
pub use item::Item;
pub use requests::*;
pub use results::*;
pub use settings::SessionSettings;
pub use thread::{GitInfoJson, Thread, ThreadTimes, TokenUsageJson};
pub use turn::{Turn, TurnError};

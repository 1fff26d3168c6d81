//! Wire types shared by the SimuTrador daemon (`simutrador-server`) and its client
//! (`simutrador-client`).
//!
//! Everything here is plain data with serde: the message envelope, every client→server and
//! server→client message, the wire error codes, and the session and market-data models — plus
//! [`simulation`], the execution model itself (a pure, deterministic engine: orders, fills,
//! books, metrics), because it is part of the contract between the two sides: the daemon runs
//! it authoritatively, and a client can run the same code to know a bar's fills without a
//! round trip. The crate does no I/O and has no async code, so both sides (and third-party
//! tools) can depend on it cheaply. `docs/protocol.md` shows every message as JSON; a test parses those examples with
//! these types so the document cannot drift from the code.

#![forbid(unsafe_code)]

pub mod columns;
pub mod dates;
pub mod decimal_text;
pub mod envelope;
pub mod error;
pub mod frame;
pub mod http;
pub mod lifecycle;
pub mod market;
pub mod messages;
pub mod results;
pub mod session;
pub mod simulation;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod time_text;
pub mod trading;

pub use envelope::{DecodeError, Envelope, decode_client_message};
pub use error::{ErrorBody, ErrorCode};
pub use market::{AssetClass, SymbolInfo, SymbolRange, Timeframe, TimeframeRange};
pub use messages::{ClientMessage, ServerMessage};
pub use session::{
    CreateSessionRequest, Plan, SessionInfo, SessionParams, SessionState, TerminationReason,
};

/// The protocol version this crate speaks; sent in `connection_ready`.
pub const PROTOCOL_VERSION: u32 = 2;

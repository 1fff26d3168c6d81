//! Wire types shared by the SimuTrador daemon (`simutrador-server`) and its client
//! (`simutrador-client`).
//!
//! Everything here is plain data with serde: the message envelope, every client→server and
//! server→client message, the wire error codes, and the session and market-data models, with
//! the engine settings and bars those messages carry ([`engine_config`], [`Candle`], [`Bar`]). The
//! execution model that acts on them lives in the `simutrador-engine` crate. This crate does
//! no I/O and has no async code, so both sides (and third-party tools) can depend on it
//! cheaply. `docs/protocol.md` shows every message as JSON; a test parses those examples with
//! these types so the document cannot drift from the code.

#![forbid(unsafe_code)]

pub mod candle;
pub mod columns;
pub mod dates;
pub mod decimal_text;
pub mod engine_config;
pub mod envelope;
pub mod error;
pub mod frame;
pub mod http;
pub mod lifecycle;
pub mod market;
pub mod messages;
pub mod results;
pub mod results_page;
pub mod session;
pub mod strategy_ref;
#[doc(hidden)]
pub mod test_rng;
pub mod time_text;
pub mod trading;
pub mod wire_text;

pub use candle::{Bar, Candle};
pub use envelope::{DecodeError, Envelope, decode_client_message};
pub use error::{ErrorBody, ErrorCode};
pub use market::{AssetClass, SymbolInfo, SymbolRange, Timeframe, TimeframeRange};
pub use messages::{ClientMessage, ServerMessage};
pub use session::{
    CreateSessionRequest, Plan, SessionInfo, SessionParams, SessionState, StrategyRef,
    TerminationReason,
};

/// The protocol version this crate speaks; sent in `connection_ready`.
pub const PROTOCOL_VERSION: u32 = 2;

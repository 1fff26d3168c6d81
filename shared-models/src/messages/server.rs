//! Payloads of server → client messages (other than the session and market-data models).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::market::SymbolInfo;
use crate::session::{Plan, SessionInfo, SessionParams};

/// The server's limits, told to every client on connect so it can check requests up front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerLimits {
    /// Sessions one user may hold at once.
    pub max_sessions_per_user: u32,
    /// Symbols one session may replay.
    pub max_symbols_per_session: u32,
    /// Smallest accepted `initial_capital`.
    pub min_initial_capital: Decimal,
    /// Largest accepted `initial_capital`.
    pub max_initial_capital: Decimal,
    /// Minutes of inactivity after which a session is removed.
    pub session_timeout_minutes: u64,
    /// Largest accepted frame, in bytes.
    pub max_message_bytes: u64,
    /// Sustained messages per second per connection.
    pub messages_per_second: u32,
    /// Session creations per user per minute.
    pub session_creates_per_minute: u32,
}

/// `connection_ready`: who you are and what you may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionReady {
    /// The authenticated user.
    pub user_id: String,
    /// Their plan.
    pub plan: Plan,
    /// The server's clock.
    pub server_time: DateTime<Utc>,
    /// The daemon's version.
    pub server_version: String,
    /// The protocol version ([`crate::PROTOCOL_VERSION`]).
    pub protocol_version: u32,
    /// Limits that apply to this connection.
    pub limits: ServerLimits,
}

/// `session_list`: one page of the user's sessions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    /// The page.
    pub sessions: Vec<SessionInfo>,
    /// Sessions matching the filter, across all pages.
    pub total: u64,
    /// Page size used.
    pub limit: u32,
    /// Offset used.
    pub offset: u32,
    /// True when more sessions follow this page.
    pub has_more: bool,
}

/// `session_deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDeleted {
    /// The id that was removed.
    pub session_id: String,
}

/// `symbols`: the catalog, sorted by symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolList {
    /// Matching symbols.
    pub symbols: Vec<SymbolInfo>,
}

/// `pong`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    /// The server's clock.
    pub server_time: DateTime<Utc>,
}

/// `connection_closing`: sent before the server closes a connection on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionClosing {
    /// Machine-readable reason, e.g. `"server_shutdown"`.
    pub reason: String,
    /// What the client should do.
    pub message: String,
}

/// `session_validated`: the normalized parameters and the bars a session would replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPreview {
    /// Normalized parameters, exactly as `create_session` would store them.
    #[serde(flatten)]
    pub params: SessionParams,
    /// Ticks the session would replay.
    pub bar_count: u64,
    /// The limits it would run under (`expires_at` is absent: the clock starts at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::lifecycle::SessionLimits>,
}

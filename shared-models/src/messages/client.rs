//! Payloads of client → server requests (other than `create_session`, whose payload is
//! [`crate::session::CreateSessionRequest`]).

use serde::{Deserialize, Serialize};

use crate::market::AssetClass;
use crate::session::{SessionState, TerminationReason};

/// Names one session: `get_session`, `delete_session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRef {
    /// The id from `session_created`.
    pub session_id: String,
}

/// `list_sessions` filters and page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSessions {
    /// Only sessions in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
    /// Page size; default 50, at most 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Sessions to skip; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Only sessions created at or after this day (`YYYY-MM-DD`) or instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// Only sessions created on or before this day or instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_to: Option<String>,
    /// Only sessions in profit or at a loss (sessions that never ran match neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<crate::lifecycle::Performance>,
    /// `created_at` (newest first, default), `return` (best first), `drawdown` (mildest
    /// first), `trades` (most first) or `duration` (longest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<crate::lifecycle::SessionSort>,
    /// Only sessions whose duration — the simulated period, `end_date − start_date` (see
    /// [`crate::session::SessionParams::span_seconds`]) — is at least this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_seconds: Option<u64>,
    /// Only sessions whose duration is at most this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_seconds: Option<u64>,
    /// Only sessions that ended for this reason (sessions still open match no reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TerminationReason>,
}

/// `list_symbols` filters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSymbols {
    /// Only symbols of this class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_class: Option<AssetClass>,
    /// Only symbols with bars at this timeframe (e.g. `"1d"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
}

/// `get_symbol_range` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetSymbolRange {
    /// Ticker (case-insensitive).
    pub symbol: String,
    /// Bar size; default `1d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
}

/// `ping` has no data; `{}` or no `data` at all are both fine.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {}

//! Payloads of the session-lifecycle messages: `update_session`, `stop_session`,
//! `get_session_events` → `session_events`, and `subscribe_session` / `unsubscribe_session`
//! → `session_subscription`. The models they carry (limits, events, warnings, statistics) are
//! in [`crate::lifecycle`].

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lifecycle::{SessionEventRecord, StopKind};

/// `update_session`: change parameters or limits of a session that has not started yet
/// (afterwards `SESSION_LOCKED`). Absent fields keep their value; the result is checked like a
/// new `create_session`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSession {
    /// The session to change.
    pub session_id: String,
    /// New starting cash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_capital: Option<Decimal>,
    /// New commission rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_rate: Option<Decimal>,
    /// New commission per unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_per_share: Option<Decimal>,
    /// New minimum commission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_min: Option<Decimal>,
    /// New slippage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage_bps: Option<Decimal>,
    /// Allow shorts or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_short: Option<bool>,
    /// Close positions at the end or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_at_end: Option<bool>,
    /// Replaces the labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// New time limit (counted from the session's creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<String>,
    /// New loss limit in money (replaces any percentage limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_limit_amount: Option<Decimal>,
    /// New loss limit in percent (replaces any money limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_limit_pct: Option<Decimal>,
    /// New halt threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_threshold_pct: Option<Decimal>,
    /// New halt length in bars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_bars: Option<u32>,
}

/// `stop_session`: end a session now, in any non-terminal state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopSession {
    /// The session.
    pub session_id: String,
    /// `manual` (default) or `emergency`.
    #[serde(default)]
    pub reason: StopKind,
}

/// `get_session_events`: one page of a session's event log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetSessionEvents {
    /// The session.
    pub session_id: String,
    /// Page size; default 100, at most 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Events to skip; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

/// `session_events`: the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEventList {
    /// The session.
    pub session_id: String,
    /// The events, oldest first.
    pub events: Vec<SessionEventRecord>,
    /// Events in the log.
    pub total: u64,
    /// Page size used.
    pub limit: u32,
    /// Offset used.
    pub offset: u32,
    /// True when more events follow this page.
    pub has_more: bool,
}

/// `session_subscription`: the reply to `subscribe_session` and `unsubscribe_session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSubscription {
    /// The session.
    pub session_id: String,
    /// True after `subscribe_session`, false after `unsubscribe_session`.
    pub subscribed: bool,
    /// How often `session_stats_update` comes, in milliseconds (besides at every state
    /// change, warning and fill).
    pub interval_ms: u64,
}

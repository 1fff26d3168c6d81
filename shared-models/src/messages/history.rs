//! Payloads of the history-analytics messages: `compare_sessions` → `session_comparison`
//! (statistics of a few sessions side by side) and `get_history_stats` → `history_stats`
//! (aggregate figures across the user's sessions that pass the `list_sessions` filters).
//! `docs/protocol.md` has a JSON example of each.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lifecycle::Performance;
use crate::messages::client::ListSessions;
use crate::results::Metrics;
use crate::session::{SessionState, TerminationReason};

/// Most sessions one `compare_sessions` may name.
pub const MAX_COMPARED: usize = 20;

/// `compare_sessions`: the sessions to put side by side (1 to [`MAX_COMPARED`], in the order
/// wanted; an id twice is refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSessions {
    /// Session ids of the caller.
    pub session_ids: Vec<String>,
}

/// One session in a `session_comparison`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparedSession {
    /// The session.
    pub session_id: String,
    /// Its state.
    pub state: SessionState,
    /// Why it ended, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// The strategy that ran on it, when the session records one (see
    /// `docs/protocol.md`, "History analytics").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Its symbols.
    pub symbols: Vec<String>,
    /// Bar size, e.g. `1d`.
    pub timeframe: String,
    /// First day or instant replayed.
    pub start_date: String,
    /// Last day or instant replayed.
    pub end_date: String,
    /// Starting cash.
    pub initial_capital: Decimal,
    /// Final (or current) equity; absent before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity: Option<Decimal>,
    /// `equity − initial_capital`; absent before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl: Option<Decimal>,
    /// The full statistics of its results (absent until the run has ended with results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
}

/// `session_comparison`: the sessions of a `compare_sessions`, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionComparison {
    /// One entry per requested id.
    pub sessions: Vec<ComparedSession>,
}

/// `get_history_stats`: the filters of `list_sessions` (no page, no order).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetHistoryStats {
    /// Only sessions in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
    /// Only sessions created at or after this day or instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// Only sessions created on or before this day or instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_to: Option<String>,
    /// Only sessions in profit or at a loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<Performance>,
    /// Only sessions covering at least this many seconds (see `list_sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_seconds: Option<u64>,
    /// Only sessions covering at most this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_seconds: Option<u64>,
    /// Only sessions that ended for this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TerminationReason>,
}

impl GetHistoryStats {
    /// The same filters as a `list_sessions` query (first page, default order).
    pub fn as_list_query(&self) -> ListSessions {
        ListSessions {
            state: self.state,
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            performance: self.performance,
            min_duration_seconds: self.min_duration_seconds,
            max_duration_seconds: self.max_duration_seconds,
            reason: self.reason,
            ..ListSessions::default()
        }
    }
}

/// A session and its return, for the best and worst of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionReturn {
    /// The session.
    pub session_id: String,
    /// Its return, in percent.
    pub return_pct: f64,
}

/// Aggregate figures of a group of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsGroup {
    /// The strategy of the group (`by_strategy` entries only; `null` there for sessions that
    /// record none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Sessions that pass the filters.
    pub sessions: u64,
    /// Of those, sessions that have a return (they ran); the figures below are over these.
    pub with_return: u64,
    /// Sessions with a return above 0.
    pub winners: u64,
    /// `winners / with_return × 100`; absent when no session has a return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub win_rate_pct: Option<f64>,
    /// Mean return in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_return_pct: Option<f64>,
    /// Median return in percent (mean of the middle two for an even count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_return_pct: Option<f64>,
    /// The session with the highest return (the newest among equals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<SessionReturn>,
    /// The session with the lowest return (the newest among equals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst: Option<SessionReturn>,
    /// Closed trades across the sessions with a return.
    pub total_trades: u64,
    /// Sessions with a return that closed no trade.
    pub zero_trade_sessions: u64,
    /// Mean maximum drawdown in percent (≤ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_max_drawdown_pct: Option<f64>,
}

/// `history_stats`: the figures across every matching session, then per strategy (sorted by
/// name, sessions without one last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryStats {
    /// Every matching session.
    pub overall: StatsGroup,
    /// One group per strategy.
    pub by_strategy: Vec<StatsGroup>,
}

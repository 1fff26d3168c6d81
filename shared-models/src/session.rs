//! The session model: what a user asks for (`CreateSessionRequest`), what the server keeps
//! (`SessionParams`, normalized), and what it reports (`SessionInfo`, the one summary of a
//! session: the wire sends it, the daemon's store loads it, the CLI prints it).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

use crate::market::Timeframe;

// What a run recorded of its strategy: its own module, reachable here as before.
pub use crate::strategy_ref::{
    MAX_CLIENT_VERSION_CHARS, MAX_STRATEGY_NAME_CHARS, MAX_STRATEGY_PARAMS_BYTES, StrategyRef,
};

/// A user's subscription plan, carried in tokens and `connection_ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// The default plan.
    #[default]
    Free,
    /// Paid plan.
    Pro,
    /// Organisation plan.
    Enterprise,
}

impl Plan {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "free" => Ok(Plan::Free),
            "pro" => Ok(Plan::Pro),
            "enterprise" => Ok(Plan::Enterprise),
            _ => Err(format!("unknown plan '{s}'; use free, pro or enterprise")),
        }
    }
}

/// Where a session is in its life.
///
/// ```text
/// created ──start──▶ running ⇄ paused
///    │                  │         │
///    └──────────────────┴─────────┴──▶ completed | stopped | expired | failed
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Validated and ready to start.
    Created,
    /// Replaying bars.
    Running,
    /// Replay suspended by the user (or by a restart).
    Paused,
    /// Replayed every bar.
    Completed,
    /// Stopped early by the user or a limit.
    Stopped,
    /// Reached its time limit or idle timeout.
    Expired,
    /// Ended by a server-side error.
    Failed,
    /// Its journal is corrupt in the middle: the daemon keeps its files in quarantine, shows
    /// it with [`SessionInfo::damage`] (which file, which line, what to do) and never resumes
    /// it. Only a delete changes it.
    Damaged,
}

impl SessionState {
    /// Every state, in lifecycle order.
    pub const ALL: [SessionState; 8] = [
        SessionState::Created,
        SessionState::Running,
        SessionState::Paused,
        SessionState::Completed,
        SessionState::Stopped,
        SessionState::Expired,
        SessionState::Failed,
        SessionState::Damaged,
    ];

    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Created => "created",
            SessionState::Running => "running",
            SessionState::Paused => "paused",
            SessionState::Completed => "completed",
            SessionState::Stopped => "stopped",
            SessionState::Expired => "expired",
            SessionState::Failed => "failed",
            SessionState::Damaged => "damaged",
        }
    }

    /// True once the session can no longer change (`damaged` included: it is never resumed).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionState::Completed
                | SessionState::Stopped
                | SessionState::Expired
                | SessionState::Failed
                | SessionState::Damaged
        )
    }

    /// True while a simulation is running or paused.
    pub fn is_active(self) -> bool {
        matches!(self, SessionState::Running | SessionState::Paused)
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown session state '{s}'; use one of created, running, paused, completed, stopped, expired, failed, damaged"
                )
            })
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminationReason {
    /// Every bar was replayed.
    Completed,
    /// The user asked to stop.
    ManualStop,
    /// The user asked for an emergency stop.
    EmergencyStop,
    /// The loss limit was reached.
    LossLimit,
    /// The equity reached 0 or less at a bar's close: every position was closed at that
    /// close and the equity is 0 (backtesting.py's rule, see `docs/execution-model.md`).
    Bankrupt,
    /// The time limit was reached.
    TimeLimit,
    /// Nobody used the session for `session_timeout_minutes`.
    IdleTimeout,
    /// A server-side error.
    Error,
    /// The daemon could not write the session's journal (disk full, read-only, I/O error).
    /// Used as the reason of a *pause* (the `SESSION_PAUSED` event's `data.reason`): the
    /// session waits, resumable, until the store is writable again. See `docs/store.md`.
    StoreError,
}

impl TerminationReason {
    /// Every reason.
    pub const ALL: [TerminationReason; 9] = [
        TerminationReason::Completed,
        TerminationReason::ManualStop,
        TerminationReason::EmergencyStop,
        TerminationReason::LossLimit,
        TerminationReason::Bankrupt,
        TerminationReason::TimeLimit,
        TerminationReason::IdleTimeout,
        TerminationReason::Error,
        TerminationReason::StoreError,
    ];

    /// Wire spelling (`loss_limit`).
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationReason::Completed => "completed",
            TerminationReason::ManualStop => "manual_stop",
            TerminationReason::EmergencyStop => "emergency_stop",
            TerminationReason::LossLimit => "loss_limit",
            TerminationReason::Bankrupt => "bankrupt",
            TerminationReason::TimeLimit => "time_limit",
            TerminationReason::IdleTimeout => "idle_timeout",
            TerminationReason::Error => "error",
            TerminationReason::StoreError => "store_error",
        }
    }

    /// Why, in words (`loss limit reached`), for the end of a run or a watch.
    pub fn describe(self) -> &'static str {
        match self {
            TerminationReason::Completed => "every bar was replayed",
            TerminationReason::ManualStop => "stopped by the user",
            TerminationReason::EmergencyStop => "emergency stop by the user",
            TerminationReason::LossLimit => "loss limit reached",
            TerminationReason::Bankrupt => "bankrupt (equity reached 0)",
            TerminationReason::TimeLimit => "time limit reached",
            TerminationReason::IdleTimeout => "idle timeout (nobody used the session)",
            TerminationReason::Error => "a server-side error",
            TerminationReason::StoreError => "the daemon could not write its journal",
        }
    }
}

impl fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TerminationReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TerminationReason::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let all: Vec<&str> = TerminationReason::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown termination reason '{s}'; use one of {}",
                    all.join(", ")
                )
            })
    }
}

/// `create_session` data, as the user sends it. Only `symbols`, `start_date` and `end_date` are
/// required; everything else has a server default. Strings are kept raw so that the server can
/// answer with the precise error code (`INVALID_TIMEFRAME`, `INVALID_DATE_RANGE`) rather than a
/// generic parse error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// Tickers; trimmed and upper-cased by the server.
    pub symbols: Vec<String>,
    /// First day (`YYYY-MM-DD`) or instant (RFC 3339), inclusive.
    pub start_date: String,
    /// Last day or instant, inclusive.
    pub end_date: String,
    /// Bar size; default `1d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    /// Starting cash; default 100000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_capital: Option<Decimal>,
    /// Commission as a fraction of traded value (0.001 = 0.1 %); default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_rate: Option<Decimal>,
    /// Commission per unit traded; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_per_share: Option<Decimal>,
    /// Minimum commission per fill; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_min: Option<Decimal>,
    /// Slippage against the trader in basis points; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage_bps: Option<Decimal>,
    /// Whether short selling is allowed; default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_short: Option<bool>,
    /// Free-form labels, bounded in size by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Close open positions at the last bar's close; default false (they stay open and are
    /// valued at the last close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_at_end: Option<bool>,
    /// Time limit: `1h`, `4h`, `24h`, `7d` or any duration string (default: the server's
    /// `default_session_duration`). The session expires that long after its creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<String>,
    /// Loss limit in money: the session stops once equity has fallen this far below the
    /// initial capital. Give this or `loss_limit_pct`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_limit_amount: Option<Decimal>,
    /// Loss limit in percent of the initial capital (at most the server's
    /// `max_loss_limit_pct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_limit_pct: Option<Decimal>,
    /// Volatility halt: a bar-to-bar close move of more than this percentage halts new orders
    /// in that symbol (`TRADING_HALTED`). Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_threshold_pct: Option<Decimal>,
    /// How many bars a halt lasts (default 1 when `halt_threshold_pct` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_bars: Option<u32>,
}

/// The normalized parameters of a session, as the server will use them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionParams {
    /// Upper-case tickers, in the order given, without duplicates.
    pub symbols: Vec<String>,
    /// Canonical start (`YYYY-MM-DD` or RFC 3339 in UTC), inclusive.
    pub start_date: String,
    /// Canonical end, inclusive.
    pub end_date: String,
    /// Bar size.
    pub timeframe: Timeframe,
    /// Starting cash.
    pub initial_capital: Decimal,
    /// Commission as a fraction of traded value.
    pub commission_rate: Decimal,
    /// Commission per unit traded.
    pub commission_per_share: Decimal,
    /// Minimum commission per fill.
    pub commission_min: Decimal,
    /// Slippage in basis points.
    pub slippage_bps: Decimal,
    /// Whether short selling is allowed.
    pub allow_short: bool,
    /// Whether open positions are closed at the last bar.
    #[serde(default)]
    pub close_at_end: bool,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

impl SessionParams {
    /// The session's duration as `list_sessions` filters and sorts it: the simulated period
    /// it covers, in seconds — whole days counted inclusively for day dates (`2020-01-01` to
    /// `2020-01-31` is 31 days), `end − start` for instants. Not the wall-clock time a run
    /// took. `None` when a date cannot be read (never for a session the daemon accepted).
    pub fn span_seconds(&self) -> Option<u64> {
        use crate::dates::DateBound;
        let start = DateBound::parse(&self.start_date).ok()?.first_second();
        let end = match DateBound::parse(&self.end_date).ok()? {
            b @ DateBound::Date(_) => b.last_second() + 1,
            DateBound::Instant(t) => t.timestamp(),
        };
        u64::try_from(end - start).ok()
    }
}

/// A session as reported by `session_created`, `session` and `session_list`: the one summary
/// of a session. The daemon builds it from its live record, its store loads it back from the
/// journal (wrapped with what only the store keeps), and the CLI's `session status` and
/// `session list` render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Opaque id; only its owner can use it.
    pub session_id: String,
    /// Owner.
    pub user_id: String,
    /// Lifecycle state.
    pub state: SessionState,
    /// Normalized parameters.
    #[serde(flatten)]
    pub params: SessionParams,
    /// Number of ticks (distinct bar times across the symbols) the session will replay.
    pub bar_count: u64,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// When anything about the session last changed or it was last used.
    pub updated_at: DateTime<Utc>,
    /// When an idle session will be removed unless it is used again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_expires_at: Option<DateTime<Utc>>,
    /// When the simulation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the session reached a terminal state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// Ticks of the run whose bar has been settled (0 before the start; `bar_count` at the end).
    #[serde(default)]
    pub settled_ticks: u64,
    /// The session's limits (time, loss, volatility halt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::lifecycle::SessionLimits>,
    /// Equity at the last settled bar (final equity once ended); absent before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity: Option<Decimal>,
    /// `(equity / initial_capital − 1) × 100`; absent before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_pct: Option<f64>,
    /// Closed trades so far (final once ended); absent before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trades: Option<u64>,
    /// Largest peak-to-trough fall of equity so far, in percent (≤ 0, backtesting.py's sign,
    /// the results' `max_drawdown_pct` once ended); absent before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drawdown_pct: Option<f64>,
    /// Why a `damaged` session is damaged: which journal file, which line, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// The strategy that ran (or runs) on it, as `start_simulation` described it; absent
    /// before the start, or when the client did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyRef>,
    /// The version of the client that started the run, as it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
    /// A 16-hex-digit digest of the market data the session was created on (each symbol's
    /// series hash and its bars in the session's dates): two sessions with the same digest
    /// replay the same bars. Absent for sessions created before data fingerprints existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fingerprint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn termination_reasons_travel_in_snake_case() {
        for (reason, wire) in [
            (TerminationReason::LossLimit, "\"loss_limit\""),
            (TerminationReason::Bankrupt, "\"bankrupt\""),
        ] {
            assert_eq!(serde_json::to_string(&reason).unwrap(), wire);
            assert_eq!(
                serde_json::from_str::<TerminationReason>(wire).unwrap(),
                reason
            );
        }
    }

    #[test]
    fn termination_reasons_parse_their_wire_spelling() {
        for r in TerminationReason::ALL {
            let wire = serde_json::to_value(r).unwrap();
            assert_eq!(wire.as_str(), Some(r.as_str()));
            assert_eq!(r.as_str().parse::<TerminationReason>().unwrap(), r);
        }
        assert!("loss".parse::<TerminationReason>().is_err());
    }

    #[test]
    fn money_accepts_numbers_and_strings_and_stays_exact() {
        let r: CreateSessionRequest = serde_json::from_str(
            r#"{"symbols":["a"],"start_date":"2020-01-01","end_date":"2020-02-01",
                "initial_capital": 100000.10, "commission_rate": "0.002"}"#,
        )
        .unwrap();
        assert_eq!(r.initial_capital, Some(dec!(100000.10)));
        assert_eq!(r.commission_rate, Some(dec!(0.002)));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r = serde_json::from_str::<CreateSessionRequest>(
            r#"{"symbols":[],"start_date":"x","end_date":"y","capital":1}"#,
        );
        assert!(
            r.unwrap_err()
                .to_string()
                .contains("unknown field `capital`")
        );
    }

    #[test]
    fn the_span_counts_whole_days_inclusively_and_instants_exactly() {
        let mut p: SessionParams = serde_json::from_value(serde_json::json!({
            "symbols": ["A"], "start_date": "2020-01-01", "end_date": "2020-01-31",
            "timeframe": "1d", "initial_capital": "1", "commission_rate": "0",
            "commission_per_share": "0", "commission_min": "0", "slippage_bps": "0",
            "allow_short": true
        }))
        .unwrap();
        assert_eq!(p.span_seconds(), Some(31 * 86_400));
        p.end_date = "2020-01-01".into();
        assert_eq!(p.span_seconds(), Some(86_400));
        p.start_date = "2020-01-01T10:00:00Z".into();
        p.end_date = "2020-01-01T12:30:00Z".into();
        assert_eq!(p.span_seconds(), Some(9000));
        p.end_date = "garbage".into();
        assert_eq!(p.span_seconds(), None);
    }

    #[test]
    fn states_parse_and_classify() {
        assert_eq!(
            "Running".parse::<SessionState>().unwrap(),
            SessionState::Running
        );
        assert!(SessionState::Expired.is_terminal());
        assert!(SessionState::Paused.is_active());
        assert!(!SessionState::Created.is_active());
    }
}

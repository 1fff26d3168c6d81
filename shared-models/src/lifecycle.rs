//! Session lifecycle wire types: limits (time, loss, volatility halt), stops, the per-session
//! event log, warnings and live statistics. The messages that carry them are in
//! [`crate::messages`]; `docs/session-lifecycle.md` explains the rules.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

use crate::session::{SessionState, TerminationReason};

/// The limits a session runs under, normalized by the server (reported in `session_created`,
/// `session`, `session_validated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionLimits {
    /// The time limit as written canonically (`"4h"`, `"7d"`, `"90m"` …).
    pub max_duration: String,
    /// The time limit in seconds.
    pub max_duration_seconds: u64,
    /// When the session expires (creation time + `max_duration`); `None` in a preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The most the session may lose, in money (`None` = no loss limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss_amount: Option<Decimal>,
    /// The same limit as a percentage of the initial capital.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss_pct: Option<Decimal>,
    /// Warnings fire when this percentage of a limit is used (default 80).
    pub warning_threshold_pct: Decimal,
    /// Volatility halt: a bar-to-bar move of more than this percentage halts the symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_threshold_pct: Option<Decimal>,
    /// How many bars a halt lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_bars: Option<u32>,
}

/// Why the user stops a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// An ordinary stop (`termination_reason: manual_stop`).
    #[default]
    Manual,
    /// An emergency stop (`termination_reason: emergency_stop`).
    Emergency,
}

impl StopKind {
    /// The termination reason a stop of this kind records.
    pub fn reason(self) -> TerminationReason {
        match self {
            StopKind::Manual => TerminationReason::ManualStop,
            StopKind::Emergency => TerminationReason::EmergencyStop,
        }
    }
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The session's owner, through a request.
    User,
    /// The daemon (timers, limits, cleanup).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Actor::User => "user",
            Actor::System => "system",
        })
    }
}

/// What happened to a session (one entry of its append-only event log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// Created (data: the limits).
    SessionCreated,
    /// Parameters or limits changed before the start (data: the new limits).
    SessionUpdated,
    /// The simulation started.
    SessionStarted,
    /// Paused (by the user, or because its client went away).
    SessionPaused,
    /// Resumed.
    SessionResumed,
    /// 80 % (configurable) of the time limit used.
    TimeLimitWarning,
    /// 80 % (configurable) of the loss limit used.
    LossLimitWarning,
    /// A symbol was halted by the volatility circuit breaker.
    SessionHalted,
    /// The user asked for an emergency stop.
    EmergencyStop,
    /// The session reached a terminal state (data: state, reason, final statistics).
    SessionEnded,
}

impl EventKind {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionCreated => "SESSION_CREATED",
            EventKind::SessionUpdated => "SESSION_UPDATED",
            EventKind::SessionStarted => "SESSION_STARTED",
            EventKind::SessionPaused => "SESSION_PAUSED",
            EventKind::SessionResumed => "SESSION_RESUMED",
            EventKind::TimeLimitWarning => "TIME_LIMIT_WARNING",
            EventKind::LossLimitWarning => "LOSS_LIMIT_WARNING",
            EventKind::SessionHalted => "SESSION_HALTED",
            EventKind::EmergencyStop => "EMERGENCY_STOP",
            EventKind::SessionEnded => "SESSION_ENDED",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a session's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEventRecord {
    /// Position in the log, from 0.
    pub seq: u64,
    /// Wall-clock time it was recorded.
    pub time: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// Who caused it.
    pub actor: Actor,
    /// Specifics (depends on `kind`).
    #[serde(default)]
    pub data: Value,
}

/// Which limit a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The time limit.
    Time,
    /// The loss limit.
    Loss,
}

/// `session_warning`: a limit is nearly used up (sent once per kind and session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionWarning {
    /// The session.
    pub session_id: String,
    /// Which limit.
    pub kind: WarningKind,
    /// How much of it is used, in percent.
    pub used_pct: f64,
    /// The configured warning threshold, in percent.
    pub threshold_pct: Decimal,
    /// Seconds left before the time limit (time warnings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_seconds: Option<u64>,
    /// Equity when the warning fired (loss warnings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity: Option<Decimal>,
    /// A sentence for humans.
    pub message: String,
}

/// The statistics of a session when it ended (in `session_terminated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalStats {
    /// Equity after positions were closed (initial capital when nothing ran).
    pub equity: Decimal,
    /// `equity - initial_capital`.
    pub pnl: Decimal,
    /// `pnl / initial_capital × 100`.
    pub return_pct: f64,
    /// Closed trades.
    pub num_trades: u64,
    /// Ticks settled.
    pub settled_ticks: u64,
    /// Ticks the run would have replayed.
    pub total_ticks: u64,
    /// Largest peak-to-trough fall of equity, in percent (≤ 0).
    pub max_drawdown_pct: f64,
}

/// `session_terminated`: the reply to `stop_session`, and a push to the owner's other
/// connections and subscribers whenever a session ends early (stop, limit, timeout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTerminated {
    /// The session.
    pub session_id: String,
    /// Its terminal state.
    pub state: SessionState,
    /// Why it ended.
    pub reason: TerminationReason,
    /// Statistics at the end.
    pub final_stats: FinalStats,
}

/// `session_stats_update`: a subscriber's live view of one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStatsUpdate {
    /// The session.
    pub session_id: String,
    /// Its state now.
    pub state: SessionState,
    /// Seconds since creation.
    pub elapsed: u64,
    /// Seconds left before the time limit.
    pub remaining: u64,
    /// Share of the time limit used, in percent.
    pub time_used_pct: f64,
    /// Settled ticks / total ticks, in percent.
    pub sim_progress_pct: f64,
    /// Equity at the last settled bar.
    pub equity: Decimal,
    /// `equity - initial_capital`.
    pub pnl: Decimal,
    /// Current fall from the equity peak, in percent (≥ 0).
    pub drawdown_pct: f64,
    /// Share of the loss limit used, in percent (0 without a loss limit).
    pub loss_limit_used_pct: f64,
    /// Closed trades.
    pub trades: u64,
}

/// `performance` filter of `list_sessions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Performance {
    /// Final (or current) equity above the initial capital.
    Profit,
    /// Equity below the initial capital.
    Loss,
}

/// `sort` of `list_sessions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionSort {
    /// Newest first (default).
    #[default]
    CreatedAt,
    /// Best return first.
    Return,
    /// Mildest maximum drawdown first.
    Drawdown,
    /// Most closed trades first.
    Trades,
    /// Longest duration (simulated period, `end_date − start_date`) first.
    Duration,
}

/// Parse a duration: an integer followed by `s`, `m`, `h`, `d` or `w` (`"90m"`, `"4h"`,
/// `"7d"`), or several such parts (`"1h30m"`). Returns seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Err("the duration is empty; write it like 4h, 90m or 7d".into());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(format!(
                    "'{text}' is not a duration; write it like 4h, 90m or 7d"
                ));
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("'{text}' is not a duration; write it like 4h, 90m or 7d"))?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("'{text}' is too long a duration"))?;
    }
    if !number.is_empty() {
        return Err(format!(
            "'{text}' has no unit; add s, m, h, d or w (for example {number}h)"
        ));
    }
    Ok(total)
}

/// A duration in seconds written as compactly as it parses back (`14400` → `"4h"`).
pub fn format_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let mut left = seconds;
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if left >= unit {
            out.push_str(&(left / unit).to_string());
            out.push(name);
            left %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_back() {
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration(" 7D "), Ok(7 * 86_400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("4x").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        for s in [1, 59, 60, 3600, 5400, 86_400, 90_061] {
            assert_eq!(parse_duration(&format_duration(s)), Ok(s));
        }
        assert_eq!(format_duration(14_400), "4h");
        assert_eq!(format_duration(5400), "1h30m");
    }

    #[test]
    fn event_kinds_use_their_wire_names() {
        let json = serde_json::to_string(&EventKind::TimeLimitWarning).unwrap();
        assert_eq!(json, "\"TIME_LIMIT_WARNING\"");
        assert_eq!(EventKind::SessionHalted.to_string(), "SESSION_HALTED");
    }
}

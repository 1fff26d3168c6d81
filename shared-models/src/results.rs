//! What a finished simulation reports: [`Metrics`] (the statistics users of backtesting.py
//! know, in snake_case) and [`SimulationResults`]. Formulas: docs/metrics.md.
//!
//! Statistics that are undefined for a run (no trades, zero volatility …) are `null`, never
//! NaN, so the JSON stays valid.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::session::{SessionState, StrategyRef, TerminationReason};
use crate::trading::{EquityPoint, PositionView, Trade};

/// Summary statistics of one run. Durations are in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// First bar time.
    pub start: DateTime<Utc>,
    /// Last bar time.
    pub end: DateTime<Utc>,
    /// `end - start`, seconds.
    pub duration: i64,
    /// Share of bars with an open position, percent.
    pub exposure_time_pct: f64,
    /// Equity at the last close.
    pub equity_final: Decimal,
    /// Highest equity at any close.
    pub equity_peak: Decimal,
    /// Commissions of the closed trades (entry and exit), as backtesting.py's
    /// `Commissions [$]`: a position still open at the end is not counted.
    pub commissions: Decimal,
    /// Total return, percent.
    pub return_pct: f64,
    /// Return of holding the first symbol from the close of the first bar at which the
    /// strategy's indicators are all defined to the last close, percent (docs/metrics.md).
    pub buy_and_hold_return_pct: f64,
    /// Annualized return, percent.
    pub return_ann_pct: Option<f64>,
    /// Annualized volatility, percent.
    pub volatility_ann_pct: Option<f64>,
    /// Compound annual growth rate, percent.
    pub cagr_pct: Option<f64>,
    /// Annualized return over annualized volatility (risk-free rate 0).
    pub sharpe_ratio: Option<f64>,
    /// Annualized return over annualized downside deviation.
    pub sortino_ratio: Option<f64>,
    /// Annualized return over maximum drawdown.
    pub calmar_ratio: Option<f64>,
    /// Jensen's alpha against the first symbol's Buy & Hold, percent (backtesting.py's
    /// `Alpha [%]`). Absent from servers before it was reported.
    #[serde(default)]
    pub alpha_pct: Option<f64>,
    /// Beta of the equity's log returns against the first symbol's (backtesting.py's
    /// `Beta`). Absent from servers before it was reported.
    #[serde(default)]
    pub beta: Option<f64>,
    /// Deepest peak-to-trough fall, percent (negative or zero).
    pub max_drawdown_pct: f64,
    /// Mean depth of drawdown periods, percent (negative or zero).
    pub avg_drawdown_pct: f64,
    /// Longest drawdown, seconds.
    pub max_drawdown_duration: Option<i64>,
    /// Mean drawdown length, seconds.
    pub avg_drawdown_duration: Option<i64>,
    /// Closed trades.
    pub num_trades: u64,
    /// Winning closed trades, percent.
    pub win_rate_pct: Option<f64>,
    /// Best trade return, percent.
    pub best_trade_pct: Option<f64>,
    /// Worst trade return, percent.
    pub worst_trade_pct: Option<f64>,
    /// Geometric mean trade return, percent.
    pub avg_trade_pct: Option<f64>,
    /// Longest trade, seconds.
    pub max_trade_duration: Option<i64>,
    /// Mean trade length, seconds.
    pub avg_trade_duration: Option<i64>,
    /// Gross profits over gross losses.
    pub profit_factor: Option<f64>,
    /// Mean trade return, percent.
    pub expectancy_pct: Option<f64>,
    /// System Quality Number.
    pub sqn: Option<f64>,
    /// Kelly criterion: the fraction of capital to risk per trade (backtesting.py's
    /// `Kelly Criterion`). Absent from servers before it was reported.
    #[serde(default)]
    pub kelly_criterion: Option<f64>,
}

/// `results` (reply to `get_results`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationResults {
    /// Summary statistics.
    pub metrics: Metrics,
    /// Closed trades in exit order.
    pub trades: Vec<Trade>,
    /// Positions still open at the end (valued at the last close).
    pub open_positions: Vec<PositionView>,
    /// Equity at every bar's close.
    pub equity_curve: Vec<EquityPoint>,
    /// How the run ended and what ran: filled from the session by `get_results` (absent from
    /// the engine's own results and from daemons before these fields existed).
    #[serde(flatten)]
    pub outcome: RunOutcome,
}

/// How a session's run ended and what it ran, as `get_results` reports it next to the
/// statistics: every field optional, absent when unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// The session's state when the results were read (`completed`, `stopped`, `expired`,
    /// `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_state: Option<SessionState>,
    /// Why the run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// Ticks whose bar was settled when it ended (the bar it stopped at, for an early end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_ticks: Option<u64>,
    /// Ticks the session would have replayed to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ticks: Option<u64>,
    /// The strategy that ran, as the client described it in `start_simulation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyRef>,
    /// The version of the client that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
    /// The digest of the market data it ran on ([`crate::SessionInfo::data_fingerprint`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fingerprint: Option<String>,
}

impl RunOutcome {
    /// The outcome of the session `info` describes.
    pub fn of(info: &crate::SessionInfo) -> RunOutcome {
        RunOutcome {
            final_state: Some(info.state),
            termination_reason: info.termination_reason,
            settled_ticks: Some(info.settled_ticks),
            total_ticks: Some(info.bar_count),
            strategy: info.strategy.clone(),
            client_version: info.client_version.clone(),
            data_fingerprint: info.data_fingerprint.clone(),
        }
    }

    /// True when the run replayed every bar (`completed`); false for an early end and when
    /// the daemon did not say.
    pub fn completed(&self) -> bool {
        self.termination_reason == Some(TerminationReason::Completed)
    }
}

#[cfg(test)]
mod float_tests {
    /// Figures read back from JSON (a journal, a reply) are the figures written, bit for bit:
    /// serde_json's default float parser can be one unit in the last place off (the Calmar
    /// ratio of the built-in ACME year, −0.20162493187912522, came back as
    /// −0.2016249318791252), so the workspace enables its `float_roundtrip` feature.
    #[test]
    fn floats_read_back_from_json_are_the_floats_written() {
        for x in [
            -0.20162493187912522_f64,
            0.1 + 0.2,
            1e-300,
            -6.7839195979899625,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let text = serde_json::to_string(&x).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{text}");
        }
    }
}

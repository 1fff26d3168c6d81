//! What a running session publishes for monitoring: equity at the last published bar, its
//! peak, closed trades, and which warnings have fired. The run task writes it (every few
//! bars, at every fill and at the end); `session_stats_update`, `list_sessions` and the
//! warnings read it. Serializable, so a store can journal it. While a run goes, peak and
//! drawdown are those of the published bars; once it has results they are replaced by the
//! figures of the whole equity curve ([`LiveStats::settle`]), so final statistics do not
//! depend on when figures were published (pauses, restarts), and the max drawdown of the
//! end (`final_stats` of `session_terminated` and `SESSION_ENDED`) is the results'
//! `max_drawdown_pct` exactly — backtesting.py's definition, docs/metrics.md — not a second,
//! rounded figure.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared_models::SessionState;
use shared_models::lifecycle::{FinalStats, SessionStatsUpdate};
use shared_models::results::Metrics;

/// Live figures of one session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveStats {
    /// Equity at the last published bar; `None` before the start.
    pub equity: Option<Decimal>,
    /// Highest equity seen.
    pub peak: Decimal,
    /// Largest fall from the peak so far, in percent (≥ 0): of the published bars while the
    /// run goes, the results' `−max_drawdown_pct` once it has ended.
    pub max_drawdown_pct: f64,
    /// Closed trades.
    pub trades: u64,
    /// The time warning has fired.
    pub warned_time: bool,
    /// The loss warning has fired.
    pub warned_loss: bool,
}

impl LiveStats {
    /// Record equity and trades at a settled bar.
    pub fn publish(&mut self, equity: Decimal, trades: u64) {
        if self.equity.is_none() || equity > self.peak {
            self.peak = equity;
        }
        self.equity = Some(equity);
        self.trades = trades;
        let dd = self.drawdown_pct();
        if dd > self.max_drawdown_pct {
            self.max_drawdown_pct = dd;
        }
    }

    /// Take the final figures from the run's results: equity, peak, trades and the max
    /// drawdown of the whole equity curve (every bar), not of the bars that happened to be
    /// published. So a paused and resumed run — or one rebuilt after a restart, which
    /// publishes at the bar it was rebuilt at — reports the final statistics of the
    /// uninterrupted run.
    pub fn settle(&mut self, metrics: &Metrics) {
        self.equity = Some(metrics.equity_final);
        self.peak = metrics.equity_peak;
        self.trades = metrics.num_trades;
        // Exactly the results' figure (docs/metrics.md): one max drawdown everywhere.
        let dd = metrics.max_drawdown_pct.abs();
        self.max_drawdown_pct = if dd.is_finite() { dd } else { 0.0 };
    }

    /// Current fall from the peak, percent.
    pub fn drawdown_pct(&self) -> f64 {
        match self.equity {
            Some(e) if self.peak > Decimal::ZERO && e < self.peak => {
                pct_f64((self.peak - e) / self.peak)
            }
            _ => 0.0,
        }
    }

    /// Final statistics of a session with `capital` that replayed `settled` of `total` ticks.
    pub fn final_stats(&self, capital: Decimal, settled: u64, total: u64) -> FinalStats {
        let equity = self.equity.unwrap_or(capital);
        let pnl = equity - capital;
        FinalStats {
            equity,
            pnl,
            return_pct: if capital.is_zero() {
                0.0
            } else {
                pct_f64(pnl / capital)
            },
            num_trades: self.trades,
            settled_ticks: settled,
            total_ticks: total,
            max_drawdown_pct: -self.max_drawdown_pct,
        }
    }
}

/// Inputs of one `session_stats_update` besides the live figures.
#[derive(Debug, Clone, Copy)]
pub struct StatsContext {
    /// State now.
    pub state: SessionState,
    /// Seconds since creation.
    pub elapsed: u64,
    /// Time limit in seconds (0 = none).
    pub max_duration: u64,
    /// Settled ticks.
    pub settled: u64,
    /// Ticks in the run.
    pub total: u64,
    /// Initial capital.
    pub capital: Decimal,
    /// Loss limit in money.
    pub loss_limit: Option<Decimal>,
}

/// Build a `session_stats_update`.
pub fn stats_update(session_id: &str, live: &LiveStats, c: StatsContext) -> SessionStatsUpdate {
    let equity = live.equity.unwrap_or(c.capital);
    let pnl = equity - c.capital;
    let loss_used = match c.loss_limit {
        Some(l) if l > Decimal::ZERO && pnl < Decimal::ZERO => pct_f64(-pnl / l),
        _ => 0.0,
    };
    SessionStatsUpdate {
        session_id: session_id.to_string(),
        state: c.state,
        elapsed: c.elapsed,
        remaining: c.max_duration.saturating_sub(c.elapsed),
        time_used_pct: ratio(c.elapsed, c.max_duration),
        sim_progress_pct: ratio(c.settled, c.total),
        equity,
        pnl,
        drawdown_pct: live.drawdown_pct(),
        loss_limit_used_pct: loss_used,
        trades: live.trades,
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 / b as f64) * 10_000.0).round() / 100.0
    }
}

/// `x × 100` as an `f64` rounded to 4 places.
pub fn pct_f64(x: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    ((x * Decimal::ONE_HUNDRED).round_dp(4))
        .to_f64()
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn drawdown_and_loss_use_follow_equity() {
        let mut l = LiveStats::default();
        l.publish(dec!(1000), 0);
        l.publish(dec!(1200), 1);
        l.publish(dec!(900), 2);
        assert_eq!(l.drawdown_pct(), 25.0);
        let u = stats_update(
            "s",
            &l,
            StatsContext {
                state: SessionState::Running,
                elapsed: 30,
                max_duration: 120,
                settled: 5,
                total: 20,
                capital: dec!(1000),
                loss_limit: Some(dec!(200)),
            },
        );
        assert_eq!(u.loss_limit_used_pct, 50.0);
        assert_eq!(u.time_used_pct, 25.0);
        assert_eq!(u.sim_progress_pct, 25.0);
        assert_eq!(u.remaining, 90);
        let f = l.final_stats(dec!(1000), 5, 20);
        assert_eq!(f.pnl, dec!(-100));
        assert_eq!(f.return_pct, -10.0);
        assert_eq!(f.max_drawdown_pct, -25.0);
    }

    #[test]
    fn an_ended_run_reports_the_results_max_drawdown_exactly() {
        // One definition everywhere: the stop event's `final_stats.max_drawdown_pct` is the
        // results' `max_drawdown_pct` (docs/metrics.md), to the last bit, not a rounded copy.
        let metrics = r#"{"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 0.0, "equity_final": "86765.43", "equity_peak": "100000", "commissions": "0", "return_pct": -13.2345, "buy_and_hold_return_pct": 0.0, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": -13.234567891234, "avg_drawdown_pct": -13.234567891234, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": null, "best_trade_pct": null, "worst_trade_pct": null, "avg_trade_pct": null, "max_trade_duration": null, "avg_trade_duration": null, "profit_factor": null, "expectancy_pct": null, "sqn": null}"#;
        let metrics: Metrics = serde_json::from_str(metrics).unwrap();
        let mut l = LiveStats::default();
        l.publish(dec!(100000), 0);
        l.publish(dec!(90000), 0);
        l.settle(&metrics);
        let f = l.final_stats(dec!(100000), 3, 3);
        assert_eq!(f.max_drawdown_pct, metrics.max_drawdown_pct);
        // No drawdown: 0, not −0 against 0 (they compare equal either way).
        let mut flat = metrics.clone();
        flat.max_drawdown_pct = -0.0;
        l.settle(&flat);
        assert_eq!(l.final_stats(dec!(100000), 3, 3).max_drawdown_pct, 0.0);
    }
}

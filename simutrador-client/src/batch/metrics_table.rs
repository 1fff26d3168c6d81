//! The statistics of runs as one wide table — one row per run, one column per metric, the
//! unit in each column's name — as `metrics.csv` (`session results --csv`, `session export`
//! and a batch's output folder) and `metrics.parquet` (`session export --format parquet`).
//!
//! Units: `_pct` percent, `_days` days (fractional: seconds / 86 400), `_ccy` money in the
//! session's currency (exact decimals in CSV), counts and ratios bare. `start` and `end` are
//! ISO 8601 / RFC 3339 UTC instants; every other column is a number or empty (a statistic
//! that is undefined, e.g. Sharpe of a flat curve). So pandas reads it as numbers:
//! `pd.read_csv("metrics.csv", parse_dates=["start", "end"])`.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use shared_models::results::Metrics;
use std::fmt::Write as _;

/// One cell of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// An instant (`start`, `end`).
    Time(DateTime<Utc>),
    /// Money, exact.
    Money(Decimal),
    /// A statistic or a duration in days; `None` when undefined.
    Number(Option<f64>),
    /// A count.
    Count(u64),
}

impl Cell {
    /// CSV text: RFC 3339, exact decimals, full floats, empty when undefined.
    pub fn csv(&self) -> String {
        match *self {
            Cell::Time(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Cell::Money(m) => m.to_string(),
            Cell::Number(n) => n
                .filter(|x| x.is_finite())
                .map(|x| x.to_string())
                .unwrap_or_default(),
            Cell::Count(n) => n.to_string(),
        }
    }

    /// As a float (money rounded to the nearest double; times as `None`).
    pub fn number(&self) -> Option<f64> {
        match *self {
            Cell::Time(_) => None,
            Cell::Money(m) => m.to_f64(),
            Cell::Number(n) => n.filter(|x| x.is_finite()),
            Cell::Count(n) => Some(n as f64),
        }
    }
}

fn days(seconds: i64) -> f64 {
    seconds as f64 / 86_400.0
}

/// Every column of a run's row: (name with unit, cell), in backtesting.py's order.
pub fn columns(m: &Metrics) -> Vec<(&'static str, Cell)> {
    use Cell::*;
    let d = |s: Option<i64>| Number(s.map(days));
    vec![
        ("start", Time(m.start)),
        ("end", Time(m.end)),
        ("duration_days", Number(Some(days(m.duration)))),
        ("exposure_time_pct", Number(Some(m.exposure_time_pct))),
        ("equity_final_ccy", Money(m.equity_final)),
        ("equity_peak_ccy", Money(m.equity_peak)),
        ("commissions_ccy", Money(m.commissions)),
        ("return_pct", Number(Some(m.return_pct))),
        (
            "buy_and_hold_return_pct",
            Number(Some(m.buy_and_hold_return_pct)),
        ),
        ("return_ann_pct", Number(m.return_ann_pct)),
        ("volatility_ann_pct", Number(m.volatility_ann_pct)),
        ("cagr_pct", Number(m.cagr_pct)),
        ("sharpe_ratio", Number(m.sharpe_ratio)),
        ("sortino_ratio", Number(m.sortino_ratio)),
        ("calmar_ratio", Number(m.calmar_ratio)),
        ("alpha_pct", Number(m.alpha_pct)),
        ("beta", Number(m.beta)),
        ("max_drawdown_pct", Number(Some(m.max_drawdown_pct))),
        ("avg_drawdown_pct", Number(Some(m.avg_drawdown_pct))),
        ("max_drawdown_duration_days", d(m.max_drawdown_duration)),
        ("avg_drawdown_duration_days", d(m.avg_drawdown_duration)),
        ("num_trades", Count(m.num_trades)),
        ("win_rate_pct", Number(m.win_rate_pct)),
        ("best_trade_pct", Number(m.best_trade_pct)),
        ("worst_trade_pct", Number(m.worst_trade_pct)),
        ("avg_trade_pct", Number(m.avg_trade_pct)),
        ("max_trade_duration_days", d(m.max_trade_duration)),
        ("avg_trade_duration_days", d(m.avg_trade_duration)),
        ("profit_factor", Number(m.profit_factor)),
        ("expectancy_pct", Number(m.expectancy_pct)),
        ("sqn", Number(m.sqn)),
        ("kelly_criterion", Number(m.kelly_criterion)),
    ]
}

/// The column names, in order.
pub fn column_names() -> Vec<&'static str> {
    columns(&placeholder())
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

fn placeholder() -> Metrics {
    Metrics {
        start: DateTime::<Utc>::UNIX_EPOCH,
        end: DateTime::<Utc>::UNIX_EPOCH,
        duration: 0,
        exposure_time_pct: 0.0,
        equity_final: Decimal::ZERO,
        equity_peak: Decimal::ZERO,
        commissions: Decimal::ZERO,
        return_pct: 0.0,
        buy_and_hold_return_pct: 0.0,
        return_ann_pct: None,
        volatility_ann_pct: None,
        cagr_pct: None,
        sharpe_ratio: None,
        sortino_ratio: None,
        calmar_ratio: None,
        alpha_pct: None,
        beta: None,
        max_drawdown_pct: 0.0,
        avg_drawdown_pct: 0.0,
        max_drawdown_duration: None,
        avg_drawdown_duration: None,
        num_trades: 0,
        win_rate_pct: None,
        best_trade_pct: None,
        worst_trade_pct: None,
        avg_trade_pct: None,
        max_trade_duration: None,
        avg_trade_duration: None,
        profit_factor: None,
        expectancy_pct: None,
        sqn: None,
        kelly_criterion: None,
    }
}

/// `metrics.csv`: a header, then one row per `(key, metrics)`. `key` names the first column
/// (`run` in a batch) and is left out when `None` (one session's results).
pub fn metrics_csv(key: Option<&str>, rows: &[(u64, &Metrics)]) -> String {
    let mut out = String::new();
    if let Some(k) = key {
        out.push_str(k);
        out.push(',');
    }
    out.push_str(&column_names().join(","));
    out.push('\n');
    for (id, m) in rows {
        if key.is_some() {
            let _ = write!(out, "{id},");
        }
        let cells: Vec<String> = columns(m).iter().map(|(_, c)| c.csv()).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "metrics_table_tests.rs"]
mod tests;

//! How results look: the metrics table with the names backtesting.py users know (Start, End,
//! Duration, Exposure Time [%], Equity Final [$] …), the trades and equity tables, and the CSV
//! files of `session results --csv DIR` (stable column order, decimals as exact text;
//! `metrics.csv` wide, one row, units in the column names).

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use comfy_table::{CellAlignment, Table, presets};
use rust_decimal::Decimal;
use shared_models::results::{Metrics, SimulationResults};
use simutrador_client::batch::metrics_table;
use simutrador_client::batch::output;
use simutrador_client::report::{TRADE_COLUMNS, duration};
use std::fmt::Write as _;
use std::path::Path;

/// A metric's value, kept typed for the table (the CSV files use
/// [`simutrador_client::batch::metrics_table`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A time.
    Time(DateTime<Utc>),
    /// Seconds.
    Seconds(Option<i64>),
    /// Exact money.
    Money(Decimal),
    /// A statistic.
    Float(Option<f64>),
    /// A count.
    Count(u64),
}

impl Value {
    /// For humans: durations as `12 days 03:00:00`, floats with 2 decimals, `-` when
    /// undefined.
    pub fn human(&self) -> String {
        match *self {
            Value::Time(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Value::Seconds(Some(s)) => duration(s),
            Value::Money(m) => super::render::money(m.round_dp(2)),
            Value::Float(Some(f)) => format!("{f:.2}"),
            Value::Count(n) => n.to_string(),
            Value::Seconds(None) | Value::Float(None) => "-".into(),
        }
    }
}

/// Every metric as (display name, JSON key, value), in backtesting.py's order.
pub fn metric_rows(m: &Metrics) -> Vec<(&'static str, &'static str, Value)> {
    use Value::*;
    vec![
        ("Start", "start", Time(m.start)),
        ("End", "end", Time(m.end)),
        ("Duration", "duration", Seconds(Some(m.duration))),
        (
            "Exposure Time [%]",
            "exposure_time_pct",
            Float(Some(m.exposure_time_pct)),
        ),
        ("Equity Final [$]", "equity_final", Money(m.equity_final)),
        ("Equity Peak [$]", "equity_peak", Money(m.equity_peak)),
        ("Commissions [$]", "commissions", Money(m.commissions)),
        ("Return [%]", "return_pct", Float(Some(m.return_pct))),
        (
            "Buy & Hold Return [%]",
            "buy_and_hold_return_pct",
            Float(Some(m.buy_and_hold_return_pct)),
        ),
        (
            "Return (Ann.) [%]",
            "return_ann_pct",
            Float(m.return_ann_pct),
        ),
        (
            "Volatility (Ann.) [%]",
            "volatility_ann_pct",
            Float(m.volatility_ann_pct),
        ),
        ("CAGR [%]", "cagr_pct", Float(m.cagr_pct)),
        ("Sharpe Ratio", "sharpe_ratio", Float(m.sharpe_ratio)),
        ("Sortino Ratio", "sortino_ratio", Float(m.sortino_ratio)),
        ("Calmar Ratio", "calmar_ratio", Float(m.calmar_ratio)),
        ("Alpha [%]", "alpha_pct", Float(m.alpha_pct)),
        ("Beta", "beta", Float(m.beta)),
        (
            "Max. Drawdown [%]",
            "max_drawdown_pct",
            Float(Some(m.max_drawdown_pct)),
        ),
        (
            "Avg. Drawdown [%]",
            "avg_drawdown_pct",
            Float(Some(m.avg_drawdown_pct)),
        ),
        (
            "Max. Drawdown Duration",
            "max_drawdown_duration",
            Seconds(m.max_drawdown_duration),
        ),
        (
            "Avg. Drawdown Duration",
            "avg_drawdown_duration",
            Seconds(m.avg_drawdown_duration),
        ),
        ("# Trades", "num_trades", Count(m.num_trades)),
        ("Win Rate [%]", "win_rate_pct", Float(m.win_rate_pct)),
        ("Best Trade [%]", "best_trade_pct", Float(m.best_trade_pct)),
        (
            "Worst Trade [%]",
            "worst_trade_pct",
            Float(m.worst_trade_pct),
        ),
        ("Avg. Trade [%]", "avg_trade_pct", Float(m.avg_trade_pct)),
        (
            "Max. Trade Duration",
            "max_trade_duration",
            Seconds(m.max_trade_duration),
        ),
        (
            "Avg. Trade Duration",
            "avg_trade_duration",
            Seconds(m.avg_trade_duration),
        ),
        ("Profit Factor", "profit_factor", Float(m.profit_factor)),
        ("Expectancy [%]", "expectancy_pct", Float(m.expectancy_pct)),
        ("SQN", "sqn", Float(m.sqn)),
        (
            "Kelly Criterion",
            "kelly_criterion",
            Float(m.kelly_criterion),
        ),
    ]
}

fn table(header: &[&str], right_from: usize) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING).set_header(header.to_vec());
    for (i, column) in t.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if i >= right_from {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// The metrics table, then the trades and the equity curve when asked.
pub fn render(results: &SimulationResults, trades: bool, equity: bool) -> String {
    let mut t = table(&["Metric", "Value"], 1);
    for (name, _, value) in metric_rows(&results.metrics) {
        t.add_row(vec![name.to_string(), value.human()]);
    }
    let mut out = t.to_string();
    if !results.open_positions.is_empty() {
        out.push_str("\n\nOpen positions (valued at the last close):");
        for p in &results.open_positions {
            let _ = write!(
                out,
                "\n  {} {} @ {} (value {})",
                p.symbol,
                p.quantity.normalize(),
                p.avg_price.normalize(),
                super::render::money(p.market_value.round_dp(2))
            );
        }
    }
    if trades {
        // The report's columns but its last, `Commission`.
        let mut t = table(&TRADE_COLUMNS[..TRADE_COLUMNS.len() - 1], 2);
        for tr in &results.trades {
            t.add_row(vec![
                tr.symbol.to_string(),
                serde_json::to_value(tr.side)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                tr.quantity.normalize().to_string(),
                Value::Time(tr.entry_time).human(),
                tr.entry_price.normalize().to_string(),
                Value::Time(tr.exit_time).human(),
                tr.exit_price.normalize().to_string(),
                super::render::money(tr.pnl.round_dp(2)),
                format!("{:.2}", tr.return_pct),
                duration(tr.duration),
            ]);
        }
        let _ = write!(out, "\n\nTrades ({}):\n{t}", results.trades.len());
    }
    if equity {
        let mut t = table(&["Time", "Equity"], 1);
        for p in &results.equity_curve {
            t.add_row(vec![Value::Time(p.time).human(), p.equity.to_string()]);
        }
        let _ = write!(
            out,
            "\n\nEquity curve ({} points):\n{t}",
            results.equity_curve.len()
        );
    }
    out
}

/// The three CSV documents: `metrics.csv` (wide: a header with units, one row; see
/// [`simutrador_client::batch::metrics_table`]), `trades.csv`, `equity.csv`.
pub fn csv_files(results: &SimulationResults) -> [(&'static str, String); 3] {
    let metrics = metrics_table::metrics_csv(None, &[(0, &results.metrics)]);
    // The same trade and equity documents as a batch run's per-run files.
    let trades = output::trades_csv(results);
    let equity = output::equity_csv(results);
    [
        ("metrics.csv", metrics),
        ("trades.csv", trades),
        ("equity.csv", equity),
    ]
}

/// Write the CSV files into `dir` (created if missing); returns their paths.
pub fn write_csv(results: &SimulationResults, dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, text) in csv_files(results) {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> SimulationResults {
        // The `results` example of docs/protocol.md.
        let json = r#"{"metrics": {"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "100120.00", "equity_peak": "100120.00", "commissions": "0", "return_pct": 0.12, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": 100.0, "best_trade_pct": 1.2, "worst_trade_pct": 1.2, "avg_trade_pct": 1.2, "max_trade_duration": 86400, "avg_trade_duration": 86400, "profit_factor": null, "expectancy_pct": 1.2, "sqn": null}, "trades": [{"symbol": "ACME", "side": "long", "quantity": "100", "entry_time": "2020-01-02T00:00:00Z", "entry_price": "100.00", "exit_time": "2020-01-03T00:00:00Z", "exit_price": "101.20", "pnl": "120.00", "return_pct": 1.2, "commission": "0", "duration": 86400}], "open_positions": [], "equity_curve": [{"time": "2020-01-01T00:00:00Z", "equity": "100000"}, {"time": "2020-01-03T00:00:00Z", "equity": "100120.00"}]}"#;
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_table_uses_backtesting_py_names() {
        let text = render(&results(), true, true);
        for needle in [
            "Exposure Time [%]",
            "Equity Final [$]",
            "100,120",
            "2 days 00:00:00",
            "SQN",
            "Trades (1)",
            "long",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
        assert_eq!(metric_rows(&results().metrics).len(), 32);
    }

    #[test]
    fn csv_files_have_stable_columns_and_exact_decimals() {
        let [(_, metrics), (_, trades), (_, equity)] = csv_files(&results());
        let mut lines = metrics.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("start,end,duration_days,")
        );
        let row = lines.next().unwrap();
        assert!(row.starts_with("2020-01-01T00:00:00Z,2020-01-03T00:00:00Z,2,66.7,100120.00,"));
        assert_eq!(lines.next(), None, "one row");
        assert_eq!(
            trades.lines().nth(1),
            Some(
                "ACME,long,100,2020-01-02T00:00:00Z,100.00,2020-01-03T00:00:00Z,101.20,120.00,1.2,0,86400,,"
            )
        );
        assert_eq!(
            equity,
            "time,equity,drawdown_pct,drawdown_duration\n2020-01-01T00:00:00Z,100000,0,\n2020-01-03T00:00:00Z,100120.00,0,\n"
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_csv(&results(), dir.path()).unwrap().len(), 3);
    }
}

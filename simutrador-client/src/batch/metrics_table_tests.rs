//! Tests of the wide metrics table and of the timestamps of the trade and equity CSVs.

use super::*;
use crate::batch::output::{equity_csv, trades_csv};
use shared_models::results::SimulationResults;

/// The `results` example of docs/protocol.md, with a 1 day 01:01:01 trade.
fn results() -> SimulationResults {
    let json = r#"{"metrics": {"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "100120.00", "equity_peak": "100120.00", "commissions": "0", "return_pct": 0.12, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": 100.0, "best_trade_pct": 1.2, "worst_trade_pct": 1.2, "avg_trade_pct": 1.2, "max_trade_duration": 90061, "avg_trade_duration": 86400, "profit_factor": null, "expectancy_pct": 1.2, "sqn": null}, "trades": [{"symbol": "ACME", "side": "long", "quantity": "100", "entry_time": "2020-01-02T00:00:00Z", "entry_price": "100.00", "exit_time": "2020-01-03T00:00:00Z", "exit_price": "101.20", "pnl": "120.00", "return_pct": 1.2, "commission": "0", "duration": 86400}], "open_positions": [], "equity_curve": [{"time": "2020-01-01T00:00:00Z", "equity": "100000"}, {"time": "2020-01-03T00:00:00Z", "equity": "100120.00"}]}"#;
    serde_json::from_str(json).unwrap()
}

/// Every cell of a CSV document, by column name.
fn cells(csv: &str) -> Vec<(String, String)> {
    let mut lines = csv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        assert_eq!(row.len(), header.len(), "{line}");
        out.extend(
            header
                .iter()
                .cloned()
                .zip(row.into_iter().map(str::to_string)),
        );
    }
    out
}

#[test]
fn every_metric_cell_is_a_number_or_empty_and_times_are_iso_8601() {
    let r = results();
    let csv = metrics_csv(Some("run"), &[(1, &r.metrics), (2, &r.metrics)]);
    assert_eq!(csv.lines().count(), 3, "a header and one row per run");
    let all = cells(&csv);
    assert_eq!(all.len(), 2 * (1 + 32));
    for (column, value) in &all {
        if column == "start" || column == "end" {
            assert!(
                DateTime::parse_from_rfc3339(value).is_ok(),
                "{column}={value}"
            );
        } else {
            assert!(
                value.is_empty() || value.parse::<f64>().is_ok(),
                "{column}={value} is not a number"
            );
        }
    }
    let get = |name: &str| {
        all.iter()
            .find(|(c, _)| c == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("duration_days"), "2");
    assert_eq!(get("equity_final_ccy"), "100120.00");
    assert_eq!(get("sharpe_ratio"), "");
    assert_eq!(
        get("max_trade_duration_days"),
        (90061.0 / 86400.0).to_string()
    );
    assert_eq!(get("run"), "1");
}

#[test]
fn one_sessions_table_has_no_key_column_and_units_in_every_name() {
    let csv = metrics_csv(None, &[(0, &results().metrics)]);
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("start,end,duration_days,exposure_time_pct,equity_final_ccy,"));
    for name in column_names() {
        let unit = ["_pct", "_days", "_ccy", "_ratio"]
            .iter()
            .any(|u| name.ends_with(u))
            || [
                "start",
                "end",
                "beta",
                "num_trades",
                "sqn",
                "kelly_criterion",
                "profit_factor",
            ]
            .contains(&name);
        assert!(unit, "{name} has no unit");
    }
}

#[test]
fn trade_and_equity_times_are_iso_8601_utc() {
    let r = results();
    for (doc, columns) in [
        (trades_csv(&r), &["entry_time", "exit_time"][..]),
        (equity_csv(&r), &["time"][..]),
    ] {
        let all = cells(&doc);
        let times: Vec<_> = all
            .iter()
            .filter(|(c, _)| columns.contains(&c.as_str()))
            .collect();
        assert!(!times.is_empty());
        for (c, v) in times {
            let t = DateTime::parse_from_rfc3339(v).unwrap_or_else(|_| panic!("{c}={v}"));
            assert!(
                v.ends_with('Z') && t.offset().local_minus_utc() == 0,
                "{c}={v}"
            );
        }
    }
}

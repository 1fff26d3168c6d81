//! The report generators without a browser: what the pages contain, how many series and
//! points each chart gets, that a million bars are thinned, and the batch report's errors.

use serde_json::json;
use shared_models::results::SimulationResults;
use shared_models::session::SessionInfo;

use super::*;

fn info() -> SessionInfo {
    serde_json::from_value(
        json!({"session_id": "s-1", "user_id": "alice", "state": "stopped",
        "symbols": ["ACME", "GLOBEX"], "start_date": "2020-01-01", "end_date": "2020-01-03",
        "timeframe": "1d", "initial_capital": "100000", "commission_rate": "0",
        "commission_per_share": "0", "commission_min": "0", "slippage_bps": "0",
        "allow_short": true, "metadata": {}, "bar_count": 3, "settled_ticks": 3,
        "created_at": "2026-11-22T10:00:02Z", "updated_at": "2026-11-22T10:00:02Z",
        "started_at": "2026-11-22T10:00:03Z", "ended_at": "2026-11-22T10:00:04Z",
        "termination_reason": "loss_limit",
        "limits": {"max_duration": "4h", "max_duration_seconds": 14400,
            "max_loss_amount": "1000", "max_loss_pct": "1", "warning_threshold_pct": "80"}}),
    )
    .unwrap()
}

fn results() -> SimulationResults {
    serde_json::from_value(json!({"metrics": {"start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z", "duration": 172800, "exposure_time_pct": 66.7, "equity_final": "99500.00", "equity_peak": "100120.00", "commissions": "0", "return_pct": -0.5, "buy_and_hold_return_pct": 0.5, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": 1.23456, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": -0.62, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 1, "win_rate_pct": 100.0, "best_trade_pct": 1.2, "worst_trade_pct": 1.2, "avg_trade_pct": 1.2, "max_trade_duration": 86400, "avg_trade_duration": 86400, "profit_factor": null, "expectancy_pct": 1.2, "sqn": null},
        "trades": [{"symbol": "ACME", "side": "long", "quantity": "100", "entry_time": "2020-01-02T00:00:00Z", "entry_price": "100.00", "exit_time": "2020-01-03T00:00:00Z", "exit_price": "101.20", "pnl": "120.00", "return_pct": 1.2, "commission": "0", "duration": 86400}],
        "open_positions": [],
        "equity_curve": [{"time": "2020-01-01T00:00:00Z", "equity": "100000"}, {"time": "2020-01-02T00:00:00Z", "equity": "100120.00"}, {"time": "2020-01-03T00:00:00Z", "equity": "99500.00", "drawdown_pct": 0.62}]}))
    .unwrap()
}

fn prices(n: i64) -> Vec<SymbolPrices> {
    vec![SymbolPrices {
        symbol: "ACME".into(),
        times: (0..n).map(|i| 1_577_836_800 + i * 86_400).collect(),
        closes: (0..n).map(|i| 100.0 + (i % 7) as f64).collect(),
    }]
}

#[test]
fn a_session_report_has_every_section_and_chart() {
    let (info, results, prices) = (info(), results(), prices(3));
    let html = session_html(&SessionReport {
        info: &info,
        results: &results,
        prices: &prices,
        prices_note: Some("closes replayed"),
    });
    for needle in [
        "<b id=\"termination-reason\" class=\"bad\">loss_limit</b>",
        "id=\"chart-equity\" class=\"plot\" data-expected-series=\"1\" data-expected-points=\"3\"",
        "id=\"chart-drawdown\"",
        // Close, long entries, short entries, exits over the 3 bars (fills fall on them).
        "id=\"chart-price-0\" class=\"plot\" data-expected-series=\"4\" data-expected-points=\"3\"",
        // GLOBEX has no closes and no trades: an empty chart.
        "id=\"chart-price-1\" class=\"plot\" data-expected-series=\"4\" data-expected-points=\"0\"",
        "<td>Sharpe Ratio</td><td><span title=\"1.23456\">1.23</span></td>",
        "Trades (1)",
        "<td data-v=\"120.00\">120.00</td>",
        "Loss limit",
        "50.0% used", // deepest loss 500 of 1000
        "closes replayed",
        "termination reason",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    assert_eq!(html.matches("<tr data-key=").count(), 32, "every metric");
    let again = session_html(&SessionReport {
        info: &info,
        results: &results,
        prices: &prices,
        prices_note: Some("closes replayed"),
    });
    assert_eq!(html, again, "pure: same data, same bytes");
}

#[test]
fn a_million_bar_price_chart_is_thinned_but_the_tables_are_not() {
    let (info, results, prices) = (info(), results(), prices(1_000_000));
    let html = session_html(&SessionReport {
        info: &info,
        results: &results,
        prices: &prices,
        prices_note: None,
    });
    let at = html.find("id=\"chart-price-0\"").unwrap();
    let attr = "data-expected-points=\"";
    let start = html[at..].find(attr).unwrap() + at + attr.len();
    let points: usize = html[start..start + 8]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(points <= 2 * downsample::DEFAULT_BUCKETS + 4, "{points}");
    assert!(html.contains("1000000 points, drawn as min/max of 1000 buckets"));
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
}

fn summary() -> serde_json::Value {
    let run = |i: u64, fast: &str, slow: &str, ret: f64| {
        json!({"run": i, "name": format!("sma fast={fast} slow={slow}"), "strategy": "sma-cross",
            "swept": {"fast": fast, "slow": slow}, "status": "ok", "error": null,
            "metrics": {"return_pct": ret, "sharpe_ratio": ret / 10.0, "equity_final": "100.5",
                "num_trades": 3}})
    };
    json!({"runs": [run(1, "5", "20", 1.5), run(2, "5", "50", -2.0), run(3, "10", "20", 3.0),
        {"run": 4, "name": "bad", "strategy": "sma-cross", "swept": {"fast": "10", "slow": "50"},
         "status": "failed", "error": {"code": "X", "message": "<boom>"}, "metrics": null}],
        "skipped": [{"name": "sma fast=20 slow=20", "reason": "fast must be below slow"}]})
}

#[test]
fn a_batch_report_has_a_sortable_table_and_a_heatmap_over_the_first_two_parameters() {
    let summary = summary();
    let html = batch_html(&BatchReport {
        title: "out",
        summary: &summary,
        metric: "return_pct",
        x: None,
        y: None,
    })
    .unwrap();
    assert!(html.contains("data-cells=\"3\" data-x=\"fast\" data-y=\"slow\""));
    assert!(html.contains("<table class=\"sortable runs\">"));
    assert!(html.contains("&lt;boom&gt;"));
    assert!(html.contains("fast must be below slow"));
    assert!(html.contains(
        "id=\"chart-metric\" class=\"plot\" data-expected-series=\"1\" data-expected-points=\"4\""
    ));
    assert_eq!(swept_keys(&summary), ["fast", "slow"]);
    let swapped = batch_html(&BatchReport {
        title: "out",
        summary: &summary,
        metric: "sharpe_ratio",
        x: Some("slow"),
        y: Some("fast"),
    })
    .unwrap();
    assert!(swapped.contains("data-x=\"slow\" data-y=\"fast\""));
}

#[test]
fn a_batch_report_names_unknown_metrics_and_parameters() {
    let summary = summary();
    let report = |metric, x| BatchReport {
        title: "out",
        summary: &summary,
        metric,
        x,
        y: None,
    };
    let err = batch_html(&report("retrun_pct", None)).unwrap_err();
    assert!(err.contains("retrun_pct"), "{err}");
    let err = batch_html(&report("return_pct", Some("speed"))).unwrap_err();
    assert!(err.contains("it sweeps: fast, slow"), "{err}");
    let empty = json!({"runs": []});
    assert!(
        batch_html(&BatchReport {
            summary: &empty,
            ..report("return_pct", None)
        })
        .is_err()
    );
}

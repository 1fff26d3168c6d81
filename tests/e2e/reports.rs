//! `session report` and `batch report` end to end: the real daemon on port 0, a run made with
//! the real CLI binary, the report written by the CLI binary, then opened as a file:// page in
//! headless Chromium: no console errors, and every chart drawn with the series and points the
//! report put in. Skipped (with the reason on stderr) where chromium is not installed.
//! `SIMUTRADOR_SCREENSHOT_DIR=docs/img` refreshes the README's screenshots.

use serde_json::Value;
use simutrador_e2e::{TestDaemon, stderr, stdout};
use std::path::Path;

use super::reports_browser::{Browser, ChartState};
use crate::support::cli_as;

async fn ok(d: &TestDaemon, key: &str, home: &Path, args: &[&str]) -> String {
    let out = cli_as(&d.url(), key, home, args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn drawn_as_given(charts: &[ChartState]) {
    for c in charts {
        assert_eq!(c.series, Some(c.expected_series), "{c:?}");
        assert_eq!(c.points, Some(c.expected_points), "{c:?}");
        assert!(c.canvases >= 1, "uPlot drew no canvas: {c:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_report_opens_in_chromium_with_every_chart_drawn() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("rita").unwrap();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let created = ok(
        &d,
        &key,
        h,
        &[
            "--json",
            "session",
            "create",
            "ACME",
            "GLOBEX",
            "--start",
            "2020-01-01",
            "--end",
            "2021-12-31",
            "--capital",
            "50000",
            "--loss-limit-pct",
            "30",
        ],
    )
    .await;
    let created: Value = serde_json::from_str(&created).unwrap();
    let id = created["session_id"].as_str().unwrap().to_string();
    ok(
        &d,
        &key,
        h,
        &[
            "session",
            "run",
            &id,
            "--strategy",
            "sma-cross",
            "-p",
            "fast=5",
            "-p",
            "slow=20",
            "-q",
        ],
    )
    .await;
    let results: Value =
        serde_json::from_str(&ok(&d, &key, h, &["--json", "session", "results", &id]).await)
            .unwrap();
    let equity_points = results["equity_curve"].as_array().unwrap().len() as u64;
    let trades = results["trades"].as_array().unwrap().len();
    assert!(trades > 0, "sma-cross traded");

    let text = ok(
        &d,
        &key,
        h,
        &["session", "report", &id, "-o", "out/session.html"],
    )
    .await;
    assert!(text.contains("Wrote out/session.html"), "{text}");
    let report = h.join("out/session.html");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "self-contained"
    );

    browser.open(&report, 1280, 2300).await;
    assert_eq!(browser.errors().await, Vec::<String>::new());
    let charts = browser.charts().await;
    let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "chart-equity",
            "chart-drawdown",
            "chart-price-0",
            "chart-price-1"
        ]
    );
    drawn_as_given(&charts);
    // Not thinned at this size: one point per equity point; close + 3 marker series.
    assert_eq!(charts[0].points, Some(equity_points));
    assert_eq!(charts[2].series, Some(4));
    assert!(charts[2].points.unwrap() > 400, "{:?}", charts[2]);
    assert_eq!(
        browser
            .eval("return document.getElementById('termination-reason').textContent")
            .await,
        "completed"
    );
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('table.trades tbody tr').length")
            .await,
        trades
    );
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#stats tr[data-key]').length")
            .await,
        32
    );
    // The deleted fork that read the closes is gone: only the session itself is listed.
    let list: Value =
        serde_json::from_str(&ok(&d, &key, h, &["--json", "session", "list"]).await).unwrap();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
    browser.screenshot_if_asked("report-session.png").await;
}

const SWEEP: &str = r#"
[defaults]
symbols = ["ACME"]
start_date = "2018-01-01"
end_date = "2020-12-31"
initial_capital = 50000
commission_rate = 0.001
strategy = "sma-cross"

[sweep]
fast = [3, 5, 10]
slow = [20, 30, 60]

[output]
dir = "sweep-out"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_report_opens_in_chromium_with_a_heatmap_and_a_sortable_table() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let d = super::batch::daemon().await;
    let key = d.add_key("bea").unwrap();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(h.join("sweep.toml"), SWEEP).unwrap();
    ok(&d, &key, h, &["batch", "run", "sweep.toml", "--quiet"]).await;
    let dir = h.join("sweep-out");
    let text = ok(&d, &key, h, &["batch", "report", "sweep-out"]).await;
    assert!(text.contains("report.html"), "{text}");
    // A parameter the batch did not sweep is a usage error that names the swept ones.
    let bad = cli_as(
        &d.url(),
        &key,
        h,
        &["batch", "report", dir.to_str().unwrap(), "--x", "speed"],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("it sweeps: fast, slow"),
        "{}",
        stderr(&bad)
    );

    browser.open(&dir.join("report.html"), 1280, 1500).await;
    assert_eq!(browser.errors().await, Vec::<String>::new());
    let charts = browser.charts().await;
    assert_eq!(charts.len(), 1);
    drawn_as_given(&charts);
    assert_eq!((charts[0].series, charts[0].points), (Some(1), Some(9)));
    let heat = browser.eval("var t = document.getElementById('heatmap'); return [t.dataset.cells, t.dataset.x, t.dataset.y, t.querySelectorAll('td.cell').length];").await;
    assert_eq!(heat, serde_json::json!(["9", "fast", "slow", 9]));

    // Sorting by a click on "Return [%]": ascending, then descending.
    let column = "var h = Array.prototype.slice.call(document.querySelectorAll('table.runs thead th')); var i = h.findIndex(function (x) { return x.textContent.indexOf('Return [%]') === 0; });";
    let values = format!(
        "{column} return Array.prototype.map.call(document.querySelectorAll('table.runs tbody tr'), function (r) {{ return Number(r.cells[i].getAttribute('data-v')); }});"
    );
    for descending in [false, true] {
        browser.eval(&format!("{column} h[i].click();")).await;
        let got: Vec<f64> = serde_json::from_value(browser.eval(&values).await).unwrap();
        let mut want = got.clone();
        want.sort_by(f64::total_cmp);
        if descending {
            want.reverse();
        }
        assert_eq!(got, want);
    }
    assert_eq!(browser.errors().await, Vec::<String>::new());
    browser.screenshot_if_asked("report-batch.png").await;
}

/// A run of a million bars, through the SDK's pure generator: the page stays small, opens
/// without errors, and every chart is drawn from at most two points per bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_bar_report_draws_thinned_charts() {
    use simutrador_client::report::{SessionReport, SymbolPrices, downsample, session_html};
    let Some(browser) = Browser::start().await else {
        return;
    };
    let n: i64 = 1_000_000;
    let t0 = 1_577_836_800;
    let info: shared_models::session::SessionInfo = serde_json::from_value(serde_json::json!({
        "session_id": "big", "user_id": "u", "state": "completed", "symbols": ["ACME"],
        "start_date": "2020-01-01", "end_date": "2021-12-31", "timeframe": "1m",
        "initial_capital": "100000", "commission_rate": "0", "commission_per_share": "0",
        "commission_min": "0", "slippage_bps": "0", "allow_short": true, "metadata": {},
        "bar_count": n, "settled_ticks": n, "created_at": "2026-11-22T10:00:02Z",
        "updated_at": "2026-11-22T10:00:02Z", "termination_reason": "completed"}))
    .unwrap();
    let mut results: shared_models::results::SimulationResults =
        serde_json::from_value(serde_json::json!({"metrics": {"start": "2020-01-01T00:00:00Z", "end": "2021-12-31T00:00:00Z", "duration": 60, "exposure_time_pct": 1.0, "equity_final": "100000", "equity_peak": "100000", "commissions": "0", "return_pct": 0.0, "buy_and_hold_return_pct": 0.0, "return_ann_pct": null, "volatility_ann_pct": null, "cagr_pct": null, "sharpe_ratio": null, "sortino_ratio": null, "calmar_ratio": null, "max_drawdown_pct": 0.0, "avg_drawdown_pct": 0.0, "max_drawdown_duration": null, "avg_drawdown_duration": null, "num_trades": 0, "win_rate_pct": null, "best_trade_pct": null, "worst_trade_pct": null, "avg_trade_pct": null, "max_trade_duration": null, "avg_trade_duration": null, "profit_factor": null, "expectancy_pct": null, "sqn": null},
            "trades": [], "open_positions": [], "equity_curve": []}))
        .unwrap();
    let wave = |i: i64| 100.0 + 10.0 * ((i as f64) / 5000.0).sin() + (i % 13) as f64 / 10.0;
    results.equity_curve = (0..n)
        .map(|i| shared_models::trading::EquityPoint {
            time: chrono::DateTime::from_timestamp(t0 + i * 60, 0).unwrap(),
            equity: rust_decimal::Decimal::from(100_000 + (i % 977)),
            drawdown_pct: (i % 101) as f64 / 10.0,
            drawdown_duration: None,
        })
        .collect();
    let prices = [SymbolPrices {
        symbol: "ACME".into(),
        times: (0..n).map(|i| t0 + i * 60).collect(),
        closes: (0..n).map(wave).collect(),
    }];
    let html = session_html(&SessionReport {
        info: &info,
        results: &results,
        prices: &prices,
        prices_note: None,
    });
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("big.html");
    std::fs::write(&report, html).unwrap();
    browser.open(&report, 1280, 1200).await;
    assert_eq!(browser.errors().await, Vec::<String>::new());
    let charts = browser.charts().await;
    assert_eq!(charts.len(), 3, "equity, drawdown, ACME");
    drawn_as_given(&charts);
    for c in &charts {
        let points = c.points.unwrap();
        assert!(
            (downsample::DEFAULT_BUCKETS as u64..=2 * downsample::DEFAULT_BUCKETS as u64 + 2)
                .contains(&points),
            "{c:?}"
        );
    }
}

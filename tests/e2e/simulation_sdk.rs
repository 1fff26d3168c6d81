//! Running simulations through the SDK and the CLI binary (`simulation.rs` drives the raw
//! protocol): the SDK gets byte-identical results whatever the window and across runs, and
//! `session run` / `session results` work from the command line.

use serde_json::Value;
use shared_models::{SessionState, Timeframe};
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, TestDaemon, client_cmd, run, stderr, stdout};

async fn sma_cross_results(
    c: &Client,
    window: u32,
    predict: bool,
    symbol: &str,
    tf: Timeframe,
    start: &str,
    end: &str,
) -> String {
    let request = SessionRequestBuilder::new([symbol], start, end)
        .timeframe(tf)
        .commission_rate(rust_decimal::Decimal::new(1, 3))
        .build();
    let session = c.create_session(request).await.unwrap();
    let spec = StrategySpec {
        name: "sma-cross".into(),
        params: [
            ("fast".to_string(), "10".to_string()),
            ("slow".to_string(), "20".to_string()),
        ]
        .into(),
    };
    let mut strategy = build_strategy(&spec).unwrap();
    let options = RunOptions {
        window,
        predict_fills: predict,
        ..RunOptions::default()
    };
    let results = c
        .run_simulation(&session.session_id, strategy.as_mut(), options)
        .await
        .unwrap();
    assert!(
        results.metrics.num_trades > 5,
        "sma-cross trades: {}",
        results.metrics.num_trades
    );
    assert_eq!(results.equity_curve.len() as u64, session.bar_count);
    // The summary: the same metrics and open positions, no trades, no curve.
    let summary = c.get_results_summary(&session.session_id).await.unwrap();
    assert!(summary.trades.is_empty() && summary.equity_curve.is_empty());
    assert_eq!(
        serde_json::to_string(&(&summary.metrics, &summary.open_positions)).unwrap(),
        serde_json::to_string(&(&results.metrics, &results.open_positions)).unwrap()
    );
    let s = c.get_session(&session.session_id).await.unwrap();
    assert_eq!(s.state, SessionState::Completed);
    assert_eq!(s.settled_ticks, session.bar_count);
    serde_json::to_string(&results).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_gets_byte_identical_results_for_window_1_and_1024_and_across_runs() {
    let d = TestDaemon::start_with(|c| c.limits.max_sessions_per_user = 20)
        .await
        .unwrap();
    let key = d.add_key("alice").unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let one = sma_cross_results(
        &c,
        1,
        true,
        "ACME",
        Timeframe::D1,
        "2015-01-01",
        "2019-12-31",
    )
    .await;
    let wide = sma_cross_results(
        &c,
        1024,
        true,
        "ACME",
        Timeframe::D1,
        "2015-01-01",
        "2019-12-31",
    )
    .await;
    let again = sma_cross_results(
        &c,
        1024,
        true,
        "ACME",
        Timeframe::D1,
        "2015-01-01",
        "2019-12-31",
    )
    .await;
    let waiting = sma_cross_results(
        &c,
        1024,
        false,
        "ACME",
        Timeframe::D1,
        "2015-01-01",
        "2019-12-31",
    )
    .await;
    assert_eq!(one, wide, "window 1 vs 1024");
    assert_eq!(wide, waiting, "predicted fills vs waiting for bar_settled");
    assert_eq!(wide, again, "two runs");
    // Minute bars of a crypto symbol (fractional lots), a few days.
    let m1 = sma_cross_results(
        &c,
        1,
        true,
        "BITDEMO",
        Timeframe::M1,
        "2024-12-02",
        "2024-12-03",
    )
    .await;
    let m2 = sma_cross_results(
        &c,
        4096,
        true,
        "BITDEMO",
        Timeframe::M1,
        "2024-12-02",
        "2024-12-03",
    )
    .await;
    assert_eq!(m1, m2);
    d.stop().await.unwrap();
}

#[test]
fn session_run_and_results_from_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let daemon = DaemonProcess::start(&home.path().join("state/simutrador"), &[]).unwrap();
    let cli = |args: &[&str]| {
        run(client_cmd(home.path())
            .args(["--url", &daemon.url()])
            .args(args))
        .unwrap()
    };
    let out = cli(&[
        "--json",
        "session",
        "create",
        "GLOBEX",
        "--start",
        "2016-01-01",
        "--end",
        "2020-12-31",
        "--commission-rate",
        "0.002",
        "--close-at-end",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(created["close_at_end"], true);
    let id = created["session_id"].as_str().unwrap().to_string();

    let out = cli(&[
        "--json",
        "session",
        "run",
        &id,
        "--strategy",
        "sma-cross",
        "-p",
        "fast=5",
        "-p",
        "slow=30",
        "--window",
        "256",
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let ran: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        ran["metrics"]["num_trades"].as_u64().unwrap() > 0,
        "{}",
        ran["metrics"]
    );
    assert_eq!(
        ran["open_positions"].as_array().unwrap().len(),
        0,
        "close_at_end closed everything"
    );
    let trade = &ran["trades"][0];
    for key in [
        "symbol",
        "side",
        "quantity",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "pnl",
        "return_pct",
        "commission",
        "duration",
    ] {
        assert!(trade.get(key).is_some(), "trade has {key}: {trade}");
    }
    for key in [
        "equity_final",
        "return_pct",
        "sharpe_ratio",
        "max_drawdown_pct",
        "num_trades",
        "win_rate_pct",
        "buy_and_hold_return_pct",
        "sqn",
    ] {
        assert!(ran["metrics"].get(key).is_some(), "metrics have {key}");
    }

    let out = cli(&["--json", "session", "results", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fetched: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(fetched["metrics"], ran["metrics"]);
    assert_eq!(fetched["trades"], ran["trades"]);

    let csv = home.path().join("csv");
    let out = cli(&["session", "results", &id, "--csv", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trades = std::fs::read_to_string(csv.join("trades.csv")).unwrap();
    assert_eq!(
        trades.lines().count() as u64,
        1 + ran["metrics"]["num_trades"].as_u64().unwrap()
    );

    // Human output: a metrics table.
    let out = cli(&["session", "results", &id]);
    assert!(stdout(&out).contains("Sharpe"), "{}", stdout(&out));
    // A strategy typo is a usage error.
    let out = cli(&["session", "run", &id, "--strategy", "sma-crosss"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sma-cross"), "{}", stderr(&out));
}

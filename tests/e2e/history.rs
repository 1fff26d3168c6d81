//! History analytics and exports end to end: several sessions with different outcomes on a
//! real daemon (a completed buy-and-hold, a completed sma-cross, a buy-and-hold cut by its
//! loss limit, one stopped before it ran), then `session list` filters and orders, `session
//! compare`, `session stats` and `session export` through the `simutrador-client` binary,
//! and the same figures through the SDK.

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};
use shared_models::TerminationReason;
use shared_models::lifecycle::SessionSort;
use shared_models::messages::client::ListSessions;
use shared_models::messages::history::GetHistoryStats;
use simutrador_client::strategies::{StrategySpec, build_strategy};
use simutrador_client::{Client, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, TestDaemon, client_cmd, run, stderr, stdout};
use std::path::Path;
use std::process::Output;

struct Shell {
    home: tempfile::TempDir,
    daemon: DaemonProcess,
}

impl Shell {
    fn client(&self, args: &[&str]) -> Output {
        run(client_cmd(self.home.path())
            .args(["--url", &self.daemon.url()])
            .args(args))
        .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.client(&all);
        assert!(out.status.success(), "{args:?}: {}", stdout(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    }

    /// Create a session from a session file (so it can carry `metadata`); returns its id.
    fn create(&self, toml: &str) -> String {
        let file = self.home.path().join("session.toml");
        std::fs::write(&file, toml).unwrap();
        let created = self.json(&["session", "create", "--config", file.to_str().unwrap()]);
        created["session_id"].as_str().unwrap().to_string()
    }

    fn ids(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["session", "list"];
        all.extend_from_slice(args);
        let list = self.json(&all);
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["session_id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn session_file(start: &str, end: &str, strategy: Option<&str>, extra: &str) -> String {
    let meta = strategy
        .map(|s| format!("metadata = {{ strategy = \"{s}\" }}\n"))
        .unwrap_or_default();
    format!("symbols = [\"ACME\"]\nstart_date = \"{start}\"\nend_date = \"{end}\"\n{extra}\n{meta}")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn parquet_rows(path: &Path) -> i64 {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader.metadata().file_metadata().num_rows()
}

#[test]
fn the_cli_filters_sorts_compares_aggregates_and_exports_a_history() {
    let home = tempfile::tempdir().unwrap();
    let daemon = DaemonProcess::start(&home.path().join("state/simutrador"), &[]).unwrap();
    let s = Shell { home, daemon };

    let year = s.create(&session_file(
        "2020-01-01",
        "2020-12-31",
        Some("buy-and-hold"),
        "",
    ));
    let quarter = s.create(&session_file(
        "2020-01-01",
        "2020-03-31",
        Some("sma-cross"),
        "",
    ));
    let cut = s.create(&session_file(
        "2020-01-01",
        "2020-06-30",
        Some("buy-and-hold"),
        "commission_rate = 0.001\nloss_limit_amount = 1",
    ));
    let never = s.create(&session_file("2020-02-01", "2020-02-29", None, ""));
    for (id, strategy) in [
        (&year, &["--strategy", "buy-and-hold"][..]),
        (
            &quarter,
            &["--strategy", "sma-cross", "-p", "fast=3", "-p", "slow=8"][..],
        ),
        (&cut, &["--strategy", "buy-and-hold"][..]),
    ] {
        // The loss-limited run may exit non-zero (a run that did not complete): only its
        // end state matters here.
        let mut args = vec!["session", "run", id.as_str(), "--quiet"];
        args.extend_from_slice(strategy);
        s.client(&args);
    }
    let stop = s.client(&["session", "stop", &never]);
    assert!(stop.status.success(), "{}", stderr(&stop));

    // Filters: end reason and duration (the simulated period).
    assert_eq!(s.ids(&["--reason", "loss_limit"]), vec![cut.clone()]);
    assert_eq!(s.ids(&["--reason", "manual-stop"]), vec![never.clone()]);
    assert_eq!(
        s.ids(&["--min-duration", "100d"]),
        vec![cut.clone(), year.clone()]
    );
    assert_eq!(s.ids(&["--max-duration", "29d"]), vec![never.clone()]);
    assert_eq!(
        s.ids(&["--sort", "duration"]),
        vec![year.clone(), cut.clone(), quarter.clone(), never.clone()]
    );
    // Orders by figures: non-increasing, the session that never ran last.
    for (sort, key) in [
        ("trades", "trades"),
        ("drawdown", "max_drawdown_pct"),
        ("return", "return_pct"),
    ] {
        let list = s.json(&["session", "history", "--sort", sort]);
        let sessions = list["sessions"].as_array().unwrap();
        assert_eq!(sessions[3]["session_id"], never.as_str(), "{sort}");
        let figures: Vec<f64> = sessions[..3]
            .iter()
            .map(|x| x[key].as_f64().unwrap())
            .collect();
        assert!(
            figures.windows(2).all(|w| w[0] >= w[1]),
            "{sort}: {figures:?}"
        );
    }
    let table = stdout(&s.client(&["session", "list"]));
    for needle in [
        "P&L",
        "RETURN",
        "END",
        "loss_limit",
        "manual_stop",
        "completed",
    ] {
        assert!(table.contains(needle), "{needle} missing in\n{table}");
    }

    // Compare.
    let c = s.json(&["session", "compare", &year, &quarter, &never]);
    let compared = c["sessions"].as_array().unwrap();
    assert_eq!(compared[1]["session_id"], quarter.as_str());
    assert!(
        compared[0]["metrics"]["sharpe_ratio"].is_number()
            || compared[0]["metrics"]["sharpe_ratio"].is_null()
    );
    assert!(compared[2].get("metrics").is_none());
    let text = stdout(&s.client(&["session", "compare", &year, &cut]));
    for needle in [
        &year[..8],
        &cut[..8],
        "Return [%]",
        "loss_limit",
        "buy-and-hold",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    let one = s.client(&["session", "compare", &year]);
    assert_eq!(one.status.code(), Some(2), "a comparison needs two ids");

    // Stats: consistent with the list's own figures.
    let list = s.json(&["session", "list"]);
    let returns: Vec<(String, f64)> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| {
            Some((
                x["session_id"].as_str()?.to_string(),
                x["return_pct"].as_f64()?,
            ))
        })
        .collect();
    assert_eq!(returns.len(), 3);
    let stats = s.json(&["session", "stats"]);
    let o = &stats["overall"];
    assert_eq!(
        (o["sessions"].as_u64(), o["with_return"].as_u64()),
        (Some(4), Some(3))
    );
    let winners = returns.iter().filter(|(_, r)| *r > 0.0).count();
    assert_eq!(o["winners"].as_u64(), Some(winners as u64));
    let med = median(returns.iter().map(|(_, r)| *r).collect());
    assert!((o["median_return_pct"].as_f64().unwrap() - med).abs() < 1e-9);
    let best = returns.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert_eq!(o["best"]["session_id"], best.0.as_str());
    let groups: Vec<(Value, u64)> = stats["by_strategy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g.get("strategy").cloned().unwrap_or(Value::Null),
                g["sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            (json!("buy-and-hold"), 2),
            (json!("sma-cross"), 1),
            (Value::Null, 1)
        ]
    );
    let completed = s.json(&["session", "stats", "--reason", "completed"]);
    assert_eq!(completed["overall"]["sessions"], 2);
    let human = stdout(&s.client(&["session", "stats"]));
    assert!(
        human.contains("4 sessions, 3 ran") && human.contains("(none)"),
        "{human}"
    );

    // Exports.
    let results = s.json(&["session", "results", &year]);
    let dir = s.home.path().join("export");
    let out = s.client(&["session", "export", &year, "-o", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trades = results["trades"].as_array().unwrap().len() as i64;
    let points = results["equity_curve"].as_array().unwrap().len() as i64;
    assert_eq!(parquet_rows(&dir.join("trades.parquet")), trades);
    assert_eq!(parquet_rows(&dir.join("equity.parquet")), points);
    assert_eq!(parquet_rows(&dir.join("metrics.parquet")), 1);
    let csv_dir = s.home.path().join("csv");
    let out = s.client(&[
        "session",
        "export",
        &year,
        "--format",
        "csv",
        "-o",
        csv_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let metrics = std::fs::read_to_string(csv_dir.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = metrics.lines().collect();
    assert_eq!(lines.len(), 2, "{metrics}");
    for (name, value) in lines[0].split(',').zip(lines[1].split(',')) {
        let ok = if name == "start" || name == "end" {
            chrono::DateTime::parse_from_rfc3339(value).is_ok()
        } else {
            value.is_empty() || value.parse::<f64>().is_ok()
        };
        assert!(ok, "{name}={value}");
    }
    assert_eq!(
        lines[1]
            .split(',')
            .nth(7)
            .and_then(|r| r.parse::<f64>().ok()),
        results["metrics"]["return_pct"].as_f64(),
        "return_pct is the eighth column"
    );
}

async fn run_one(c: &Client, start: &str, end: &str, strategy: Option<&str>) -> String {
    let mut request = SessionRequestBuilder::new(["ACME"], start, end).build();
    if let Some(name) = strategy {
        let mut meta = serde_json::Map::new();
        meta.insert("strategy".into(), json!(name));
        request.metadata = Some(meta);
    }
    let session = c.create_session(request).await.unwrap();
    if let Some(name) = strategy {
        let spec = StrategySpec::parse(name, Vec::<&str>::new()).unwrap();
        let mut built = build_strategy(&spec).unwrap();
        c.run_simulation(&session.session_id, built.as_mut(), RunOptions::default())
            .await
            .unwrap();
    }
    session.session_id
}

#[tokio::test]
async fn the_sdk_gets_the_same_filters_comparison_and_aggregates() {
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("carol").unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let long = run_one(&c, "2020-01-01", "2020-12-31", Some("buy-and-hold")).await;
    let short = run_one(&c, "2020-01-01", "2020-02-29", Some("buy-and-hold")).await;
    let idle = run_one(&c, "2020-03-01", "2020-03-31", None).await;

    let list = c
        .list_sessions(ListSessions {
            min_duration_seconds: Some(61 * 86_400),
            sort: Some(SessionSort::Duration),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = list.sessions.iter().map(|s| s.session_id.clone()).collect();
    assert_eq!(
        ids,
        vec![long.clone()],
        "Jan-Feb 2020 covers 60 days, March 31"
    );
    let completed = c
        .list_sessions(ListSessions {
            reason: Some(TerminationReason::Completed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(completed.total, 2);
    assert!(completed.sessions.iter().all(|s| s.trades.is_some()));

    let cmp = c
        .compare_sessions(&[short.clone(), idle.clone()])
        .await
        .unwrap();
    assert!(cmp.sessions[0].metrics.is_some() && cmp.sessions[1].metrics.is_none());
    let err = c.compare_sessions(&[]).await.unwrap_err();
    assert_eq!(
        err.error_code(),
        Some(shared_models::ErrorCode::ValidationFailed)
    );

    let stats = c.history_stats(GetHistoryStats::default()).await.unwrap();
    assert_eq!((stats.overall.sessions, stats.overall.with_return), (3, 2));
    assert_eq!(
        stats.by_strategy[0].strategy.as_deref(),
        Some("buy-and-hold")
    );
    let returns: Vec<f64> = completed
        .sessions
        .iter()
        .filter_map(|s| s.return_pct)
        .collect();
    let mean = returns.iter().sum::<f64>() / 2.0;
    assert!(
        (stats.overall.median_return_pct.unwrap() - mean).abs() < 1e-9,
        "median of two"
    );
    let bad = c
        .history_stats(GetHistoryStats {
            created_to: Some("yesterday".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad.error_code(),
        Some(shared_models::ErrorCode::InvalidDateRange)
    );
    d.stop().await.unwrap();
}

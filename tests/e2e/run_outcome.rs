//! Every end has a reason, and every session remembers what ran on it: the real daemon on
//! port 0 and the real `simutrador-client` binary. A run cut by a loss limit exits 3 and says
//! why; `--json` results carry `final_state`, `termination_reason` and the run's origin
//! (strategy, client version, data fingerprint), which also survive a restart; the end's max
//! drawdown is the results' one; a batch's summary names its cut runs (`session rerun` is
//! tested in `rerun.rs`).

use serde_json::{Value, json};
use shared_models::TerminationReason;
use simutrador_client::{Client, RunOptions, SessionRequestBuilder, StrategySpec, build_strategy};
use simutrador_e2e::{TestDaemon, demo_catalog, stderr, stdout, test_config};
use std::path::Path;

use crate::support::{Raw, cli_as, error_code, json_of, login};

/// A session on ACME 2015–2019 that buy-and-hold loses 5 % of (see `lifecycle.rs`).
async fn losing_session(url: &str, key: &str, home: &Path) -> String {
    let out = cli_as(
        url,
        key,
        home,
        &[
            "--json",
            "session",
            "create",
            "ACME",
            "--start",
            "2015-01-01",
            "--end",
            "2019-12-31",
            "--loss-limit-pct",
            "5",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    json_of(&out)["session_id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_by_the_loss_limit_exits_3_says_why_and_results_carry_the_reason() {
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("alice").unwrap();
    let home = tempfile::tempdir().unwrap();
    let url = d.url();

    // Human: the reason in words, where it stopped, and exit 3.
    let id = losing_session(&url, &key, home.path()).await;
    let run = [
        "session",
        "run",
        &id,
        "--strategy",
        "buy-and-hold",
        "--quiet",
    ];
    let out = cli_as(&url, &key, home.path(), &run).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text} {}", stderr(&out));
    let line = text
        .lines()
        .find(|l| l.starts_with("Stopped: loss limit reached at bar "))
        .unwrap_or_else(|| panic!("no reason line in\n{text}"));
    assert!(line.contains("reason loss_limit"), "{line}");
    assert!(text.contains("Equity Final [$]"), "{text}");

    // --json results: the reason, the state and what ran.
    let out = cli_as(
        &url,
        &key,
        home.path(),
        &["--json", "session", "results", &id],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let results = json_of(&out);
    assert_eq!(results["termination_reason"], "loss_limit", "{results}");
    assert_eq!(results["final_state"], "stopped");
    assert_eq!(
        results["strategy"],
        json!({"name": "buy-and-hold", "built_in": true})
    );
    assert!(
        results["client_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("simutrador-client ")),
        "{results}"
    );
    let digest = results["data_fingerprint"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 16, "{digest}");
    let settled = results["settled_ticks"].as_u64().unwrap();
    assert!(settled < results["total_ticks"].as_u64().unwrap());
    assert!(line.contains(&format!("at bar {settled} of ")), "{line}");

    // One max drawdown: the end's (SESSION_ENDED's final_stats) is the results'.
    let out = cli_as(
        &url,
        &key,
        home.path(),
        &["--json", "session", "events", &id],
    )
    .await;
    let events = json_of(&out);
    let ended = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "SESSION_ENDED")
        .unwrap();
    let end_dd = ended["data"]["final_stats"]["max_drawdown_pct"].as_f64();
    assert_eq!(
        end_dd,
        results["metrics"]["max_drawdown_pct"].as_f64(),
        "{ended}"
    );
    assert!(end_dd.is_some_and(|dd| dd < 0.0));

    // `session run --json`: the same document shape, and still exit 3.
    let id2 = losing_session(&url, &key, home.path()).await;
    let out = cli_as(
        &url,
        &key,
        home.path(),
        &["--json", "session", "run", &id2, "-s", "buy-and-hold", "-q"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["termination_reason"], "loss_limit");
    assert_eq!(
        doc["data_fingerprint"],
        digest.as_str(),
        "same data, same digest"
    );

    // Status (human and JSON) and the list show the reason and the origin.
    let out = cli_as(&url, &key, home.path(), &["session", "status", &id]).await;
    let text = stdout(&out);
    assert!(text.contains("why         loss limit reached"), "{text}");
    assert!(
        text.contains("strategy    buy-and-hold (built-in)"),
        "{text}"
    );
    assert!(text.contains(&format!("data        {digest}")), "{text}");
    let out = cli_as(&url, &key, home.path(), &["--json", "session", "list"]).await;
    let list = json_of(&out);
    let listed = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == id.as_str())
        .unwrap();
    assert_eq!(listed["strategy"]["name"], "buy-and-hold");
    assert_eq!(listed["termination_reason"], "loss_limit");
    assert_eq!(listed["data_fingerprint"], digest.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_ran_is_journaled_and_survives_a_restart() {
    let daemon = TestDaemon::start().await.unwrap();
    let key = daemon.add_key("bob").unwrap();
    let c = Client::connect_with_api_key(&daemon.url(), &key)
        .await
        .unwrap();
    let req = SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-12-31").build();
    let s = c.create_session(req).await.unwrap();
    let spec = StrategySpec::parse("sma-cross", ["fast=5", "slow=30"]).unwrap();
    let mut strategy = build_strategy(&spec).unwrap();
    let described = simutrador_client::strategies::built_in_ref(&spec).unwrap();
    let options = RunOptions::default()
        .warmup_bars(20)
        .strategy_ref(described.clone());
    // What ran: the description and the warm-up the runner asked for.
    let origin = shared_models::StrategyRef {
        warmup_bars: Some(20),
        ..described
    };
    let results = c
        .run_simulation(&s.session_id, &mut strategy, options)
        .await
        .unwrap();
    assert_eq!(
        results.outcome.termination_reason,
        Some(TerminationReason::Completed)
    );
    assert_eq!(results.outcome.strategy.as_ref(), Some(&origin));
    let before = c.get_session(&s.session_id).await.unwrap();
    drop(c);

    let TestDaemon { server, state_dir } = daemon;
    server.shutdown().await.unwrap();
    let second = simutrador_server::server::start(test_config(state_dir.path()), demo_catalog())
        .await
        .unwrap();
    let c = Client::connect_with_api_key(&format!("ws://{}", second.addr()), &key)
        .await
        .unwrap();
    let after = c.get_session(&s.session_id).await.unwrap();
    assert_eq!(after.strategy.as_ref(), Some(&origin));
    assert_eq!(after.client_version, before.client_version);
    assert!(after.client_version.is_some());
    assert_eq!(after.data_fingerprint, before.data_fingerprint);
    assert!(after.data_fingerprint.is_some());
    let again = c.get_results(&s.session_id).await.unwrap();
    assert_eq!(again.outcome.strategy.as_ref(), Some(&origin));
    assert_eq!(
        again.outcome.termination_reason,
        Some(TerminationReason::Completed)
    );
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_description_too_large_to_keep_is_refused() {
    let d = TestDaemon::start().await.unwrap();
    let mut raw = Raw::connect(&d, &login(&d, "carol").await).await;
    let created = raw
        .request("create_session", crate::support::create_data("ACME"))
        .await;
    let id = created["data"]["session_id"].as_str().unwrap().to_string();
    let long = "x".repeat(shared_models::session::MAX_STRATEGY_NAME_CHARS + 1);
    let r = raw
        .request(
            "start_simulation",
            json!({"session_id": id, "strategy": {"name": long}}),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION_FAILED", "{r}");
    assert_eq!(r["data"]["details"]["field"], "strategy");
    let r = raw
        .request(
            "start_simulation",
            json!({"session_id": id, "client_version": "v".repeat(65)}),
        )
        .await;
    assert_eq!(r["data"]["details"]["field"], "client_version", "{r}");
    let info = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "created", "nothing started: {info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_summary_names_the_runs_a_limit_cut_short() {
    let d = crate::batch::daemon().await;
    let key = d.add_key("erin").unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = crate::batch::write(
        dir.path(),
        "cut.toml",
        r#"
[defaults]
symbols = ["ACME"]
start_date = "2015-01-01"
end_date = "2019-12-31"
strategy = "buy-and-hold"

[sweep]
loss_limit_pct = [5, 30]

[output]
formats = ["csv", "json"]
"#,
    );
    let out_dir = dir.path().join("out");
    let args = [
        "batch",
        "run",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ];
    let out = cli_as(&d.url(), &key, home.path(), &args).await;
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "cut runs are results, not failures: {text} {}",
        stderr(&out)
    );
    assert!(text.contains("cut loss_limit"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("run 1 (")
            && l.contains("ended early: loss limit reached (loss_limit) at bar ")),
        "{text}"
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs[0]["end_reason"], "loss_limit", "{summary}");
    assert!(runs[0]["settled_ticks"].as_u64() < runs[0]["total_ticks"].as_u64());
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "end_reason").unwrap();
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[col], "loss_limit", "{csv}");
    // The second run (a 30 % limit) says how it ended too, whichever way that was.
    let second = runs[1]["end_reason"].as_str().unwrap();
    assert!(["completed", "loss_limit"].contains(&second), "{summary}");
}

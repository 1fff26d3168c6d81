//! `session rerun` runs exactly what ran, end to end (the real daemon on port 0, the real
//! `simutrador-client` binary): a built-in with its parameters and its `--warmup` (recorded
//! with the session's strategy) is repeated on a fresh session with identical results, and a
//! program's own strategy is refused.

use serde_json::json;
use simutrador_client::{Client, RunOptions, SessionRequestBuilder, StrategySpec, build_strategy};
use simutrador_e2e::{TestDaemon, stderr, stdout};
use std::path::Path;

use crate::support::{cli_as, json_of};

/// A session on ACME 2019–2020 (the demo data has bars from 2015, so a warm-up has history).
async fn acme_2019_2020(url: &str, key: &str, home: &Path) -> String {
    let args = [
        "--json",
        "session",
        "create",
        "ACME",
        "--start",
        "2019-01-01",
        "--end",
        "2020-12-31",
    ];
    let out = cli_as(url, key, home, &args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    json_of(&out)["session_id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_repeats_a_built_in_with_identical_results_and_refuses_a_programs_own() {
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("dave").unwrap();
    let home = tempfile::tempdir().unwrap();
    let url = d.url();
    let id = acme_2019_2020(&url, &key, home.path()).await;
    let run = [
        "session",
        "run",
        &id,
        "-s",
        "sma-cross",
        "-p",
        "fast=5",
        "-p",
        "slow=30",
        "-q",
    ];
    let out = cli_as(&url, &key, home.path(), &run).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = cli_as(&url, &key, home.path(), &["session", "rerun", &id, "-q"]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text} {}", stderr(&out));
    assert!(
        text.contains("Reran sma-cross (fast=5, short=true, slow=30) of session")
            && text.contains("identical results (metrics and trades)"),
        "{text}"
    );
    let out = cli_as(
        &url,
        &key,
        home.path(),
        &["--json", "session", "rerun", &id, "-q"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json_of(&out);
    assert_eq!(report["identical"], true, "{report}");
    assert_eq!(report["differences"], json!([]));
    assert_ne!(report["rerun"], id.as_str(), "a fresh session");

    // A program's own strategy: described, kept, but not rerunnable by the CLI.
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    let req = SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-03-31").build();
    let s = c.create_session(req).await.unwrap();
    let mut strategy = build_strategy(&StrategySpec::new("buy-and-hold")).unwrap();
    let mut params = serde_json::Map::new();
    params.insert("lookback".into(), json!(20));
    let options = RunOptions::default().strategy("my-breakout", params);
    c.run_simulation(&s.session_id, &mut strategy, options)
        .await
        .unwrap();
    let info = c.get_session(&s.session_id).await.unwrap();
    let own = info.strategy.unwrap();
    assert_eq!((own.name.as_str(), own.built_in), ("my-breakout", false));
    let out = cli_as(
        &url,
        &key,
        home.path(),
        &["session", "rerun", &s.session_id],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("not a built-in"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_repeats_a_runs_warmup_and_finds_identical_results() {
    let d = TestDaemon::start().await.unwrap();
    let key = d.add_key("wendy").unwrap();
    let home = tempfile::tempdir().unwrap();
    let url = d.url();
    let (home, key) = (home.path(), key.as_str());

    // The same strategy with and without a warm-up ends differently: the warm-up matters.
    let cold = acme_2019_2020(&url, key, home).await;
    let warm = acme_2019_2020(&url, key, home).await;
    let strategy = ["-s", "sma-cross", "-p", "fast=5", "-p", "slow=30", "-q"];
    for (id, warmup) in [(&cold, "0"), (&warm, "40")] {
        let mut args = vec!["--json", "session", "run", id, "--warmup", warmup];
        args.extend(strategy);
        let out = cli_as(&url, key, home, &args).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let results = |id: String| {
        let url = url.clone();
        async move { json_of(&cli_as(&url, key, home, &["--json", "session", "results", &id]).await) }
    };
    let (cold_results, warm_results) = (results(cold).await, results(warm.clone()).await);
    assert_ne!(
        (&cold_results["metrics"], &cold_results["trades"]),
        (&warm_results["metrics"], &warm_results["trades"]),
        "a 40-bar warm-up changes an sma-cross run"
    );
    // What ran is recorded with the session, the warm-up included.
    let recorded = &warm_results["strategy"];
    assert_eq!(recorded["warmup_bars"], 40, "{recorded}");

    // The rerun takes the warm-up from the record, with no flag, and finds the same results.
    let out = cli_as(
        &url,
        key,
        home,
        &["--json", "session", "rerun", &warm, "-q"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} {}",
        stdout(&out),
        stderr(&out)
    );
    let report = json_of(&out);
    assert_eq!(report["identical"], true, "{report}");
    assert_eq!(report["differences"], json!([]));
    assert_eq!(report["strategy"]["warmup_bars"], 40, "{report}");
    let rerun = report["rerun"].as_str().unwrap().to_string();
    let again = results(rerun).await;
    assert_eq!(again["strategy"], *recorded);

    // A different --warmup than the recorded one is refused: rerun runs what ran.
    let out = cli_as(
        &url,
        key,
        home,
        &["session", "rerun", &warm, "--warmup", "10"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("--warmup 40"), "{}", stderr(&out));
}

//! Stopping batches: a Rust program's `BatchRunner` with its own strategy, cancelled through
//! its token, and Ctrl-C on the `batch run` binary. Either way running sessions are stopped
//! with `stop_session`, nothing new starts, and what finished is kept.

use serde_json::Value;
use shared_models::messages::client::ListSessions;
use simutrador_client::batch::{
    BatchConfig, BatchObserver, BatchOptions, BatchRunner, CancellationToken, RunSpec, RunStatus,
    StrategyRegistry, expand,
};
use simutrador_client::{Client, StrategySpec, build_strategy};
use simutrador_e2e::{client_cmd, stdout};
use std::path::Path;
use std::sync::Arc;

use super::batch::{daemon, write};

/// Counts finished runs and cancels the batch after the first.
struct CancelAfterFirst(CancellationToken);
impl BatchObserver for CancelAfterFirst {
    fn run_finished(&self, _: &simutrador_client::batch::RunRecord) {
        self.0.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_runs_custom_strategies_and_cancels_cleanly() {
    let d = daemon().await;
    let key = d.add_key("gil").unwrap();
    let mut registry = StrategyRegistry::built_ins();
    // A custom strategy under a new name: sma-cross that never shorts, with one parameter.
    registry.register("long-cross", &[("fast", "5")], |spec: &StrategySpec| {
        let fast = spec.params.get("fast").map_or("5", String::as_str);
        build_strategy(&StrategySpec::parse(
            "sma-cross",
            [format!("fast={fast}").as_str(), "slow=30", "short=false"],
        )?)
    });
    let text = "[defaults]\nsymbols = [\"ACME\"]\nstart_date = \"2015-01-01\"\nend_date = \"2024-12-31\"\nstrategy = \"long-cross\"\n[sweep]\nfast = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]\n";
    let config = BatchConfig::parse(text, "lib.toml", Path::new("."), &registry).unwrap();
    let plan = expand(&config, &registry).unwrap();
    assert_eq!(plan.runs.len(), 12);
    let clients = vec![Client::connect_with_api_key(&d.url(), &key).await.unwrap()];
    let runner = BatchRunner::new(clients.clone(), registry).options(BatchOptions {
        parallel: Some(2),
        ..Default::default()
    });
    let cancel = CancellationToken::new();
    let report = runner
        .run(
            &plan.runs,
            Arc::new(CancelAfterFirst(cancel.clone())),
            cancel.clone(),
        )
        .await;
    assert!(report.cancelled);
    let ok = report
        .records
        .iter()
        .filter(|r| r.status == RunStatus::Ok)
        .count();
    assert!(
        ok >= 1,
        "{:?}",
        report
            .records
            .iter()
            .map(|r| r.status.clone())
            .collect::<Vec<_>>()
    );
    assert!(report.records.iter().any(|r| r.status == RunStatus::NotRun));
    assert!(
        report
            .records
            .iter()
            .all(|r| r.status != RunStatus::Cancelled || r.session_id.is_some())
    );
    // Every session was stopped or finished, then deleted: the user holds none.
    let list = clients[0]
        .list_sessions(ListSessions::default())
        .await
        .unwrap();
    assert_eq!(list.total, 0, "{list:?}");
    let first: &RunSpec = &plan.runs[0];
    assert_eq!(first.name, "long-cross fast=2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_running_sessions_and_writes_what_finished() {
    use std::io::{BufRead, BufReader};
    let d = daemon().await;
    let key = d.add_key("hal").unwrap();
    let home = tempfile::tempdir().unwrap();
    let text = "[defaults]\nsymbols = [\"ACME\"]\nstart_date = \"2010-01-01\"\nend_date = \"2024-12-31\"\nstrategy = \"sma-cross\"\n[sweep]\nfast = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nslow = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]\n[output]\ndir = \"out\"\n";
    let file = write(home.path(), "long.toml", text);
    let mut cmd = client_cmd(home.path());
    cmd.args([
        "--url",
        &d.url(),
        "batch",
        "run",
        file.to_str().unwrap(),
        "--parallel",
        "2",
        "--quiet",
    ])
    .env("SIMUTRADOR_API_KEY", &key)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // Interrupt once the first run has finished.
        for line in lines.by_ref() {
            if line.unwrap().starts_with("[1/") {
                break;
            }
        }
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        std::thread::spawn(move || for _ in lines {});
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Interrupted") && text.contains("Results written to"),
        "{text}"
    );
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let status: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(status.len(), 100);
    assert!(
        status.contains(&"ok") && status.contains(&"not_run"),
        "{status:?}"
    );
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    assert_eq!(
        c.list_sessions(ListSessions::default())
            .await
            .unwrap()
            .total,
        0,
        "stopped and deleted"
    );
}

/// Panics on its first tick when `boom = true`, else holds cash.
struct Boom(bool);
impl simutrador_client::Strategy for Boom {
    fn on_tick(
        &mut self,
        _tick: &simutrador_client::TickView<'_>,
        _ctx: &mut simutrador_client::StrategyContext,
    ) {
        assert!(!self.0, "boom");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_that_panics_fails_only_its_own_run() {
    let d = daemon().await;
    let key = d.add_key("ivy").unwrap();
    let mut registry = StrategyRegistry::empty();
    registry.register("boom", &[("boom", "false")], |spec: &StrategySpec| {
        let boom = spec.params.get("boom").is_some_and(|b| b == "true");
        Ok(Box::new(Boom(boom)) as Box<dyn simutrador_client::Strategy>)
    });
    let text = "[defaults]\nsymbols = [\"ACME\"]\nstart_date = \"2020-01-01\"\nend_date = \"2020-03-31\"\nstrategy = \"boom\"\n[sweep]\nboom = [false, true, false]\n";
    let config = BatchConfig::parse(text, "boom.toml", Path::new("."), &registry).unwrap();
    let plan = expand(&config, &registry).unwrap();
    let client = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let report = BatchRunner::new(vec![client], registry)
        .run(
            &plan.runs,
            Arc::new(simutrador_client::batch::Silent),
            CancellationToken::new(),
        )
        .await;
    let status: Vec<RunStatus> = report.records.iter().map(|r| r.status.clone()).collect();
    assert_eq!(status[0], RunStatus::Ok);
    assert!(
        matches!(&status[1], RunStatus::Failed { code, .. } if code == "STRATEGY_PANICKED"),
        "{status:?}"
    );
    assert_eq!(status[2], RunStatus::Ok);
}

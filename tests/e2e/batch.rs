//! `simutrador-client batch run` end to end: the real daemon on port 0, the real CLI binary
//! (and the SDK's `BatchRunner` where a test needs the library): sweeps, determinism across
//! parallelism, failing runs, bad files, dry runs, outputs that match `get_results`
//! (stopping a batch is in `batch_stop.rs`).

use serde_json::Value;
use shared_models::messages::client::ListSessions;
use simutrador_client::{Client, StrategySpec, build_strategy};
use simutrador_e2e::{TestDaemon, client_cmd, stderr, stdout};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::cli_as;

/// A daemon that lets one user hold and run 10 sessions at once.
pub(crate) async fn daemon() -> TestDaemon {
    TestDaemon::start_with(|c| {
        c.limits.max_sessions_per_user = 10;
        c.limits.max_active_sessions_per_user = 10;
    })
    .await
    .unwrap()
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Every file under `dir` (relative path → bytes), without `run.log`.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "run.log") {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

const ACME_SWEEP: &str = r#"
[defaults]
symbols = ["ACME"]
start_date = "2018-01-01"
end_date = "2020-12-31"
initial_capital = 50000
commission_rate = 0.001
strategy = "sma-cross"

[sweep]
fast = [3, 5, 10, 20]
slow = [10, 30, 60]

[output]
formats = ["csv", "json"]
trades = true
equity = true
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_file_runs_five_simulations_and_reports_the_skipped_one() {
    let d = daemon().await;
    let key = d.add_key("ana").unwrap();
    let home = tempfile::tempdir().unwrap();
    let text = include_str!("../../configs/batch-goog-sweep.toml");
    // The file in a folder of its own, as `configs/` is: the results must not land there.
    let configs = home.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    let file = write(&configs, "goog.toml", text);
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &["batch", "run", file.to_str().unwrap()],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("5 of 5 runs succeeded"), "{text}");
    assert!(text.contains("skipped sma-cross fast=20 slow=20"), "{text}");
    // `dir` resolves against the working directory (`home`, where `client_cmd` runs the
    // CLI), not against the file's folder.
    let dir = home.path().join("results/goog-sweep");
    assert!(!configs.join("results").exists());
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert_eq!(rows.len(), 6, "{summary}");
    assert_eq!(rows.iter().filter(|r| r.contains(",ok,")).count(), 5);
    assert!(rows[5].contains("skipped") && rows[5].contains("fast must be"));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let names: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "sma-cross fast=5 slow=20",
            "sma-cross fast=5 slow=50",
            "sma-cross fast=10 slow=20",
            "sma-cross fast=10 slow=50",
            "sma-cross fast=20 slow=50"
        ]
    );
    for run in json["runs"].as_array().unwrap() {
        assert!(run["metrics"]["num_trades"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["session"]["symbols"][0], "GOOG");
    }
    assert_eq!(
        std::fs::read_dir(dir.join("trades")).unwrap().count(),
        10,
        "csv and json per run"
    );
    // No session ids or clock times in the summary; they are in run.log.
    let log = std::fs::read_to_string(dir.join("run.log")).unwrap();
    assert!(log.contains("session "), "{log}");
    assert!(!summary.contains("session"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_byte_identical_with_parallel_1_and_8() {
    let d = daemon().await;
    let key = d.add_key("ben").unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = write(home.path(), "acme.toml", ACME_SWEEP);
    let file = file.to_str().unwrap();
    let (a, b) = (home.path().join("p1"), home.path().join("p8"));
    for (dir, parallel) in [(&a, "1"), (&b, "8")] {
        let out = cli_as(
            &d.url(),
            &key,
            home.path(),
            &[
                "batch",
                "run",
                file,
                "--parallel",
                parallel,
                "--out",
                dir.to_str().unwrap(),
                "--quiet",
            ],
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let (fa, fb) = (files(&a), files(&b));
    // 10 runs (fast < slow), each with trades and equity in two formats, plus two summaries
    // and the wide metrics.csv (a header and a row per run, keyed by run).
    assert_eq!(fa.len(), 3 + 10 * 4, "{:?}", fa.keys());
    let metrics = String::from_utf8(fa["metrics.csv"].clone()).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 10, "{metrics}");
    assert!(
        metrics.starts_with("run,start,end,duration_days,"),
        "{metrics}"
    );
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between --parallel 1 and 8"
        );
    }
    let summary = String::from_utf8(fa["summary.csv"].clone()).unwrap();
    assert_eq!(
        summary.lines().filter(|l| l.contains(",skipped,")).count(),
        2,
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_run_is_reported_with_its_code_and_the_others_complete() {
    let d = daemon().await;
    let key = d.add_key("cy").unwrap();
    let home = tempfile::tempdir().unwrap();
    let text = r#"
[defaults]
start_date = "2020-01-01"
end_date = "2020-06-30"
strategy = "buy-and-hold"
[sweep]
symbols = [["ACME"], ["NOSUCH"], ["GLOBEX"]]
[output]
dir = "out"
"#;
    let file = write(home.path(), "f.toml", text);
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &["batch", "run", file.to_str().unwrap(), "--quiet"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("run 2 failed [INVALID_SYMBOL]"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("FAILED  buy-and-hold symbols=NOSUCH [INVALID_SYMBOL]"),
        "{}",
        stderr(&out)
    );
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let runs = json["runs"].as_array().unwrap();
    let status: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["ok", "failed", "ok"]);
    assert_eq!(runs[1]["error"]["code"], "INVALID_SYMBOL");
    assert!(runs[1]["metrics"].is_null());
    assert!(runs[2]["metrics"]["return_pct"].is_number());

    // --fail-fast: nothing after the failure starts (one at a time, so it is deterministic).
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &[
            "batch",
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--parallel",
            "1",
            "--fail-fast",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
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
    assert_eq!(status, ["ok", "failed", "not_run"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_with_key_and_line_and_nothing_starts() {
    let d = daemon().await;
    let key = d.add_key("di").unwrap();
    let home = tempfile::tempdir().unwrap();
    let text = "[defaults]\nsymbols = [\"ACME\"]\nstart_date = \"2020-01-01\"\nend_date = \"2020-13-01\"\nstrategy = \"sma-cross\"\ncapital = 5\n\n[sweep]\nfast = [5, \"quick\"]\n";
    let file = write(home.path(), "bad.toml", text);
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &["batch", "run", file.to_str().unwrap(), "--keep-sessions"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for needle in [
        "bad.toml:4: defaults.end_date: '2020-13-01' is not a date",
        "bad.toml:6: defaults.capital: unknown key 'capital'",
        "bad.toml:9: sweep.fast[1]: sma-cross: fast = quick is not valid",
    ] {
        assert!(err.contains(needle), "{needle} missing in {err}");
    }
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    assert_eq!(
        c.list_sessions(ListSessions::default())
            .await
            .unwrap()
            .total,
        0
    );

    // A syntax error, and no server at all: both exit 2.
    let file = write(home.path(), "syntax.toml", "[defaults\n");
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &["batch", "run", file.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("syntax.toml:1: (syntax)"),
        "{}",
        stderr(&out)
    );
    let file = write(home.path(), "ok.toml", ACME_SWEEP);
    let mut cmd = client_cmd(home.path());
    cmd.args([
        "--url",
        "ws://127.0.0.1:9",
        "batch",
        "run",
        file.to_str().unwrap(),
    ])
    .env("SIMUTRADOR_API_KEY", &key);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_expanded_runs_and_starts_nothing() {
    let d = daemon().await;
    let key = d.add_key("ed").unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = write(home.path(), "acme.toml", ACME_SWEEP);
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &[
            "batch",
            "run",
            file.to_str().unwrap(),
            "--dry-run",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    let pairs: Vec<(String, String)> = runs
        .iter()
        .map(|r| {
            (
                r["params"]["fast"].as_str().unwrap().into(),
                r["params"]["slow"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        (3, 10),
        (3, 30),
        (3, 60),
        (5, 10),
        (5, 30),
        (5, 60),
        (10, 30),
        (10, 60),
        (20, 30),
        (20, 60),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(pairs, want);
    assert_eq!(doc["skipped"].as_array().unwrap().len(), 2);
    let text = stdout(
        &cli_as(
            &d.url(),
            &key,
            home.path(),
            &["batch", "run", file.to_str().unwrap(), "--dry-run"],
        )
        .await,
    );
    assert!(text.contains("10 runs, 2 skipped"), "{text}");
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    assert_eq!(
        c.list_sessions(ListSessions::default())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_files_match_the_sdk_results_for_the_same_session() {
    let d = daemon().await;
    let key = d.add_key("fay").unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = write(home.path(), "acme.toml", ACME_SWEEP);
    let out_dir = home.path().join("out");
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &[
            "batch",
            "run",
            file.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--quiet",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    for run in summary["runs"].as_array().unwrap().iter().step_by(3) {
        let request = serde_json::from_value(run["session"].clone()).unwrap();
        let params: BTreeMap<String, String> =
            serde_json::from_value(run["params"].clone()).unwrap();
        let spec = StrategySpec {
            name: "sma-cross".into(),
            params,
        };
        let mut strategy = build_strategy(&spec).unwrap();
        let s = c.create_session(request).await.unwrap();
        let results = c
            .run_simulation(&s.session_id, &mut strategy, Default::default())
            .await
            .unwrap();
        assert_eq!(
            run["metrics"],
            serde_json::to_value(&results.metrics).unwrap(),
            "{}",
            run["name"]
        );
        let stem = format!("{:04}-", run["run"].as_u64().unwrap());
        let trades = std::fs::read_dir(out_dir.join("trades"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name().unwrap().to_string_lossy().starts_with(&stem)
                    && p.extension().unwrap() == "json"
            })
            .unwrap();
        let file_trades: Value =
            serde_json::from_str(&std::fs::read_to_string(trades).unwrap()).unwrap();
        assert_eq!(file_trades, serde_json::to_value(&results.trades).unwrap());
        let csv = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
        let row = csv
            .lines()
            .nth(run["run"].as_u64().unwrap() as usize)
            .unwrap();
        assert!(
            row.contains(&format!(",{},", results.metrics.equity_final)),
            "{row}"
        );
        c.delete_session(&s.session_id).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_parallelism_leaves_room_for_sessions_the_user_holds() {
    let d = daemon().await; // 10 sessions per user
    let key = d.add_key("jo").unwrap();
    let c = Client::connect_with_api_key(&d.url(), &key).await.unwrap();
    let request =
        simutrador_client::SessionRequestBuilder::new(["ACME"], "2020-01-01", "2020-01-31").build();
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(c.create_session(request.clone()).await.unwrap().session_id);
    }
    let home = tempfile::tempdir().unwrap();
    let file = write(home.path(), "acme.toml", ACME_SWEEP);
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &["batch", "run", file.to_str().unwrap(), "--quiet"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("10 of 10 runs succeeded") && stdout(&out).contains("(2 at a time)"),
        "{}",
        stdout(&out)
    );
    // Holding all ten: nothing can run, and the command says why.
    for _ in 0..2 {
        held.push(c.create_session(request.clone()).await.unwrap().session_id);
    }
    let out = cli_as(
        &d.url(),
        &key,
        home.path(),
        &["batch", "run", file.to_str().unwrap(), "--quiet"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("you already hold 10 open sessions"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        c.list_sessions(ListSessions::default())
            .await
            .unwrap()
            .total,
        10
    );
}

//! A session never runs on bars other than those it was created on. The real daemon binary
//! serves a data dir; a run is paused, the daemon restarted: on unchanged data the run
//! resumes. Then the symbol is re-imported with `data import --replace` and the daemon
//! restarted: resuming the paused run and starting a created session both answer
//! `DATA_CHANGED` (again after one more restart: the fingerprint is journaled), and
//! `session fork` creates a session with the same parameters on the new data that runs.

use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, add_key, bin, client_cmd, run, stderr, stdout};
use std::path::Path;
use std::process::Command;

use crate::support::{Raw, error_code, request_as};

/// `n` daily bars from 2020-01-01, closes drifting by `step` (cents) a day.
fn csv(n: usize, step: i64) -> String {
    let mut s = String::from("date,open,high,low,close,volume\n");
    let day0 = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for i in 0..n {
        let d = day0 + chrono::Days::new(i as u64);
        let c = 10_000 + step * (i as i64 % 40) - step * 20;
        let (o, h, l) = (c - 5, c + 20, c - 20);
        let p = |x: i64| format!("{}.{:02}", x / 100, x % 100);
        s.push_str(&format!("{d},{},{},{},{},1000\n", p(o), p(h), p(l), p(c)));
    }
    s
}

fn import(home: &Path, data: &Path, text: &str, replace: bool) {
    let file = home.join("bars.csv");
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(bin("simutrador-server"));
    cmd.args(["data", "import"])
        .arg(&file)
        .args(["--symbol", "TEST", "--timeframe", "1d", "--data-dir"])
        .arg(data);
    if replace {
        cmd.arg("--replace");
    }
    let out = run(&mut cmd).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

async fn connect(daemon: &DaemonProcess, key: &str) -> Raw {
    Raw::connect_with_key(daemon.addr, key).await
}

fn serve(state: &Path, data: &Path) -> DaemonProcess {
    DaemonProcess::start(state, &["--data-dir", data.to_str().unwrap()]).unwrap()
}

/// Start `id`, acknowledge ticks 0..`ticks`, pause.
async fn run_then_pause(raw: &mut Raw, id: &str, ticks: u64) {
    let started = request_as(
        raw,
        "start_simulation",
        "st",
        json!({"session_id": id, "max_pending_ticks": 1}),
    )
    .await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    for t in 0..ticks {
        crate::support::wait_tick(raw, id, t).await;
        let ack = json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t}});
        raw.send_text(&ack.to_string()).await;
    }
    let paused = request_as(raw, "pause_simulation", "pa", json!({"session_id": id})).await;
    assert_eq!(paused["type"], "simulation_paused", "{paused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_on_re_imported_data_is_refused_with_data_changed_and_a_fork_runs() {
    let home = tempfile::tempdir().unwrap();
    let (state, data) = (home.path().join("state"), home.path().join("data"));
    import(home.path(), &data, &csv(300, 7), false);
    let key = add_key(&state, "alice").unwrap();
    let create = json!({"symbols": ["TEST"], "start_date": "2020-01-01", "end_date": "2020-06-30"});

    // A session paused mid-run, and one never started.
    let daemon = serve(&state, &data);
    let mut raw = connect(&daemon, &key).await;
    let created = raw.request("create_session", create.clone()).await;
    let paused_id = created["data"]["session_id"].as_str().unwrap().to_string();
    let idle = raw.request("create_session", create.clone()).await;
    let idle_id = idle["data"]["session_id"].as_str().unwrap().to_string();
    run_then_pause(&mut raw, &paused_id, 10).await;
    drop(raw);
    assert!(daemon.terminate().unwrap().success());

    // Unchanged data: the paused run resumes after a restart.
    let daemon = serve(&state, &data);
    let mut raw = connect(&daemon, &key).await;
    let resumed = request_as(
        &mut raw,
        "resume_simulation",
        "re",
        json!({"session_id": paused_id}),
    )
    .await;
    assert_eq!(resumed["type"], "simulation_resumed", "{resumed}");
    let paused = request_as(
        &mut raw,
        "pause_simulation",
        "pa2",
        json!({"session_id": paused_id}),
    )
    .await;
    assert_eq!(paused["type"], "simulation_paused", "{paused}");
    drop(raw);
    assert!(daemon.terminate().unwrap().success());

    // The bars change (another drift) while the daemon is down.
    import(home.path(), &data, &csv(300, 9), true);
    for restart in 0..2 {
        let daemon = serve(&state, &data);
        let mut raw = connect(&daemon, &key).await;
        let refused = raw
            .request("resume_simulation", json!({"session_id": paused_id}))
            .await;
        assert_eq!(
            error_code(&refused),
            "DATA_CHANGED",
            "restart {restart}: {refused}"
        );
        let message = refused["data"]["message"].as_str().unwrap();
        assert!(
            message.contains("TEST 1d") && message.contains("session fork"),
            "{message}"
        );
        assert_eq!(refused["data"]["details"]["session_id"], paused_id.as_str());
        let refused = raw
            .request("start_simulation", json!({"session_id": idle_id}))
            .await;
        assert_eq!(error_code(&refused), "DATA_CHANGED", "{refused}");
        // Refused, not ended: both keep their state for a later decision.
        let info = raw
            .request("get_session", json!({"session_id": paused_id}))
            .await;
        assert_eq!(info["data"]["state"], "paused", "{info}");
        let info = raw
            .request("get_session", json!({"session_id": idle_id}))
            .await;
        assert_eq!(info["data"]["state"], "created", "{info}");
        drop(raw);
        if restart == 1 {
            // The fork: same parameters on the current data, run to the end by the CLI.
            let cli = |args: &[&str]| {
                let out = run(client_cmd(home.path())
                    .env("SIMUTRADOR_API_KEY", &key)
                    .args(["--url", &daemon.url()])
                    .args(args))
                .unwrap();
                assert!(out.status.success(), "{args:?}: {}", stderr(&out));
                stdout(&out)
            };
            let forked: Value =
                serde_json::from_str(&cli(&["--json", "session", "fork", &paused_id])).unwrap();
            let fork_id = forked["session_id"].as_str().unwrap();
            assert_ne!(fork_id, paused_id);
            assert_eq!(forked["state"], "created");
            assert_eq!(forked["symbols"], json!(["TEST"]));
            assert_eq!(forked["end_date"], "2020-06-30");
            assert_eq!(forked["bar_count"], created["data"]["bar_count"]);
            let text = cli(&["session", "fork", &idle_id]);
            assert!(text.contains("Forked session"), "{text}");
            cli(&["session", "run", fork_id, "--strategy", "buy-and-hold"]);
            let done: Value =
                serde_json::from_str(&cli(&["--json", "session", "status", fork_id])).unwrap();
            assert_eq!(done["state"], "completed", "{done}");
        }
        assert!(daemon.terminate().unwrap().success());
    }
}

//! The daemon picks up imported data without a restart (issue 13). The real daemon binary
//! serves a temporary data dir polled every second (`[server] data_poll_secs = 1`); the real
//! `simutrador-server data import` adds or replaces a symbol while it runs:
//!
//! - a new symbol shows up in `simutrador-client data symbols` (polled, no fixed sleeps) and a
//!   session on it runs to the end with trades;
//! - a paused session whose bars are re-imported (`--replace`) is refused `DATA_CHANGED` when
//!   it is resumed, live, and `session fork` runs on the new bars;
//! - a bad CSV dropped in by hand is refused (a warning naming `file:line` in the log) and the
//!   old catalog keeps serving;
//! - with polling off (`data_poll_secs = 0`), SIGHUP reloads.

use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, add_key, bin, client_cmd, run, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{Raw, error_code, json_output, request_as};

/// How long a change may take to show (the poll is 1 s; this only bounds a broken build).
const DEADLINE: Duration = Duration::from_secs(60);

/// `n` daily bars from 2020-01-01, closes swinging by `step` cents (so sma-cross trades).
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

/// A daemon on a temporary data dir and state dir, with a key for `alice`.
struct Setup {
    home: tempfile::TempDir,
    data: PathBuf,
    key: String,
    daemon: DaemonProcess,
}

impl Setup {
    /// `OLD` imported, then the daemon started polling the data dir every second.
    fn start() -> Setup {
        Self::start_polling(1)
    }

    /// `OLD` imported, then the daemon started with `data_poll_secs = poll`.
    fn start_polling(poll: u64) -> Setup {
        let home = tempfile::tempdir().unwrap();
        let (state, data) = (home.path().join("state"), home.path().join("data"));
        let out = import(home.path(), &data, "OLD", &csv(300, 7), false);
        assert!(out.status.success(), "{}", stderr(&out));
        let config = home.path().join("server.toml");
        std::fs::write(&config, format!("[server]\ndata_poll_secs = {poll}\n")).unwrap();
        let key = add_key(&state, "alice").unwrap();
        let daemon = DaemonProcess::start(
            &state,
            &[
                "--data-dir",
                data.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
            ],
        )
        .unwrap();
        Setup {
            home,
            data,
            key,
            daemon,
        }
    }

    fn client(&self, args: &[&str]) -> std::process::Output {
        run(client_cmd(self.home.path())
            .env("SIMUTRADOR_API_KEY", &self.key)
            .args(["--url", &self.daemon.url()])
            .args(args))
        .unwrap()
    }

    /// `--json` output of a command that must succeed.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.client(&[&["--json"], args].concat());
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        json_output(&out).1
    }

    /// The symbols the daemon lists now.
    fn symbols(&self) -> Vec<String> {
        let doc = self.json(&["data", "symbols"]);
        let list = doc.as_array().or_else(|| doc["symbols"].as_array());
        list.unwrap_or_else(|| panic!("{doc}"))
            .iter()
            .map(|s| s["symbol"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Poll the listing until `pred` holds for it (bounded by [`DEADLINE`]).
    fn wait_symbols(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let now = self.symbols();
            if pred(&now) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still {now:?}; log:\n{}",
                self.daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Create a session on `symbol` for the first half of 2020; its id.
    fn create(&self, symbol: &str) -> String {
        let doc = self.json(&[
            "session",
            "create",
            symbol,
            "--start",
            "2020-01-01",
            "--end",
            "2020-06-30",
        ]);
        doc["session_id"].as_str().unwrap().to_string()
    }

    /// Run `id` to the end with sma-cross; its results.
    fn run_to_the_end(&self, id: &str) -> Value {
        let ran = self.client(&[
            "session",
            "run",
            id,
            "--strategy",
            "sma-cross",
            "-p",
            "fast=3",
            "-p",
            "slow=8",
            "--quiet",
        ]);
        assert!(ran.status.success(), "{} {}", stdout(&ran), stderr(&ran));
        let status = self.json(&["session", "status", id]);
        assert_eq!(status["state"], "completed", "{status}");
        self.json(&["session", "results", id])
    }
}

fn import(
    home: &Path,
    data: &Path,
    symbol: &str,
    text: &str,
    replace: bool,
) -> std::process::Output {
    let file = home.join(format!("{symbol}-in.csv"));
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(bin("simutrador-server"));
    cmd.args(["data", "import"])
        .arg(&file)
        .args(["--symbol", symbol, "--timeframe", "1d", "--data-dir"])
        .arg(data)
        .env_remove("SIMUTRADOR_CONFIG")
        .env("XDG_CONFIG_HOME", home.join("no-config"));
    if replace {
        cmd.arg("--replace");
    }
    run(&mut cmd).unwrap()
}

#[test]
fn an_imported_symbol_is_served_without_a_restart_and_runs() {
    let s = Setup::start();
    assert_eq!(s.symbols(), ["OLD"]);

    let out = import(s.home.path(), &s.data, "NEW", &csv(300, 9), false);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("no restart needed") && said.contains("picks it up within"),
        "{said}"
    );

    let now = s.wait_symbols("NEW appears", |l| l.iter().any(|x| x == "NEW"));
    assert_eq!(now, ["NEW", "OLD"]);
    let id = s.create("NEW");
    let results = s.run_to_the_end(&id);
    assert!(
        results["metrics"]["num_trades"].as_u64() > Some(0),
        "{results}"
    );
    assert!(
        s.daemon.log_text().contains("market data reloaded"),
        "{}",
        s.daemon.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_session_on_re_imported_bars_is_refused_data_changed_live_and_a_fork_runs() {
    let s = Setup::start();
    let id = s.create("OLD");
    let mut raw = Raw::connect_with_key(s.daemon.addr, &s.key).await;
    let started = request_as(
        &mut raw,
        "start_simulation",
        "st",
        json!({"session_id": id, "max_pending_ticks": 1}),
    )
    .await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    for t in 0..5 {
        crate::support::wait_tick(&mut raw, &id, t).await;
        let ack = json!({"type": "tick_ack", "data": {"session_id": id, "sequence_id": t}});
        raw.send_text(&ack.to_string()).await;
    }
    let paused = request_as(
        &mut raw,
        "pause_simulation",
        "pa",
        json!({"session_id": id}),
    )
    .await;
    assert_eq!(paused["type"], "simulation_paused", "{paused}");

    // Other bars for OLD, and a marker symbol imported after them: once the marker is listed,
    // the daemon has loaded the replaced bars too.
    let out = import(s.home.path(), &s.data, "OLD", &csv(300, 11), true);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = import(s.home.path(), &s.data, "MARK", &csv(30, 3), false);
    assert!(out.status.success(), "{}", stderr(&out));
    s.wait_symbols("MARK appears", |l| l.iter().any(|x| x == "MARK"));

    let refused = request_as(
        &mut raw,
        "resume_simulation",
        "re",
        json!({"session_id": id}),
    )
    .await;
    assert_eq!(error_code(&refused), "DATA_CHANGED", "{refused}");
    let message = refused["data"]["message"].as_str().unwrap();
    assert!(
        message.contains("OLD 1d") && message.contains("session fork"),
        "{message}"
    );
    assert_eq!(refused["data"]["details"]["session_id"], id.as_str());
    // Refused, not ended: the session stays paused for a later decision.
    let info = raw.request("get_session", json!({"session_id": id})).await;
    assert_eq!(info["data"]["state"], "paused", "{info}");
    drop(raw);

    let forked = s.json(&["session", "fork", &id]);
    let fork_id = forked["session_id"].as_str().unwrap().to_string();
    assert_ne!(fork_id, id);
    let results = s.run_to_the_end(&fork_id);
    assert!(
        results["metrics"]["num_trades"].as_u64() > Some(0),
        "{results}"
    );
}

#[test]
fn a_bad_csv_dropped_in_by_hand_keeps_the_old_catalog_serving() {
    let s = Setup::start();
    let bad = s.data.join("1d/BAD.csv");
    std::fs::write(
        &bad,
        "date,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-02,2,1,3,2\n",
    )
    .unwrap();
    // The warning names the file and line; the catalog is unchanged.
    let deadline = Instant::now() + DEADLINE;
    let needle = format!("{}:3", bad.display());
    while !s.daemon.log_text().contains(&needle) {
        assert!(Instant::now() < deadline, "{}", s.daemon.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        s.daemon.log_text().contains("keeps serving"),
        "{}",
        s.daemon.log_text()
    );
    assert_eq!(s.symbols(), ["OLD"]);
    let id = s.create("OLD");
    let results = s.run_to_the_end(&id);
    assert!(
        results["metrics"]["num_trades"].as_u64() > Some(0),
        "{results}"
    );

    // Fixed by hand: the next change is picked up.
    std::fs::remove_file(&bad).unwrap();
    let out = import(s.home.path(), &s.data, "GOOD", &csv(30, 3), false);
    assert!(out.status.success(), "{}", stderr(&out));
    s.wait_symbols("GOOD appears", |l| l == ["GOOD", "OLD"]);
}

#[test]
fn with_polling_off_sighup_reloads() {
    let s = Setup::start_polling(0);
    let out = import(s.home.path(), &s.data, "NEW", &csv(30, 3), false);
    assert!(out.status.success(), "{}", stderr(&out));
    // Nothing looks at the dir: NEW is not served (the SIGHUP below is what serves it).
    assert_eq!(s.symbols(), ["OLD"]);
    let pid = s.daemon.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    s.wait_symbols("NEW appears after SIGHUP", |l| l == ["NEW", "OLD"]);
    assert!(
        s.daemon.log_text().contains("SIGHUP"),
        "{}",
        s.daemon.log_text()
    );
}

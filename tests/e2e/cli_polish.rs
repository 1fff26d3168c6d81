//! The CLI guides instead of surprising (issue 13), through the real binaries: Ctrl-C during
//! `session run` says the session is paused and what to run next, the daemon's hints name CLI
//! commands, `--loss-limit-pct 0` removes a loss limit, and tables fit `COLUMNS` unless
//! `--wide`.

use serde_json::Value;
use simutrador_e2e::{DaemonProcess, client_cmd, run, stderr, stdout};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::support::json_output;

/// A daemon whose state dir is where the client of `home` finds `local.key`.
struct Setup {
    home: tempfile::TempDir,
    daemon: DaemonProcess,
}

impl Setup {
    fn start() -> Setup {
        let home = tempfile::tempdir().unwrap();
        let daemon = DaemonProcess::start(&home.path().join("state/simutrador"), &[]).unwrap();
        Setup { home, daemon }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = client_cmd(self.home.path());
        cmd.args(["--url", &self.daemon.url()]).args(args);
        cmd
    }

    fn client(&self, args: &[&str]) -> std::process::Output {
        run(&mut self.cmd(args)).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        json_output(&self.client(&[&["--json"], args].concat())).1
    }

    fn create(&self, args: &[&str]) -> String {
        let doc = self.json(&[&["session", "create"], args].concat());
        doc["session_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{doc}"))
            .to_string()
    }
}

#[test]
fn ctrl_c_during_session_run_says_the_session_is_paused_and_what_to_run() {
    let s = Setup::start();
    // 44,640 one-minute bars acknowledged one by one: a run that is still going when the
    // first progress line appears.
    let id = s.create(&[
        "BITDEMO",
        "--start",
        "2024-12-01",
        "--end",
        "2024-12-31",
        "--timeframe",
        "1m",
    ]);
    let mut child = s
        .cmd(&[
            "session",
            "run",
            &id,
            "--strategy",
            "sma-cross",
            "--window",
            "1",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Readiness: the first progress line ("bars 0/44640 …") means the run is under way.
    loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the run ended first: {seen}"
        );
        seen.push_str(&line);
        if line.starts_with("bars ") {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    err.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(seen.contains(&format!("session {id} is paused")), "{seen}");
    assert!(
        seen.contains(&format!("simutrador-client session stop {id}"))
            && seen.contains(&format!("simutrador-client session fork {id}"))
            && seen.contains("simutrador-client session run NEW_ID --strategy sma-cross"),
        "{seen}"
    );
    let info = s.json(&["session", "status", &id]);
    assert_eq!(info["state"], "paused", "{info}");
}

#[test]
fn daemon_hints_name_cli_commands_and_loss_limit_zero_removes_the_limit() {
    let s = Setup::start();
    let out = s.client(&["session", "status", "no-such-session"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("`simutrador-client session list`") && !err.contains("list_sessions"),
        "{err}"
    );
    let out = s.client(&["data", "range", "NOPE"]);
    assert!(
        stderr(&out).contains("`simutrador-client data symbols`"),
        "{}",
        stderr(&out)
    );

    // --loss-limit-pct 0 on update removes the limit (and on create sets none).
    let id = s.create(&[
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-12-31",
        "--loss-limit-pct",
        "20",
    ]);
    let info = s.json(&["session", "status", &id]);
    assert_eq!(info["limits"]["max_loss_amount"], "20000", "{info}");
    let out = s.client(&["session", "update", &id, "--loss-limit-pct", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let info = s.json(&["session", "status", &id]);
    assert!(info["limits"]["max_loss_amount"].is_null(), "{info}");
    // A negative limit is a validation error naming the field, not LOSS_LIMIT_TOO_HIGH.
    let doc = s.json(&["session", "update", &id, "--loss-limit-pct=-5"]);
    assert_eq!(doc["error"]["error_code"], "VALIDATION_FAILED", "{doc}");
}

#[test]
fn tables_fit_columns_and_wide_shows_every_column() {
    let s = Setup::start();
    s.create(&[
        "ACME",
        "GLOBEX",
        "INITECH",
        "--start",
        "2020-01-01",
        "--end",
        "2020-12-31",
    ]);
    for args in [&["data", "symbols"][..], &["session", "list"][..]] {
        let out = run(s.cmd(args).env("COLUMNS", "60")).unwrap();
        let text = stdout(&out);
        assert!(out.status.success(), "{}", stderr(&out));
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= 60, "{args:?} is {widest} wide:\n{text}");
        assert!(text.contains("--wide shows all"), "{text}");

        let out = run(s.cmd(&[args, &["--wide"]].concat()).env("COLUMNS", "60")).unwrap();
        let widest = stdout(&out)
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        assert!(widest > 60, "{args:?} --wide:\n{}", stdout(&out));
        // A pipe without COLUMNS: every column.
        let piped = stdout(&s.client(args));
        assert!(!piped.contains("--wide shows all"), "{piped}");
    }
}

#[test]
fn a_mistyped_log_level_is_refused_with_the_levels() {
    let state = tempfile::tempdir().unwrap();
    let out = run(Command::new(simutrador_e2e::bin("simutrador-server"))
        .args(["serve", "--log-level", "infoo", "--state-dir"])
        .arg(state.path()))
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("'infoo' is not a log level")
            && err.contains("trace, debug, info, warn, error, off"),
        "{err}"
    );
}

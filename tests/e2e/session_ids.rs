//! Short ids and bulk delete from the shell, against the real daemon binary: a unique prefix
//! names a session in every command, `session delete --state … --older-than …` asks first
//! (or takes `--yes`), and following the README several times never hits the open-session
//! cap for good; `session status` shows equity and P&L once a session has run.

use serde_json::Value;
use simutrador_e2e::{DaemonProcess, client_cmd, run, stderr, stdout};

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

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = run(client_cmd(self.home.path())
            .args(["--url", &self.daemon.url(), "--json"])
            .args(args))
        .unwrap();
        let json = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(&out), stderr(&out)));
        (out.status.code().unwrap_or(-1), json)
    }

    fn create(&self) -> (i32, Value) {
        self.json(&[
            "session",
            "create",
            "ACME",
            "--start",
            "2020-01-01",
            "--end",
            "2020-03-31",
        ])
    }
}

#[test]
fn a_unique_prefix_names_a_session_in_every_command() {
    let s = Setup::start();
    let (code, created) = s.create();
    assert_eq!(code, 0, "{created}");
    let id = created["session_id"].as_str().unwrap().to_string();
    let prefix = &id[..8];

    let (code, status) = s.json(&["session", "status", prefix]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["session_id"], id.as_str());
    let (code, events) = s.json(&["session", "events", prefix]);
    assert_eq!(code, 0, "{events}");
    assert_eq!(events["session_id"], id.as_str());
    let (code, deleted) = s.json(&["session", "delete", prefix]);
    assert_eq!(code, 0, "{deleted}");
    assert_eq!(deleted["session_id"], id.as_str());
    // Nothing starts with the prefix any more: the daemon's own answer.
    let (code, err) = s.json(&["session", "status", prefix]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["error_code"], "SESSION_NOT_FOUND");
}

#[test]
fn bulk_delete_asks_first_and_frees_the_open_session_cap() {
    let s = Setup::start();
    // The README's walk-through, repeated: sessions pile up until the cap (5 open) refuses.
    for _ in 0..5 {
        assert_eq!(s.create().0, 0);
    }
    let (code, err) = s.create();
    assert_eq!(code, 1, "{err}");
    assert_eq!(err["error"]["error_code"], "SESSION_LIMIT_EXCEEDED");
    let message = err["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("session delete --state"), "{message}");

    // None of them is a week old.
    let (code, none) = s.json(&["session", "delete", "--older-than", "7d", "--yes"]);
    assert_eq!(code, 0, "{none}");
    assert_eq!(none["deleted"].as_array().unwrap().len(), 0);

    // Without a terminal to ask on, a bulk delete wants --yes and deletes nothing.
    let (code, refused) = s.json(&["session", "delete", "--state", "created"]);
    assert_eq!(code, 2, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("--yes") && message.contains('5'),
        "{message}"
    );
    let (_, list) = s.json(&["session", "list"]);
    assert_eq!(list["total"], 5);

    let (code, deleted) = s.json(&["session", "delete", "--state", "created", "--yes"]);
    assert_eq!(code, 0, "{deleted}");
    assert_eq!(deleted["deleted"].as_array().unwrap().len(), 5);
    let (_, list) = s.json(&["session", "list"]);
    assert_eq!(list["total"], 0);
    assert_eq!(s.create().0, 0);
}

#[test]
fn status_shows_equity_and_pnl_once_a_session_has_run() {
    let s = Setup::start();
    let (_, created) = s.create();
    let id = created["session_id"].as_str().unwrap().to_string();
    let human = |args: &[&str]| {
        let out = run(client_cmd(s.home.path())
            .args(["--url", &s.daemon.url()])
            .args(args))
        .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert!(!human(&["session", "status", &id]).contains("P&L"));
    human(&["session", "run", &id, "--strategy", "buy-and-hold", "-q"]);
    let text = human(&["session", "status", &id]);
    assert!(
        text.contains("equity") && text.contains("(final)") && text.contains("P&L"),
        "{text}"
    );
}

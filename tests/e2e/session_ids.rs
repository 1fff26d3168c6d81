//! Short ids and bulk delete from the shell, against the real daemon binary: a unique prefix
//! names a session in every command, `session delete --state … --older-than …` asks first
//! (or takes `--yes`), and following the README several times never hits the open-session
//! cap for good; `session status` shows equity and P&L once a session has run.

use simutrador_e2e::{stderr, stdout};

use crate::support::Setup;

#[test]
fn a_unique_prefix_names_a_session_in_every_command() {
    let s = Setup::start(&[]);
    let (code, created) = s.create_acme();
    assert_eq!(code, 0, "{created}");
    let id = created["session_id"].as_str().unwrap().to_string();
    let prefix = &id[..8];

    let (code, status) = s.client_json(&["session", "status", prefix]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["session_id"], id.as_str());
    let (code, events) = s.client_json(&["session", "events", prefix]);
    assert_eq!(code, 0, "{events}");
    assert_eq!(events["session_id"], id.as_str());
    let (code, deleted) = s.client_json(&["session", "delete", prefix]);
    assert_eq!(code, 0, "{deleted}");
    assert_eq!(deleted["session_id"], id.as_str());
    // Nothing starts with the prefix any more: the daemon's own answer.
    let (code, err) = s.client_json(&["session", "status", prefix]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["error_code"], "SESSION_NOT_FOUND");
}

#[test]
fn bulk_delete_asks_first_and_frees_the_open_session_cap() {
    let s = Setup::start(&[]);
    // The README's walk-through, repeated: sessions pile up until the cap (5 open) refuses.
    for _ in 0..5 {
        assert_eq!(s.create_acme().0, 0);
    }
    let (code, err) = s.create_acme();
    assert_eq!(code, 1, "{err}");
    assert_eq!(err["error"]["error_code"], "SESSION_LIMIT_EXCEEDED");
    let message = err["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("session delete --state"), "{message}");

    // None of them is a week old.
    let (code, none) = s.client_json(&["session", "delete", "--older-than", "7d", "--yes"]);
    assert_eq!(code, 0, "{none}");
    assert_eq!(none["deleted"].as_array().unwrap().len(), 0);

    // Without a terminal to ask on, a bulk delete wants --yes and deletes nothing.
    let (code, refused) = s.client_json(&["session", "delete", "--state", "created"]);
    assert_eq!(code, 2, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("--yes") && message.contains('5'),
        "{message}"
    );
    let (_, list) = s.client_json(&["session", "list"]);
    assert_eq!(list["total"], 5);

    let (code, deleted) = s.client_json(&["session", "delete", "--state", "created", "--yes"]);
    assert_eq!(code, 0, "{deleted}");
    assert_eq!(deleted["deleted"].as_array().unwrap().len(), 5);
    let (_, list) = s.client_json(&["session", "list"]);
    assert_eq!(list["total"], 0);
    assert_eq!(s.create_acme().0, 0);
}

#[test]
fn status_shows_equity_and_pnl_once_a_session_has_run() {
    let s = Setup::start(&[]);
    let (_, created) = s.create_acme();
    let id = created["session_id"].as_str().unwrap().to_string();
    let human = |args: &[&str]| {
        let out = s.client(args);
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

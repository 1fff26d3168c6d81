//! The `simutrador-client` binary parses its command line. (Having an integration test here
//! also makes `cargo test --workspace` build the binary that the end-to-end tests in `tests/`
//! run.)

#![allow(clippy::expect_used)] // a test: a panic is a failure

use std::process::{Command, Stdio};

fn client(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_simutrador-client"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[test]
fn prints_its_version_and_commands() {
    let out = client(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let help = String::from_utf8_lossy(&client(&["--help"]).stdout).into_owned();
    for cmd in ["auth", "session", "data", "health"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn an_unknown_command_is_a_usage_error() {
    let out = client(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_mistyped_subcommand_or_option_gets_a_did_you_mean() {
    let out = client(&["sesion", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("similar subcommand exists: 'session'"),
        "{err}"
    );
    let out = client(&["session", "list", "--stat", "paused"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("similar argument exists: '--state'"), "{err}");
    // The --json error document keeps the tip.
    let out = client(&["--json", "sesion", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("'session'"), "{doc}");
}

#[test]
fn prints_completions_and_a_man_page_without_a_daemon() {
    let out = client(&["completions", "bash"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("complete -F")
            && text.contains("simutrador-client")
            && text.contains("session"),
        "{text}"
    );
    let out = client(&["man"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH"));
    let out = client(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

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

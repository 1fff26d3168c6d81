//! The `simutrador-server` binary parses its command line. (Having an integration test here
//! also makes `cargo test --workspace` build the binary that the end-to-end tests in `tests/`
//! start.)

#![allow(clippy::expect_used)] // a test: a panic is a failure

use std::process::Command;

fn server(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_simutrador-server"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn prints_its_version_and_subcommands() {
    let out = server(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let help = String::from_utf8_lossy(&server(&["--help"]).stdout).into_owned();
    for sub in ["serve", "keys", "data"] {
        assert!(help.contains(sub), "{help}");
    }
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let out = server(&["serve", "--bind", "not-an-address"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bind"));
}

//! Writing to a closed stdout or stderr (`… | head -1` after `head` exited) ends both binaries
//! quietly with status 141 (128 + SIGPIPE), never a panic (exit 101).
//!
//! The pipe's reader is closed before the binary starts, so its very first write fails:
//! the outcome does not depend on timing.

use simutrador_e2e::{DaemonProcess, bin, client_cmd};
use std::process::{Command, Output, Stdio};

/// Which of the binary's streams gets the closed pipe.
#[derive(Clone, Copy)]
enum Closed {
    Stdout,
    Stderr,
}

/// Run `cmd` with `closed` a pipe whose reader is already gone; capture the other stream.
fn run_with_closed(cmd: &mut Command, closed: Closed) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    match closed {
        Closed::Stdout => cmd.stdout(writer).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stderr(writer).stdout(Stdio::piped()),
    };
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn assert_quiet_141(out: &Output, what: &str) {
    let other = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !other.contains("panicked"),
        "{what}: panicked on the closed pipe: {other}"
    );
    assert_eq!(out.status.code(), Some(141), "{what}: {other}");
}

#[test]
fn the_server_cli_ends_quietly_with_141_on_a_closed_stdout_or_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let mut list = Command::new(bin("simutrador-server"));
    list.args(["data", "list", "--demo", "--data-dir"])
        .arg(dir.path());
    assert_quiet_141(&run_with_closed(&mut list, Closed::Stdout), "data list");

    let mut help = Command::new(bin("simutrador-server"));
    help.arg("--help");
    assert_quiet_141(&run_with_closed(&mut help, Closed::Stdout), "--help");

    // A file with a bad row: the message goes to stderr, which is closed.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "date,open,high,low,close\n2020-01-01,1,2,3,2\n").unwrap();
    let mut import = Command::new(bin("simutrador-server"));
    import
        .args(["data", "import"])
        .arg(&bad)
        .args(["--symbol", "X", "--timeframe", "1d", "--data-dir"])
        .arg(dir.path().join("data"));
    assert_quiet_141(&run_with_closed(&mut import, Closed::Stderr), "data import");
}

#[test]
fn the_client_ends_quietly_with_141_on_a_closed_stdout_or_stderr() {
    let home = tempfile::tempdir().unwrap();
    let daemon = DaemonProcess::start(&home.path().join("state/simutrador"), &[]).unwrap();
    let url = daemon.url();

    let mut symbols = client_cmd(home.path());
    symbols.args(["--url", &url, "data", "symbols"]);
    assert_quiet_141(
        &run_with_closed(&mut symbols, Closed::Stdout),
        "data symbols",
    );

    let mut json = client_cmd(home.path());
    json.args(["--url", &url, "--json", "session", "list"]);
    assert_quiet_141(
        &run_with_closed(&mut json, Closed::Stdout),
        "--json session list",
    );

    let mut help = client_cmd(home.path());
    help.arg("--help");
    assert_quiet_141(&run_with_closed(&mut help, Closed::Stdout), "--help");

    // Nothing listens on port 1: the error message goes to the closed stderr.
    let mut refused = client_cmd(home.path());
    refused.args(["--url", "ws://127.0.0.1:1", "health"]);
    assert_quiet_141(&run_with_closed(&mut refused, Closed::Stderr), "health");
}

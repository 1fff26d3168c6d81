//! `session watch` outlives a dropped connection: the daemon is killed and started again on
//! the same port and state dir while a watch runs; the watch reconnects (with backoff) and
//! still prints the session's end when it is stopped.

use simutrador_e2e::{DaemonProcess, client_cmd, run, stderr, stdout};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn watch_reconnects_after_the_daemon_restarts() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let mut daemon = DaemonProcess::start(&state, &[]).unwrap();
    let url = daemon.url();
    let out = run(client_cmd(home.path()).args([
        "--url",
        &url,
        "--json",
        "session",
        "create",
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-03-31",
    ]))
    .unwrap();
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id = created["session_id"].as_str().unwrap().to_string();

    let mut watch = client_cmd(home.path())
        .args(["--url", &url, "session", "watch", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // The header says the watch is subscribed.
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("Watching session"), "{first}");

    daemon.kill().unwrap();
    let daemon = DaemonProcess::start_bound(&state, &daemon.addr.to_string(), &[]).unwrap();
    // Wait until the watch says it is back (it polls with backoff).
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the watch ended early: {seen:?}"))
            .unwrap();
        let back = line.contains("reconnected");
        seen.push(line);
        if back {
            break;
        }
    }
    let stop = run(client_cmd(home.path()).args(["--url", &daemon.url(), "session", "stop", &id]))
        .unwrap();
    assert!(stop.status.success(), "{}", stderr(&stop));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = watch.wait().unwrap();
    assert!(status.success(), "{seen:?} {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("ended: stopped")),
        "{seen:?} {rest:?}"
    );
}

//! `session watch` outlives a dropped connection: the daemon is killed and started again on
//! the same port and state dir while a watch runs; the watch reconnects (with backoff) and
//! still prints the session's end when it is stopped.

use simutrador_e2e::{DaemonProcess, client_cmd, stderr};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::Setup;

#[test]
fn watch_reconnects_after_the_daemon_restarts() {
    let mut s = Setup::start(&[]);
    let url = s.daemon.url();
    let (code, created) = s.create_acme();
    assert_eq!(code, 0, "{created}");
    let id = created["session_id"].as_str().unwrap().to_string();

    let mut watch = client_cmd(s.home.path())
        .args(["--url", &url, "session", "watch", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // The header says the watch is subscribed.
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("Watching session"), "{first}");

    s.daemon.kill().unwrap();
    let addr = s.daemon.addr.to_string();
    s.daemon = DaemonProcess::start_bound(&s.state_dir(), &addr, &[]).unwrap();
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
    let stop = s.client(&["session", "stop", &id]);
    assert!(stop.status.success(), "{}", stderr(&stop));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = watch.wait().unwrap();
    assert!(status.success(), "{seen:?} {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("ended: stopped")),
        "{seen:?} {rest:?}"
    );
}

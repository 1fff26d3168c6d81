//! The state directory is owner-only: the real daemon creates it 0700, writes every file in
//! it 0600 (keys, secret, audit log, session journals), and at start tightens anything left
//! more open, with a warning naming the path.

use simutrador_e2e::{DaemonProcess, client_cmd, run, stderr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// Every directory under `dir` (itself included) is 0700 and every file 0600.
fn assert_owner_only(dir: &Path) {
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_owner_only(&path);
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn the_daemon_keeps_its_state_dir_owner_only_and_fixes_modes_that_are_too_open() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    // Left open by someone else: the dir 0755 (as `create_dir_all` makes it), a file 0644.
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stray = state.join("notes.txt");
    std::fs::write(&stray, "operator notes\n").unwrap();
    std::fs::set_permissions(&stray, std::fs::Permissions::from_mode(0o644)).unwrap();

    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    let out = run(client_cmd(home.path()).args([
        "--url",
        &daemon.url(),
        "session",
        "create",
        "ACME",
        "--start",
        "2020-01-01",
        "--end",
        "2020-03-31",
    ]))
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let journals: Vec<_> = std::fs::read_dir(state.join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!journals.is_empty(), "the session is journaled");
    assert!(state.join("audit.jsonl").is_file());
    assert!(state.join("local.key").is_file());

    // `daemon.log` is the harness's (created before the daemon, 0644): fixed too.
    assert_owner_only(&state);
    let log = daemon.log_text();
    assert!(
        log.contains(&stray.display().to_string()) && log.contains("tightened"),
        "the fix is logged with the path: {log}"
    );
    assert!(!log.contains("stk_"), "no key in the log");
}

//! Loopback auto-login with any state dir: a daemon started with `--state-dir` somewhere the
//! client does not look by default still lets `simutrador-client` log in by itself, because
//! the daemon tells loopback callers where its `local.key` is (`GET /auth/local-key`).

use simutrador_e2e::{DaemonProcess, client_cmd, run, stderr, stdout};

#[test]
fn a_daemon_with_its_own_state_dir_is_logged_in_to_without_setup() {
    let home = tempfile::tempdir().unwrap();
    // Not `<XDG_STATE_HOME>/simutrador`, where the client would look by default.
    let state = home.path().join("elsewhere/daemon-state");
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    assert!(state.join("local.key").exists(), "{:?}", daemon.banner);

    let out =
        run(client_cmd(home.path()).args(["--url", &daemon.url(), "session", "list"])).unwrap();
    assert!(
        out.status.success(),
        "stdout: {} stderr: {}",
        stdout(&out),
        stderr(&out)
    );
    let status =
        run(client_cmd(home.path()).args(["--url", &daemon.url(), "auth", "status"])).unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(stdout(&status).contains("local"), "{}", stdout(&status));
}

#[tokio::test]
async fn the_daemon_names_its_local_key_to_loopback_callers() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state-x");
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    let url = format!("http://{}/auth/local-key", daemon.addr);
    let body: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let path = std::path::PathBuf::from(body["path"].as_str().unwrap());
    assert_eq!(path, state.join("local.key"));
}

//! Store failures stop the line, with real failing writes: the state dir's `sessions/` is a
//! small tmpfs the test mounts (as root; elsewhere the test says why it skips) and fills
//! while the real daemon runs a simulation. The running session pauses with reason
//! `store_error` and its runner gets `STORE_UNAVAILABLE`; creates are refused with it (SDK and
//! CLI, exit 1); `/healthz` answers 503 with the reason and `health` exits non-zero; the
//! metric counts the failures. Once space is freed, everything comes back without a restart.

use serde_json::{Value, json};
use shared_models::lifecycle::EventKind;
use shared_models::{ErrorCode, SessionState};
use simutrador_client::{Client, ClientError};
use simutrador_e2e::{DaemonProcess, add_key, client_cmd, run, stderr};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::restart::{HeldRun, hold_at_a_third, request};
use crate::support::{Raw, request_as};

/// A tmpfs mounted on `path` for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mount `size` of tmpfs on `path`; why not, when it cannot.
    fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err("not running as root (cannot mount a tmpfs)".into());
        }
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "mount failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(Tmpfs(path.to_path_buf()))
    }

    /// Fill it: one file written until the disk is full.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).and_then(|()| f.flush()).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

async fn healthz(addr: std::net::SocketAddr) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn store_failures_metric(addr: std::net::SocketAddr) -> u64 {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("simutrador_store_write_failures_total "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no store failure counter in:\n{text}"))
}

fn cli(home: &Path, url: &str, key: &str, args: &[&str]) -> std::process::Output {
    run(client_cmd(home)
        .args(["--url", url])
        .env("SIMUTRADOR_API_KEY", key)
        .args(args))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_the_run_refuses_creates_and_everything_comes_back() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let disk = match Tmpfs::mount(&state.join("sessions"), "1m") {
        Ok(disk) => disk,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let key = add_key(&state, "gus").unwrap();
    let daemon = DaemonProcess::start(&state, &[]).unwrap();
    let (url, addr) = (daemon.url(), daemon.addr);
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    assert_eq!(healthz(addr).await.0, 200);

    // A run held a third of the way in while the disk fills up, then let go.
    let session = c.create_session(request("1h")).await.unwrap();
    let HeldRun { task, go, .. } =
        hold_at_a_third(&c, &session.session_id, session.bar_count).await;
    let filler = disk.fill();
    go.send(()).unwrap();
    let err = task.await.unwrap().unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Server {
                code: ErrorCode::StoreUnavailable,
                ..
            }
        ),
        "{err}; log:\n{}",
        daemon.log_text()
    );
    let info = c.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Paused);
    let events = c
        .session_events(&session.session_id, None, None)
        .await
        .unwrap()
        .events;
    let paused = events.last().unwrap();
    assert_eq!(paused.kind, EventKind::SessionPaused);
    assert_eq!(paused.data["reason"], "store_error", "{paused:?}");

    // New sessions are refused, by the SDK and the CLI (exit 1 with the message).
    let refused = c.create_session(request("1h")).await.unwrap_err();
    assert!(
        matches!(
            refused,
            ClientError::Server {
                code: ErrorCode::StoreUnavailable,
                ..
            }
        ),
        "{refused}"
    );
    let out = cli(
        home.path(),
        &url,
        &key,
        &[
            "session",
            "create",
            "BITDEMO",
            "--start",
            "2024-12-02",
            "--end",
            "2024-12-03",
            "--timeframe",
            "1m",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("session store"), "{}", stderr(&out));

    // /healthz says so, with the reason; `health` exits non-zero; the metric counts it.
    let (status, body) = healthz(addr).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "store_unavailable");
    assert!(
        body["store_error"]
            .as_str()
            .unwrap()
            .contains("No space left"),
        "{body}"
    );
    let out = cli(home.path(), &url, &key, &["health"]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(stderr(&out).contains("session store"), "{}", stderr(&out));
    assert!(store_failures_metric(addr).await >= 2);

    // Space freed: everything comes back, without a restart.
    std::fs::remove_file(filler).unwrap();
    assert_eq!(healthz(addr).await.0, 200);
    assert!(cli(home.path(), &url, &key, &["health"]).status.success());
    c.create_session(request("1h")).await.unwrap();
    let token = login_token(&daemon, &key).await;
    let mut raw = Raw::connect_addr(addr, &token).await;
    let data = json!({"session_id": session.session_id});
    let reply = request_as(&mut raw, "resume_simulation", "r1", data).await;
    assert_eq!(reply["type"], "simulation_resumed", "{reply}");
    let info = c.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Running);
}

/// A token for the user of `key` (the raw connection needs one).
async fn login_token(daemon: &DaemonProcess, key: &str) -> String {
    crate::support::token_at(daemon.addr, key).await
}

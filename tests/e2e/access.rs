//! Access ends when access ends, against the real daemon binary: revoking an API key with the
//! real `simutrador-server keys revoke` (another process, the same state dir) closes that
//! key's open WebSocket connections with `connection_closing` and close code 4001, and a
//! token's connection is closed when the token expires (4003). The runs streaming to them
//! pause, and the same user resumes them from a connection with another key (or a fresh
//! token) to the results of an uninterrupted run.

use crate::support::Raw;
use serde_json::{Value, json};
use simutrador_e2e::{DaemonProcess, bin, run, stderr, stdout};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// `simutrador-server keys ARGS --state-dir STATE`, which must succeed; its stdout.
fn keys(state: &Path, args: &[&str]) -> String {
    let out = run(Command::new(bin("simutrador-server"))
        .arg("keys")
        .args(args)
        .arg("--state-dir")
        .arg(state))
    .unwrap();
    assert!(out.status.success(), "keys {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// A new key for `user` made with the CLI: (key, key id).
fn add_key(state: &Path, user: &str) -> (String, String) {
    let added: Value =
        serde_json::from_str(&keys(state, &["add", "--user", user, "--json"])).unwrap();
    let field = |k: &str| added[k].as_str().unwrap().to_string();
    (field("api_key"), field("key_id"))
}

/// A token for `api_key` from `POST /auth/token`.
async fn token(daemon: &DaemonProcess, api_key: &str) -> String {
    crate::support::token_at(daemon.addr, api_key).await
}

async fn connect(daemon: &DaemonProcess, api_key: &str) -> Raw {
    Raw::connect_with_key(daemon.addr, api_key).await
}

/// Read until the connection closes, within `deadline`: the `connection_closing` data that
/// came first and the close frame's code and reason.
async fn closing(raw: &mut Raw, deadline: Duration) -> (Value, u16, String) {
    let mut notice = Value::Null;
    let until = Instant::now() + deadline;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match raw.next_frame_within(left).await {
            Some(Message::Text(t)) => {
                let m: Value = serde_json::from_str(&t).unwrap();
                if m["type"] == "connection_closing" {
                    notice = m["data"].clone();
                }
            }
            Some(Message::Close(frame)) => {
                let frame = frame.expect("a close frame with a code");
                return (notice, u16::from(frame.code), frame.reason.to_string());
            }
            Some(_) => {}
            None => panic!("the connection ended without a close frame"),
        }
    }
}

/// The session's state, asked on `raw`.
async fn state_of(raw: &mut Raw, session: &str) -> String {
    let info = raw
        .request("get_session", json!({"session_id": session}))
        .await;
    info["data"]["state"].as_str().unwrap().to_string()
}

/// Poll until the session is `want` (10 s at most).
async fn wait_state(raw: &mut Raw, session: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = state_of(raw, session).await;
        if state == want {
            return;
        }
        assert!(Instant::now() < deadline, "still {state}, expected {want}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Decisions that depend only on the tick: buy at 3, sell at 30.
fn script(t: u64) -> Vec<Value> {
    let order = |side: &str| json!({"order_id": format!("{side}-{t}"), "symbol": "ACME", "side": side, "quantity": "10"});
    match t {
        3 => vec![order("buy")],
        30 => vec![order("sell")],
        _ => vec![],
    }
}

/// A new session on ACME daily bars, started with one tick a frame; its id.
async fn start_run(raw: &mut Raw) -> String {
    let created = raw
        .request(
            "create_session",
            json!({"symbols": ["ACME"], "start_date": "2021-01-01", "end_date": "2021-06-30",
                "commission_rate": "0.001"}),
        )
        .await;
    let session = created["data"]["session_id"].as_str().unwrap().to_string();
    let started = raw
        .request(
            "start_simulation",
            json!({"session_id": session, "max_pending_ticks": 8, "tick_encoding": "tick"}),
        )
        .await;
    assert_eq!(started["type"], "simulation_started", "{started}");
    session
}

/// Acknowledge each tick from `from` as it arrives, with the script's orders, until tick
/// `until` would be next (`Some`) or the run ends (`None`; returns the results).
async fn drive(raw: &mut Raw, session: &str, from: u64, until: Option<u64>) -> Option<Value> {
    let mut next = from;
    loop {
        if Some(next) == until {
            return None;
        }
        let m = raw.recv().await;
        assert_ne!(m["type"], "error", "{m}");
        let seq = m["data"]["sequence_id"].as_u64();
        if m["type"] == "tick" && seq == Some(next) {
            let ack = json!({"type": "tick_ack", "data": {"session_id": session,
                "sequence_id": next, "orders": script(next)}});
            raw.send_text(&ack.to_string()).await;
            next += 1;
        } else if m["type"] == "simulation_end" {
            assert_eq!(m["data"]["reason"], "completed", "{m}");
            let results = raw
                .request("get_results", json!({"session_id": session}))
                .await;
            assert_eq!(results["type"], "results", "{results}");
            let d = &results["data"];
            return Some(json!([d["metrics"], d["trades"], d["equity_curve"]]));
        }
    }
}

/// Resume `session` on `raw` and run it to its end; (acknowledged, results).
async fn resume_to_the_end(raw: &mut Raw, session: &str) -> (u64, Value) {
    let resumed = raw
        .request("resume_simulation", json!({"session_id": session}))
        .await;
    assert_eq!(resumed["type"], "simulation_resumed", "{resumed}");
    let acknowledged = resumed["data"]["acknowledged"].as_u64().unwrap();
    let results = drive(raw, session, acknowledged, None).await.unwrap();
    (acknowledged, results)
}

fn start_daemon(home: &Path, config: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let state = home.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let file = home.join("server.toml");
    std::fs::write(&file, config).unwrap();
    (state, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_key_closes_its_connections_and_pauses_their_runs() {
    let home = tempfile::tempdir().unwrap();
    let (state, config) = start_daemon(home.path(), "[auth]\nkey_check_interval_ms = 100\n");
    let (k1, k1_id) = add_key(&state, "alice");
    let (k2, _) = add_key(&state, "alice");
    let daemon = DaemonProcess::start(&state, &["--config", config.to_str().unwrap()]).unwrap();

    // With key 1: a run, acknowledged up to tick 14 and then waiting for the client, plus an
    // idle connection. With key 2: a connection that must stay.
    let mut runner = connect(&daemon, &k1).await;
    let session = start_run(&mut runner).await;
    assert_eq!(drive(&mut runner, &session, 0, Some(15)).await, None);
    let mut idle = connect(&daemon, &k1).await;
    let mut other = connect(&daemon, &k2).await;
    assert_eq!(state_of(&mut other, &session).await, "running");

    let out = keys(&state, &["revoke", &k1_id]);
    assert!(out.contains("Revoked 1 key"), "{out}");

    for raw in [&mut runner, &mut idle] {
        let (notice, code, reason) = closing(raw, Duration::from_secs(10)).await;
        assert_eq!(code, 4001, "{notice}");
        assert_eq!(reason, "api key revoked");
        assert_eq!(notice["reason"], "key_revoked", "{notice}");
    }
    other.assert_alive().await;
    wait_state(&mut other, &session, "paused").await;

    // The same user, through their other key, resumes where the run stopped and finishes it
    // exactly as an uninterrupted run does.
    let (acknowledged, resumed) = resume_to_the_end(&mut other, &session).await;
    assert_eq!(acknowledged, 15);
    let reference = start_run(&mut other).await;
    let expected = drive(&mut other, &reference, 0, None).await.unwrap();
    assert_eq!(resumed, expected);
    assert!(
        expected[1].as_array().is_some_and(|t| !t.is_empty()),
        "the run traded: {expected}"
    );
    let log = daemon.log_text();
    assert!(log.contains("closing its connections"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_tokens_connection_is_closed_and_its_run_resumes_with_a_new_token() {
    let home = tempfile::tempdir().unwrap();
    let (state, config) = start_daemon(home.path(), "[auth]\ntoken_ttl_seconds = 1\n");
    let (key, _) = add_key(&state, "alice");
    let daemon = DaemonProcess::start(&state, &["--config", config.to_str().unwrap()]).unwrap();

    let mut runner = connect(&daemon, &key).await;
    let session = start_run(&mut runner).await;
    assert_eq!(drive(&mut runner, &session, 0, Some(5)).await, None);
    // The token lives 1 s, and the handshake accepts it 5 s longer (clock skew): the
    // connection is closed then.
    let (notice, code, reason) = closing(&mut runner, Duration::from_secs(60)).await;
    assert_eq!(code, 4003, "{notice}");
    assert_eq!(reason, "token expired");
    assert_eq!(notice["reason"], "token_expired", "{notice}");

    let mut again = connect(&daemon, &key).await;
    wait_state(&mut again, &session, "paused").await;
    let (acknowledged, results) = resume_to_the_end(&mut again, &session).await;
    assert_eq!(acknowledged, 5);
    assert!(results[0]["num_trades"].as_u64() > Some(0), "{results}");
}

/// The SDK, connected with a token and told its API key (`Client::with_api_key`, as the CLI
/// does when it knows the key), survives its token's expiry mid-run: the daemon closes the
/// connection (4003), the runner logs in again, resumes, and ends like an uninterrupted run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_run_outliving_its_token_logs_in_again_and_resumes() {
    use crate::restart::{options, reference_run, request, strategy};
    use simutrador_client::Client;

    let home = tempfile::tempdir().unwrap();
    let (state, config) = start_daemon(
        home.path(),
        "[limits]\nmin_session_duration = \"1s\"\n[auth]\ntoken_ttl_seconds = 1\n",
    );
    let (key, _) = add_key(&state, "alice");
    let daemon = DaemonProcess::start(&state, &["--config", config.to_str().unwrap()]).unwrap();
    let url = daemon.url();
    // Tokens live 1 s: create first, then the reference run (whose runner logs in again
    // if its own connection expires meanwhile).
    let fresh = Client::connect_with_api_key(&url, &key).await.unwrap();
    let session = fresh.create_session(request("1h")).await.unwrap();
    let (_, expected) = reference_run(&fresh).await;

    let c = Client::connect(&url, &token(&daemon, &key).await)
        .await
        .unwrap()
        .with_api_key(&key);
    let watcher = c.clone();
    let mut held = false;
    // Hold the strategy after its first ticks until the daemon has closed the connection.
    let opts = options().on_progress(move |p| {
        if !held && p.ticks_done > 0 {
            held = true;
            tokio::task::block_in_place(|| {
                let deadline = Instant::now() + Duration::from_secs(60);
                while !watcher.is_closed() {
                    assert!(
                        Instant::now() < deadline,
                        "the token's connection stays open"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
    });
    let results = c
        .run_simulation(&session.session_id, &mut strategy(), opts)
        .await
        .unwrap();
    assert!(c.is_closed(), "the first connection was closed at expiry");
    assert_eq!(
        crate::restart::json(&results),
        crate::restart::json(&expected)
    );
    let log = daemon.log_text();
    assert!(log.contains("token_expired"), "{log}");
}

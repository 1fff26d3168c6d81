//! The PostgreSQL store end to end: the real daemon binary with `--store postgres://…` on a
//! throwaway cluster ([`crate::pg`]), driven through the CLI and the SDK. Sessions are created,
//! run and read back; a daemon killed with SIGKILL mid-run is restarted on the same database
//! and the run resumes to results identical to an uninterrupted run; a daemon pointed at an
//! unreachable database, or at a schema newer than it knows, refuses to start and says why.
//! Each test skips (printing why) without PostgreSQL, outside CI.

use serde_json::Value;
use shared_models::SessionState;
use shared_models::lifecycle::EventKind;
use simutrador_client::Client;
use simutrador_e2e::{DaemonProcess, add_key, client_cmd, run};
use std::path::Path;

use crate::pg::{self, Cluster, assert_no_journals};
use crate::restart::{json, options, request, run_killed_at_half, strategy};
use crate::support::json_output;

fn start(state: &Path, url: &str, bind: &str) -> DaemonProcess {
    DaemonProcess::start_bound(state, bind, &["--store", url]).unwrap()
}

/// `simutrador-client --json ARGS` against `daemon` with `key`: exit code and output.
fn cli(home: &Path, daemon: &DaemonProcess, key: &str, args: &[&str]) -> (i32, Value) {
    json_output(
        &run(client_cmd(home)
            .env("SIMUTRADOR_API_KEY", key)
            .args(["--url", &daemon.url(), "--json"])
            .args(args))
        .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_created_run_and_read_back_through_the_cli() {
    let Some(cluster) = pg::shared() else { return };
    let url = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let key = add_key(&state, "alice").unwrap();
    let daemon = start(&state, &url, "127.0.0.1:0");
    let (h, d) = (home.path(), &daemon);

    let (code, created) = cli(
        h,
        d,
        &key,
        &[
            "session",
            "create",
            "ACME",
            "--start",
            "2020-01-01",
            "--end",
            "2020-12-31",
        ],
    );
    assert_eq!(code, 0, "{created}");
    let id = created["session_id"].as_str().unwrap().to_string();
    let (code, ran) = cli(
        h,
        d,
        &key,
        &["session", "run", &id, "-s", "sma-cross", "-q"],
    );
    assert_eq!(code, 0, "{ran}");
    let (code, results) = cli(h, d, &key, &["session", "results", &id]);
    assert_eq!(code, 0, "{results}");
    assert_eq!(results["metrics"], ran["metrics"], "{results}");
    let (code, status) = cli(h, d, &key, &["session", "status", &id]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["state"], "completed", "{status}");

    // Everything is in PostgreSQL, nothing in the state dir; a restarted daemon reads it back.
    assert_no_journals(&state);
    drop(daemon);
    let daemon = start(&state, &url, "127.0.0.1:0");
    let (code, again) = cli(h, &daemon, &key, &["session", "results", &id]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again, results);
    let (code, events) = cli(h, &daemon, &key, &["session", "events", &id]);
    assert_eq!(code, 0, "{events}");
    assert!(events.to_string().contains("SESSION_ENDED"), "{events}");
    let (_, deleted) = cli(h, &daemon, &key, &["session", "delete", &id, "--yes"]);
    let (code, listed) = cli(h, &daemon, &key, &["session", "list"]);
    assert_eq!(
        (code, &listed["total"]),
        (0, &Value::from(0)),
        "{deleted} {listed}"
    );
}

/// A run streaming when its daemon is killed with SIGKILL; a new daemon on the same database
/// (and port) restores the session and the SDK resumes it to the uninterrupted run's results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_stream_resumes_from_postgres_to_identical_results() {
    let Some(cluster) = pg::shared() else { return };
    let url = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    let key = add_key(&state, "bob").unwrap();
    let first = start(&state, &url, "127.0.0.1:0");
    let c = Client::connect_with_api_key(&first.url(), &key)
        .await
        .unwrap();
    let opts = || options().window(4);

    let reference = c.create_session(request("24h")).await.unwrap();
    let expected = c
        .run_simulation(&reference.session_id, &mut strategy(), opts())
        .await
        .unwrap();

    let session = c.create_session(request("24h")).await.unwrap();
    let (results, second) = run_killed_at_half(
        &c,
        &session.session_id,
        session.bar_count,
        opts(),
        first,
        |bind| start(&state, &url, bind),
    )
    .await;
    assert_eq!(json(&results), json(&expected));
    let c2 = Client::connect_with_api_key(&second.url(), &key)
        .await
        .unwrap();
    assert_eq!(
        json(&c2.get_results(&reference.session_id).await.unwrap()),
        json(&expected),
        "the reference's stored results survive"
    );
    let info = c2.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Completed);
    let kinds: Vec<EventKind> = c2
        .session_events(&session.session_id, None, None)
        .await
        .unwrap()
        .events
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::SessionCreated,
            EventKind::SessionStarted,
            EventKind::SessionPaused,
            EventKind::SessionResumed,
            EventKind::SessionEnded
        ]
    );
    let log = second.log_text();
    assert!(log.contains("session store: PostgreSQL"), "{log}");
    assert!(log.contains("run rebuilt from its journal"), "{log}");
    assert_no_journals(&state);
}

/// The daemon's stderr when it exits before listening.
fn refused(state: &Path, url: &str, extra: &[&str]) -> String {
    let mut args = vec!["--store", url];
    args.extend_from_slice(extra);
    let err = DaemonProcess::start(state, &args)
        .err()
        .expect("the daemon refuses to start");
    assert!(err.to_string().contains("exited before listening"), "{err}");
    std::fs::read_to_string(state.join("daemon.log")).unwrap()
}

#[test]
fn an_unreachable_database_stops_the_daemon_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let nowhere = home.path().join("no-server");
    std::fs::create_dir_all(&nowhere).unwrap();
    let url = format!(
        "postgresql://simutrador:hunter2@localhost/simutrador?host={}&port=5999",
        nowhere.display()
    );
    let config = home.path().join("server.toml");
    std::fs::write(&config, "[store]\nconnect_timeout_seconds = 1\n").unwrap();
    let log = refused(&state, &url, &["--config", config.to_str().unwrap()]);
    assert!(
        log.contains("cannot use the PostgreSQL session store at postgresql://simutrador:***@localhost/simutrador"),
        "{log}"
    );
    assert!(log.contains("check that the server runs"), "{log}");
    assert!(
        !log.contains("hunter2"),
        "the password is never shown: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_daemon_is_refused() {
    let Some(cluster) = pg::shared() else { return };
    let url = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    // A first start creates the schema; a later daemon's migration appears.
    drop(start(&state, &url, "127.0.0.1:0"));
    let client = pg::connect(&url).await;
    client
        .batch_execute(
            "INSERT INTO simutrador_schema_history (version, name, applied_on, checksum) \
             VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
        )
        .await
        .unwrap();
    let log = refused(&state, &url, &[]);
    assert!(
        log.contains(
            "the database schema is at version 999 (from_the_future), newer than this daemon knows"
        ),
        "{log}"
    );
}

async fn healthz(addr: std::net::SocketAddr) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The database stopped under a running daemon (a real `pg_ctl stop`, on a cluster of the
/// test's own): creates are refused with `STORE_UNAVAILABLE` and `/healthz` answers 503; once
/// it is started again the daemon recovers by itself, writes what it kept, and a restarted
/// daemon reads it all back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_refuses_work_and_coming_back_recovers() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.database().await;
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let key = add_key(&state, "carol").unwrap();
    let config = home.path().join("server.toml");
    std::fs::write(&config, "[store]\nconnect_timeout_seconds = 1\n").unwrap();
    let args = [
        "--store",
        url.as_str(),
        "--config",
        config.to_str().unwrap(),
    ];
    let daemon = DaemonProcess::start(&state, &args).unwrap();
    let c = Client::connect_with_api_key(&daemon.url(), &key)
        .await
        .unwrap();
    let before = c.create_session(request("24h")).await.unwrap();

    cluster.stop_server();
    // The first write finds the database gone (it may be the one of this create).
    let during = c.create_session(request("24h")).await.ok();
    let refused = c.create_session(request("24h")).await.unwrap_err();
    assert!(
        refused.to_string().contains("STORE_UNAVAILABLE"),
        "{refused}"
    );
    let (status, body) = healthz(daemon.addr).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "store_unavailable", "{body}");

    cluster.start_server();
    // Every /healthz probes the store; it recovers by itself once the database is back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while healthz(daemon.addr).await.0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            daemon.log_text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = c.create_session(request("24h")).await.unwrap();

    // What the daemon holds is what it stored: a restarted daemon lists the same sessions
    // (a create whose write failed may be among them, kept and written on recovery, as with
    // the embedded store), and every session it accepted.
    let ids = |c: Client| async move {
        let mut ids: Vec<String> = c
            .list_sessions(Default::default())
            .await
            .unwrap()
            .sessions
            .into_iter()
            .map(|s| s.session_id)
            .collect();
        ids.sort();
        ids
    };
    let expected = ids(c).await;
    drop(daemon);
    let daemon = DaemonProcess::start(&state, &args).unwrap();
    let c = Client::connect_with_api_key(&daemon.url(), &key)
        .await
        .unwrap();
    let ids = ids(c).await;
    for accepted in [Some(before), during, Some(after)].into_iter().flatten() {
        assert!(ids.contains(&accepted.session_id), "{ids:?}");
    }
    assert_eq!(ids, expected, "every session is stored");
}

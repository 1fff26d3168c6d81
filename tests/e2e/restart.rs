//! Surviving a crash: the real daemon binary is killed with SIGKILL in the middle of a run
//! and restarted on the same state dir and port. Every session comes back, a deadline that
//! passed while it was down has fired, the running session is paused with its events, and
//! the SDK — which reconnects on its own — finishes the run with results byte-identical to
//! an uninterrupted run of the same parameters.

use serde_json::Value;
use shared_models::lifecycle::{Actor, EventKind};
use shared_models::messages::client::ListSessions;
use shared_models::results::SimulationResults;
use shared_models::{SessionInfo, SessionState, TerminationReason, Timeframe};
use simutrador_client::strategies::SmaCross;
use simutrador_client::{Client, ReconnectOptions, RunOptions, SessionRequestBuilder};
use simutrador_e2e::{DaemonProcess, add_key, client_cmd, run, stderr, stdout};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// The run's parameters, identical for the interrupted and the reference run.
pub(crate) fn request(max_duration: &str) -> shared_models::CreateSessionRequest {
    let mut req = SessionRequestBuilder::new(["BITDEMO"], "2024-12-02", "2024-12-03")
        .timeframe(Timeframe::M1)
        .commission_rate(rust_decimal::Decimal::new(1, 3))
        .build();
    req.max_duration = Some(max_duration.to_string());
    req
}

/// The reference: the run's parameters run without interruption; its session and results.
pub(crate) async fn reference_run(c: &Client) -> (SessionInfo, SimulationResults) {
    let reference = c.create_session(request("1h")).await.unwrap();
    let expected = c
        .run_simulation(&reference.session_id, &mut strategy(), options())
        .await
        .unwrap();
    assert!(
        expected.metrics.num_trades > 10,
        "the strategy trades often"
    );
    (reference, expected)
}

/// A run of `session_id` (of `total` bars) whose progress callback holds the runner once a
/// third of the bars are done, until `go` is sent: the daemon can be stopped and restarted
/// under it.
pub(crate) struct HeldRun {
    /// The runner; it ends once `go` is sent and the run completes.
    pub task: tokio::task::JoinHandle<simutrador_client::Result<SimulationResults>>,
    /// Let the runner go on.
    pub go: mpsc::Sender<()>,
    /// Ticks the runner had processed when it was held.
    pub held_at: u64,
}

/// Start a [`HeldRun`] and wait until it is held.
pub(crate) async fn hold_at_a_third(c: &Client, session_id: &str, total: u64) -> HeldRun {
    let (reached_tx, reached_rx) = mpsc::channel::<u64>();
    let (go, go_rx) = mpsc::channel::<()>();
    let mut held = false;
    let opts = options().on_progress(move |p| {
        if !held && p.ticks_done >= total / 3 {
            held = true;
            let _ = reached_tx.send(p.ticks_done);
            // Hand this worker's other tasks (the connection's reader) to another thread first.
            tokio::task::block_in_place(|| {
                let _ = go_rx.recv();
            });
        }
    });
    let runner = c.clone();
    let id = session_id.to_string();
    let task = tokio::spawn(async move { runner.run_simulation(&id, &mut strategy(), opts).await });
    let held_at = tokio::task::spawn_blocking(move || reached_rx.recv().unwrap())
        .await
        .unwrap();
    HeldRun { task, go, held_at }
}

/// The progress a stopped daemon journaled for a run held after `held_at` acknowledged ticks
/// (0 ..= held_at − 1): some, and at most one bar past them, since the ack of tick t settles
/// bar t + 1 (docs/protocol.md, "Running a simulation", rule 2).
pub(crate) fn assert_journaled_progress(settled_ticks: u64, held_at: u64) {
    assert!(
        settled_ticks > 0 && settled_ticks <= held_at + 1,
        "the journaled progress ({settled_ticks}) is at most one bar past what the runner acknowledged ({held_at})"
    );
}

/// Run options with a window of 16 and a patient reconnect.
pub(crate) fn options() -> RunOptions {
    RunOptions::default()
        .window(16)
        .reconnect(ReconnectOptions {
            max_attempts: 50,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
        })
}

/// The strategy of every run here.
pub(crate) fn strategy() -> SmaCross {
    SmaCross::new(3, 8, true).unwrap()
}

/// The results as JSON, for byte-for-byte comparisons.
pub(crate) fn json(results: &SimulationResults) -> String {
    serde_json::to_string(results).unwrap()
}

/// Run `session_id` (of `total` ticks) from `c` with [`strategy`] and `opts`; once half of its
/// ticks are done, hold the runner, kill -9 `first`, start its successor with `restart` (given
/// the killed daemon's address, where the SDK reconnects), and let the runner go. Returns the
/// results of the interrupted run (the SDK resumed it) and the new daemon; panics with the new
/// daemon's log when the run fails.
pub(crate) async fn run_killed_at_half(
    c: &Client,
    session_id: &str,
    total: u64,
    opts: RunOptions,
    mut first: DaemonProcess,
    restart: impl FnOnce(&str) -> DaemonProcess,
) -> (SimulationResults, DaemonProcess) {
    let (half_tx, half_rx) = mpsc::channel::<()>();
    let (killed_tx, killed_rx) = mpsc::channel::<()>();
    let mut told = false;
    let opts = opts.on_progress(move |p| {
        if !told && p.ticks_done >= total / 2 {
            told = true;
            let _ = half_tx.send(());
            tokio::task::block_in_place(|| {
                let _ = killed_rx.recv();
            });
        }
    });
    let runner = c.clone();
    let id = session_id.to_string();
    let interrupted =
        tokio::spawn(async move { runner.run_simulation(&id, &mut strategy(), opts).await });
    tokio::task::spawn_blocking(move || half_rx.recv().unwrap())
        .await
        .unwrap();
    first.kill().unwrap();
    killed_tx.send(()).unwrap();
    let second = restart(&first.addr.to_string());
    let results = interrupted
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}; the restarted daemon's log:\n{}", second.log_text()));
    (results, second)
}

/// Token lifetime (s) of the kill -9 test: far longer than its steps before the kill take.
const TOKEN_TTL: i64 = 20;
/// The clock-skew leeway (s) the daemon adds to a token's expiry (`auth/jwt.rs`).
const TOKEN_LEEWAY: i64 = 5;

fn start(state: &Path, config: &Path, bind: &str) -> DaemonProcess {
    DaemonProcess::start_bound(state, bind, &["--config", config.to_str().unwrap()]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_a_running_simulation_survive_kill_9() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    std::fs::create_dir_all(&state).unwrap();
    let config = home.path().join("server.toml");
    // Tokens live TOKEN_TTL s (+ the 5 s leeway): long enough for everything before the
    // kill on a slow machine; the test waits while the daemon is down until the runner's
    // token has surely expired, so it logs in again with its API key when it reconnects.
    std::fs::write(
        &config,
        format!(
            "[limits]\nmin_session_duration = \"1s\"\n[auth]\ntoken_ttl_seconds = {TOKEN_TTL}\n"
        ),
    )
    .unwrap();
    let key = add_key(&state, "alice").unwrap();
    let mut first = start(&state, &config, "127.0.0.1:0");
    let url = first.url();
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
    // The runner's token (issued before this instant) is refused from this instant on.
    let token_dead = chrono::Utc::now() + chrono::Duration::seconds(TOKEN_TTL + TOKEN_LEEWAY + 1);

    let (reference, expected) = reference_run(&c).await;

    let idle = c.create_session(request("1h")).await.unwrap();
    let running = c.create_session(request("1h")).await.unwrap();
    let total = running.bar_count;

    // The interrupted run: held mid-run while the daemon is killed and restarted.
    let HeldRun {
        task: interrupted,
        go: go_tx,
        held_at,
    } = hold_at_a_third(&c, &running.session_id, total).await;
    assert!(held_at < total);

    // A session whose time limit runs out while the daemon is down.
    let short = c.create_session(request("8s")).await.unwrap();
    let expires_at = short.limits.as_ref().unwrap().expires_at.unwrap();

    first.kill().unwrap();
    // Down until the short session's limit has passed and the runner's token has expired.
    while chrono::Utc::now() <= expires_at.max(token_dead) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = start(&state, &config, &first.addr.to_string());
    assert_eq!(second.url(), url, "restarted where the SDK reconnects");

    // Every session is back, in the state the crash and the downtime call for.
    let c2 = Client::connect_with_api_key(&url, &key).await.unwrap();
    let list = c2.list_sessions(ListSessions::default()).await.unwrap();
    assert_eq!(list.total, 4, "{list:?}");
    let state_of = |id: &str| {
        list.sessions
            .iter()
            .find(|s| s.session_id == id)
            .map(|s| (s.state, s.termination_reason))
            .unwrap()
    };
    assert_eq!(state_of(&idle.session_id), (SessionState::Created, None));
    assert_eq!(
        state_of(&short.session_id),
        (SessionState::Expired, Some(TerminationReason::TimeLimit))
    );
    assert_eq!(state_of(&running.session_id), (SessionState::Paused, None));
    let progress = list
        .sessions
        .iter()
        .find(|s| s.session_id == running.session_id)
        .unwrap()
        .settled_ticks;
    assert_journaled_progress(progress, held_at);
    assert_eq!(
        state_of(&reference.session_id),
        (SessionState::Completed, Some(TerminationReason::Completed))
    );
    let kept = c2.get_results(&reference.session_id).await.unwrap();
    assert_eq!(json(&kept), json(&expected), "stored results survive");
    let events = c2
        .session_events(&running.session_id, None, None)
        .await
        .unwrap()
        .events;
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::SessionCreated,
            EventKind::SessionStarted,
            EventKind::SessionPaused
        ],
        "{events:?}"
    );
    assert_eq!(events[2].actor, Actor::System);
    let short_events = c2
        .session_events(&short.session_id, None, None)
        .await
        .unwrap()
        .events;
    let ended = short_events.last().unwrap();
    assert_eq!(ended.kind, EventKind::SessionEnded);
    assert_eq!(ended.data["reason"], "time_limit");

    // The CLI sees the restored sessions too.
    let cli = |args: &[&str]| {
        let out = run(client_cmd(home.path())
            .env("SIMUTRADOR_API_KEY", &key)
            .args(["--url", &url, "--json"])
            .args(args))
        .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    let listed = cli(&["session", "list", "--state", "paused"]);
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(
        listed["sessions"][0]["session_id"],
        running.session_id.as_str()
    );
    let shown = cli(&["session", "events", &short.session_id]);
    assert!(shown.to_string().contains("time_limit"), "{shown}");

    // Let the runner go: it reconnects, resumes, and ends exactly like the reference.
    go_tx.send(()).unwrap();
    let results = interrupted.await.unwrap().unwrap();
    assert_eq!(json(&results), json(&expected));
    let info = c2.get_session(&running.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Completed);
    let events = c2
        .session_events(&running.session_id, None, None)
        .await
        .unwrap()
        .events;
    assert!(events.iter().any(|e| e.kind == EventKind::SessionResumed));
    let log = second.log_text();
    assert!(log.contains("sessions restored from the store"), "{log}");
    assert!(log.contains("run rebuilt from its journal"), "{log}");
    assert!(
        log.contains("websocket handshake refused") && log.contains("TOKEN_EXPIRED"),
        "the runner's first reconnect used its expired token, then logged in again: {log}"
    );
    drop(second);
}

/// The daemon is killed mid-run (the runner is held only until the kill, so the crash is
/// surely mid-run) and restarted while the runner is already retrying: its first attempts
/// are refused, then it resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_streaming_through_a_crash_ends_like_an_uninterrupted_one() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    std::fs::create_dir_all(&state).unwrap();
    let config = home.path().join("server.toml");
    std::fs::write(&config, "").unwrap();
    let key = add_key(&state, "bob").unwrap();
    let first = start(&state, &config, "127.0.0.1:0");
    let url = first.url();
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();
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
        |bind| start(&state, &config, bind),
    )
    .await;
    assert_eq!(json(&results), json(&expected));
    let c2 = Client::connect_with_api_key(&second.url(), &key)
        .await
        .unwrap();
    let events = c2
        .session_events(&session.session_id, None, None)
        .await
        .unwrap()
        .events;
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::SessionCreated,
            EventKind::SessionStarted,
            EventKind::SessionPaused,
            EventKind::SessionResumed,
            EventKind::SessionEnded
        ],
        "{events:?}"
    );
}

mod raw {
    //! The same over the raw protocol, with an `order_batch` among the decisions: the daemon
    //! stops mid-run, a new one on the same state dir resumes at the acknowledged tick, and
    //! the client simply carries on from there.

    use crate::support::{Raw, login, order, request_as, wait_tick};
    use serde_json::{Value, json};
    use simutrador_e2e::{TestDaemon, demo_catalog, test_config};

    /// Ticks `from..to`: a batch on tick 0, orders in the acks of ticks 3 and 6.
    async fn drive(raw: &mut Raw, session: &str, from: u64, to: u64) {
        for t in from..to {
            wait_tick(raw, session, t).await;
            if t == 0 {
                let batch = json!({"session_id": session, "batch_id": "b0",
                    "orders": [order("b-1", "buy", "10")]});
                let ack = request_as(raw, "order_batch", "ob0", batch).await;
                assert_eq!(ack["data"]["accepted"], json!(["b-1"]), "{ack}");
            }
            let orders = match t {
                3 => vec![order("s-1", "sell", "10")],
                6 => vec![order("b-2", "buy", "5")],
                _ => vec![],
            };
            let data = json!({"session_id": session, "sequence_id": t, "orders": orders});
            raw.send_text(&json!({"type": "tick_ack", "data": data}).to_string())
                .await;
        }
    }

    async fn finish(raw: &mut Raw, session: &str) -> Value {
        loop {
            if raw.recv().await["type"] == "simulation_end" {
                break;
            }
        }
        let r = request_as(raw, "get_results", "gr", json!({"session_id": session})).await;
        assert_eq!(r["type"], "results", "{r}");
        let mut data = r["data"].clone();
        data.as_object_mut().unwrap().remove("session_id");
        data
    }

    async fn start(raw: &mut Raw) -> (String, u64) {
        let created = request_as(
            raw,
            "create_session",
            "c",
            json!({"symbols": ["ACME"], "start_date": "2020-01-01", "end_date": "2020-12-31"}),
        )
        .await;
        let id = created["data"]["session_id"].as_str().unwrap().to_string();
        let started = request_as(
            raw,
            "start_simulation",
            "s",
            json!({"session_id": id, "max_pending_ticks": 1}),
        )
        .await;
        assert_eq!(started["type"], "simulation_started", "{started}");
        (id, started["data"]["total_ticks"].as_u64().unwrap())
    }

    #[tokio::test]
    async fn batches_and_acks_replay_to_the_same_results() {
        let daemon = TestDaemon::start().await.unwrap();
        let token = login(&daemon, "carol").await;
        let mut raw = Raw::connect(&daemon, &token).await;

        let (reference, total) = start(&mut raw).await;
        drive(&mut raw, &reference, 0, total).await;
        let expected = finish(&mut raw, &reference).await;
        assert_eq!(
            expected["trades"].as_array().unwrap().len(),
            1,
            "{expected}"
        );
        assert_eq!(expected["open_positions"].as_array().unwrap().len(), 1);

        let (id, _) = start(&mut raw).await;
        drive(&mut raw, &id, 0, 8).await;
        wait_tick(&mut raw, &id, 8).await; // the ack of tick 7 was applied
        let (stopped, _) = start(&mut raw).await;
        drive(&mut raw, &stopped, 0, 5).await;
        wait_tick(&mut raw, &stopped, 5).await;
        let TestDaemon { server, state_dir } = daemon;
        server.shutdown().await.unwrap();
        drop(raw);

        let second =
            simutrador_server::server::start(test_config(state_dir.path()), demo_catalog())
                .await
                .unwrap();
        let mut raw = Raw::connect_addr(second.addr(), &token).await;
        let info = request_as(&mut raw, "get_session", "g", json!({"session_id": id})).await;
        assert_eq!(info["data"]["state"], "paused", "{info}");
        assert_eq!(info["data"]["settled_ticks"], 8, "{info}");
        let resumed = request_as(
            &mut raw,
            "resume_simulation",
            "re",
            json!({"session_id": id}),
        )
        .await;
        assert_eq!(resumed["type"], "simulation_resumed", "{resumed}");
        assert_eq!(resumed["data"]["acknowledged"], 8, "{resumed}");
        drive(&mut raw, &id, 8, total).await;
        let results = finish(&mut raw, &id).await;
        assert_eq!(results, expected);

        // A restored paused session stopped before anyone resumed it still gets its results:
        // the long bought at tick 0 and sold at tick 3.
        let stop = json!({"session_id": stopped, "reason": "manual"});
        let t = request_as(&mut raw, "stop_session", "st", stop).await;
        assert_eq!(t["type"], "session_terminated", "{t}");
        let r = request_as(
            &mut raw,
            "get_results",
            "gr2",
            json!({"session_id": stopped}),
        )
        .await;
        assert_eq!(r["data"]["trades"].as_array().unwrap().len(), 1, "{r}");
        second.shutdown().await.unwrap();
    }
}

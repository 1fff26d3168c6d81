//! Graceful shutdown: the real daemon binary gets a real SIGTERM in the middle of a run. It
//! stops accepting, the run checkpoints its journal, and the process exits 0 within its grace
//! period. Restarted on the same state dir and port, it has the session back `paused`, and the
//! SDK — which reconnects on its own — resumes it to results byte-identical to an
//! uninterrupted run of the same strategy.

use shared_models::SessionState;
use shared_models::lifecycle::EventKind;
use simutrador_client::Client;
use simutrador_e2e::{DaemonProcess, add_key};
use std::time::Duration;

use crate::restart::{
    HeldRun, assert_journaled_progress, hold_at_a_third, json, reference_run, request,
};

/// The grace period the daemon is started with (`--shutdown-grace-seconds`): the bound on
/// how long it may take to exit after SIGTERM.
const GRACE_SECONDS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_exits_0_and_the_session_resumes_to_identical_results() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state/simutrador");
    std::fs::create_dir_all(&state).unwrap();
    let key = add_key(&state, "dana").unwrap();
    let grace = GRACE_SECONDS.to_string();
    let flags = ["--shutdown-grace-seconds", grace.as_str()];
    let first = DaemonProcess::start(&state, &flags).unwrap();
    let (url, addr) = (first.url(), first.addr);
    let c = Client::connect_with_api_key(&url, &key).await.unwrap();

    let (_, expected) = reference_run(&c).await;

    // The interrupted run: held a third of the way in while the daemon is stopped and
    // restarted, then let go on.
    let session = c.create_session(request("1h")).await.unwrap();
    let total = session.bar_count;
    let HeldRun {
        task: interrupted,
        go: go_tx,
        held_at,
    } = hold_at_a_third(&c, &session.session_id, total).await;
    assert!(held_at < total, "the run is stopped mid-way");

    // A real SIGTERM; the process must be gone, with status 0, within the grace period.
    let log = first.log.clone();
    let bound = Duration::from_secs(GRACE_SECONDS);
    let status = tokio::task::spawn_blocking(move || first.terminate_within(bound))
        .await
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "exit status {status}; log:\n{text}");
    assert!(text.contains("SIGTERM received"), "{text}");
    assert!(
        text.contains("every connection, run and job has ended"),
        "drained within the grace period: {text}"
    );

    // Restarted on the same state dir and port: the session is back, paused, with the
    // progress its run journaled when it stopped.
    let second = DaemonProcess::start_bound(&state, &addr.to_string(), &flags).unwrap();
    let c2 = Client::connect_with_api_key(&url, &key).await.unwrap();
    let info = c2.get_session(&session.session_id).await.unwrap();
    assert_eq!(info.state, SessionState::Paused, "{info:?}");
    assert_journaled_progress(info.settled_ticks, held_at);

    // Let the runner go: it reconnects, resumes, and ends exactly like the reference.
    go_tx.send(()).unwrap();
    let results = interrupted
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}; the restarted daemon's log:\n{}", second.log_text()));
    assert_eq!(json(&results), json(&expected));
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

    // With nothing running, a second graceful stop is just as clean.
    drop(c2);
    drop(c);
    let status = tokio::task::spawn_blocking(move || second.terminate_within(bound))
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "second daemon: {status}");
}
